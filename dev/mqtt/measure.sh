#!/usr/bin/env bash
# MQTT outlet figures (printed, not asserted; copied into cross/mqtt/README.md,
# "Measured"):
#   1. pipeline FPS with MQTT on vs off, same clip, same binary;
#   2. events per second the publisher sustains to a local broker
#      (examples/mqtt_throughput.rs);
#   3. spool size and RSS while the broker is down (a live demo run with a
#      dead broker URL), sampled every SAMPLE_S seconds.
#
# dev/mqtt/measure.sh [CLIP]
# Env: VIGIL (binary, default target/release/vigil else target/debug/vigil),
#      DOWN_S (outage length, default 600), SAMPLE_S (default 10),
#      EVENTS_N (events fed in step 2, default 4000), STEPS (default "1 2 3").
# Needs mosquitto. Starts its own brokers on free loopback ports and stops
# them by pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLIP=${1:-../shared/data/video/WolfgangLanger_Pexels.mp4}
VIGIL=${VIGIL:-$( [ -x target/release/vigil ] && echo target/release/vigil || echo target/debug/vigil )}
DOWN_S=${DOWN_S:-600}
SAMPLE_S=${SAMPLE_S:-10}
EVENTS_N=${EVENTS_N:-4000}
STEPS=${STEPS:-"1 2 3"}
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_broker() { # -> sets BROKER_PORT, BROKER_PID
  BROKER_PORT=$(free_port)
  local user=""; [ "$(id -u)" = 0 ] && user="user root"
  printf '%s\nlistener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$user" "$BROKER_PORT" > "$WORK/mosquitto.conf"
  mosquitto -c "$WORK/mosquitto.conf" > "$WORK/mosquitto.log" 2>&1 &
  BROKER_PID=$!; PIDS+=("$BROKER_PID")
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$BROKER_PORT") 2>/dev/null && return; sleep 0.1; done
  echo "mosquitto did not start" >&2; exit 1
}

config() { # $1 = url or "" -> $WORK/v-<n>.toml
  local f="$WORK/v-$RANDOM.toml"
  if [ -n "$1" ]; then printf '[mqtt]\nurl = "%s"\ndevice_id = "measure"\n' "$1" > "$f"; else : > "$f"; fi
  echo "$f"
}

vigil() { # config file, then args
  local cfg=$1; shift
  mkdir -p "$WORK/state"
  VIGIL_STATE_DIR="$WORK/state" RUST_LOG=${RUST_LOG:-warn} "$VIGIL" --config "$cfg" "$@"
}

fps_of() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    v=json.loads(l)
    if v.get("event")=="summary":
        s=v["summary"]; print("%.2f FPS, %d frames presented, %.1f s" % (s["fps"], s["frames_presented"], s["wall_s"]))' "$1"; }

echo "binary: $VIGIL ($(stat -c %y "$VIGIL" | cut -d. -f1)); $(nproc) cores"

if [[ " $STEPS " == *" 1 "* ]]; then
  echo "== 1. pipeline FPS, MQTT off vs on: $CLIP"
  start_broker
  vigil "$(config "")" run --headless --source "video:$CLIP" --events "$WORK/off.jsonl"
  echo "MQTT off: $(fps_of "$WORK/off.jsonl")"
  vigil "$(config "mqtt://127.0.0.1:$BROKER_PORT")" run --headless --source "video:$CLIP" --events "$WORK/on.jsonl" 2> "$WORK/on.log" || { cat "$WORK/on.log"; exit 1; }
  echo "MQTT on:  $(fps_of "$WORK/on.jsonl") ($(grep -o 'mqtt: .*' "$WORK/on.log" || echo 'no mqtt report'))"
  kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true
fi

if [[ " $STEPS " == *" 2 "* ]]; then
  echo "== 2. publisher throughput: $EVENTS_N events to a local broker"
  start_broker
  cargo run --quiet --example mqtt_throughput -- "mqtt://127.0.0.1:$BROKER_PORT" "$EVENTS_N"
  kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true
fi

if [[ " $STEPS " == *" 3 "* ]]; then
  echo "== 3. broker down for ${DOWN_S} s: spool size and RSS every ${SAMPLE_S} s (live demo, --realtime --loop)"
  DEAD=$(free_port)   # nothing listens there
  rm -rf "$WORK/state"
  cfg=$(config "mqtt://127.0.0.1:$DEAD"); mkdir -p "$WORK/state"
  # Started directly (not through the vigil function): $! is vigil's own pid.
  VIGIL_STATE_DIR="$WORK/state" RUST_LOG=${RUST_LOG:-warn} "$VIGIL" --config "$cfg" \
    run --headless --realtime --loop --source demo --events "$WORK/down.jsonl" 2> "$WORK/down.log" &
  VPID=$!; PIDS+=("$VPID")
  echo "t_s spool_bytes rss_kb events_written"
  for t in $(seq 0 "$SAMPLE_S" "$DOWN_S"); do
    [ "$t" -gt 0 ] && sleep "$SAMPLE_S"
    spool=$(du -sb "$WORK/state/mqtt-spool" 2>/dev/null | cut -f1 || echo 0)
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$VPID/status" 2>/dev/null || echo gone)
    echo "$t ${spool:-0} $rss $(grep -vc '"event":"frame"' "$WORK/down.jsonl" 2>/dev/null || echo 0)"
  done
  kill -INT "$VPID"; wait "$VPID" || true
  grep -o 'mqtt: .*' "$WORK/down.log" || true
fi
