#!/usr/bin/env bash
# Vigil's V4L2 camera path against Linux's `vivid` virtual video driver, in a
# VM: boots Debian's kernel in qemu-system-x86_64 with a busybox initramfs
# holding the media modules and the `vigil` binary; inside (dev/vivid/init.sh)
# loads vivid, runs `vigil run --source camera:0 --headless`, unloads the
# module mid-run (source_lost) and loads it again (source_restored).
# No hardware needed. See dev/vivid/README.md.
#
# Usage: dev/vivid/run.sh [PATH/TO/vigil]   (default: target/debug/vigil, built
#        with `cargo build --bin vigil` if missing; the dev profile is enough:
#        its dependencies are optimised)
# Env:   VIVID_ACCEL=tcg|kvm (default tcg: see README), VIVID_FRAMES (default 90),
#        VIVID_TIMEOUT_S (default 420), VIVID_QEMU_ARGS (more qemu options,
#        word-split), VIVID_KEEP=1 keeps the work folder.
set -euo pipefail
vigil=${1:+$(realpath -m "$1")}
cd "$(dirname "$0")/../.."
here=dev/vivid
start=$(date +%s)

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v cpio >/dev/null || need+=(cpio)
command -v modinfo >/dev/null || need+=(kmod)
# The static busybox (the plain `busybox` package is dynamically linked).
static_busybox() { [ -x /bin/busybox ] && [[ $(LC_ALL=C ldd /bin/busybox 2>&1 || true) == *"not a dynamic"* ]]; }
static_busybox || need+=(busybox-static)
compgen -G '/boot/vmlinuz-*' >/dev/null || need+=(linux-image-amd64)
if [ ${#need[@]} -gt 0 ]; then
    echo "vivid: installing ${need[*]}"
    sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
static_busybox || { echo "vivid: /bin/busybox is not static (install busybox-static)"; exit 1; }

vmlinuz=$(ls -1 /boot/vmlinuz-* | sort -V | tail -1)
kver=${vmlinuz#/boot/vmlinuz-}
mods=/lib/modules/$kver
[ -d "$mods" ] || { echo "vivid: no $mods"; exit 1; }

vigil=${vigil:-${CARGO_TARGET_DIR:-target}/debug/vigil}
if [ ! -x "$vigil" ]; then
    echo "vivid: building $vigil"
    cargo build --bin vigil
fi

work=$(mktemp -d /tmp/vigil-vivid.XXXXXX)
[ "${VIVID_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,proc,sys,dev,tmp,lib/modules/"$kver"}

# vivid and the modules it needs (recursively), with their modules.dep.
declare -A seen=()
add_module() {
    local name=$1 file dep
    [ -n "${seen[$name]:-}" ] && return
    seen[$name]=1
    file=$(modinfo -k "$kver" -F filename "$name")
    [ "$file" = "(builtin)" ] && return
    mkdir -p "$root/$(dirname "$file")"
    cp "$file" "$root/$file"
    for dep in $(modinfo -k "$kver" -F depends "$name" | tr ',' ' '); do
        add_module "$dep"
    done
}
add_module vivid
cp "$mods"/modules.{order,builtin,builtin.modinfo} "$root/$mods/" 2>/dev/null || true
depmod -b "$root" "$kver"

# busybox, vigil and its libraries (with the loader at its ELF path).
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$vigil" "$root/vigil"
strip "$root/vigil" 2>/dev/null || true
for lib in $(ldd "$vigil" | grep -o '/[^ ]*'); do
    mkdir -p "$root/$(dirname "$lib")"
    cp -L "$lib" "$root/$lib"
done
cp "$here/init.sh" "$root/init"
cp "$here/vm.toml" "$root/vm.toml"
# Every model stage is off in vm.toml: the models directory needs only its
# manifest (no model file is loaded).
mkdir -p "$root/models" && cp models/SHA256SUMS "$root/models/"
chmod +x "$root/init"
frames=${VIVID_FRAMES:-90}
cat > "$root/test.env" <<EOF
FRAMES=$frames
PHASE_FRAMES=$((frames / 3))
WAIT_S=60
EOF
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$work/initrd.gz"

accel=${VIVID_ACCEL:-tcg}
echo "vivid: kernel $kver, initramfs $(($(stat -c %s "$work/initrd.gz") / 1024 / 1024)) MB, accel $accel, $(($(date +%s) - start)) s to prepare"
t_boot=$(date +%s)
set +e
timeout "${VIVID_TIMEOUT_S:-420}" qemu-system-x86_64 -accel "$accel" -m 1024 -smp 2 ${VIVID_QEMU_ARGS:-} \
    -nographic -no-reboot -nodefaults -serial stdio \
    -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 rdinit=/init" \
    < /dev/null > "$work/console.log" 2>&1
qemu_rc=$?
set -e
t_end=$(date +%s)
console=$work/console.log
tr -d '\r' < "$console" > "$console.txt"
console=$console.txt

grep -E '^VIVID-TEST' "$console" || true
echo "--- vigil log (camera, source):"
grep -E '^LOG ' "$console" | grep -Ei 'camera|source|negotiat|opened|restored|lost' | sed 's/^LOG //' || true
if ! grep -qx 'VIVID-TEST PASS' "$console"; then
    echo "vivid: FAILED (qemu status $qemu_rc); console:"
    tail -n 80 "$console"
    exit 1
fi
# Frame rate: frames over media time within each stretch of frames (the
# outage, with no frames, is left out).
grep '^EV {"event":"frame"' "$console" | sed 's/^EV //' | awk '
    { match($0, /"seq":[0-9]+/); seq = substr($0, RSTART + 6, RLENGTH - 6) + 0
      match($0, /"media_time_s":[0-9.e+-]+/); t = substr($0, RSTART + 15, RLENGTH - 15) + 0
      if (n > 0 && t - last > 0.5) { span += last - first; gaps++; first = t }
      if (n == 0) first = t
      last = t; n++ }
    END { span += last - first
          printf "vivid: %d frame events, %.1f frames/s inside the VM (media time, %d outage(s) left out)\n",
                 n, (n - 1 - gaps) / span, gaps }'
grep -E '^EV \{"event":"(source_lost|source_restored)"' "$console" | sed 's/^EV //'
echo "vivid: PASS in $((t_end - start)) s (VM $((t_end - t_boot)) s, accel $accel)"
