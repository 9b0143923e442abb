#!/usr/bin/env bash
# Binary size, threads, RSS and idle CPU of the same one-endpoint HTTP server
# built three ways (std+httparse as in Vigil, tiny_http, hyper+tokio).
# Usage: bench/http-crates/measure.sh [IDLE_SECONDS]   (default 30)
set -euo pipefail
cd "$(dirname "$0")"
idle="${1:-30}"
cargo build --release --quiet
tick=$(getconf CLK_TCK)
printf "%-14s %10s %8s %8s %14s %14s\n" server "bytes" threads "rss_kb" "idle_cpu_ms" "after_100_req"
for bin in std_httparse tiny hyper_tokio; do
  exe="target/release/$bin"
  out=$(mktemp)
  "$exe" 127.0.0.1:0 > "$out" & pid=$!
  for _ in $(seq 50); do [ -s "$out" ] && break; sleep 0.1; done
  addr=$(head -1 "$out")
  curl -s "http://$addr/" > /dev/null
  sleep 1
  cpu0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  sleep "$idle"
  cpu1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  threads=$(ls "/proc/$pid/task" | wc -l)
  rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
  for _ in $(seq 100); do curl -s "http://$addr/" > /dev/null; done
  threads_after=$(ls "/proc/$pid/task" | wc -l)
  printf "%-14s %10s %8s %8s %14s %14s\n" "$bin" "$(stat -c %s "$exe")" "$threads" "$rss" \
    "$(( (cpu1 - cpu0) * 1000 / tick ))" "${threads_after} threads"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$out"
done
