#!/usr/bin/env bash
# Start/stop a 3-member etcd cluster on loopback for lock benchmarking.
#
#   etcd-cluster.sh start  [N ...]   start all members (or only members N, 1..3)
#   etcd-cluster.sh stop   [N ...]   SIGTERM (then SIGKILL after 10 s) members by PID file
#   etcd-cluster.sh kill9  N         SIGKILL member N by PID file (failover tests)
#   etcd-cluster.sh status           PID liveness + `etcdctl endpoint status`
#   etcd-cluster.sh pid    N         print PID of member N (empty + rc=1 if not running)
#   etcd-cluster.sh pids             print PIDs of all running members, comma separated
#   etcd-cluster.sh compact          compact history up to the current revision (no defrag)
#   etcd-cluster.sh wipe             stop all, then delete data dirs/logs under $BASE
#
# A copy of /work/shared/bench/etcd-cluster.sh kept in the repo so that
# scripts/bench-locks.sh works from a fresh clone; unlike the original, the
# ports can be moved: ETCDBENCH_CLIENT_PORT (first client port, default 23791)
# and ETCDBENCH_PEER_PORT (first peer port, default 23801).
#
# Only processes whose PID is in our PID files AND whose command line carries our
# --data-dir are ever signalled.  Members run with etcd defaults (fsync on, heartbeat
# 100 ms, election timeout 1000 ms, snapshot-count 100000, no auto-compaction).
set -euo pipefail

BASE=${ETCDBENCH_DIR:-/tmp/etcdbench}
ETCD=${ETCD_BIN:-/usr/bin/etcd}
ETCDCTL=${ETCDCTL_BIN:-/usr/bin/etcdctl}
HOST=127.0.0.1
NAMES=(e1 e2 e3)
C0=${ETCDBENCH_CLIENT_PORT:-23791}
P0=${ETCDBENCH_PEER_PORT:-23801}
CPORTS=($C0 $((C0 + 1)) $((C0 + 2)))
PPORTS=($P0 $((P0 + 1)) $((P0 + 2)))
TOKEN=etcdbench-cluster
CLUSTER="e1=http://$HOST:${PPORTS[0]},e2=http://$HOST:${PPORTS[1]},e3=http://$HOST:${PPORTS[2]}"
ENDPOINTS="$HOST:${CPORTS[0]},$HOST:${CPORTS[1]},$HOST:${CPORTS[2]}"

mkdir -p "$BASE/pids" "$BASE/logs"

pidfile() { echo "$BASE/pids/${NAMES[$1]}.pid"; }
datadir() { echo "$BASE/${NAMES[$1]}"; }

# prints the PID of member index $1 (0-based) if it is alive and really ours
ourpid() {
  local i=$1 f pid cmd
  f=$(pidfile "$i")
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
  case "$cmd" in
    *"--data-dir $(datadir "$i") "*) echo "$pid"; return 0 ;;
  esac
  return 1
}

idx_args() {  # convert 1-based args to 0-based list; default all
  if [ $# -eq 0 ]; then echo 0 1 2; return; fi
  local a
  for a in "$@"; do
    [[ "$a" =~ ^[1-3]$ ]] || { echo "bad member index: $a (want 1..3)" >&2; exit 2; }
    echo $((a - 1))
  done
}

start_one() {
  local i=$1 pid name=${NAMES[$1]}
  if pid=$(ourpid "$i"); then echo "$name already running (pid $pid)"; return 0; fi
  mkdir -p "$(datadir "$i")"
  chmod 700 "$(datadir "$i")"
  nohup "$ETCD" \
    --name "$name" \
    --data-dir "$(datadir "$i")" \
    --listen-client-urls "http://$HOST:${CPORTS[$i]}" \
    --advertise-client-urls "http://$HOST:${CPORTS[$i]}" \
    --listen-peer-urls "http://$HOST:${PPORTS[$i]}" \
    --initial-advertise-peer-urls "http://$HOST:${PPORTS[$i]}" \
    --initial-cluster "$CLUSTER" \
    --initial-cluster-token "$TOKEN" \
    --initial-cluster-state new \
    --logger zap \
    >>"$BASE/logs/$name.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$(pidfile "$i")"
  echo "started $name pid $pid client http://$HOST:${CPORTS[$i]} peer http://$HOST:${PPORTS[$i]}"
}

wait_healthy() {
  local eps=$1 t
  for t in $(seq 1 100); do
    if "$ETCDCTL" --endpoints "$eps" --command-timeout=2s endpoint health >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  echo "members not healthy after 10 s: $eps" >&2
  "$ETCDCTL" --endpoints "$eps" --command-timeout=2s endpoint health >&2 || true
  return 1
}

signal_one() {  # $1 index, $2 signal, $3 wait-for-exit seconds
  local i=$1 sig=$2 wait_s=$3 pid name=${NAMES[$1]} t
  if ! pid=$(ourpid "$i"); then
    echo "$name not running"; rm -f "$(pidfile "$i")"; return 0
  fi
  kill "-$sig" "$pid"
  for t in $(seq 1 $((wait_s * 10))); do
    [ -e "/proc/$pid" ] || break
    # zombie (child of this shell is impossible here; just check state)
    if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo X)" = Z ]; then break; fi
    sleep 0.1
  done
  if [ -e "/proc/$pid" ] && ourpid "$i" >/dev/null; then
    echo "$name (pid $pid) still alive after SIG$sig; sending SIGKILL"
    kill -KILL "$pid"
    sleep 0.3
  fi
  rm -f "$(pidfile "$i")"
  echo "stopped $name (pid $pid, SIG$sig)"
}

cmd=${1:-status}
shift || true
case "$cmd" in
  start)
    eps=()
    for i in $(idx_args "$@"); do start_one "$i"; eps+=("$HOST:${CPORTS[$i]}"); done
    eps_csv=$(IFS=,; echo "${eps[*]}")
    wait_healthy "$eps_csv"
    echo "healthy: $eps_csv"
    ;;
  stop)
    for i in $(idx_args "$@"); do signal_one "$i" TERM 10; done
    ;;
  kill9)
    [ $# -eq 1 ] || { echo "usage: $0 kill9 N" >&2; exit 2; }
    signal_one "$(idx_args "$1")" KILL 5
    ;;
  pid)
    [ $# -eq 1 ] || { echo "usage: $0 pid N" >&2; exit 2; }
    ourpid "$(idx_args "$1")"
    ;;
  pids)
    out=()
    for i in 0 1 2; do if p=$(ourpid "$i"); then out+=("$p"); fi; done
    (IFS=,; echo "${out[*]:-}")
    ;;
  status)
    for i in 0 1 2; do
      if p=$(ourpid "$i"); then echo "${NAMES[$i]}: running pid $p"; else echo "${NAMES[$i]}: not running"; fi
    done
    "$ETCDCTL" --endpoints "$ENDPOINTS" --command-timeout=2s endpoint status -w table 2>&1 || true
    ;;
  compact)
    rev=$("$ETCDCTL" --endpoints "$ENDPOINTS" endpoint status -w json | python3 -c 'import json,sys; print(max(e["Status"]["header"]["revision"] for e in json.load(sys.stdin)))')
    "$ETCDCTL" --endpoints "$ENDPOINTS" compact "$rev" --physical=true || echo "compact at $rev skipped" >&2
    ;;
  wipe)
    for i in 0 1 2; do signal_one "$i" TERM 10; done
    for i in 0 1 2; do rm -rf "$(datadir "$i")"; done
    rm -rf "$BASE/logs"
    echo "wiped data dirs under $BASE"
    ;;
  *)
    echo "usage: $0 start|stop|status|kill9 N|pid N|pids|compact|wipe" >&2; exit 2 ;;
esac
