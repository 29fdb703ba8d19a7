#!/usr/bin/env bash
# Upload benchmark against the Shopify emulator with Shopify's standard throttle (2,000
# points, 100 per second, real time): a catalog of about 10,000 products, 1% of them with
# a new price.  Prints requests made / the fewest the API allows for that change, and wall
# time / the time the rate limit forces (the throttle's wait plus the emulator's own time
# for the requests, which no client can avoid).
set -eu
cd "$(dirname "$0")/../.."
B=build/bench/shopify
PB=./posbridge
rm -rf "$B" && mkdir -p "$B"
TOKEN=shpat_bench_0000000000000000
export BENCH_SHOP_TOKEN=$TOKEN

build/bench/genitems -n "${SHOPIFY_ITEMS:-40000}" -o "$B/items.xml"
python3 tests/emulators/shopify/server.py --port 0 --port-file "$B/port" --token "$TOKEN" \
    --shop bench --log-file "$B/log.jsonl" > "$B/emu.out" 2>&1 &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 1 150); do [ -s "$B/port" ] && break; sleep 0.1; done
PORT=$(cat "$B/port")
cat > "$B/posbridge.ini" <<EOF
[general]
home = home
[qbpos]
online = all
[store shop]
platform = shopify
base_url = http://127.0.0.1:$PORT
api_version = 2026-01
token = env:BENCH_SHOP_TOKEN
quantity = per_store
locations = 1:gid://shopify/Location/1, 2:gid://shopify/Location/2
EOF
$PB -q export -o "$B/batch" "$B/items.xml" > /dev/null
$PB -q -c "$B/posbridge.ini" transform "$B/batch" > /dev/null || true
products=$(python3 -c 'import csv,sys
print(len({r["product_key"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"))}))' \
    "$B/batch/shop/products.csv")

ctl() { curl -s -X POST -H 'Content-Type: application/json' "http://127.0.0.1:$PORT$1" -d "$2" > /dev/null; }

# The initial load, unthrottled: it is set-up, not what is measured.
ctl /__emulator/config '{"restoreRate": 1000000}'
t0=$(date +%s.%N)
$PB -q -c "$B/posbridge.ini" --json upload --store shop "$B/batch" > "$B/load.json"
t1=$(date +%s.%N)

# 1% of the products get a new price.
python3 - "$B/batch/shop/products.csv" <<'PY'
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
changed=$(cat "$B/batch/shop/products.csv.changed")

# The standard throttle again, with its bucket spent, as after a busy day of other apps.
ctl /__emulator/config '{"throttle": "standard"}'
avail=$(python3 - "$PORT" "$TOKEN" <<'PY'
import json, sys, urllib.request
port, token = sys.argv[1], sys.argv[2]
q = "query Drain { productVariants(first: 250) { nodes { id product { id } inventoryItem { id } } } }"
avail = 2000
while avail > 300:
    r = urllib.request.Request("http://127.0.0.1:%s/admin/api/2026-01/graphql.json" % port,
                               data=json.dumps({"query": q}).encode(),
                               headers={"X-Shopify-Access-Token": token,
                                        "Content-Type": "application/json"})
    a = json.load(urllib.request.urlopen(r))
    avail = a["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
print(avail)
PY
)
mark=$(curl -s "http://127.0.0.1:$PORT/__emulator/requests" | python3 -c 'import json,sys; r=json.load(sys.stdin)["requests"]; print(r[-1]["seq"] if r else 0)')
t2=$(date +%s.%N)
$PB -q -c "$B/posbridge.ini" --json upload --store shop "$B/batch" > "$B/change.json"
t3=$(date +%s.%N)
curl -s "http://127.0.0.1:$PORT/__emulator/requests?since=$mark" > "$B/requests.json"

python3 - "$B" "$products" "$changed" "$avail" "$t0" "$t1" "$t2" "$t3" <<'PY'
import json, math, sys
sys.path.insert(0, "tests/bench")
from busy import busy
b, products, changed, avail = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
t0, t1, t2, t3 = map(float, sys.argv[5:9])
load = json.load(open(b + "/load.json"))
ch = json.load(open(b + "/change.json"))
reqs = [r for r in json.load(open(b + "/requests.json"))["requests"] if r["path"].endswith("graphql.json")]
server = busy(reqs)  # the emulator's busy time (tests/bench/busy.py)
# Each product's price change is one productVariantsBulkUpdate (10 points); one request
# may cost at most 1,000, so the fewest requests is the total cost over 1,000.
minimum = math.ceil(changed * 10 / 1000.0)
forced = max(0.0, ch["cost"] - avail) / 100.0 + server
wall = t3 - t2
print("initial load               %d products, %d requests, %.1fs (throttle off)" % (
    load["created"], load["requests"], t1 - t0))
done = ch["requests"] - ch["retries"]
print("1%% changed                 %d products, %d requests (%d answered THROTTLED and were retried), cost %d, %.2fs" % (
    changed, ch["requests"], ch["retries"], ch["cost"], wall))
print("requests / minimum         %.2f   (target 1.0; minimum %d; %.2f counting the THROTTLED answers)" % (
    done / minimum, minimum, ch["requests"] / minimum))
print("wall / rate-limit bound    %.2f   (target <= 1.1; bound %.2fs = throttle %.2fs + emulator %.2fs)" % (
    wall / forced, forced, forced - server, server))
PY
