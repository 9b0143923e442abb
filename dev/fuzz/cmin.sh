#!/usr/bin/env bash
# Minimises TARGET's working corpus and the committed one into
# tests/fixtures/fuzz/TARGET (the set replayed by `cargo test`), keeping
# committed crash inputs (crash-*) as they are:  dev/fuzz/cmin.sh TARGET
set -euo pipefail
cd "$(dirname "$0")/../.."
target=$1
keep=tests/fixtures/fuzz/$target
tmp=$(mktemp -d)
mkdir -p "$keep"
nice -n 10 cargo +nightly fuzz run --fuzz-dir dev/fuzz --sanitizer none "$target" \
  "$tmp" "dev/fuzz/corpus/$target" "$keep" -- -merge=1 -max_len=65536 -timeout=10 \
  -rss_limit_mb=2048 >/dev/null 2>&1
find "$keep" -type f ! -name 'crash-*' -delete
cp "$tmp"/* "$keep"/
rm -rf "$tmp"
echo "$target: $(ls "$keep" | wc -l) files, $(du -sk "$keep" | cut -f1) KB"
