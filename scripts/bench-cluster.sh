#!/usr/bin/env bash
# Cluster benchmarks for raftlockd: fail-over time, stability under full load,
# replication throughput/latency/CPU next to the disk's fsync rate.
#
#   scripts/bench-cluster.sh [--phases failover,stability,replication]
#       [--rounds 20] [--stability-seconds 60] [--stability-clients 128]
#       [--repl-seconds 10] [--repl-runs 1:leader,64:leader,64:all]
#       [--path /v1/sessions] [--body '{}'] [--repl-body BODY (default: sessions
#       of ttl 1 s for /v1/sessions, else --body)]
#       [--dir PATH] [--keep] [--json-out FILE] [--build-dir DIR] [--no-build]
#       [--nice N | --chrt PRIO] [-- extra raftlockd flags]
#
# Every phase runs on a fresh 3-node cluster on loopback (free ports picked at
# start), data under --dir (default raftlock-data/bench.<pid>, removed at the
# end unless --keep); the fsync probe runs in the same directory. Only the
# processes this script starts are stopped, by pid. Binaries: RAFTLOCKD and
# HTTP_LOAD override build/service/raftlockd and build/tests/bench/http_load;
# FSYNC_PROBE overrides /work/shared/bench/fsync_probe.py.
# --nice N runs everything (nodes, load generator, fsync probe) under nice -n N,
# e.g. -10 on a machine shared with compilers. The output reports the load
# average and the CPU pressure (/proc/pressure/cpu) so noisy runs are visible.
# --chrt PRIO runs everything under SCHED_RR priority PRIO (chrt -r, root
# only): on a machine whose CPUs are saturated by other work, a woken process
# otherwise waits up to a scheduler tick (4 ms) for a CPU, which then dominates
# every latency (fsync_probe included). Real-time tasks are throttled to 95% of
# the CPU time by the kernel, so other work still progresses.
# Shorter smoke run: --rounds 3 --stability-seconds 5 --repl-seconds 3
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

build_dir="$root/build"
build=1
keep=0
dir=""
nice_cmd=()
py_args=()
daemon_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --keep) keep=1; shift ;;
    --dir) dir=$2; shift 2 ;;
    --nice) nice_cmd=(nice -n "$2"); shift 2 ;;
    --chrt) nice_cmd=(chrt -r "$2"); shift 2 ;;
    --phases|--rounds|--stability-seconds|--stability-clients|--repl-seconds|--repl-warmup|\
    --repl-runs|--settle-ms|--probe-interval-ms|--probe-timeout-ms|--fsync-seconds|--json-out|\
    --path|--body|--repl-body)
      py_args+=("$1" "$2"); shift 2 ;;
    --) shift; daemon_args=("$@"); break ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "bench-cluster.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

if [ "$build" = 1 ]; then
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$build_dir" --target raftlockd http_load
fi
raftlockd=${RAFTLOCKD:-$build_dir/service/raftlockd}
http_load=${HTTP_LOAD:-$build_dir/tests/bench/http_load}
fsync_probe=${FSYNC_PROBE:-/work/shared/bench/fsync_probe.py}
for f in "$raftlockd" "$http_load"; do
  [ -x "$f" ] || { echo "bench-cluster.sh: $f is not built" >&2; exit 1; }
done
[ -f "$fsync_probe" ] || { echo "bench-cluster.sh: $fsync_probe not found (set FSYNC_PROBE)" >&2; exit 1; }

if [ -z "$dir" ]; then
  dir="$root/raftlock-data/bench.$$"
else
  keep=1  # never delete a directory the caller named
fi
mkdir -p "$dir"

# The helper stops its nodes on SIGTERM/SIGINT; pass ours on to it.
"${nice_cmd[@]}" python3 "$root/tests/bench/bench_cluster.py" --raftlockd "$raftlockd" --http-load "$http_load" \
  --fsync-probe "$fsync_probe" --dir "$dir" "${py_args[@]}" -- "${daemon_args[@]}" &
py=$!
trap 'kill -TERM "$py" 2>/dev/null || true' TERM INT
rc=0
wait "$py" || rc=$?
while kill -0 "$py" 2>/dev/null; do wait "$py" || rc=$?; done
if [ "$keep" = 0 ] && [ "$rc" = 0 ]; then
  rm -rf "$dir"
else
  echo "data and node logs kept in $dir"
fi
exit "$rc"
