#!/usr/bin/env bash
# Upload to the BigCommerce emulator: first upload, unchanged re-run, one price change,
# quantities per location, faults survived, kill -9 and replay, a revoked token, the token
# never written anywhere; and BigCommerce's own rules: the batch caps (10 products, 50
# variants a request), a product over 600 variants refused before any request, a SKU that
# differs only in case from one in the store refused with the reason, the rate limit.
. "$(dirname "$0")/lib.sh"

TOKEN=bc_e2e_7d1c9a0b5e3f42a8b6c1d0e9
export BC_TOKEN=$TOKEN
HASH=e2e42
PORT=$(start_emulator bc bigcommerce/server.py --token "$TOKEN" --store-hash $HASH) || exit 1

write_config() { # home, port
    cat > "$E2E/posbridge.ini" <<EOF
[general]
home = $1
[qbpos]
compare_at = msrp
[transform]
maps = $ROOT/samples/maps/colors.csv, $ROOT/samples/maps/departments.csv
[store bc]
platform = bigcommerce
base_url = http://127.0.0.1:$2/stores/$HASH
token = env:BC_TOKEN
quantity = per_store
locations = 1:1, 2:2
maps = $ROOT/samples/maps/categories-bigcommerce.csv
EOF
}
write_config "$E2E/home" "$PORT"
CFG=$E2E/posbridge.ini
new_batch() { # dir
    $PB export -o "$1" samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml >/dev/null 2>&1
    $PB -c "$CFG" transform "$1" >/dev/null 2>&1
}
# set_field CSV SKU FIELD VALUE
set_field() {
    python3 - "$@" <<'PY'
import csv, io, sys
p, sku, field, value = sys.argv[1:5]
rows = list(csv.reader(io.StringIO(open(p, encoding="utf-8-sig", newline="").read())))
h = rows[0]
for r in rows[1:]:
    if r[h.index("sku")] == sku or sku == "*":
        r[h.index(field)] = value
out = io.StringIO()
csv.writer(out, lineterminator="\n").writerows(rows)
open(p, "w", encoding="utf-8-sig", newline="").write(out.getvalue())
PY
}
state() { emu "$1" /__emulator/state; }
B=$E2E/batch1
new_batch "$B"

# 1. First upload: everything created, hidden, tracked the right way, stock per location.
$PB -c "$CFG" upload --store bc "$B" > "$E2E/out1" 2> "$E2E/err1"
check "first upload succeeds" eq "$?" 0
S=$(state "$PORT")
check "first upload creates 12 products" eq "$(echo "$S" | py 'len(s["products"])')" 12
check "first upload makes 22 SKUs (13 option variants, 9 base variants)" eq \
    "$(echo "$S" | py '(len(s["variants"]), sum(1 for v in s["variants"] if not v["base"]))')" "(22, 13)"
check "new products arrive hidden (is_visible false)" eq \
    "$(echo "$S" | py 'sorted(set(p["is_visible"] for p in s["products"]))')" "[False]"
check "simple products are tracked by product, the others by variant" eq \
    "$(echo "$S" | py 'sorted(set((p["sku"] == "", p["inventory_tracking"]) for p in s["products"]))')" \
    "[(False, 'product'), (True, 'variant')]"
check "options carry the colour map (Rose -> Pink)" eq \
    "$(echo "$S" | py '[[x["label"] for x in o["option_values"]] for p in s["products"] if p["name"]=="Lighthouse Tee" for o in p["options"] if o["display_name"]=="Color"][0]')" \
    "['Pink', 'Burgundy', 'Blue']"
check "categories come from the category map" eq \
    "$(echo "$S" | py 'sorted(set(tuple(p["categories"]) for p in s["products"]))')" \
    "[(23,), (24,), (25,), (26,), (27,)]"
check "variant stock lands per location" eq \
    "$(echo "$S" | py '[v["inventory"] for v in s["variants"] if v["sku"]=="3105-NAV-M"][0]')" \
    "{'1': 4, '2': 3}"
check "product stock lands per location" eq \
    "$(echo "$S" | py '[p["inventory"] for p in s["products"] if p["sku"]=="6301"][0]')" \
    "{'1': 4, '2': 7}"
check "prices are exact" eq \
    "$(echo "$S" | py '([(p["price"], p["retail_price"], p["cost_price"]) for p in s["products"] if p["sku"]=="6301"][0], [(v["price"], v["retail_price"]) for v in s["variants"] if v["sku"]=="3105-ROS-M"][0])')" \
    "((22, 26, 8.25), (24.99, 29.99))"
check "first upload: one lookup, 12 creates, one stock request" eq \
    "$(echo "$S" | py 'sorted(s["counters"]["requestsByOperation"].items())')" \
    "[('createProduct', 12), ('getVariants', 1), ('put-absolute-adjustment', 1)]"
WRITES1=$(echo "$S" | py 's["counters"]["writes"]')

# 2. Nothing changed: no request at all.
$PB -c "$CFG" --json upload --store bc "$B" > "$E2E/out2" 2> "$E2E/err2"
check "an unchanged re-run exits 0" eq "$?" 0
check "an unchanged re-run makes zero requests" eq "$(py 's["requests"]' < "$E2E/out2")" 0
check "an unchanged re-run writes nothing" eq "$(state "$PORT" | py 's["counters"]["writes"]')" "$WRITES1"

# 3. One price change: one variant in one PUT /v3/catalog/variants.
B2=$E2E/batch2
new_batch "$B2"
set_field "$B2/bc/products.csv" 3105-ROS-M price 21.49
emu "$PORT" /__emulator/requests -X DELETE >/dev/null
$PB -c "$CFG" --json upload --store bc "$B2" > "$E2E/out3" 2> "$E2E/err3"
check "a price change exits 0" eq "$?" 0
check "a price change is one update" eq "$(py '(s["updated"], s["created"], s["inventory"])' < "$E2E/out3")" "(1, 0, 0)"
check "a price change costs one request" eq "$(py 's["requests"]' < "$E2E/out3")" 1
R=$(emu "$PORT" /__emulator/requests)
check "the request updates exactly that variant" eq \
    "$(echo "$R" | py '[(r["method"], r["operation"], [v["price"] for v in json.loads(r["body"])]) for r in s["requests"]]')" \
    "[('PUT', 'updateVariantsBatch', [21.49])]"
check "the new price is in the store" eq \
    "$(state "$PORT" | py '[v["price"] for v in s["variants"] if v["sku"]=="3105-ROS-M"][0]')" "21.49"
check "the plan names the change" grep -q 'update,price: 24.99 -> 21.49' "$B2/bc/plan.csv"
# a simple product's price is a product field: one PUT /v3/catalog/products
set_field "$B2/bc/products.csv" 6301 price 23.75
emu "$PORT" /__emulator/requests -X DELETE >/dev/null
$PB -c "$CFG" --json upload --store bc "$B2" > "$E2E/out3b" 2> "$E2E/err3b"
check "a simple product's price change costs one products PUT" eq \
    "$(emu "$PORT" /__emulator/requests | py '[(r["operation"], [(p["id"] > 0, p["price"]) for p in json.loads(r["body"])]) for r in s["requests"]]')" \
    "[('updateProducts', [(True, 23.75)])]"

# 4. A quantity change: inventory only, by product id for a product tracked by product.
set_field "$B2/bc/products.csv" 5203 location_qty_02 9
emu "$PORT" /__emulator/requests -X DELETE >/dev/null
$PB -c "$CFG" --json upload --store bc "$B2" > "$E2E/out4" 2> "$E2E/err4"
check "a quantity change is inventory only" eq "$(py '(s["inventory"], s["updated"], s["requests"])' < "$E2E/out4")" "(1, 0, 1)"
check "the quantity goes by product_id to location 2 only" eq \
    "$(emu "$PORT" /__emulator/requests | py '[sorted(i) + [i["location_id"], i["quantity"]] for r in s["requests"] for i in json.loads(r["body"])["items"]]')" \
    "[['location_id', 'product_id', 'quantity', 2, 9]]"
check "the store has it" eq "$(state "$PORT" | py '[p["inventory"] for p in s["products"] if p["sku"]=="5203"][0]')" "{'1': 12, '2': 9}"
set_field "$B2/bc/products.csv" 3105-NAV-M location_qty_01 6
$PB -c "$CFG" --json upload --store bc "$B2" > "$E2E/out4b" 2> "$E2E/err4b"
check "a variant's quantity goes by variant_id" eq \
    "$(state "$PORT" | py '[v["inventory"] for v in s["variants"] if v["sku"]=="3105-NAV-M"][0]')" "{'1': 6, '2': 3}"

# 5. 429s (with and without X-Rate-Limit headers) and 503s are waited out.
set_field "$B2/bc/products.csv" 3105-ROS-M price 20.99
emu "$PORT" /__emulator/faults -X POST -H 'Content-Type: application/json' -d '{"rules":[
  {"match":"op:updateVariantsBatch","status":429,"count":1,"retry_after":"0.2"},
  {"match":"op:updateVariantsBatch","status":429,"count":1,"retry_after":"0.1","headers":{"X-Rate-Limit-Time-Reset-Ms":"700"}},
  {"match":"op:updateVariantsBatch","status":503,"count":2}]}' >/dev/null
$PB -c "$CFG" --json upload --store bc "$B2" > "$E2E/out5" 2> "$E2E/err5"
check "429 and 503 answers are retried until the update lands" eq \
    "$(py '(s["updated"], s["failed"], s["retries"])' < "$E2E/out5")" "(1, 0, 4)"
check "the store has the price after the storm" eq \
    "$(state "$PORT" | py '[v["price"] for v in s["variants"] if v["sku"]=="3105-ROS-M"][0]')" "20.99"

# 5b. --dry-run --remote shows a price edited in the store.
VID=$(state "$PORT" | py '[v["id"] for v in s["variants"] if v["sku"]=="3120-Wine"][0]')
curl -s -X PUT "http://127.0.0.1:$PORT/stores/$HASH/v3/catalog/variants" -H "X-Auth-Token: $TOKEN" \
    -H 'Content-Type: application/json' -d "[{\"id\": $VID, \"price\": 99}]" >/dev/null
W0=$(state "$PORT" | py 's["counters"]["writes"]')
$PB -c "$CFG" upload --store bc --dry-run --remote "$B2" > "$E2E/out5c" 2> "$E2E/err5c"
check "dry run --remote reports a price edited in the store" \
    grep -q '3120-Wine,unchanged,,"store differs (edited by hand?): price is 99 in the store, 18.00 was sent' "$B2/bc/plan.csv"
check "dry run --remote changes nothing in the store" eq "$(state "$PORT" | py 's["counters"]["writes"]')" "$W0"

# 6. The batch caps: 12 products and 60 variants changed -> PUTs of 10 + 2 and 50 + 10.
B6=$E2E/batch6
new_batch "$B6"
python3 - "$B6/bc/products.csv" <<'PY'
import csv, io, sys
p = sys.argv[1]
rows = list(csv.reader(io.StringIO(open(p, encoding="utf-8-sig", newline="").read())))
h = rows[0]
tpl = next(r for r in rows[1:] if r[h.index("sku")] == "3105-NAV-M")
def product(key, n, prefix):
    out = []
    for i in range(n):
        r = list(tpl)
        r[h.index("product_key")] = "APP/" + key
        r[h.index("handle")] = "app-" + key.lower().replace(" ", "-")
        r[h.index("title")] = key
        r[h.index("option1_value")] = "C%03d" % (i // 10)
        r[h.index("option2_value")] = "S%d" % (i % 10)
        r[h.index("sku")] = "%s-%04d" % (prefix, i)
        r[h.index("barcode")] = ""
        r[h.index("location_qty_01")] = "1"
        r[h.index("location_qty_02")] = "0"
        r[h.index("inventory_qty")] = "1"
        out.append(r)
    return out
rows += product("Harbor Socks", 60, "SOCK") + product("Huge Tee", 601, "HUGE")
out = io.StringIO()
csv.writer(out, lineterminator="\n").writerows(rows)
open(p, "w", encoding="utf-8-sig", newline="").write(out.getvalue())
PY
write_config "$E2E/home" "$PORT"
emu "$PORT" /__emulator/requests -X DELETE >/dev/null
$PB -c "$CFG" --json upload --store bc "$B6" > "$E2E/out6" 2> "$E2E/err6"
check "a product over 600 variants is refused, the new one created" eq \
    "$(py '(s["rejected"], s["created"])' < "$E2E/out6")" "(1, 1)"
check "the plan says why" grep -q 'APP/Huge Tee,HUGE-0000,reject,,601 variants; BigCommerce allows at most 600 per product' "$B6/bc/plan.csv"
check "no request ever named a SKU of the product over 600 variants" eq \
    "$(emu "$PORT" /__emulator/requests | py 'sum(1 for r in s["requests"] if "HUGE" in r["body"] + r["query"])')" 0
python3 - "$B6/bc/products.csv" <<'PY'
import csv, io, sys
p = sys.argv[1]
rows = list(csv.reader(io.StringIO(open(p, encoding="utf-8-sig", newline="").read())))
h = rows[0]
for r in rows[1:]:
    r[h.index("description")] = (r[h.index("description")] + " (new)").strip()
    if r[h.index("sku")].startswith("SOCK"):
        r[h.index("price")] = "19.95"
out = io.StringIO()
csv.writer(out, lineterminator="\n").writerows(rows)
open(p, "w", encoding="utf-8-sig", newline="").write(out.getvalue())
PY
emu "$PORT" /__emulator/requests -X DELETE >/dev/null
$PB -c "$CFG" --json upload --store bc "$B6" > "$E2E/out6b" 2> "$E2E/err6b"
R=$(emu "$PORT" /__emulator/requests)
check "13 products and 60 variants changed: PUTs of 10 + 3 products and 50 + 10 variants" eq \
    "$(echo "$R" | py 'sorted((r["operation"], len(json.loads(r["body"]))) for r in s["requests"])')" \
    "[('updateProducts', 3), ('updateProducts', 10), ('updateVariantsBatch', 10), ('updateVariantsBatch', 50)]"
check "no batch was too large (no 413)" eq "$(echo "$R" | py 'sum(1 for r in s["requests"] if r["status"] != 200)')" 0
check "the 60 new prices are in the store" eq \
    "$(state "$PORT" | py 'sorted(set(v["price"] for v in s["variants"] if v["sku"].startswith("SOCK")))')" "[19.95]"

# 7. An answer lost on the way back: the creates happened; nothing is sent twice.
PORT2=$(start_emulator bc2 bigcommerce/server.py --token "$TOKEN" --store-hash $HASH) || exit 1
write_config "$E2E/home2" "$PORT2"
B3=$E2E/batch3
new_batch "$B3"
emu "$PORT2" /__emulator/faults -X POST -H 'Content-Type: application/json' \
    -d '{"rules":[{"match":"op:createProduct","drop":"after","count":2}]}' >/dev/null
$PB -c "$CFG" upload --store bc "$B3" > "$E2E/out7" 2> "$E2E/err7"
check "a lost answer to a create still ends well" eq "$?" 0
S=$(state "$PORT2")
check "a lost answer creates nothing twice" eq \
    "$(echo "$S" | py '(len(s["products"]), len(set(p["name"] for p in s["products"])), len(s["variants"]))')" \
    "(12, 12, 22)"
check "a product whose answer was lost has its stock" eq \
    "$(echo "$S" | py '[v["inventory"] for v in s["variants"] if v["sku"]=="3105-NAV-M"][0]')" "{'1': 4, '2': 3}"
$PB -c "$CFG" --json upload --store bc "$B3" > "$E2E/out7b" 2> "$E2E/err7b"
check "after a lost answer the next run has nothing to do" eq "$(py 's["requests"]' < "$E2E/out7b")" 0

# 8. kill -9 while a create is in flight, then replay: the exact catalog, nothing twice.
PORT3=$(start_emulator bc3 bigcommerce/server.py --token "$TOKEN" --store-hash $HASH) || exit 1
write_config "$E2E/home3" "$PORT3"
B4=$E2E/batch4
new_batch "$B4"
emu "$PORT3" /__emulator/faults -X POST -H 'Content-Type: application/json' \
    -d '{"rules":[{"match":"op:createProduct","delay_ms":1500,"count":0}]}' >/dev/null
$PB -c "$CFG" upload --store bc "$B4" > "$E2E/out8" 2> "$E2E/err8" &
UP=$!
for _ in $(seq 1 100); do
    grep -q '"kind":"intent","op":"create"' "$B4/bc/results.jsonl" 2>/dev/null && break
    sleep 0.05
done
sleep 0.3
kill -9 "$UP" 2>/dev/null
wait "$UP" 2>/dev/null
check "kill -9 left creates journaled without an outcome" \
    bash -c "! grep -q '\"kind\":\"outcome\"' '$B4/bc/results.jsonl'"
emu "$PORT3" /__emulator/faults -X DELETE >/dev/null
sleep 1.6 # the emulator finishes what the dead run sent
$PB -c "$CFG" replay --store bc "$B4" > "$E2E/out9" 2> "$E2E/err9"
check "replay after kill -9 exits 0" eq "$?" 0
S=$(state "$PORT3")
check "after replay every product is there once" eq \
    "$(echo "$S" | py '(len(s["products"]), len(set(p["name"] for p in s["products"])))')" "(12, 12)"
check "after replay no SKU is duplicated" eq \
    "$(echo "$S" | py 'len(s["variants"]) == len(set(v["sku"].lower() for v in s["variants"])) == 22')" True
check "after replay the quantities are right" eq \
    "$(echo "$S" | py '([v["inventory"] for v in s["variants"] if v["sku"]=="3105-NAV-M"][0], [p["inventory"] for p in s["products"] if p["sku"]=="6301"][0])')" \
    "({'1': 4, '2': 3}, {'1': 4, '2': 7})"
$PB -c "$CFG" --json upload --store bc "$B4" > "$E2E/out9b" 2> "$E2E/err9b"
check "after replay the next run has nothing to do" eq "$(py 's["requests"]' < "$E2E/out9b")" 0

# 9. A SKU that differs only in case from one in the store: refused with the reason.
PORT4=$(start_emulator bc4 bigcommerce/server.py --token "$TOKEN" --store-hash $HASH) || exit 1
emu "$PORT4" /__emulator/seed -X POST -H 'Content-Type: application/json' \
    -d '{"products":[{"name":"Someone else'"'"'s beanie","sku":"3120-WINE","price":5}]}' >/dev/null
write_config "$E2E/home5" "$PORT4"
B5=$E2E/batch5
new_batch "$B5"
$PB -c "$CFG" --json upload --store bc "$B5" > "$E2E/out10" 2> "$E2E/err10"
check "a SKU taken in another case exits 65" eq "$?" 65
check "that product is refused, the others are created" eq \
    "$(py '(s["rejected"], s["created"], s["failed"])' < "$E2E/out10")" "(1, 11, 0)"
check "the plan says why" grep -q "APP/Knit Beanie,3120-Wine,reject,,\"SKU '3120-Wine' is already in the store as '3120-WINE' (product 1); BigCommerce SKUs ignore case" "$B5/bc/plan.csv"
check "the store product is untouched" eq \
    "$(state "$PORT4" | py '([(p["name"], p["price"]) for p in s["products"] if p["id"] == 1], len(s["products"]))')" \
    "([(\"Someone else's beanie\", 5)], 12)"

# 10. The store's quota (10 requests a second) is respected: no 429 from it.
PORT5=$(start_emulator bc5 bigcommerce/server.py --token "$TOKEN" --store-hash $HASH \
    --rate-quota 10 --rate-window-ms 1000) || exit 1
write_config "$E2E/home6" "$PORT5"
B7=$E2E/batch7
new_batch "$B7"
$PB -c "$CFG" --json upload --store bc "$B7" > "$E2E/out11" 2> "$E2E/err11"
check "under a 10/s quota the upload completes" eq "$(py '(s["created"], s["failed"])' < "$E2E/out11")" "(12, 0)"
check "under a 10/s quota the limiter waited instead of hitting 429" eq \
    "$(state "$PORT5" | py 's["counters"]["throttled"]'),$(py 's["rate_limit_wait"] > 0.3' < "$E2E/out11")" "0,True"

# 11. A revoked token: exit 77 and a clear message.
write_config "$E2E/home" "$PORT"
set_field "$B2/bc/products.csv" 3105-ROS-M price 19.99
BC_TOKEN=bc_revoked_000000 $PB -c "$CFG" upload --store bc "$B2" > "$E2E/out12" 2> "$E2E/err12"
check "a revoked token exits 77" eq "$?" 77
check "a revoked token says so" grep -q "refused the access token" "$E2E/err12"

# 12. A store that does not answer: exit 75, run again later.
write_config "$E2E/home4" 9
$PB -c "$CFG" upload --store bc "$B2" > "$E2E/out13" 2> "$E2E/err13"
check "a store that does not answer exits 75" eq "$?" 75

# 13. Every request fitted the spec: no body refused as invalid, no 413, 415 or 400.
for n in bc bc2 bc3 bc4 bc5; do
    bad=$(python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) for r in [json.loads(l)] if r["status"] in (400, 413, 415, 422)))' "$E2E/$n.log.jsonl")
    check "emulator $n refused no request as invalid" eq "$bad" 0
done

# 14. The token is never written anywhere.
if grep -rq "$TOKEN" "$E2E" --exclude='*.log.jsonl' --exclude='bc*.out' --exclude='posbridge.ini' 2>/dev/null; then
    not_ok "the token appears in no output, staged file, state or journal" \
        "$(grep -rl "$TOKEN" "$E2E" --exclude='*.log.jsonl' | head -3)"
else
    ok "the token appears in no output, staged file, state or journal"
fi
write_config "$E2E/home" "$PORT"
$PB -vv -c "$CFG" upload --store bc --dry-run --remote "$B2" > "$E2E/out14" 2> "$E2E/err14"
if grep -q "$TOKEN" "$E2E/out14" "$E2E/err14"; then
    not_ok "traces at -vv redact the token"
elif ! grep -q 'X-Auth-Token\|> GET' "$E2E/err14"; then
    not_ok "traces at -vv redact the token" "no trace was printed"
else
    ok "traces at -vv redact the token"
fi
