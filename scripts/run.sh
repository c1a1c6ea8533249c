#!/usr/bin/env bash
# Installs what is missing, builds, starts a local 3-node cluster in the
# foreground, prints the leader and curl examples, and stops the cluster
# cleanly on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target raftlockd

export RAFTLOCKD="$PWD/$build_dir/service/raftlockd"
dir="$PWD/raftlock-data/cluster"
trap 'echo; scripts/cluster.sh stop --dir "$dir"; exit 0' INT TERM
scripts/cluster.sh start --dir "$dir"

leader=$(curl -fsS http://127.0.0.1:8081/v1/cluster/leader)
cat <<TXT

A 3-node raftlock cluster is running (data in $dir).
Leader: $leader

Try:
  curl -s http://127.0.0.1:8081/v1/cluster/leader
  curl -s http://127.0.0.1:8082/v1/cluster/status
  curl -s http://127.0.0.1:8083/v1/cluster/members
  curl -s -X POST http://127.0.0.1:8081/v1/sessions -d '{"ttl_ms": 10000, "name": "worker-7"}'
  curl -s -X POST http://127.0.0.1:8081/v1/cluster/transfer-leadership -d '{"to": 2}'
  curl -s http://127.0.0.1:8081/metrics

Press Ctrl-C to stop the cluster.
TXT
while true; do sleep 1; done
