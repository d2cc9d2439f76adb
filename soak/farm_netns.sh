#!/usr/bin/env bash
# Issue 16: a bench farm across network namespaces, one per "machine": the bureau in one, a
# disk server in each of two more, joined by veth pairs on a bridge; the bench host (this
# shell's namespace) drives both disks over the bridge with `taxdisk bench --farm`. Where
# namespaces cannot be made (no root, no CAP_NET_ADMIN, a container without them) the same
# farm runs on loopback ports, and the output says so. Fails (exit 1) if the bench fails.
#   cargo build --release --bins -p taxdisk -p taxdisk-device-sim
#   sudo bash soak/farm_netns.sh [INVOICES] [WORKDIR]
# TAXDISK_BIN=DIR takes the binaries from DIR instead of target/release (CI: target/debug).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${TAXDISK_BIN:-$root/target/release}
T="$bin/taxdisk"
S="$bin/taxdisk-sim"
N=${1:-2000}
W=${2:-$(mktemp -d)}
mkdir -p "$W"
NET=10.77.0
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${netns:-0}" = 1 ]; then
    for ns in td-bureau td-disk1 td-disk2; do ip netns del "$ns" 2>/dev/null || true; done
    ip link del tdbr0 2>/dev/null || true
  fi
}
trap cleanup EXIT

# Runs "$@" in namespace $1 (or here, on loopback) in the background; its --print-ports line
# goes to file $2.
start() {
  local ns=$1 out=$2
  shift 2
  if [ "$netns" = 1 ]; then
    ip netns exec "$ns" "$@" --print-ports >"$out" 2>"$out.log" &
  else
    "$@" --print-ports >"$out" 2>"$out.log" &
  fi
  pids+=($!)
  for _ in $(seq 1 100); do
    [ -s "$out" ] && return 0
    sleep 0.1
  done
  echo "did not start: $*"; cat "$out.log"; exit 1
}

field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

netns=0
if ip netns add td-bureau 2>/dev/null; then
  netns=1
  ip netns add td-disk1
  ip netns add td-disk2
  ip link add tdbr0 type bridge
  ip addr add "$NET.1/24" dev tdbr0
  ip link set tdbr0 up
  i=2
  for ns in td-bureau td-disk1 td-disk2; do
    ip link add "$ns-h" type veth peer name eth0 netns "$ns"
    ip link set "$ns-h" master tdbr0 up
    ip -n "$ns" addr add "$NET.$i/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    i=$((i + 1))
  done
  bureau_addr="$NET.2:7463"; disk1="$NET.3"; disk2="$NET.4"
  echo "network namespaces: bureau $NET.2, disks $NET.3 and $NET.4, bench host $NET.1 (bridge tdbr0)"
else
  bureau_addr="127.0.0.1:0"; disk1="127.0.0.1"; disk2="127.0.0.1"
  echo "NOTE: network namespaces could not be made here (needs root and CAP_NET_ADMIN);"
  echo "      the same farm runs on loopback ports instead"
fi

start td-bureau "$W/bureau.json" "$S" bureau --listen "$bureau_addr" --admin-token-file "$W/admin.token"
url=$(field "$W/bureau.json" bureau)
key=$(field "$W/bureau.json" bureau_key)
port() { if [ "$netns" = 1 ]; then echo "$1:7461 --control $1:7462"; else echo "127.0.0.1:0 --control 127.0.0.1:0"; fi; }
# shellcheck disable=SC2046
start td-disk1 "$W/disk1.json" "$S" serve --serial 661000000201 --bureau-key "$key" \
  --image "$W/disk1.img" --listen $(port "$disk1")
# shellcheck disable=SC2046
start td-disk2 "$W/disk2.json" "$S" serve --serial 661000000202 --bureau-key "$key" \
  --image "$W/disk2.img" --listen $(port "$disk2")
d1=$(field "$W/disk1.json" disk)
d2=$(field "$W/disk2.json" disk)
echo "bureau $url, disks $d1 and $d2"

cmd=("$T" --lang en --data "$W/bench-host" --disk "tcp:$d1" --bureau "$url"
  --bureau-admin-token-file "$W/admin.token" bench --invoices "$N" --farm "tcp:$d2")
echo "+ taxdisk --disk tcp:$d1 --bureau $url --bureau-admin-token-file ADMIN bench --invoices $N --farm tcp:$d2"
"${cmd[@]}" 2>"$W/bench.log" | tee "$W/bench.out"
grep -q "end-to-end issue, 2 disks:" "$W/bench.out" || { cat "$W/bench.log"; exit 1; }
echo "farm run done ($( [ "$netns" = 1 ] && echo "network namespaces" || echo "loopback" ))"
