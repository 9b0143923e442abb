#!/usr/bin/env python3
"""The Python peer: what a user would write with opencv-python + onnxruntime and
Vigil's own ONNX files, timed end to end on the frames of a video.

Per frame: MTCNN (min face 40, factor 0.709, thresholds 0.6/0.7/0.7, NMS 0.5/0.7
union, 0.7 min) -> per face: 5-point similarity alignment into a dlib-style 150x150
chip -> 128-d embedding -> emotion on the 64x64 grey face crop; and MobileNetV2 on
the whole frame. Every onnxruntime session: one intra-op thread, sequential, no
spinning. Frames are decoded (ffmpeg, scaled to WxH) into memory before timing.

  peer_pipeline.py [--video PATH] [--frames N] [--passes K] [--face-recognition]

The last stdout line is one JSON object: frames, fps, per-stage medians, faces/frame.
With --face-recognition it also times face_recognition.face_locations (HOG,
upsample 1) + face_encodings on the same frames (needs dlib; see README).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import cv2
import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODELS = os.path.normpath(os.path.join(HERE, "..", "..", "models"))
DEFAULT_VIDEO = "/work/shared/data/video/single_face.mp4"

MIN_FACE = 40
FACTOR = 0.709
THRESHOLDS = (0.6, 0.7, 0.7)
CHIP = 150
CHIP_PADDING = 0.25

cv2.setNumThreads(1)


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


class Net:
    def __init__(self, path):
        self.s = session(path)
        self.inp = self.s.get_inputs()[0].name
        self.outs = [o.name for o in self.s.get_outputs()]

    def __call__(self, x):
        return dict(zip(self.outs, self.s.run(None, {self.inp: x})))


def decode(video, width, height, frames):
    cmd = ["ffmpeg", "-v", "error", "-i", video, "-vf", f"scale={width}:{height}", "-frames:v", str(frames),
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    n = len(raw) // (width * height * 3)
    if n == 0:
        sys.exit(f"no frames decoded from {video}")
    return np.frombuffer(raw[: n * width * height * 3], np.uint8).reshape(n, height, width, 3)


# ---------------------------------------------------------------- MTCNN
def nms(boxes, scores, thr, mode="union"):
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(scores)[::-1]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        o = inter / np.minimum(area[i], area[rest]) if mode == "min" else inter / (area[i] + area[rest] - inter)
        order = rest[o <= thr]
    return np.array(keep, dtype=np.int64)


def square(b):
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    side = np.maximum(w, h)
    b[:, 0] += w * 0.5 - side * 0.5
    b[:, 1] += h * 0.5 - side * 0.5
    b[:, 2] = b[:, 0] + side
    b[:, 3] = b[:, 1] + side
    return b


def bbreg(b, reg):
    w, h = b[:, 2] - b[:, 0] + 1, b[:, 3] - b[:, 1] + 1
    out = b.copy()
    out[:, 0] += reg[:, 0] * w
    out[:, 1] += reg[:, 1] * h
    out[:, 2] += reg[:, 2] * w
    out[:, 3] += reg[:, 3] * h
    return out


def crops(img, boxes, size):
    """Zero-padded crops of integer boxes, resized to size x size, normalised, [N, W, H, 3] (width first)."""
    H, W = img.shape[:2]
    out = np.empty((len(boxes), size, size, 3), np.float32)
    for k, (x1, y1, x2, y2) in enumerate(boxes.astype(np.int64)):
        w, h = x2 - x1 + 1, y2 - y1 + 1
        tmp = np.zeros((h, w, 3), np.uint8)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2 + 1, W), min(y2 + 1, H)
        if sx2 > sx1 and sy2 > sy1:
            tmp[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = img[sy1:sy2, sx1:sx2]
        out[k] = cv2.resize(tmp, (size, size), interpolation=cv2.INTER_AREA)
    out = (out - 127.5) * 0.0078125
    return np.ascontiguousarray(out.transpose(0, 2, 1, 3))


class Mtcnn:
    def __init__(self, models):
        self.pnet = Net(os.path.join(models, "pnet.onnx"))
        self.rnet = Net(os.path.join(models, "rnet.onnx"))
        self.onet = Net(os.path.join(models, "onet.onnx"))

    def detect(self, img):
        """img: RGB uint8 [H, W, 3] -> (boxes [n, 5] x1 y1 x2 y2 score, landmarks [n, 5, 2])."""
        H, W = img.shape[:2]
        scales, s = [], 12.0 / MIN_FACE
        while min(H, W) * s >= 12:
            scales.append(s)
            s *= FACTOR
        cand = []
        for s in scales:
            ws, hs = int(math.ceil(W * s)), int(math.ceil(H * s))
            im = cv2.resize(img, (ws, hs), interpolation=cv2.INTER_AREA)
            x = np.ascontiguousarray(((im.astype(np.float32) - 127.5) * 0.0078125).transpose(1, 0, 2)[None])
            o = self.pnet(x)
            prob, reg = o["softmax"][0, :, :, 1], o["conv2d_4"][0]  # [W', H'], [W', H', 4]
            xi, yi = np.nonzero(prob >= THRESHOLDS[0])
            if xi.size == 0:
                continue
            b = np.stack([np.fix((2 * xi + 1) / s), np.fix((2 * yi + 1) / s),
                          np.fix((2 * xi + 12) / s), np.fix((2 * yi + 12) / s)], 1)
            sc = prob[xi, yi]
            r = reg[xi, yi]
            keep = nms(b, sc, 0.5)
            cand.append(np.hstack([b[keep], sc[keep, None], r[keep]]))
        if not cand:
            return np.zeros((0, 5)), np.zeros((0, 5, 2))
        c = np.vstack(cand)
        c = c[nms(c[:, :4], c[:, 4], 0.7)]
        w, h = c[:, 2] - c[:, 0], c[:, 3] - c[:, 1]
        boxes = np.stack([c[:, 0] + c[:, 5] * w, c[:, 1] + c[:, 6] * h, c[:, 2] + c[:, 7] * w, c[:, 3] + c[:, 8] * h], 1)
        boxes = np.fix(square(boxes))

        # R-Net
        o = self.rnet(crops(img, boxes, 24))
        sc = o["softmax_1"][:, 1]
        ok = sc > THRESHOLDS[1]
        boxes, sc, reg = boxes[ok], sc[ok], o["dense_2"][ok]
        if len(boxes) == 0:
            return np.zeros((0, 5)), np.zeros((0, 5, 2))
        keep = nms(boxes, sc, 0.7)
        boxes = np.fix(square(bbreg(boxes[keep], reg[keep])))

        # O-Net
        o = self.onet(crops(img, boxes, 48))
        sc = o["softmax_2"][:, 1]
        ok = sc > THRESHOLDS[2]
        boxes, sc, reg, pts = boxes[ok], sc[ok], o["dense_5"][ok], o["dense_6"][ok]
        if len(boxes) == 0:
            return np.zeros((0, 5)), np.zeros((0, 5, 2))
        w, h = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
        lm = np.stack([w[:, None] * pts[:, 0:5] + boxes[:, 0:1] - 1, h[:, None] * pts[:, 5:10] + boxes[:, 1:2] - 1], 2)
        boxes = bbreg(boxes, reg)
        keep = nms(boxes, sc, 0.7, "min")
        return np.hstack([boxes[keep], sc[keep, None]]), lm[keep]


# ---------------------------------------------------------------- alignment
def dlib_template():
    """MTCNN's 5 points placed where dlib's 68-point mean face has them (eye centres, nose tip, mouth corners),
    in a 150x150 chip with dlib's 0.25 padding (dlib/image_transforms/interpolation.h mean_face_shape)."""
    mx = [0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743,  # points 36..41
          0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335]  # 42..47
    my = [0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077,
          0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099]
    pts = np.array([[np.mean(mx[:6]), np.mean(my[:6])], [np.mean(mx[6:]), np.mean(my[6:])],
                    [0.490127, 0.515625],  # 30 nose tip
                    [0.254149, 0.780233], [0.726104, 0.780233]])  # 48, 54 mouth corners
    return ((CHIP_PADDING + pts) / (2 * CHIP_PADDING + 1) * CHIP).astype(np.float32)


TEMPLATE = dlib_template()


def align(img, lm):
    m, _ = cv2.estimateAffinePartial2D(lm.astype(np.float32), TEMPLATE, method=cv2.LMEDS)
    if m is None:
        return None
    return cv2.warpAffine(img, m, (CHIP, CHIP), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


# ---------------------------------------------------------------- pipeline
class Peer:
    def __init__(self, models):
        self.mtcnn = Mtcnn(models)
        self.embed = Net(os.path.join(models, "faceapi_face_recognition.onnx"))
        self.emotion = Net(os.path.join(models, "fer_mini_xception.onnx"))
        self.scene = Net(os.path.join(models, "mobilenet_v2_torchvision.onnx"))
        self.mean = np.array([0.485, 0.456, 0.406], np.float32) * 255
        self.std = np.array([0.229, 0.224, 0.225], np.float32) * 255

    def frame(self, img, t):
        t0 = time.perf_counter()
        boxes, lms = self.mtcnn.detect(img)
        t1 = time.perf_counter()
        out = []
        grey = None
        t_emb = t_emo = 0.0
        for b, lm in zip(boxes, lms):
            a = time.perf_counter()
            chip = align(img, lm)
            desc = None
            if chip is not None:
                desc = self.embed(np.ascontiguousarray(chip.transpose(2, 0, 1)[None], np.float32))["descriptor"][0]
            c = time.perf_counter()
            if grey is None:
                grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
            x1, y1, x2, y2 = square(b[None, :4].copy())[0].astype(int)
            H, W = grey.shape
            face = grey[max(y1, 0):min(y2, H), max(x1, 0):min(x2, W)]
            emo = None
            if face.size:
                g = cv2.resize(face, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32) / 127.5 - 1
                emo = self.emotion(g[None, None])["predictions"][0]
            d = time.perf_counter()
            t_emb += c - a
            t_emo += d - c
            out.append((b, desc, emo))
        e = time.perf_counter()
        x = (cv2.resize(img, (224, 224), interpolation=cv2.INTER_LINEAR).astype(np.float32) - self.mean) / self.std
        logits = self.scene(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))["logits"][0]
        f = time.perf_counter()
        t["detect"].append(t1 - t0)
        t["embed"].append(t_emb)
        t["emotion"].append(t_emo)
        t["scene"].append(f - e)
        return out, int(np.argmax(logits))


def med_ms(xs):
    return round(float(np.median(xs)) * 1e3, 3) if xs else None


def run_peer(frames, models, passes):
    peer = Peer(models)
    peer.frame(frames[0], {k: [] for k in ("detect", "embed", "emotion", "scene")})  # warm-up
    t = {k: [] for k in ("detect", "embed", "emotion", "scene")}
    faces, per_frame = [], []
    cpu0, start = time.process_time(), time.perf_counter()
    for _ in range(passes):
        for img in frames:
            a = time.perf_counter()
            out, _ = peer.frame(img, t)
            per_frame.append(time.perf_counter() - a)
            faces.append(len(out))
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    n = len(faces)
    return {"pipeline": "python peer (opencv-python + onnxruntime, 1 thread)", "frames": n,
            "fps": round(n / total, 2), "cpu_cores_used": round(cpu / total, 2),
            "frame_ms_p50": med_ms(per_frame), "frame_ms_p95": round(float(np.percentile(per_frame, 95)) * 1e3, 3),
            "detect_ms": med_ms(t["detect"]), "embed_ms": med_ms(t["embed"]), "emotion_ms": med_ms(t["emotion"]),
            "scene_ms": med_ms(t["scene"]), "faces_per_frame": round(float(np.mean(faces)), 3),
            "frames_with_face": int(np.sum(np.asarray(faces) > 0)),
            "onnxruntime": ort.__version__, "opencv": cv2.__version__}


def run_face_recognition(frames, passes, upsample):
    import face_recognition  # noqa: PLC0415 (optional dependency)
    import dlib  # noqa: PLC0415
    face_recognition.face_encodings(frames[0], face_recognition.face_locations(frames[0], upsample))  # warm-up
    faces, per_frame, t_loc = [], [], []
    cpu0, start = time.process_time(), time.perf_counter()
    for _ in range(passes):
        for img in frames:
            a = time.perf_counter()
            locs = face_recognition.face_locations(img, number_of_times_to_upsample=upsample, model="hog")
            b = time.perf_counter()
            face_recognition.face_encodings(img, locs)
            per_frame.append(time.perf_counter() - a)
            t_loc.append(b - a)
            faces.append(len(locs))
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    n = len(faces)
    return {"pipeline": f"face_recognition 1.3.0 (dlib {dlib.__version__}, HOG upsample {upsample} + encodings)",
            "frames": n, "fps": round(n / total, 2), "cpu_cores_used": round(cpu / total, 2),
            "frame_ms_p50": med_ms(per_frame), "detect_ms": med_ms(t_loc), "faces_per_frame": round(float(np.mean(faces)), 3),
            "frames_with_face": int(np.sum(np.asarray(faces) > 0))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", default=DEFAULT_VIDEO)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--frames", type=int, default=300, help="decode at most N frames")
    ap.add_argument("--passes", type=int, default=1, help="run over the decoded frames K times")
    ap.add_argument("--models", default=DEFAULT_MODELS)
    ap.add_argument("--face-recognition", action="store_true", help="also time face_recognition (dlib)")
    ap.add_argument("--upsample", type=int, default=1, help="face_recognition HOG upsampling (its default: 1)")
    args = ap.parse_args()

    frames = decode(args.video, args.width, args.height, args.frames)
    print(f"{len(frames)} frames {args.width}x{args.height} from {args.video}", file=sys.stderr)
    results = {"video": os.path.basename(args.video), "size": f"{args.width}x{args.height}",
               "peer": run_peer(frames, args.models, args.passes)}
    print(json.dumps(results["peer"]), file=sys.stderr)
    if args.face_recognition:
        results["face_recognition"] = run_face_recognition(frames, args.passes, args.upsample)
        print(json.dumps(results["face_recognition"]), file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
