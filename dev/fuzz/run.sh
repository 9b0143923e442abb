#!/usr/bin/env bash
# Runs one fuzz target for SECONDS (default 600), niced, on one core:
#   dev/fuzz/run.sh TARGET [SECONDS]
# Corpus: dev/fuzz/corpus/TARGET (working copy, git-ignored; seeded by
# dev/fuzz/seed.py) plus the committed tests/fixtures/fuzz/TARGET (read only).
# Crashes land in dev/fuzz/artifacts/TARGET/. The log is dev/fuzz/logs/TARGET.log.
# Then minimise into the committed corpus: dev/fuzz/cmin.sh TARGET.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=$1
seconds=${2:-600}
mkdir -p "dev/fuzz/corpus/$target" "dev/fuzz/logs" "tests/fixtures/fuzz/$target"
dict=()
case $target in
  config) dict=(-dict=dev/fuzz/config.dict) ;;
  http_request) dict=(-dict=dev/fuzz/http.dict) ;;
esac
# max_len: large enough for a real scene head file (25 KB) and a JPEG frame.
nice -n 10 cargo +nightly fuzz run --fuzz-dir dev/fuzz --sanitizer none "$target" \
  "dev/fuzz/corpus/$target" "tests/fixtures/fuzz/$target" -- \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 "${dict[@]}" 2>&1 | tee "dev/fuzz/logs/$target.log" | grep -E "^#[0-9]+ +(INITED|DONE|pulse)|stat::|ERROR|panicked|SUMMARY|==fuzz==|Test unit written" || true
