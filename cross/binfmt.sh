#!/usr/bin/env bash
# Lets the kernel run aarch64 and armv7 executables through qemu-user-static
# (binfmt_misc), for this boot. `cargo test --target ...` starts the test
# binaries through the runner in .cargo/config.toml, but tests that spawn the
# `vigil` binary (tests/cli.rs) exec an ARM file directly, which needs this.
# Debian registers these itself when systemd-binfmt runs; containers and CI VMs
# often lack it. Idempotent; needs root (sudo when not root). The registration
# takes the interpreter, magic and mask from qemu-user-static's own
# /usr/share/binfmts files, with its flags (F: interpreter opened now, P: argv[0]).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
dir=/proc/sys/fs/binfmt_misc
if [ ! -e "$dir/register" ]; then
  $SUDO mount -t binfmt_misc binfmt_misc "$dir"
fi

for name in qemu-aarch64 qemu-arm; do
  spec="/usr/share/binfmts/$name"
  if [ -e "$dir/$name" ]; then
    if ! grep -q '^enabled' "$dir/$name"; then echo 1 | $SUDO tee "$dir/$name" >/dev/null; fi
    echo "binfmt: $name registered"
    continue
  fi
  [ -f "$spec" ] || { echo "binfmt: $spec missing (install qemu-user-static)" >&2; exit 1; }
  field() { sed -n "s/^$1 //p" "$spec"; }
  flags=""
  [ "$(field fix_binary)" = yes ] && flags+=F
  [ "$(field preserve)" = yes ] && flags+=P
  [ "$(field credentials)" = yes ] && flags+=C
  printf ':%s:M:%s:%s:%s:%s:%s' "$name" "$(field offset)" "$(field magic)" "$(field mask)" \
    "$(field interpreter)" "$flags" | $SUDO tee "$dir/register" >/dev/null
  echo "binfmt: $name registered ($(field interpreter), flags $flags)"
done
