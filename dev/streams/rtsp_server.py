#!/usr/bin/python3
"""A real RTSP server on loopback for Vigil's tests: GStreamer's gst-rtsp-server
(Debian: gir1.2-gst-rtsp-server-1.0, python3-gi, gstreamer1.0-plugins-good).

Serves a folder of numbered JPEG or PNG frames, looped, as Motion-JPEG over RTP
(RFC 2435) at rtsp://127.0.0.1:PORT/cam. No transcoding library beyond
plugins-good is needed, and ffmpeg's RTSP client reads the payload.

    rtsp_server.py --port 8554 --frames 'tests/fixtures/verify/owner/%03d.jpg' --fps 10

Prints "ready" on stdout once it listens. Stops on SIGTERM or SIGINT.
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--frames", required=True, help="printf pattern of the frame files, from index 1")
    ap.add_argument("--fps", type=int, default=10)
    ap.add_argument("--path", default="/cam")
    args = ap.parse_args()

    Gst.init(None)
    decoder = "pngdec" if args.frames.lower().endswith(".png") else "jpegdec"
    kind = "image/png" if decoder == "pngdec" else "image/jpeg"
    launch = (
        f'( multifilesrc location="{args.frames}" index=1 loop=true '
        f'caps="{kind},framerate={args.fps}/1" ! {decoder} ! videoconvert ! '
        f"video/x-raw,format=I420 ! jpegenc quality=85 ! rtpjpegpay name=pay0 pt=26 )"
    )
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print("ready", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
