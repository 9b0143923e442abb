#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into dev/fuzz/corpus/<target>/ from
the repository's real files (config/vigil.toml, tests/fixtures) and from
small valid files built here in each format (a signed gallery, a scene head
and negatives file, spool segments, HTTP requests, raw frames). Run from the
repository root: python3 dev/fuzz/seed.py. The committed, minimised corpora
are in tests/fixtures/fuzz/<target>/ (see dev/fuzz/README.md)."""

import hashlib
import hmac
import json
import os
import struct
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "dev", "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(*parts):
    with open(os.path.join(ROOT, *parts), "rb") as f:
        return f.read()


def config():
    put("config", "vigil.toml", read("config", "vigil.toml"))
    put("config", "empty.toml", "")
    put(
        "config",
        "small.toml",
        '[capture]\nsource = "dir:tests/fixtures/frames"\nwidth = 320\nheight = 240\n'
        '[verify]\nrefresh_s = 2.0\n[http]\nbind = "127.0.0.1:8080"\nstream_fps = 5.0\n'
        '[mqtt]\nurl = "mqtt://user@localhost:1883"\n[unlock]\ncommand = ["true"]\n',
    )


GALLERY_KEY = bytes([7] * 32)


def gallery():
    def template(v):
        emb = [0.0625] * 128
        emb[0] = v
        return {
            "embedding": emb,
            "created_unix_s": 1,
            "quality": {"face_px": 100.0, "sharpness": 50.0, "yaw": 0.0, "roll_deg": 0.0, "score": 0.5},
            "origin": "test",
        }

    g = {
        "model_sha256": "abc123",
        "people": [{"name": "alice", "created_unix_s": 5, "templates": [template(0.25), template(0.5)]}],
    }
    canonical = json.dumps(g, separators=(",", ":")).encode()
    mac = hmac.new(GALLERY_KEY, canonical, hashlib.sha256).hexdigest()
    f = {"format": "vigil-gallery", "version": 1, "hmac_sha256": mac, "gallery": g}
    put("gallery", "signed.json", json.dumps(f, indent=2))
    f2 = dict(f, version=2)
    put("gallery", "v2.json", json.dumps(f2))
    put("gallery", "empty.json", json.dumps({"format": "vigil-gallery", "version": 1, "hmac_sha256": "00", "gallery": {"model_sha256": "abc123", "people": []}}))


def scene():
    dim = 1280
    backbone = struct.pack("<I", 22) + b"mobilenet_v2_int8.onnx" + bytes(range(32))
    crop = bytes([1]) + struct.pack("<f", 0.25) + bytes([0])
    body = b"VGSCHEAD" + struct.pack("<III", 1, dim, 3) + backbone + crop
    body += struct.pack("<III", 10, 20, 30)
    body += struct.pack("<%df" % dim, *([0.5] * dim))
    body += struct.pack("<%df" % dim, *([1.0] * dim))
    body += struct.pack("<%df" % (3 * dim), *([0.01] * (3 * dim)))
    body += struct.pack("<3f", 0.1, 0.2, 0.3)
    # Selector 0: read as is (trailer included); 2: the target appends it.
    put("scene_files", "head", b"\x00" + body + hashlib.sha256(body).digest())
    put("scene_files", "head_unsigned", b"\x02" + body)
    half = struct.pack("<H", 0x3800)  # 0.5
    neg = b"VGSCNEG1" + struct.pack("<II", 1, dim) + backbone + crop + struct.pack("<I", 2)
    neg += bytes([1]) + struct.pack("<I", 6) + b"people" + struct.pack("<I", 1)
    neg += bytes([2]) + struct.pack("<I", 4) + b"cars" + struct.pack("<I", 1)
    neg += half * dim * 2
    put("scene_files", "negatives", b"\x01" + neg + hashlib.sha256(neg).digest())
    put("scene_files", "negatives_unsigned", b"\x03" + neg)
    # The real negatives file, cut to its header and first vectors.
    real = read("models", "scene_negatives_int8.bin")
    put("scene_files", "negatives_real_head", b"\x03" + real[:4096])


def record(data):
    return struct.pack("<II", len(data), zlib.crc32(data)) + data


def spool():
    events = [json.dumps({"id": i, "kind": "unlocked", "name": "alice"}).encode() for i in range(4)]
    seg = b"".join(record(e) for e in events)
    acked = struct.pack("<QQ", 1, len(record(events[0])))
    put("mqtt_spool", "two_segments", acked + b"\n--\n1\n" + seg + b"\n--\n2\n" + seg[:30])
    put("mqtt_spool", "torn_tail", b"\n--\n0\n" + seg + record(b"x" * 40)[:20])
    put("mqtt_spool", "no_ack", b"\n--\n5\n" + seg)
    put("mqtt_spool", "corrupt_middle", b"\n--\n3\n" + seg[:10] + b"\xff" + seg[11:])


def http():
    reqs = {
        "get_state": "GET /api/state HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n\r\n",
        "stream": "GET /api/stream.mjpeg?fps=5&width=320 HTTP/1.1\r\nCookie: a=b; vigil_token=s3cret\r\n\r\n",
        "login": "GET /login?token=s3%63ret+x HTTP/1.1\r\n\r\n",
        "post": "POST /api/enroll?name=alice HTTP/1.1\r\nContent-Length: 11\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nname=alice&",
        "events": "GET /api/events?frames=1 HTTP/1.1\r\nLast-Event-ID: 42\r\n\r\n",
        "te": "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    }
    for k, v in reqs.items():
        put("http_request", k, v)


def frames():
    i420 = read("tests", "fixtures", "picam_i420_3f_128x72.yuv")
    n = 128 * 72 * 3 // 2

    def head(fmt, w, h, align=0, flags=0, extra=0):
        return bytes([fmt]) + struct.pack("<HH", w, h) + bytes([align, flags, extra])

    put("raw_frames", "i420", head(3, 128, 72, 32) + i420[:n])
    put("raw_frames", "i420_short", head(3, 128, 72, 1) + i420[: n - 100])
    put("raw_frames", "yuyv", head(1, 16, 8) + bytes(range(256)))
    put("raw_frames", "nv12", head(2, 16, 16) + bytes(range(256)) + bytes(128))
    put("raw_frames", "grey", head(6, 16, 16) + bytes(range(256)))
    put("raw_frames", "mjpeg", head(0, 256, 256) + read("tests", "fixtures", "detect", "astronaut_face_256.jpg"))
    put("raw_frames", "probe", head(4, 4, 4) + b"width=640\nheight=480\navg_frame_rate=30000/1001\nr_frame_rate=30/1\nrotation=-90\n")


def images():
    for name in ["01.png", "02.png"]:
        put("dir_image", name, read("tests", "fixtures", "frames", name))
    put("dir_image", "face.jpg", read("tests", "fixtures", "detect", "astronaut_face_256.jpg"))
    put("dir_image", "tiny.ppm", b"P6\n2 2\n255\n" + bytes(range(12)))
    put("dir_image", "tiny.pgm", b"P5\n3 1\n255\n\x00\x80\xff")
    w, h = 2, 2
    row = bytes([0, 0, 255, 0, 255, 0]) + b"\x00\x00"
    pixels = row * h
    bmp = b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54)
    bmp += struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    put("dir_image", "tiny.bmp", bmp + pixels)


if __name__ == "__main__":
    config()
    gallery()
    scene()
    spool()
    http()
    frames()
    images()
    for t in sorted(os.listdir(OUT)):
        print(t, len(os.listdir(os.path.join(OUT, t))), "seeds")
