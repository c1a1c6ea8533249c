#!/usr/bin/env bash
# Paired A/B comparison of two raftlockd builds or settings on one machine.
#
# Starts two 3-node clusters at once (A on HTTP ports BASE+1..3, B on
# BASE+201..203; peers 100 above each), then runs the same lockbench scenario
# on A and on B in alternating short runs and prints, per figure, the median
# of the per-pair ratios B/A. Runs this short and this close together see the
# same machine: on a noisy VM that is what resolves a 5-10% change, where
# consecutive long runs of one build differ by far more (docs/bench.md).
#
#   scripts/bench-pair.sh --a build/service/raftlockd --b /tmp/raftlockd.new \
#       [--a-flags "--sync-threads 1"] [--b-flags ...] [--a-env "VAR=1"] [--b-env ...] \
#       [--scenario contended:16|uncontended:64|single] [--on all|leader|follower] \
#       [--pairs 8] [--duration 3] [--lockbench build/tests/bench/lockbench]
#
# Each side is a scripts/cluster.sh cluster in a temporary directory, stopped
# by pid on exit.
set -euo pipefail

A=""; B=""; AFLAGS=""; BFLAGS=""; AENV="RAFTLOCK_PAIR=A"; BENV="RAFTLOCK_PAIR=B"
SC="contended:16"; ON="all"; PAIRS=8; DUR=3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LB="$ROOT/build/tests/bench/lockbench"
BASE=${BENCH_PAIR_PORT:-19500}
while [ $# -gt 0 ]; do
  case "$1" in
    --a) A="$2"; shift 2 ;;
    --b) B="$2"; shift 2 ;;
    --a-flags) AFLAGS="$2"; shift 2 ;;
    --b-flags) BFLAGS="$2"; shift 2 ;;
    --a-env) AENV="$2"; shift 2 ;;
    --b-env) BENV="$2"; shift 2 ;;
    --scenario) SC="$2"; shift 2 ;;
    --on) ON="$2"; shift 2 ;;
    --pairs) PAIRS="$2"; shift 2 ;;
    --duration) DUR="$2"; shift 2 ;;
    --lockbench) LB="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench-pair.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$A" ] && [ -x "$B" ] || { echo "bench-pair.sh: --a and --b must name raftlockd binaries" >&2; exit 2; }
[ -x "$LB" ] || { echo "bench-pair.sh: no lockbench at $LB (--lockbench)" >&2; exit 2; }
case "$ON" in all|leader|follower) ;; *) echo "bench-pair.sh: --on all|leader|follower" >&2; exit 2 ;; esac

DIR=$(mktemp -d /tmp/raftlock-pair.XXXXXX)
cluster() {  # tag http_base start|stop binary env flags: one scripts/cluster.sh per side
  local tag=$1 http=$2 cmd=$3 bin=$4 envs=$5 flags=$6
  # shellcheck disable=SC2086  # envs and flags are word lists
  env $envs RAFTLOCKD="$bin" "$ROOT/scripts/cluster.sh" "$cmd" --nodes 3 --http-port $((http + 1)) \
    --peer-port $((http + 101)) --dir "$DIR/$tag" -- --log-level warn $flags >/dev/null
}
cleanup() {
  cluster A "$BASE" stop "$A" "" "" || true
  cluster B $((BASE + 200)) stop "$B" "" "" || true
  rm -rf "$DIR"
}
trap cleanup EXIT

endpoints() {  # http_base -> the endpoints --on asks for (cluster.sh waited for a leader)
  local http=$1 leader
  leader=$(curl -s "127.0.0.1:$((http + 1))/v1/cluster/leader" | grep -o '"id":[0-9]*' | head -1 | cut -d: -f2)
  [ -n "$leader" ] || { echo "bench-pair.sh: no leader on $((http + 1))" >&2; exit 1; }
  case "$ON" in
    leader) echo "127.0.0.1:$((http + leader))" ;;
    follower) echo "127.0.0.1:$((http + leader % 3 + 1))" ;;
    all) echo "127.0.0.1:$((http + 1)),127.0.0.1:$((http + 2)),127.0.0.1:$((http + 3))" ;;
  esac
}

cluster A "$BASE" start "$A" "$AENV" "$AFLAGS"
cluster B $((BASE + 200)) start "$B" "$BENV" "$BFLAGS"
EA=$(endpoints "$BASE")
EB=$(endpoints $((BASE + 200)))
NAME=${SC%%:*}
CLIENTS=1
[ "$NAME" != single ] && CLIENTS=${SC##*:}

for r in $(seq "$PAIRS"); do
  for v in A B; do
    E=$EA; [ $v = B ] && E=$EB
    echo "$v $("$LB" --target raftlock --endpoints "$E" --scenario "$NAME" --clients "$CLIENTS" \
      --duration "$DUR" --warmup 0.5 2>/dev/null | tail -1)"
  done
done | python3 -c '
import json, statistics, sys
runs = {"A": [], "B": []}
for line in sys.stdin:
    tag, _, rest = line.partition(" ")
    d = json.loads(rest)
    runs[tag].append({"rate": d.get("cycles_per_s") or d.get("handoffs_per_s"),
                      "p50_ms": (d.get("cycle_ms") or d.get("acquire_ms") or {}).get("p50")})
    print(tag, runs[tag][-1], flush=True)
for k in ("rate", "p50_ms"):
    pairs = [(a[k], b[k]) for a, b in zip(runs["A"], runs["B"]) if a[k] and b[k]]
    if not pairs:
        continue
    ratios = [b / a for a, b in pairs]
    print("%-6s A median %.3f  B median %.3f  B/A per pair: median %.3f (min %.3f, max %.3f, %d pairs)" % (
        k, statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs),
        statistics.median(ratios), min(ratios), max(ratios), len(pairs)))
'
