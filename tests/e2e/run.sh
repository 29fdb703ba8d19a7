#!/usr/bin/env bash
# posbridge run, the nightly job: every stage under a lock; an unchanged second night sends
# nothing; a second run at the same time is refused at once; a lock left by a killed run is
# taken over; one store down does not stop the others.
. "$(dirname "$0")/lib.sh"

TOKEN=shpat_run_00112233445566778899
export SHOP_TOKEN=$TOKEN
PORT=$(start_emulator shopify shopify/server.py --token "$TOKEN" --shop run) || exit 1
mkdir -p "$E2E/source" "$E2E/inbox" "$E2E/outbox"
cp samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml "$E2E/source/"
write_config() { # extra store section
    cat > "$E2E/posbridge.ini" <<INI
[general]
home = $E2E/home
[transform]
maps = $ROOT/samples/maps/colors.csv, $ROOT/samples/maps/departments.csv
[run]
source = $E2E/source
inbox = $E2E/inbox
outbox = $E2E/outbox
[store shop]
platform = shopify
base_url = http://127.0.0.1:$PORT
token = env:SHOP_TOKEN
$1
INI
}
write_config ""
CFG=$E2E/posbridge.ini

# 1. The first night: everything goes out.
$PB -c "$CFG" --json run > "$E2E/run1" 2> "$E2E/run1.err"
check "the first run exits 0" eq "$?" 0
check "it exported the source files" eq "$(py '[l["text"][:7] for l in s["stages"] if l["stage"]=="export"][0]' < "$E2E/run1")" "3 files"
check "it uploaded the catalog" eq "$(py '[l["text"][:11] for l in s["stages"] if l["stage"]=="upload"][0]' < "$E2E/run1")" "12 created,"
check "the store has the products" eq "$(emu "$PORT" /__emulator/state | py 'len(s["products"])')" 12
check "the run wrote its log" test -s "$(py 's["log"]' < "$E2E/run1")"
check "the run wrote its report beside the log" eq \
    "$(py 's["report"]' < "$E2E/run1")" "$(py 's["log"].replace("-run.log", "-report.html")' < "$E2E/run1")"
check "the run's report shows the store's summary" \
    grep -q '<tr data-store="shop"><th scope="row">shop</th><td class="n" data-col="created">12</td>' "$(py 's["report"]' < "$E2E/run1")"
check "the lock is released" eq "$(wc -c < "$E2E/home/lock" | tr -d ' ')" 0

# 2. The next night, nothing changed: no new export, no request.
emu "$PORT" /__emulator/requests -X DELETE > /dev/null
$PB -c "$CFG" --json run > "$E2E/run2" 2>/dev/null
check "an unchanged night exits 0" eq "$?" 0
check "the source is seen unchanged" eq "$(py '[l["text"][:31] for l in s["stages"] if l["stage"]=="export"][0]' < "$E2E/run2")" "QBPOS item files unchanged sinc"
check "an unchanged night sends no product request" eq \
    "$(emu "$PORT" /__emulator/requests | py 'sum(1 for r in s["requests"] if "orders" not in r.get("body",""))')" 0

# 2b. A price edited by hand in the store's products.csv, then a run started by hand with the
# configuration's path typed another way: the settings are the same, so the edit is not
# transformed away, and it is what goes to the store.
CAT1=$(py '[l["text"].split(" -> ")[1] for l in s["stages"] if l["stage"]=="export"][0]' < "$E2E/run1")
python3 - "$CAT1/shop/products.csv" <<'PY'
import csv, io, sys
p = sys.argv[1]
rows = list(csv.reader(io.StringIO(open(p, encoding="utf-8-sig", newline="").read())))
h = rows[0]
for r in rows[1:]:
    if r[h.index("sku")] == "5203":
        r[h.index("price")] = "77.77"
out = io.StringIO(); csv.writer(out, lineterminator="\n").writerows(rows)
open(p, "w", encoding="utf-8-sig", newline="").write(out.getvalue())
PY
(cd "$E2E" && $PB -c ./posbridge.ini --json run > "$E2E/run2b" 2>/dev/null)
check "a run by hand after the edit exits 0" eq "$?" 0
check "the settings are seen unchanged: no transform" eq \
    "$(py 'sum(1 for l in s["stages"] if l["stage"]=="transform")' < "$E2E/run2b")" 0
check "the hand edit is still in products.csv" grep -q '77.77' "$CAT1/shop/products.csv"
check "the store has the edited price" eq \
    "$(emu "$PORT" /__emulator/state | py '[v["price"] for v in s["variants"] if v["sku"]=="5203"][0]')" 77.77

# 2c. Quiet, as cron runs it: a good night prints nothing at all.
$PB -q -c "$CFG" run > "$E2E/run2c" 2>&1
check "-q: a good night exits 0" eq "$?" 0
check "-q: a good night prints nothing (cron sends no mail)" test ! -s "$E2E/run2c"

# 3. A second run while one holds the lock: refused at once with 75.
exec 8< "$E2E/home/lock"
flock -x 8                      # this shell holds the lock now
t0=$(date +%s)
$PB -c "$CFG" run > /dev/null 2> "$E2E/run3.err" 8<&-
rc=$?
t1=$(date +%s)
exec 8<&-
check "a concurrent run exits 75" eq "$rc" 75
check "a concurrent run does not wait" test $((t1 - t0)) -lt 3
check "a concurrent run says why" grep -q "another run holds" "$E2E/run3.err"

# 4. A run killed in the middle leaves its pid in the lock; the next one takes over.
echo "pid 424242, started 2026-11-27T02:00:00Z" > "$E2E/home/lock"
$PB -c "$CFG" run > /dev/null 2> "$E2E/run4.err"
check "a stale lock is taken over" eq "$?" 0
check "the take-over is reported" grep -q "did not finish (killed?); taking over" "$E2E/run4.err"

# 5. One store down (its emulator stopped): the other still gets its products, the exit code
# says so; once it is back, the replay status names brings it up to date.
PORTD=$(start_emulator shopify-down shopify/server.py --token "$TOKEN" --shop down) || exit 1
kill "$(tail -1 "$E2E/.emulator-pids")"; while [ -e "$E2E/shopify-down.port" ] && curl -s -o /dev/null "http://127.0.0.1:$PORTD/"; do sleep 0.1; done
write_config "[store down]
platform = shopify
base_url = http://127.0.0.1:$PORTD
token = env:SHOP_TOKEN"
touch "$E2E/source/items-1.xml"   # a new export
$PB -c "$CFG" --json run > "$E2E/run5" 2>/dev/null
rc=$?
check "a store that is down makes the run exit 75" eq "$rc" 75
check "the store that is up is still served" eq \
    "$(py '[l["exit"] for l in s["stages"] if l["stage"]=="upload" and l["store"]=="shop"][0]' < "$E2E/run5")" 0
check "the store that is down is reported" eq \
    "$(py '[l["exit"] for l in s["stages"] if l["stage"]=="upload" and l["store"]=="down"][0]' < "$E2E/run5")" 75

CATB=$(py '[l["text"].split(" -> ")[1] for l in s["stages"] if l["stage"]=="export"][0]' < "$E2E/run5")
$PB -q -c "$CFG" run > "$E2E/run5q" 2>&1
check "-q: a bad night still exits 75" eq "$?" 75
check "-q: a bad night prints the failed line" grep -q "^upload .*down .*FAILED" "$E2E/run5q"
check "-q: and the last line, with the log and the report" grep -q "^run .*: exit 75; log .*; report " "$E2E/run5q"
$PB -c "$CFG" --json status "$CATB" > "$E2E/status5" 2>/dev/null
check "status: the store that was up has everything done" eq \
    "$(py '[(x["failed"], x["pending"], x["not_sent"]) for x in s[0]["stores"] if x["store"]=="shop"][0]' < "$E2E/status5")" "(0, 0, 0)"
check "status: the store that was down has it all still to send, and says how" eq \
    "$(py '[(x["not_sent"], x["replay"].split()[1]) for x in s[0]["stores"] if x["store"]=="down"][0]' < "$E2E/status5")" "(12, 'upload')"
rm -f "$E2E/shopify-down.port"
start_emulator shopify-down shopify/server.py --token "$TOKEN" --shop down --port "$PORTD" > /dev/null || exit 1
REPLAY=$(py '[x["replay"] for x in s[0]["stores"] if x["store"]=="down"][0]' < "$E2E/status5")
# the command as status prints it, with this test's configuration
eval "\$PB -c \"\$CFG\" ${REPLAY#posbridge }" > "$E2E/replay5" 2> "$E2E/replay5.err"
check "back up: the replay status names exits 0" eq "$?" 0
check "back up: the store has every product" eq "$(emu "$PORTD" /__emulator/state | py 'len(s["products"])')" 12
$PB -c "$CFG" --json status "$CATB" > "$E2E/status5r" 2>/dev/null
check "status: after the replay nothing is left to send" eq \
    "$(py '[(x["created"], x["failed"], x["pending"], x["not_sent"]) for x in s[0]["stores"] if x["store"]=="down"][0]' < "$E2E/status5r")" "(12, 0, 0, 0)"
$PB -c "$CFG" status > "$E2E/status5.txt" 2>&1
check "status lists the recent batches" grep -q "catalog)" "$E2E/status5.txt"
$PB -c "$CFG" run > "$E2E/run5b.txt" 2>/dev/null
check "a run's last line names its report" grep -q "^run .*; log .*-run.log; report .*-report.html$" "$E2E/run5b.txt"

# 6. --stores limits the run; --dry-run sends nothing.
emu "$PORT" /__emulator/requests -X DELETE > /dev/null
$PB -c "$CFG" --json run --stores shop --dry-run > "$E2E/run6" 2>/dev/null
check "--stores leaves the other store out" eq "$(py 'sorted({l["store"] for l in s["stages"] if l["store"]})' < "$E2E/run6")" "['shop']"
check "--dry-run makes no request" eq "$(emu "$PORT" /__emulator/requests | py 'len(s["requests"])')" 0
check "the token is in no log" eq "$(grep -rl "$TOKEN" "$E2E/home" "$E2E"/run* 2>/dev/null | wc -l | tr -d ' ')" 0

# 7. The whole loop: a web order goes to QBPOS through the outbox, QBPOS's answer comes back
#    through the inbox, and the stock it moved goes out to the store the next night.
Q="python3 $ROOT/tests/emulators/qbpos/qbpos.py"
S=$E2E/qbpos.json
echo '{"company": {"taxRates": {"Tax": "8.25", "Non": "0"}}}' > "$E2E/seed.json"
$Q seed --state "$S" --json "$E2E/seed.json" \
    --samples samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml >/dev/null
printf 'field,from,to\ntender,*,CreditCard:Visa\n' > "$E2E/tenders.csv"
write_config "maps = $E2E/tenders.csv
quantity = per_store
locations = 1:gid://shopify/Location/1, 2:gid://shopify/Location/2"
sed -i "s|^\[transform\]|[qbpos]\ntax_rates = Tax:8.25, Non:0\n[transform]|" "$E2E/posbridge.ini"
$PB -c "$CFG" run > /dev/null 2>&1   # per-store quantities out first
python3 - "$PORT" <<'PY'
import json, sys, urllib.request
o = {"name": "#2001", "status": "shipped",
     "customer": {"email": "bo@example.com", "firstName": "Bo", "lastName": "Park"},
     "gateway": "shopify_payments",
     "lines": [{"sku": "2238-Aqua", "quantity": 1, "price": "34.99", "tax": "2.89"}]}
r = urllib.request.Request("http://127.0.0.1:%s/__emulator/seed" % sys.argv[1],
                           data=json.dumps({"orders": [o]}).encode(),
                           headers={"Content-Type": "application/json"})
urllib.request.urlopen(r).read()
PY
sleep 1   # the window ends at the second the run starts
AQUA=5271517108806162881
qty() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"][sys.argv[2]]["OnHandStore01"])' "$S" $AQUA; }
before=$(qty)
$PB -c "$CFG" --json run > "$E2E/run7" 2>/dev/null
check "the night's orders go to the outbox" eq "$(ls "$E2E/outbox" | grep -c 'sales-shop.xml$')" 1
DOC=$(ls "$E2E/outbox"/*sales-shop.xml)
$Q process --state "$S" < "$DOC" > "$E2E/inbox/$(basename "$DOC")" 2>/dev/null
check "QBPOS sold the tub" eq "$(python3 -c "print('%.2f' % (float('$before') - float('$(qty)')))")" "1.00"
# QBPOS's items as they are now, for the next night's export
printf '<?xml version="1.0"?>\n<?qbposxml version="3.0"?>\n<QBPOSXML><QBPOSXMLMsgsRq onError="stopOnError"><ItemInventoryQueryRq requestID="1"/></QBPOSXMLMsgsRq></QBPOSXML>\n' > "$E2E/q.xml"
rm -f "$E2E/source"/*
$Q process --state "$S" < "$E2E/q.xml" > "$E2E/source/items-now.xml" 2>/dev/null
emu "$PORT" /__emulator/requests -X DELETE > /dev/null
$PB -c "$CFG" --json run > "$E2E/run8" 2>/dev/null
check "the next night ingests QBPOS's answer" eq \
    "$(py '[l["text"].split(": ")[1][:11] for l in s["stages"] if l["stage"]=="ingest"][0]' < "$E2E/run8")" "1 receipts "
check "the answer is filed under done/" test -s "$E2E/inbox/done/$(basename "$DOC")"
check "the new quantity goes out as one inventory change" eq \
    "$(py '[l["text"][:40] for l in s["stages"] if l["stage"]=="upload"][0]' < "$E2E/run8")" "0 created, 0 updated, 1 inventory, 11 un"
check "the store now has the quantity QBPOS has" eq \
    "$(emu "$PORT" /__emulator/state | py '[l["on_hand"] for l in s["inventoryLevels"] if l["sku"]=="2238-Aqua" and l["locationId"].endswith("/1")][0]')" \
    "$(qty | cut -d. -f1)"
check "nothing is sent to QBPOS twice" eq "$(ls "$E2E/outbox" | wc -l | tr -d ' ')" 1
