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
# Three rounds of the change and its re-run are measured (tests/bench/rounds.sh), and the
# median ratio is the figure.
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

# 1% of the products get a new price; the rounds alternate that change and its undo.
cp "$B/batch/mage/products.csv" "$B/batch/mage/products.orig"
python3 - "$B/batch/mage/products.csv" "$B/batch/mage/products.changed" <<'PY'
import csv, io, sys
p, out_path = sys.argv[1:3]
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
open(out_path, "w", encoding="utf-8-sig", newline="").write(out.getvalue())
print(n, file=open(out_path + ".count", "w"))
PY
changed=$(cat "$B/batch/mage/products.changed.count")
. tests/bench/rounds.sh
rounds "${BENCH_ROUNDS:-3}" mage "$B/batch" "$B/posbridge.ini" "$PORT" /rest/

python3 - "$B" "$products" "$changed" "$t0" "$t1" "${BENCH_ROUNDS:-3}" <<'PY'
import json, sys
b, products, changed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0, t1, n = float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
load = json.load(open(b + "/load.json"))
rounds = [json.load(open("%s/batch/round%d.json" % (b, k))) for k in range(1, n + 1)]
minimum = changed  # one PUT per changed product (see the header)
ratios = sorted(r["change"] / (r["server"] + r["noop"]) for r in rounds)
mid = rounds[[r["change"] / (r["server"] + r["noop"]) for r in rounds].index(ratios[n // 2])]
reqs = sorted(set(r["result"]["requests"] for r in rounds))
print("initial load               %d products (%d in the catalog), %d requests, %.1fs (async bulk)" % (
    load["created"], products, load["requests"], t1 - t0))
print("1%% changed                 %d products, %s requests (%d retried), %.2fs (the median round of %d)" % (
    changed, "/".join(map(str, reqs)), mid["result"]["retries"], mid["change"], n))
print("requests / minimum         %.2f   (target 1.0; minimum %d)" % (max(reqs) / minimum, minimum))
print("wall / rate-limit bound    %.2f   (target <= 1.1; median of %s; bound %.2fs = no rate limit + emulator %.2fs + %.2fs of reading and planning, the unchanged re-run's wall time)" % (
    ratios[n // 2], " ".join("%.2f" % x for x in ratios), mid["server"] + mid["noop"], mid["server"], mid["noop"]))
PY
