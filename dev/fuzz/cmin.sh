#!/usr/bin/env bash
# Minimises TARGET's working corpus and the committed one into
# tests/fixtures/fuzz/TARGET (the set `cargo test` replays), keeping the
# committed crash inputs (crash-*) as they are:  dev/fuzz/cmin.sh TARGET
# libFuzzer's -set_cover_merge=1 picks a small set of inputs with the same
# coverage; when that is still over BUDGET_KB (default 40) or MAX_FILES
# (default 80) the smallest of them are kept up to those (the replay must
# stay a few seconds and the repository small), and the script says how many
# were left out.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=$1
budget=$(( ${BUDGET_KB:-40} * 1024 ))
max_files=${MAX_FILES:-80}
keep=tests/fixtures/fuzz/$target
tmp=$(mktemp -d)
old=$(mktemp -d)
mkdir -p "$keep" "dev/fuzz/corpus/$target"
find "$keep" -type f ! -name 'crash-*' -exec cp {} "$old/" \;
nice -n 10 cargo +nightly fuzz run --fuzz-dir dev/fuzz --sanitizer none "$target" \
  "$tmp" "dev/fuzz/corpus/$target" "$old" -- -set_cover_merge=1 -max_len=65536 \
  -timeout=10 -rss_limit_mb=2048 >/dev/null 2>&1
find "$keep" -type f ! -name 'crash-*' -delete
used=0; left=0; n=0
while read -r size file; do
  if (( used + size <= budget && n < max_files )); then
    cp "$file" "$keep/"
    used=$(( used + size )); n=$(( n + 1 ))
  else
    left=$(( left + 1 ))
  fi
done < <(find "$tmp" -type f -printf '%s %p\n' | sort -n)
rm -rf "$tmp" "$old"
echo "$target: $(ls "$keep" | wc -l) files, $(du -sk "$keep" | cut -f1) KB ($left over the budget left out)"
