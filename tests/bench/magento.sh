#!/usr/bin/env bash
# Upload benchmark against the Magento emulator: a catalog of about 10,000 products, 1% of
# them with a new price.  Prints requests made / the fewest the API allows for that change,
# and wall time / the time the store itself needs for those requests.
#
# The minimum: Magento's product API takes one product per synchronous request
# (PUT /V1/products/{sku}), so each changed product costs one PUT.  The async bulk API
# carries many products in one request, but only past bulk_above (500 by default) and at
# the price of polling its status until the queue consumer has run; 1% of 10,000 products
# stays under it, so the true minimum is one PUT per changed product.  (The base-prices
# endpoint is not used: a price is written through the product like every other field.)
# Magento has no API rate limit by default, so the bound is the emulator's own time for
# those requests (the sum of their service times, from the request line read to the answer
# encoded: the emulator answers one at a time).
# With the emulator answering a PUT in about a millisecond, that is less than reading and
# planning 10,000 products costs any run; so, as in woocommerce.sh, the bound also counts
# that floor: the wall time of an unchanged re-run of the same batch (zero requests).
set -eu
cd "$(dirname "$0")/../.."
B=build/bench/magento
PB=./posbridge
rm -rf "$B" && mkdir -p "$B"
TOKEN=mage_bench_000000000000000000
export BENCH_MAGE_TOKEN=$TOKEN

build/bench/genitems -n "${MAGENTO_ITEMS:-40000}" -o "$B/items.xml"
python3 tests/emulators/magento/server.py --port 0 --port-file "$B/port" --token "$TOKEN" \
    --bulk-delay-ms 0 --log-file "$B/log.jsonl" > "$B/emu.out" 2>&1 &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 1 150); do [ -s "$B/port" ] && break; sleep 0.1; done
PORT=$(cat "$B/port")
cat > "$B/posbridge.ini" <<EOF2
[general]
home = home
[qbpos]
online = all
[store mage]
platform = magento
base_url = http://127.0.0.1:$PORT
token = env:BENCH_MAGE_TOKEN
quantity = per_store
locations = 1:store1, 2:store2
EOF2
$PB -q export -o "$B/batch" "$B/items.xml" > /dev/null
$PB -q -c "$B/posbridge.ini" transform "$B/batch" > /dev/null || true
products=$(python3 -c 'import csv,sys
print(len({r["product_key"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"))}))' \
    "$B/batch/mage/products.csv")

# The initial load (through the async bulk API): set-up, not what is measured.
t0=$(date +%s.%N)
$PB -q -c "$B/posbridge.ini" --json upload --store mage "$B/batch" > "$B/load.json" || true
t1=$(date +%s.%N)

# 1% of the products get a new price.
python3 - "$B/batch/mage/products.csv" <<'PY'
import csv, io, sys
p = sys.argv[1]
rows = list(csv.reader(io.StringIO(open(p, encoding="utf-8-sig", newline="").read())))
h = rows[0]
key, price = h.index("product_key"), h.index("price")
seen, n = set(), 0
for r in rows[1:]:
    if r[key] in seen:
        continue
    seen.add(r[key])
    if len(seen) % 100 == 0:
        r[price] = "%.2f" % (float(r[price]) + 1)
        n += 1
out = io.StringIO()
csv.writer(out, lineterminator="\n").writerows(rows)
open(p, "w", encoding="utf-8-sig", newline="").write(out.getvalue())
print(n, file=open(p + ".changed", "w"))
PY
changed=$(cat "$B/batch/mage/products.csv.changed")

mark=$(curl -s "http://127.0.0.1:$PORT/__emulator/requests" | python3 -c 'import json,sys; r=json.load(sys.stdin)["requests"]; print(r[-1]["seq"] if r else 0)')
t2=$(date +%s.%N)
$PB -q -c "$B/posbridge.ini" --json upload --store mage "$B/batch" > "$B/change.json"
t3=$(date +%s.%N)
curl -s "http://127.0.0.1:$PORT/__emulator/requests?since=$mark" > "$B/requests.json"
t4=$(date +%s.%N)
$PB -q -c "$B/posbridge.ini" --json upload --store mage "$B/batch" > "$B/noop.json"
t5=$(date +%s.%N)

python3 - "$B" "$products" "$changed" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" <<'PY'
import json, sys
b, products, changed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0, t1, t2, t3, t4, t5 = map(float, sys.argv[4:10])
load = json.load(open(b + "/load.json"))
ch = json.load(open(b + "/change.json"))
reqs = [r for r in json.load(open(b + "/requests.json"))["requests"] if r["path"].startswith("/rest/")]
# the time the emulator was busy: its requests' service times, overlaps counted once
# (with requests in flight together, one waits on the store's lock inside its own time)
spans = sorted((r["started"], r["started"] + r["duration_ms"] / 1000.0) for r in reqs)
server, end = 0.0, None
for a, z in spans:
    if end is None or a > end:
        server += z - a
        end = z
    elif z > end:
        server += z - end
        end = z
minimum = changed  # one PUT per changed product (see the header)
wall = t3 - t2
print("initial load               %d products (%d in the catalog), %d requests, %.1fs (async bulk)" % (
    load["created"], products, load["requests"], t1 - t0))
print("1%% changed                 %d products, %d requests (%d retried), %.2fs" % (
    changed, ch["requests"], ch["retries"], wall))
print("requests / minimum         %.2f   (target 1.0; minimum %d)" % (ch["requests"] / minimum, minimum))
noop = t5 - t4
assert json.load(open(b + "/noop.json"))["requests"] == 0
bound = server + noop
print("wall / rate-limit bound    %.2f   (target <= 1.1; bound %.2fs = no rate limit + emulator %.2fs + %.2fs of reading and planning, the unchanged re-run's wall time)" % (
    wall / bound, bound, server, noop))
PY
