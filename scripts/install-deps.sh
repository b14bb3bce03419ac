#!/usr/bin/env bash
# Installs the Debian 12 packages brisk builds, tests and benchmarks with.
# Idempotent: only calls apt-get when something is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libtbb-dev libmimalloc-dev libconcurrentqueue-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  libcpp-httplib-dev nlohmann-json3-dev libboost-dev
  clang-14 libclang-rt-14-dev gnuplot-nox redis-server libhiredis-dev
  tzdata  # periodic tasks: cron time zones are read from /usr/share/zoneinfo
  libnats-dev nats-server
  libtomlplusplus-dev libcurl4-openssl-dev wrk
  libssl-dev openssl  # `brisk serve` TLS (server.tls_cert, tls_key); its tests make certificates with `openssl req`
  tmux  # the `brisk top` test drives it in a terminal (tests/tools/top_tmux_test.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
