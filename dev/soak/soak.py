#!/usr/bin/python3
"""A long run of `vigil run` through the failures a deployment sees, sampled
every minute (issue 20's soak; not a CI job):

- the source is a real RTSP server (dev/streams/rtsp_server.py, the owner's
  fixture frames in a loop at 10 FPS), killed and restarted every
  --stream-every minutes (down 5 s);
- MQTT to a real Mosquitto on loopback, killed for --outage seconds every
  --broker-every minutes (the spool must keep every event);
- the HTTP live view with one MJPEG viewer attached the whole time;
- the owner enrolled once through `POST /api/enroll` after the first minute
  (before that nobody is enrolled: an unlock then would be false).

    dev/soak/soak.py --vigil target/release/vigil [--minutes 60]

Prints one line per sample (RSS, threads, open fds, spool bytes, events
written, events received by a subscriber, unlocks) and a summary: RSS
growth after warm-up, events lost (verify events written locally but never
received from the broker), false unlocks.
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
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def wait_listening(port: int, limit: float = 30.0) -> None:
    t = time.monotonic()
    while not listening(port):
        if time.monotonic() - t > limit:
            raise SystemExit(f"nothing listens on {port}")
        time.sleep(0.05)


class Services:
    def __init__(self, tmp: pathlib.Path):
        self.tmp = tmp
        self.rtsp_port, self.mqtt_port = free_port(), free_port()
        self.rtsp = self.broker = None

    def start_rtsp(self):
        self.rtsp = subprocess.Popen(
            ["/usr/bin/python3", str(ROOT / "dev/streams/rtsp_server.py"), "--port", str(self.rtsp_port),
             "--frames", str(ROOT / "tests/fixtures/verify/owner/%03d.jpg"), "--fps", "10"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.rtsp_port)

    def start_broker(self):
        conf = self.tmp / "mosquitto.conf"
        user = "user root\n" if os.getuid() == 0 else ""
        conf.write_text(f"{user}listener {self.mqtt_port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.broker = subprocess.Popen(["mosquitto", "-c", str(conf)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.mqtt_port)

    @staticmethod
    def stop(p):
        if p and p.poll() is None:
            p.kill()
            p.wait()


def proc_figures(pid: int) -> dict:
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    rss_kb = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmRSS:"))
    return {"rss_mb": rss_kb / 1024.0,
            "threads": len(os.listdir(f"/proc/{pid}/task")),
            "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def dir_bytes(path: pathlib.Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def events(path: pathlib.Path) -> list:
    out = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def viewer(port: int, stop: threading.Event, parts: list):
    """One MJPEG viewer, reconnecting whenever the stream ends."""
    while not stop.is_set():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stream.mjpeg", timeout=10) as r:
                while not stop.is_set():
                    line = r.readline()
                    if not line:
                        break
                    if line.startswith(b"Content-Type: image/jpeg"):
                        parts[0] += 1
        except Exception:
            time.sleep(1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", default=str(ROOT / "target/release/vigil"))
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--sample-s", type=float, default=60)
    ap.add_argument("--stream-every", type=float, default=4, help="minutes between stream restarts")
    ap.add_argument("--broker-every", type=float, default=15, help="minutes between broker outages")
    ap.add_argument("--outage", type=float, default=60, help="seconds the broker stays down")
    ap.add_argument("--warmup-min", type=float, default=3)
    a = ap.parse_args()

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="vigil-soak-"))
    svc = Services(tmp)
    svc.start_rtsp()
    svc.start_broker()
    http_port = free_port()
    cfg = tmp / "soak.toml"
    cfg.write_text(f'[mqtt]\nurl = "mqtt://127.0.0.1:{svc.mqtt_port}"\ndevice_id = "soak"\n'
                   f'[http]\nbind = "127.0.0.1:{http_port}"\n[scene]\nenabled = false\n')
    ev = tmp / "events.jsonl"
    env = dict(os.environ, VIGIL_MODELS=str(ROOT / "models"), VIGIL_STATE_DIR=str(tmp / "state"))
    vigil = subprocess.Popen(
        [a.vigil, "--config", str(cfg), "run", "--headless", "--events", str(ev),
         "--source", f"rtsp://127.0.0.1:{svc.rtsp_port}/cam"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "vigil.log", "w"))
    received = tmp / "received.txt"
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(svc.mqtt_port), "-q", "1", "-c", "-i", "soak-sub",
                            "-t", "vigil/soak/event/verify", "-v"], stdout=open(received, "w"))
    wait_listening(http_port, 120)
    stop, parts = threading.Event(), [0]
    threading.Thread(target=viewer, args=(http_port, stop, parts), daemon=True).start()

    start = time.monotonic()
    next_stream, next_broker = a.stream_every * 60, a.broker_every * 60
    enrolled_at = None
    samples = []
    print("min   rss_mb threads fds spool_kb events_written verify_received unlocks mjpeg_parts", flush=True)
    try:
        next_sample = a.sample_s
        while (t := time.monotonic() - start) < a.minutes * 60:
            if vigil.poll() is not None:
                raise SystemExit(f"vigil exited {vigil.returncode}: see {tmp / 'vigil.log'}")
            if enrolled_at is None and t >= 60:
                req = urllib.request.Request(f"http://127.0.0.1:{http_port}/api/enroll", method="POST",
                                             data=b'{"name":"owner","frames":60}',
                                             headers={"Content-Type": "application/json"})
                print("enrol:", urllib.request.urlopen(req, timeout=10).read().decode().strip(), flush=True)
                enrolled_at = t
            if t >= next_stream:
                svc.stop(svc.rtsp)
                time.sleep(5)
                svc.start_rtsp()
                next_stream += a.stream_every * 60
            if t >= next_broker:
                svc.stop(svc.broker)
                time.sleep(a.outage)
                svc.start_broker()
                next_broker += a.broker_every * 60
            if t >= next_sample:
                evs = events(ev)
                fig = proc_figures(vigil.pid)
                row = dict(min=t / 60, **fig, spool_kb=dir_bytes(tmp / "state" / "mqtt-spool") / 1024,
                           written=sum(e["event"] != "frame" for e in evs),
                           verify_received=len(received.read_text().splitlines()),
                           unlocks=sum(e.get("verify") == "unlocked" for e in evs), parts=parts[0])
                samples.append(row)
                print(f"{row['min']:5.1f} {row['rss_mb']:7.1f} {row['threads']:7d} {row['fds']:3d} "
                      f"{row['spool_kb']:8.1f} {row['written']:14d} {row['verify_received']:15d} "
                      f"{row['unlocks']:7d} {row['parts']:11d}", flush=True)
                next_sample += a.sample_s
            time.sleep(0.5)
    finally:
        stop.set()
        vigil.send_signal(signal.SIGINT)
        try:
            vigil.wait(timeout=60)
        except subprocess.TimeoutExpired:
            vigil.kill()
        time.sleep(3)  # the subscriber drains what the spool delivered at the end
        sub.terminate()
        svc.stop(svc.rtsp)
        svc.stop(svc.broker)

    evs = events(ev)
    verify_written = sum(e["event"] == "verify" for e in evs)
    verify_received = len(received.read_text().splitlines())
    false_unlocks = [e for e in evs if e.get("verify") == "unlocked"
                     and (enrolled_at is None or e.get("name") != "owner")]
    warm = [s for s in samples if s["min"] >= a.warmup_min]
    if warm:
        rss = [s["rss_mb"] for s in warm]
        print(f"RSS after {a.warmup_min} min warm-up: min {min(rss):.1f} max {max(rss):.1f} MiB "
              f"(spread {max(rss) - min(rss):.1f}); threads {min(s['threads'] for s in warm)}-"
              f"{max(s['threads'] for s in warm)}; fds {min(s['fds'] for s in warm)}-{max(s['fds'] for s in warm)}")
    print(f"verify events written {verify_written}, received from the broker {verify_received}, "
          f"lost {max(0, verify_written - verify_received)}")
    print(f"unlocks {sum(e.get('verify') == 'unlocked' for e in evs)}, false unlocks {len(false_unlocks)}, "
          f"source_lost {sum(e['event'] == 'source_lost' for e in evs)}, "
          f"source_restored {sum(e['event'] == 'source_restored' for e in evs)}, mjpeg parts {parts[0]}")
    print(f"exit status {vigil.returncode}; files in {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
