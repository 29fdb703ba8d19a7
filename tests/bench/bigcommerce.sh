#!/usr/bin/env bash
# Upload benchmark against the BigCommerce emulator: a catalog of about 10,000 products,
# 1% of them with a new price, under BigCommerce's Standard quota (150 requests per 30 s
# window; the emulator's clock runs 10 times faster, so a window is 3 s of wall time),
# with most of the window's quota already spent, as after a busy day of other apps.
#
# The fewest requests for that change: a new price of a product without options is a
# product field, sent in PUT /v3/catalog/products, at most 10 products a request; a new
# price of a variant of a product with options goes in PUT /v3/catalog/variants, at most
# 50 variants a request (413 past either).  So minimum = ceil(simple products changed / 10)
# + ceil(option variants changed / 50); no lookup is needed, the ids are in the state.
#
# The time the rate limit forces: with `left` requests left in the current window and
# `reset` seconds until it ends, N requests need 0 s when N <= left, else reset + one more
# window for every further quota's worth.  The run reads and plans the batch meanwhile, so
# the bound is the longer of that wait and an unchanged run's wall time, plus the time the
# emulator was busy with the requests (overlaps counted once), which no client can avoid.
set -eu
cd "$(dirname "$0")/../.."
B=build/bench/bigcommerce
PB=./posbridge
rm -rf "$B" && mkdir -p "$B"
TOKEN=bc_bench_00000000000000000000
HASH=bench1
SCALE=10
export BENCH_BC_TOKEN=$TOKEN

[ -x build/bench/genitems ] || ${CC:-cc} -O2 -std=c11 -Wall -Wextra -Werror -o build/bench/genitems tests/bench/genitems.c
build/bench/genitems -n "${BIGCOMMERCE_ITEMS:-40000}" -o "$B/items.xml"
python3 tests/emulators/bigcommerce/server.py --port 0 --port-file "$B/port" --token "$TOKEN" \
    --store-hash $HASH --clock-scale $SCALE --log-file "$B/log.jsonl" > "$B/emu.out" 2>&1 &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 1 150); do [ -s "$B/port" ] && break; sleep 0.1; done
PORT=$(cat "$B/port")
cat > "$B/posbridge.ini" <<EOF
[general]
home = home
[qbpos]
online = all
[store bc]
platform = bigcommerce
base_url = http://127.0.0.1:$PORT/stores/$HASH
token = env:BENCH_BC_TOKEN
quantity = per_store
locations = 1:1, 2:2
EOF
$PB -q export -o "$B/batch" "$B/items.xml" > /dev/null
$PB -q -c "$B/posbridge.ini" transform "$B/batch" > /dev/null || true
products=$(python3 -c 'import csv,sys
print(len({r["product_key"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"))}))' \
    "$B/batch/bc/products.csv")

ctl() { curl -s -X POST -H 'Content-Type: application/json' "http://127.0.0.1:$PORT$1" -d "$2" > /dev/null; }

# The initial load, without a quota: it is set-up, not what is measured.
ctl /__emulator/config '{"rateQuota": 0}'
t0=$(date +%s.%N)
$PB -q -c "$B/posbridge.ini" --json upload --store bc "$B/batch" > "$B/load.json" || true
t1=$(date +%s.%N)

# What every run pays before its first request (read 10,000 products and the state,
# plan, write the plan): an unchanged run, zero requests.
n0=$(date +%s.%N)
$PB -q -c "$B/posbridge.ini" --json upload --store bc "$B/batch" > "$B/noop.json"
n1=$(date +%s.%N)

# 1% of the products get a new price (their first row).
python3 - "$B/batch/bc/products.csv" <<'PY'
import csv, io, sys
p = sys.argv[1]
rows = list(csv.reader(io.StringIO(open(p, encoding="utf-8-sig", newline="").read())))
h = rows[0]
key, price, opt = h.index("product_key"), h.index("price"), h.index("option1_name")
seen, simple, variants = set(), 0, 0
for r in rows[1:]:
    if r[key] in seen:
        continue
    seen.add(r[key])
    if len(seen) % 100 == 0:
        r[price] = "%.2f" % (float(r[price]) + 1)
        if r[opt]:
            variants += 1
        else:
            simple += 1
out = io.StringIO()
csv.writer(out, lineterminator="\n").writerows(rows)
open(p, "w", encoding="utf-8-sig", newline="").write(out.getvalue())
print(simple, variants, file=open(p + ".changed", "w"))
PY
read -r simple variants < "$B/batch/bc/products.csv.changed"

# The Standard quota again, most of the window spent by someone else.
ctl /__emulator/config '{"rateQuota": 150, "rateWindowMs": 30000}'
read -r left reset_at < <(python3 - "$PORT" "$TOKEN" "$HASH" <<'PY'
import sys, time, urllib.request
port, token, h = sys.argv[1:4]
left = 150
while left > 6:
    r = urllib.request.urlopen(urllib.request.Request(
        "http://127.0.0.1:%s/stores/%s/v3/inventory/locations" % (port, h),
        headers={"X-Auth-Token": token, "Accept": "application/json"}))
    r.read()
    left = int(r.headers["X-Rate-Limit-Requests-Left"])
    reset = int(r.headers["X-Rate-Limit-Time-Reset-Ms"])
print(left, time.time() + reset / 1000.0)
PY
)
mark=$(curl -s "http://127.0.0.1:$PORT/__emulator/requests" | python3 -c 'import json,sys; r=json.load(sys.stdin)["requests"]; print(r[-1]["seq"] if r else 0)')
t2=$(date +%s.%N)
$PB -q -c "$B/posbridge.ini" --json upload --store bc "$B/batch" > "$B/change.json"
t3=$(date +%s.%N)
curl -s "http://127.0.0.1:$PORT/__emulator/requests?since=$mark" > "$B/requests.json"

python3 - "$B" "$products" "$simple" "$variants" "$left" "$reset_at" "$SCALE" "$t0" "$t1" "$t2" "$t3" "$n0" "$n1" <<'PY'
import json, math, sys
sys.path.insert(0, "tests/bench")
from busy import busy
b, products, simple, variants, left = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
reset_at, scale = float(sys.argv[6]), float(sys.argv[7])
t0, t1, t2, t3, n0, n1 = map(float, sys.argv[8:14])
local = n1 - n0
reset = max(0.0, reset_at - t2)  # from the start of the measured run
load = json.load(open(b + "/load.json"))
ch = json.load(open(b + "/change.json"))
reqs = [r for r in json.load(open(b + "/requests.json"))["requests"] if "/v3/" in r["path"]]
server = busy(reqs)  # the emulator's busy time (tests/bench/busy.py)
minimum = math.ceil(simple / 10.0) + math.ceil(variants / 50.0)
quota, window = 150, 30.0 / scale
n = minimum
forced = 0.0 if n <= left else reset + math.floor((n - left - 1) / quota) * window
# the run reads and plans the batch while the quota window runs out: the two overlap, and
# the requests can go only once both are over
bound = max(forced, local) + server
wall = t3 - t2
print("initial load               %d of %d products created, %d requests, %.1fs (no quota)" % (
    load["created"], products, load["requests"], t1 - t0))
print("1%% changed                 %d products (%d without options, %d option variants), %d requests (%d retried), %.2fs" % (
    simple + variants, simple, variants, ch["requests"], ch["retries"], wall))
print("requests / minimum         %.2f   (target 1.0; minimum %d = ceil(%d/10) + ceil(%d/50))" % (
    (ch["requests"] - ch["retries"]) / float(minimum), minimum, simple, variants))
print("wall / rate-limit bound    %.2f   (target <= 1.1; bound %.2fs = the longer of the quota's wait %.2fs (%d left, reset in %.2fs) and reading and planning %.2fs (an unchanged run), + emulator %.2fs)" % (
    wall / bound, bound, forced, left, reset, local, server))
PY
