#!/usr/bin/env bash
# Installs what cross builds and emulated tests need, on top of the host
# packages (dev/install-deps.sh, which this calls first):
#   rustup targets        aarch64-unknown-linux-gnu, armv7-unknown-linux-gnueabihf
#   gcc/g++ cross         linkers and C/C++ compilers (tract's assembly kernels, minifb)
#   libc6-dev-*-cross     target sysroots (also what bindgen reads for nokhwa's V4L2 headers)
#   qemu-user-static      runs the ARM test binaries and the smoke test on x86
#   dpkg-dev              dpkg-deb, to inspect and unpack the .deb
# Options: --with-cargo-deb also installs cargo-deb (for cross/package.sh).
# Idempotent: present packages and targets are skipped. Uses sudo when not root.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

with_cargo_deb=0
for arg in "$@"; do
  case "$arg" in
    --with-cargo-deb) with_cargo_deb=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "cross/install.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

"$repo/dev/install-deps.sh"

PACKAGES=(
  gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross
  gcc-arm-linux-gnueabihf g++-arm-linux-gnueabihf libc6-dev-armhf-cross
  qemu-user-static dpkg-dev
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "cross/install.sh: all cross packages present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "cross/install.sh: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v rustup >/dev/null 2>&1; then
  echo "cross/install.sh: rustup not found; install Rust with rustup (https://rustup.rs) first" >&2
  exit 1
fi
# Adding an installed target is a no-op, so this stays idempotent.
rustup target add aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf

if [ "$with_cargo_deb" -eq 1 ] && ! command -v cargo-deb >/dev/null 2>&1; then
  cargo install --locked cargo-deb
fi
echo "cross/install.sh: ready (see cross/README.md)"
