#!/usr/bin/python3
"""What viewers of the live view cost: one `vigil run --http` on a clip in real
time (looped), watched by 0, 1 and 5 MJPEG viewers in turn; for each phase the
process's CPU seconds per wall second, the pipeline's FPS and drops (from
/api/stats), the parts each viewer received per second, the median age of a
frame as its part leaves the server (`X-Vigil-Age-Ms`: capture to JPEG out),
and the time of a snapshot request.

    dev/http/measure.py --vigil target/release/vigil --clip PATH [--seconds 20]
"""
import argparse
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_s(pid: int) -> float:
    f = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def stats(port):
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stats", timeout=5))


AGES = []


def viewer(port, stop, counter):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /api/stream.mjpeg HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(5)
    while not stop.is_set():
        data = s.recv(65536)
        if not data:
            break
        counter[0] += data.count(b"--vigilframe")
        for line in data.split(b"\r\n"):
            if line.startswith(b"X-Vigil-Age-Ms: "):
                try:
                    AGES.append(float(line.split(b": ")[1]))
                except ValueError:
                    pass  # a header cut by the read's end
    s.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", default=str(ROOT / "target/release/vigil"))
    ap.add_argument("--clip", required=True)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--viewers", default="0,1,5,10", help="viewer counts, comma-separated")
    a = ap.parse_args()
    port = free_port()
    tmp = pathlib.Path(tempfile.mkdtemp())
    env = dict(os.environ, VIGIL_MODELS=str(ROOT / "models"), VIGIL_STATE_DIR=str(tmp / "state"))
    # Room for every viewer asked (the default cap, http.max_viewers, is 4).
    cfg = tmp / "http.toml"
    cfg.write_text(f"[http]\nmax_viewers = {max(int(v) for v in a.viewers.split(','))}\n")
    p = subprocess.Popen([a.vigil, "--config", str(cfg), "run", "--headless", "--realtime", "--loop", "--source", f"video:{a.clip}",
                          "--http", f"127.0.0.1:{port}", "--events", "/dev/null"],
                         cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "log", "w"))
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        time.sleep(3)  # warm-up
        print("viewers  cpu_s/s  fps    drops(all stages)  parts/s/viewer  age_p50_ms  snapshot_ms")
        for n in [int(v) for v in a.viewers.split(",")]:
            AGES.clear()
            stop = threading.Event()
            counters = [[0] for _ in range(n)]
            threads = [threading.Thread(target=viewer, args=(port, stop, c), daemon=True) for c in counters]
            for t in threads:
                t.start()
            time.sleep(1.0)
            s0, c0, t0 = stats(port), cpu_s(p.pid), time.monotonic()
            parts0 = [c[0] for c in counters]
            time.sleep(a.seconds)
            s1, c1, t1 = stats(port), cpu_s(p.pid), time.monotonic()
            snap = []
            for _ in range(5):
                q = time.monotonic()
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/snapshot.jpg", timeout=5).read()
                snap.append((time.monotonic() - q) * 1e3)
            stop.set()
            for t in threads:
                t.join(timeout=6)
            dt = t1 - t0
            drops = sum(x["dropped"] for x in s1["stages"]) - sum(x["dropped"] for x in s0["stages"])
            # Parts received per viewer per second (each part carries one age).
            rate = len(AGES) / (dt + 1.0) / n if n else 0.0
            snap.sort()
            ages = sorted(AGES)
            age = ages[len(ages) // 2] if ages else float("nan")
            print(f"{n:7d}  {(c1 - c0) / dt:7.3f}  {s1['fps']:5.1f}  {drops:17d}  {rate:14.1f}  {age:10.1f}  {snap[2]:11.1f}")
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
