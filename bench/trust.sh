#!/usr/bin/env bash
# What a hostile burst costs a node (issue 18; docs/performance.md, "Trust first"): a release
# build on SQLite with the demo street and a fake WeChat on loopback, a fresh server per
# scenario, its peak RSS (VmHWM) read from /proc before and after.
#
#   bench/trust.sh                                   # this tree's release build
#   QIAOMEN_BIN=/tmp/old/qiaomen QIAOMEN_CONFIG_DIR=/tmp/old-tree/config bench/trust.sh
#   SCENARIOS="logins redis" bench/trust.sh
#
# bodies: two chunked 200 MB JSON bodies at once (Content-Type application/JSON, no
#         Content-Length), then one chunked 400 MB photo upload.
# logins: 120 staff logins at once.
# redis:  wrk against the resident's ticket list with Redis up, then with it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIOS="${SCENARIOS-bodies logins redis}"
export QIAOMEN_CONFIG_DIR="${QIAOMEN_CONFIG_DIR:-config}"
if [ -n "${QIAOMEN_BIN:-}" ]; then
  BIN="$QIAOMEN_BIN"
else
  cargo build --release -q -p qiaomen-api
  BIN=target/release/qiaomen
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
token() { python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }
kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

work=$(mktemp -d)
wechat_port=$(free_port)
python3 .ci/fake_wechat.py "$wechat_port" &
pids=("$!")
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Starts a fresh server (extra environment as arguments); sets $server, $base, $resident.
start() {
  local port db
  port=$(free_port)
  db="$work/$(date +%s%N).db"
  env QIAOMEN_ENV=bench QIAOMEN_LISTEN="127.0.0.1:$port" \
    QIAOMEN_DATABASE_URL="sqlite://$db?mode=rwc" QIAOMEN_REDIS_URL="" \
    QIAOMEN_JWT_SECRET="bench-secret-bench-secret-bench-secret-0123" \
    QIAOMEN_MEDIA__DIR="$work/media" QIAOMEN_WECHAT_API_BASE="http://127.0.0.1:$wechat_port" \
    RUST_LOG=error "$@" "$BIN" serve --seed-demo >"$work/server.log" 2>&1 &
  server=$!
  pids+=("$server")
  base="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  resident=$(curl -fsS "$base/api/v1/auth/wechat" -H 'content-type: application/json' \
    -d '{"code":"bench-resident"}' | token)
}

stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }

report() { # label, RSS before (KB)
  echo "$1: peak RSS $(( $(kb "$server" VmHWM) / 1024 )) MB (was $(( $2 / 1024 )) MB before)"
}

chunked_json() {
  head -c $((200 << 20)) /dev/zero | tr '\0' 'a' |
    curl -sS -o /dev/null -w '%{http_code} ' -H 'Transfer-Encoding: chunked' \
      -H 'Content-Type: application/JSON' -H "Authorization: Bearer $resident" \
      --data-binary @- "$base/api/v1/tickets" || true
}

for scenario in $SCENARIOS; do
  case "$scenario" in
  bodies)
    start
    before=$(kb "$server" VmHWM)
    echo -n "two chunked 200 MB JSON bodies, statuses: "
    chunked_json & first=$!
    chunked_json & second=$!
    wait "$first" "$second" || true
    echo
    report "  JSON" "$before"
    stop
    start
    before=$(kb "$server" VmHWM)
    echo -n "a chunked 400 MB photo upload, status: "
    { printf -- '--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
      printf '\xff\xd8\xff\xe0'; head -c $((400 << 20)) /dev/zero; printf -- '\r\n--b--\r\n'; } |
      curl -sS -o /dev/null -w '%{http_code}\n' -H 'Transfer-Encoding: chunked' \
        -H 'Content-Type: multipart/form-data; boundary=b' -H "Authorization: Bearer $resident" \
        --data-binary @- "$base/api/v1/attachments" || true
    report "  photo" "$before"
    stop
    ;;
  logins)
    start
    before=$(kb "$server" VmHWM)
    echo "120 staff logins at once, statuses:"
    seq 1 120 | xargs -P 120 -I{} curl -sS -o /dev/null -w '%{http_code}\n' \
      "$base/api/v1/auth/staff" -H 'content-type: application/json' \
      -d '{"login":"admin","password":"Qiaomen-demo1"}' | sort | uniq -c
    report "  logins" "$before"
    stop
    ;;
  redis)
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
    redis_pid=$!
    pids+=("$redis_pid")
    sleep 0.5
    start QIAOMEN_REDIS_URL="redis://127.0.0.1:$redis_port"
    printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$resident" >"$work/auth.lua"
    echo "resident ticket list, Redis up:"
    wrk -t2 -c16 -d10s -s "$work/auth.lua" --latency "$base/api/v1/tickets" |
      grep -E "Requests/sec|50%|99%|Non-2xx"
    kill "$redis_pid"; wait "$redis_pid" 2>/dev/null || true
    echo "resident ticket list, Redis stopped:"
    wrk -t2 -c16 -d10s -s "$work/auth.lua" --latency "$base/api/v1/tickets" |
      grep -E "Requests/sec|50%|99%|Non-2xx"
    stop
    ;;
  *) echo "unknown scenario $scenario" >&2; exit 2 ;;
  esac
done
