#!/usr/bin/env bash
# Issue 17 soak: 8 `taxdisk` processes issuing at once on one data folder, 2,000 invoices in
# all (50 commands of 5 drafts each per process), then `repair`: no number signed twice, every
# command answered, the store, the disk journal and the bureau agree. Fails (exit 1) otherwise.
#   cargo build --release && bash soak/cli_eight_processes.sh [WORKDIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
T="$root/target/release/taxdisk"
W=${1:-$(mktemp -d)}
D="$W/data"
rm -rf "$D"
$T --data "$D" init --supervisor 陈主管 --password pw-admin-1 --address 厦门市 --phone 0592-1 \
    --bank 工商银行:4100021209200123456 >/dev/null
$T --data "$D" provision --taxpayer-id 91350200MA2XY1234B --company 厦门鹭岛科技 >/dev/null
$T --data "$D" login --user 陈主管 --password pw-admin-1 >/dev/null
for _ in 1 2 3 4 5; do $T --data "$D" rolls buy --kind normal --count 500 >/dev/null; done
$T --data "$D" issue --template normal > "$W/one.json"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); json.dump([d]*5, open(sys.argv[2],'w'), ensure_ascii=False)" \
    "$W/one.json" "$W/five.json"
start=$(date +%s)
for p in $(seq 1 8); do
  (
    for c in $(seq 1 50); do
      $T --data "$D" issue --file "$W/five.json" >"$W/p$p.$c.out" 2>&1 || echo "process $p command $c failed" >>"$W/failed"
    done
  ) &
done
wait
echo "8 processes x 50 commands x 5 drafts: $(( $(date +%s) - start )) s"
if [ -s "$W/failed" ]; then cat "$W/failed"; exit 1; fi
$T --data "$D" repair
$T --data "$D" list > "$W/list.txt"
rows=$(wc -l < "$W/list.txt")
distinct=$(awk '{print $3" "$4}' "$W/list.txt" | sort -u | wc -l)
uploaded=$(awk '$5 == "uploaded"' "$W/list.txt" | wc -l)
counter=$($T --data "$D" status | sed -n 's/.* counter \([0-9]*\).*/\1/p')
echo "store rows $rows, distinct numbers $distinct, uploaded $uploaded, disk counter $counter"
[ "$rows" = 2000 ] && [ "$distinct" = 2000 ] && [ "$uploaded" = 2000 ] && [ "$counter" = 2000 ] || exit 1
echo "soak passed"
