#!/usr/bin/env bash
# Installs with apt exactly what building and testing raftlock needs.
# Does nothing (and needs no network) when everything is already present.
set -euo pipefail

packages=(
  g++ clang cmake ninja-build pkg-config curl python3
  libboost-dev libboost-program-options-dev
  libsqlite3-dev nlohmann-json3-dev doctest-dev
  libgoogle-perftools-dev  # tcmalloc, linked into raftlockd
  chromium  # headless, for the status page test (tests/e2e/test_ui.py)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -y -qq || true
$SUDO apt-get install -y -qq "${missing[@]}"
