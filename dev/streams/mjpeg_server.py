#!/usr/bin/python3
"""A small real HTTP MJPEG server on loopback for Vigil's tests (standard
library only): serves a folder of JPEG frames, looped, as
multipart/x-mixed-replace at http://127.0.0.1:PORT/stream.mjpeg, the way
network cameras and Frigate-style bridges do.

    mjpeg_server.py --port 8081 --frames tests/fixtures/verify/owner --fps 10

Prints "ready" on stdout once it listens. Stops on SIGTERM.
"""
import argparse
import http.server
import pathlib
import signal
import sys
import time

BOUNDARY = "vigilframe"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--frames", required=True, help="folder of .jpg frames")
    ap.add_argument("--fps", type=float, default=10.0)
    args = ap.parse_args()
    frames = [p.read_bytes() for p in sorted(pathlib.Path(args.frames).glob("*.jpg"))]
    if not frames:
        print("no .jpg frames", file=sys.stderr)
        return 1

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def do_GET(self):
            if self.path != "/stream.mjpeg":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            self.end_headers()
            i = 0
            try:
                while True:
                    jpeg = frames[i % len(frames)]
                    self.wfile.write(
                        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                    )
                    self.wfile.write(jpeg)
                    self.wfile.write(b"\r\n")
                    self.wfile.flush()
                    i += 1
                    time.sleep(1.0 / args.fps)
            except (BrokenPipeError, ConnectionResetError):
                return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
