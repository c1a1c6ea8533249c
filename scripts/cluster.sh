#!/usr/bin/env bash
# Starts, stops and inspects a local raftlock cluster on loopback.
#
#   scripts/cluster.sh start|stop|status [--nodes 3] [--http-port 8081]
#                      [--peer-port 7081] [--dir PATH]
#
# Node i listens on http-port+i-1 and peer-port+i-1 with its data in
# PATH/node<i> and a pid file beside it. `start` waits until the cluster has a
# leader and prints one line per node; `stop` stops exactly those pids.
# RAFTLOCKD names the binary (default: build/service/raftlockd).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

cmd=${1:-}
[ -n "$cmd" ] && shift
nodes=3
http_port=8081
peer_port=7081
dir="$root/raftlock-data/cluster"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift 2 ;;
    --http-port) http_port=$2; shift 2 ;;
    --peer-port) peer_port=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
bin=${RAFTLOCKD:-$root/build/service/raftlockd}

node_line() {  # i pid
  echo "id=$1 pid=$2 http=127.0.0.1:$((http_port + $1 - 1)) peer=127.0.0.1:$((peer_port + $1 - 1))"
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

start() {
  [ -x "$bin" ] || { echo "cluster.sh: $bin not built (run scripts/run.sh or cmake --build build)" >&2; exit 1; }
  local initial="" i
  for i in $(seq 1 "$nodes"); do
    initial+="${initial:+,}$i=127.0.0.1:$((peer_port + i - 1))"
  done
  for i in $(seq 1 "$nodes"); do
    local d="$dir/node$i"
    mkdir -p "$d"
    if [ -f "$d/pid" ] && alive "$(cat "$d/pid")"; then
      echo "cluster.sh: node $i already running (pid $(cat "$d/pid"))" >&2; exit 1
    fi
    "$bin" --id "$i" --data-dir "$d" \
      --listen-http "127.0.0.1:$((http_port + i - 1))" \
      --listen-peer "127.0.0.1:$((peer_port + i - 1))" \
      --initial-cluster "$initial" "${extra[@]}" >>"$d/raftlockd.log" 2>&1 &
    echo $! >"$d/pid"
  done
  # Wait for a leader (any node answering /v1/cluster/leader with 200).
  local deadline=$((SECONDS + 30))
  while [ $SECONDS -lt $deadline ]; do
    for i in $(seq 1 "$nodes"); do
      if curl -fsS -m 1 "http://127.0.0.1:$((http_port + i - 1))/v1/cluster/leader" >/dev/null 2>&1; then
        for j in $(seq 1 "$nodes"); do node_line "$j" "$(cat "$dir/node$j/pid")"; done
        return 0
      fi
    done
    sleep 0.1
  done
  echo "cluster.sh: no leader after 30 s; logs in $dir/node*/raftlockd.log" >&2
  exit 1
}

stop() {
  local i pid
  for i in $(seq 1 "$nodes"); do
    local f="$dir/node$i/pid"
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
      alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
    echo "stopped node $i (pid $pid)"
  done
}

status() {
  local i pid
  for i in $(seq 1 "$nodes"); do
    pid=$(cat "$dir/node$i/pid" 2>/dev/null || true)
    if alive "$pid"; then
      local role
      role=$(curl -fsS -m 1 "http://127.0.0.1:$((http_port + i - 1))/v1/cluster/status" 2>/dev/null |
        sed -n 's/.*"role":"\([a-z-]*\)".*/\1/p')
      echo "$(node_line "$i" "$pid") role=${role:-unknown}"
    else
      echo "id=$i down"
    fi
  done
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: scripts/cluster.sh start|stop|status [--nodes N] [--http-port P] [--peer-port P] [--dir PATH]" >&2; exit 2 ;;
esac
