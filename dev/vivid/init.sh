#!/bin/sh
# /init of the vivid test VM (busybox). Loads vivid, runs Vigil on camera:0,
# removes the camera mid-run and brings it back, and prints markers that
# dev/vivid/run.sh checks on the serial console. Everything here is busybox sh.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp && mount -t tmpfs tmp /tmp

. /test.env   # FRAMES, PHASE_FRAMES, WAIT_S
fail() {
    echo "VIVID-TEST FAIL: $*"
    [ -n "${vigil_pid:-}" ] && kill -INT "$vigil_pid" 2>/dev/null
    sleep 1
    echo "--- vigil log"; sed 's/^/LOG /' /tmp/vigil.log
    echo "--- events"; grep -v '"event":"frame"' /tmp/ev.jsonl | sed 's/^/EV /'
    poweroff -f
}
frames() { grep -c '"event":"frame"' /tmp/ev.jsonl 2>/dev/null || echo 0; }
# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
    n=$(($1 * 5)); shift
    while [ "$n" -gt 0 ]; do
        "$@" && return 0
        # Vigil gone before its time: no use waiting.
        [ -n "${vigil_pid:-}" ] && [ -z "${vigil_may_end:-}" ] && ! kill -0 "$vigil_pid" 2>/dev/null && return 1
        sleep 0.2; n=$((n - 1))
    done
    return 1
}
has_event() { grep -q "\"event\":\"$1\"" /tmp/ev.jsonl 2>/dev/null; }
frames_at_least() { [ "$(frames)" -ge "$1" ]; }
no_video0() { [ ! -e /dev/video0 ]; }

echo "VIVID-TEST kernel $(uname -r), $(nproc) CPUs"
# One instance, only a video capture node (/dev/video0); input 0 is its webcam.
modprobe vivid n_devs=1 node_types=0x1 || fail "modprobe vivid"
wait_for 10 test -e /dev/video0 || fail "no /dev/video0 after modprobe vivid"
echo "VIVID-TEST /dev/video0: $(cat /sys/class/video4linux/video0/name)"

RUST_LOG=info VIGIL_MODELS=/models VIGIL_STATE_DIR=/tmp/state /vigil run --config /vm.toml \
    --source camera:0 --headless --max-frames "$FRAMES" --events /tmp/ev.jsonl \
    >/tmp/vigil.log 2>&1 &
vigil_pid=$!
t0=$(date +%s)
wait_for "$WAIT_S" frames_at_least "$PHASE_FRAMES" || fail "fewer than $PHASE_FRAMES frames before the removal"
echo "VIVID-TEST frames before removal: $(frames) in $(($(date +%s) - t0)) s"

# Remove the camera. rmmod while Vigil holds /dev/video0 open is refused when
# the open file pins the module; then unbind the platform device first (what
# a USB unplug does: the node goes away under the open file), and rmmod once
# Vigil has let go.
if rmmod vivid 2>/tmp/rmmod.err; then
    echo "VIVID-TEST removed: rmmod vivid while in use"
else
    echo "VIVID-TEST rmmod refused while in use ($(cat /tmp/rmmod.err)); unbinding vivid.0"
    echo vivid.0 > /sys/bus/platform/drivers/vivid/unbind || fail "unbind vivid.0"
    wait_for "$WAIT_S" has_event source_lost || fail "no source_lost after unbind"
    wait_for 20 rmmod vivid 2>/dev/null || fail "rmmod vivid after unbind"
    echo "VIVID-TEST removed: unbind + rmmod vivid"
fi
wait_for 10 no_video0 || fail "/dev/video0 still there after rmmod"
wait_for "$WAIT_S" has_event source_lost || fail "no source_lost"
lost_frames=$(frames)
echo "VIVID-TEST source_lost seen at $lost_frames frames"
sleep 2
kill -0 "$vigil_pid" 2>/dev/null || fail "vigil ended with its camera"

modprobe vivid n_devs=1 node_types=0x1 || fail "modprobe vivid again"
wait_for 10 test -e /dev/video0 || fail "no /dev/video0 after the second modprobe"
echo "VIVID-TEST vivid loaded again"
wait_for "$WAIT_S" has_event source_restored || fail "no source_restored"
wait_for "$WAIT_S" frames_at_least $((lost_frames + PHASE_FRAMES)) || fail "no frames after the restore"
echo "VIVID-TEST frames after restore: $(($(frames) - lost_frames))"

# Vigil stops at --max-frames; wait for it (Ctrl-C if it does not).
vigil_may_end=1
wait_for "$WAIT_S" sh -c "! kill -0 $vigil_pid 2>/dev/null" || kill -INT "$vigil_pid"
wait "$vigil_pid"; rc=$?
echo "--- vigil log"; sed 's/^/LOG /' /tmp/vigil.log
echo "--- events"; sed 's/^/EV /' /tmp/ev.jsonl
[ "$rc" = 0 ] || fail "vigil exited with status $rc"
has_event summary || fail "no summary event"
echo "VIVID-TEST PASS"
poweroff -f
