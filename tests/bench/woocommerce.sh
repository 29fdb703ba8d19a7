#!/usr/bin/env bash
# Upload benchmark against the WooCommerce emulator: a catalog of about 10,000 products
# (half simple, half variable), 1% of them with a new price.  Prints requests made / the
# fewest the API allows for that change, and wall time / the time the rate limit forces.
#
# The minimum: WooCommerce takes at most 100 objects per batch request
# (woocommerce_rest_batch_items_limit), and a variation can only be written through its
# own parent's route (/products/{id}/variations/batch): one request per changed variable
# product (its changed variations, up to 100, together), while changed simple products
# share /products/batch requests 100 at a time.  So the minimum is
# ceil(simple products changed / 100) + variable products changed.  No lookup is needed:
# the ids are in the catalog state.
#
# The bound: WooCommerce's REST API has no rate limit of its own (the host's, if any: the
# emulator runs without one here), so the time no client can avoid is the emulator's own
# time for the requests (the sum of their service times as it logs them: from the request
# line read to the answer encoded), concurrency aside.
# With no throttle to wait on, that bound is a few milliseconds, less than reading and
# planning 10,000 products costs any run; so the bound also counts that floor: the wall
# time of an unchanged re-run of the same batch (zero requests), measured here too.
# Three rounds of the change and its re-run are measured (tests/bench/rounds.sh), and the
# median ratio is the figure.
set -eu
cd "$(dirname "$0")/../.."
B=build/bench/woocommerce
PB=./posbridge
rm -rf "$B" && mkdir -p "$B"
export BENCH_WOO_CK=ck_bench_00000000000000000000 BENCH_WOO_CS=cs_bench_0000000000000000000

build/bench/genitems -n "${WOO_ITEMS:-40000}" -o "$B/items.xml"
python3 tests/emulators/woocommerce/server.py --port 0 --port-file "$B/port" \
    --consumer-key "$BENCH_WOO_CK" --consumer-secret "$BENCH_WOO_CS" > "$B/emu.out" 2>&1 &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 1 150); do [ -s "$B/port" ] && break; sleep 0.1; done
PORT=$(cat "$B/port")
cat > "$B/posbridge.ini" <<EOF
[general]
home = home
[qbpos]
online = all
[store woo]
platform = woocommerce
base_url = http://127.0.0.1:$PORT
consumer_key = env:BENCH_WOO_CK
consumer_secret = env:BENCH_WOO_CS
EOF
$PB -q export -o "$B/batch" "$B/items.xml" > /dev/null
$PB -q -c "$B/posbridge.ini" transform "$B/batch" > /dev/null || true
products=$(python3 -c 'import csv,sys
print(len({r["product_key"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"))}))' \
    "$B/batch/woo/products.csv")

# The initial load: set-up, not what is measured.
t0=$(date +%s.%N)
$PB -q -c "$B/posbridge.ini" --json upload --store woo "$B/batch" > "$B/load.json"
t1=$(date +%s.%N)

# 1% of the products get a new price (the first variant of every 100th product); the
# rounds alternate that change and its undo.
cp "$B/batch/woo/products.csv" "$B/batch/woo/products.orig"
python3 - "$B/batch/woo/products.csv" "$B/batch/woo/products.changed" <<'PY'
import csv, io, sys
p, out_path = sys.argv[1:3]
rows = list(csv.reader(io.StringIO(open(p, encoding="utf-8-sig", newline="").read())))
h = rows[0]
key, price, opt = h.index("product_key"), h.index("price"), h.index("option1_name")
seen, simple, variable = set(), 0, 0
for r in rows[1:]:
    if r[key] in seen:
        continue
    seen.add(r[key])
    if len(seen) % 100 == 0:
        r[price] = "%.2f" % (float(r[price]) + 1)
        if r[opt]:
            variable += 1
        else:
            simple += 1
out = io.StringIO()
csv.writer(out, lineterminator="\n").writerows(rows)
open(out_path, "w", encoding="utf-8-sig", newline="").write(out.getvalue())
print(simple, variable, file=open(out_path + ".count", "w"))
PY
read -r simple variable < "$B/batch/woo/products.changed.count"
. tests/bench/rounds.sh
rounds "${BENCH_ROUNDS:-3}" woo "$B/batch" "$B/posbridge.ini" "$PORT" /wp-json/

python3 - "$B" "$products" "$simple" "$variable" "$t0" "$t1" "${BENCH_ROUNDS:-3}" <<'PY'
import json, math, sys
b, products, simple, variable = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t0, t1, n = float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
load = json.load(open(b + "/load.json"))
rounds = [json.load(open("%s/batch/round%d.json" % (b, k))) for k in range(1, n + 1)]
minimum = math.ceil(simple / 100.0) + variable
ratio = [r["change"] / (r["server"] + r["noop"]) for r in rounds]
ratios = sorted(ratio)
mid = rounds[ratio.index(ratios[n // 2])]
reqs = sorted(set(r["result"]["requests"] for r in rounds))
print("initial load               %d products, %d requests, %.1fs" % (load["created"], load["requests"], t1 - t0))
print("1%% changed                 %d products (%d simple, %d variable), %s requests, %.2fs (the median round of %d)" % (
    simple + variable, simple, variable, "/".join(map(str, reqs)), mid["change"], n))
print("requests / minimum         %.2f   (target 1.0; minimum %d = ceil(%d/100) + %d)" % (
    max(reqs) / minimum, minimum, simple, variable))
print("wall / rate-limit bound    %.2f   (target <= 1.1; median of %s; bound %.2fs = no throttle + emulator %.2fs + %.2fs of reading and planning, the unchanged re-run's wall time)" % (
    ratios[n // 2], " ".join("%.2f" % x for x in ratios), mid["server"] + mid["noop"], mid["server"], mid["noop"]))
PY
