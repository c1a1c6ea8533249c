#!/usr/bin/env bash
# Lock benchmark, raftlock next to etcd on the same machine in the same session.
#
#   scripts/bench-locks.sh [--runs 3] [--duration 10] [--warmup 1]
#       [--scenarios single,uncontended:64,contended:16,memory]
#       [--sessions 10000] [--locks 100000] [--memory-clients 128]
#       [--http-port 18081] [--peer-port 17081] [--etcd-port 23791]
#       [--dir PATH] [--keep] [--json-out FILE] [--build-dir DIR] [--no-build]
#       [-- extra raftlockd flags]
#
# Builds raftlockd and lockbench (unless --no-build), installs etcd if it is
# missing (apt-get install -y etcd-server etcd-client), starts a 3-node
# raftlock cluster (scripts/cluster.sh) and a 3-member etcd
# (tests/bench/etcd-cluster.sh), then runs every scenario --runs times against
# both, alternating which system goes first, and prints a table of medians
# with the ratios the targets ask for:
#   uncontended, 64 clients:  raftlock cycles/s    >= 5 x etcd
#   contended, 16 clients:    raftlock hand-offs/s >= 10 x etcd
#   single:                   raftlock cycle p50   <= 0.4 x etcd, with the one
#                             client on each system's leader, then on a follower
# The memory scenario (raftlock only, last) creates --sessions sessions
# holding --locks locks in total (ttl 600 s, so they stay during the
# measurement), reports each node's RSS, then SIGKILLs one follower, starts it
# again with the flags scripts/cluster.sh gave it and times how long it takes
# to answer /readyz with 200.
#
# Everything listens on 127.0.0.1. Only the processes started here are
# stopped, by the pids in their pid files. Data (and every JSON line) under
# --dir (default raftlock-data/bench-locks.<pid>), removed at the end unless
# --keep or --dir. RAFTLOCKD and LOCKBENCH override the binaries.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

runs=3
duration=10
warmup=1
scenarios="single,uncontended:64,contended:16,memory"
sessions=10000
locks=100000
memory_clients=128
http_port=18081
peer_port=17081
etcd_port=23791
dir=""
keep=0
json_out=""
build_dir="$root/build-bench"
build=1
daemon_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --sessions) sessions=$2; shift 2 ;;
    --locks) locks=$2; shift 2 ;;
    --memory-clients) memory_clients=$2; shift 2 ;;
    --http-port) http_port=$2; shift 2 ;;
    --peer-port) peer_port=$2; shift 2 ;;
    --etcd-port) etcd_port=$2; shift 2 ;;
    --dir) dir=$2; keep=1; shift 2 ;;
    --keep) keep=1; shift ;;
    --json-out) json_out=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --) shift; daemon_args=("$@"); break ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "bench-locks.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

if [ "$build" = 1 ]; then
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$build_dir" -j2 --target raftlockd lockbench
fi
export RAFTLOCKD=${RAFTLOCKD:-$build_dir/service/raftlockd}
lockbench=${LOCKBENCH:-$build_dir/tests/bench/lockbench}
for f in "$RAFTLOCKD" "$lockbench"; do
  [ -x "$f" ] || { echo "bench-locks.sh: $f is not built" >&2; exit 1; }
done
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
  echo "bench-locks.sh: installing etcd (etcd-server etcd-client)" >&2
  apt-get install -y etcd-server etcd-client >/dev/null
fi

[ -n "$dir" ] || dir="$root/raftlock-data/bench-locks.$$"
mkdir -p "$dir"
results="$dir/results.jsonl"
: >"$results"
rl_dir="$dir/raftlock"
etcd_sh="$root/tests/bench/etcd-cluster.sh"
export ETCDBENCH_DIR="$dir/etcd" ETCDBENCH_CLIENT_PORT=$etcd_port ETCDBENCH_PEER_PORT=$((etcd_port + 10))
cluster() {  # start|stop [-- raftlockd flags]
  local cmd=$1
  shift
  "$root/scripts/cluster.sh" "$cmd" --nodes 3 --http-port "$http_port" --peer-port "$peer_port" \
    --dir "$rl_dir" "$@"
}

cleanup() {
  cluster stop >/dev/null 2>&1 || true
  "$etcd_sh" stop >/dev/null 2>&1 || true
  if [ "$keep" = 0 ]; then rm -rf "$dir"; else echo "data, logs and results kept in $dir" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rl_eps="127.0.0.1:$http_port,127.0.0.1:$((http_port + 1)),127.0.0.1:$((http_port + 2))"
etcd_eps="127.0.0.1:$etcd_port,127.0.0.1:$((etcd_port + 1)),127.0.0.1:$((etcd_port + 2))"
cluster start -- "${daemon_args[@]}" >&2
"$etcd_sh" start >&2
rl_pids() { local i out=""; for i in 1 2 3; do out+="${out:+,}$(cat "$rl_dir/node$i/pid")"; done; echo "$out"; }

# Which endpoint (1-3) leads, for each system. `single` runs twice: its one
# client on the leader's endpoint, then on a follower's (a write through a
# follower is forwarded and answered after the commit reaches it: two more
# hops), for both systems alike, so that the ratio does not depend on where
# each election happened to land.
rl_leader=""
etcd_leader=""
leaders() {
  local i st id try
  for try in $(seq 1 20); do
    rl_leader=""
    etcd_leader=""
    for i in 0 1 2; do
      id=$(curl -fsS -m 2 "http://127.0.0.1:$((http_port + i))/v1/cluster/leader" 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null) &&
        [ -n "$id" ] && { rl_leader=$id; break; }
    done
    for i in 0 1 2; do
      st=$(curl -fsS -m 2 -X POST -d '{}' "http://127.0.0.1:$((etcd_port + i))/v3/maintenance/status" \
        2>/dev/null) || continue
      if python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["header"]["member_id"] == d["leader"] else 1)' \
        <<<"$st" 2>/dev/null; then etcd_leader=$((i + 1)); fi
    done
    [ -n "$rl_leader" ] && [ -n "$etcd_leader" ] && break
    sleep 0.5
  done
  if [ -z "$rl_leader" ] || [ -z "$etcd_leader" ]; then
    echo "bench-locks.sh: no leader found (raftlock '$rl_leader', etcd '$etcd_leader')" >&2
    exit 1
  fi
  echo "leaders: raftlock endpoint $rl_leader, etcd endpoint $etcd_leader" >&2
}

# The endpoint list with the leader's (via=leader) or a follower's first.
first_endpoint() {  # eps leader_index via
  local -a e
  IFS=, read -r -a e <<<"$1"
  local k=$(($2 - 1))
  [ "$3" = follower ] && k=$(((k + 1) % 3))
  echo "${e[$k]},${e[$(((k + 1) % 3))]},${e[$(((k + 2) % 3))]}"
}

# one lockbench run; its JSON line goes to $results, a summary to stderr
bench() {  # target scenario[@leader|@follower] clients label
  local eps pids line sc=${2%@*} via=""
  [ "$sc" != "$2" ] && via=${2#*@}
  if [ "$1" = raftlock ]; then eps=$rl_eps; pids=$(rl_pids); else eps=$etcd_eps; pids=$("$etcd_sh" pids); fi
  if [ -n "$via" ]; then
    if [ "$1" = raftlock ]; then eps=$(first_endpoint "$eps" "$rl_leader" "$via");
    else eps=$(first_endpoint "$eps" "$etcd_leader" "$via"); fi
  fi
  line=$("$lockbench" --target "$1" --endpoints "$eps" --scenario "$sc" --clients "$3" \
    --duration "$duration" --warmup "$warmup" --server-pids "$pids" --label "$4")
  [ -n "$via" ] && line=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["via"]=sys.argv[2]; print(json.dumps(d))' "$line" "$via")
  echo "$line" >>"$results"
  python3 "$root/tests/bench/lockbench_summary.py" --one <<<"$line" >&2
}

loop_scenarios=()
memory=0
IFS=, read -r -a wanted <<<"$scenarios"
for s in "${wanted[@]}"; do
  case "$s" in
    memory) memory=1 ;;
    single) loop_scenarios+=("single@leader:1" "single@follower:1") ;;
    uncontended:*|contended:*) loop_scenarios+=("$s") ;;
    uncontended|contended) loop_scenarios+=("$s:16") ;;
    *) echo "bench-locks.sh: unknown scenario $s" >&2; exit 2 ;;
  esac
done

for run in $(seq 1 "$runs"); do
  leaders
  for sc in "${loop_scenarios[@]}"; do
    # alternate the order so neither system always runs on a warmer machine
    if [ $((run % 2)) = 1 ]; then order="raftlock etcd"; else order="etcd raftlock"; fi
    for t in $order; do bench "$t" "${sc%%:*}" "${sc##*:}" "run$run"; done
  done
done

rss_of() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo null; }

memory_scenario() {
  local line leader_id victim="" i pid d t0 t1 t_kill ready_ms rss
  line=$("$lockbench" --target raftlock --endpoints "$rl_eps" --scenario memory \
    --sessions "$sessions" --locks "$locks" --clients "$memory_clients" --lease-ttl 600 \
    --server-pids "$(rl_pids)" --label memory)
  echo "$line" >>"$results"
  python3 "$root/tests/bench/lockbench_summary.py" --one <<<"$line" >&2
  # restart a follower: SIGKILL, then the same command line cluster.sh uses
  leader_id=$(curl -fsS -m 2 "http://127.0.0.1:$http_port/v1/cluster/leader" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("id",""))' || true)
  for i in 3 2 1; do [ "$i" != "$leader_id" ] && { victim=$i; break; }; done
  d="$rl_dir/node$victim"
  pid=$(cat "$d/pid")
  rss=$(rss_of "$pid")
  t_kill=$(date +%s%N)
  kill -KILL "$pid"
  # gone, or a zombie nobody reaped yet: its sockets and files (and the data
  # dir's lock) are closed only once every thread has exited; the main
  # thread shows Z while a sync thread still finishes its fsync
  while kill -0 "$pid" 2>/dev/null &&
    { [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] ||
      [ "$(ls "/proc/$pid/task" 2>/dev/null | wc -l)" -gt 1 ]; }; do
    sleep 0.01
  done
  local initial="1=127.0.0.1:$peer_port,2=127.0.0.1:$((peer_port + 1)),3=127.0.0.1:$((peer_port + 2))"
  t0=$(date +%s%N)
  "$RAFTLOCKD" --id "$victim" --data-dir "$d" \
    --listen-http "127.0.0.1:$((http_port + victim - 1))" \
    --listen-peer "127.0.0.1:$((peer_port + victim - 1))" \
    --initial-cluster "$initial" "${daemon_args[@]}" >>"$d/raftlockd.log" 2>&1 &
  echo $! >"$d/pid"
  ready_ms=null
  for _ in $(seq 1 12000); do
    if curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$((http_port + victim - 1))/readyz" 2>/dev/null; then
      t1=$(date +%s%N); ready_ms=$(((t1 - t0) / 1000000)); break
    fi
    sleep 0.01
  done
  line="{\"target\":\"raftlock\",\"scenario\":\"memory_restart\",\"node\":$victim,\"signal\":\"KILL\""
  line+=",\"rss_before_kill_kib\":$rss,\"ready_ms\":$ready_ms"
  [ "$ready_ms" != null ] && line+=",\"ready_since_kill_ms\":$(((t1 - t_kill) / 1000000))"
  line+=",\"rss_after_ready_kib\":{"
  for i in 1 2 3; do line+="$([ $i = 1 ] || echo ,)\"$i\":$(rss_of "$(cat "$rl_dir/node$i/pid")")"; done
  line+="},\"label\":\"memory\"}"
  echo "$line" >>"$results"
  echo "$line" >&2
}
[ "$memory" = 1 ] && memory_scenario

echo
python3 "$root/tests/bench/lockbench_summary.py" "$results"
[ -z "$json_out" ] || cat "$results" >>"$json_out"
