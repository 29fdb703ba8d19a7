#!/usr/bin/env bash
# Upload to the WooCommerce emulator: first upload (simple and variable products, global
# attributes and terms, draft status, prices, one stock number), unchanged re-run, one
# price change, a quantity change, faults survived, a lost answer, kill -9 and replay,
# refused keys, an unreachable store, the keys never written anywhere; and WooCommerce's
# own cases: a batch of 100 with one item refused (then replay after the fix), a SKU the
# store already has (adopted, never duplicated), option_attributes, HTTP Basic.
. "$(dirname "$0")/lib.sh"

CK=ck_e2e_5f4e3d2c1b0a99887766554433221100
CS=cs_e2e_00112233445566778899aabbccddeeff
export WOO_CK=$CK WOO_CS=$CS
BASIC=$(printf '%s:%s' "$CK" "$CS" | base64 -w0)
PORT=$(start_emulator woo woocommerce/server.py --consumer-key "$CK" --consumer-secret "$CS") || exit 1

write_config() { # home, port, [extra lines]
    cat > "$E2E/posbridge.ini" <<EOF
[general]
home = $1
[qbpos]
compare_at = msrp
[transform]
maps = $ROOT/samples/maps/colors.csv, $ROOT/samples/maps/departments.csv
[store woo]
platform = woocommerce
base_url = http://127.0.0.1:$2
consumer_key = env:WOO_CK
consumer_secret = env:WOO_CS
quantity = per_store
locations = 1:store1, 2:store2
${3:-}
EOF
}
new_batch() { # dir
    $PB export -o "$1" samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml >/dev/null 2>&1
    $PB -c "$CFG" transform "$1" >/dev/null 2>&1
}
# set_cell FILE SKU FIELD VALUE : a hand edit of one cell of products.csv
set_cell() {
    python3 - "$@" <<'PY'
import csv, io, sys
p, sku, field, value = sys.argv[1:5]
rows = list(csv.reader(io.StringIO(open(p, encoding="utf-8-sig", newline="").read())))
h = rows[0]
for r in rows[1:]:
    if r[h.index("sku")] == sku:
        r[h.index(field)] = value
out = io.StringIO()
csv.writer(out, lineterminator="\n").writerows(rows)
open(p, "w", encoding="utf-8-sig", newline="").write(out.getvalue())
PY
}
state() { emu "$1" /__emulator/state; }
# every request passed the emulator's parameter validation, and no batch item relied on
# WooCommerce coercing a wrong type
valid() { [ "$(state "$1" | py '(s["counters"]["rejected"], s["counters"]["batchItemsCoerced"])')" = "(0, 0)" ]; }

write_config "$E2E/home" "$PORT"
CFG=$E2E/posbridge.ini
B=$E2E/batch1
new_batch "$B"

# 1. First upload: everything created, hidden, attributes and terms first.
$PB -c "$CFG" --json upload --store woo "$B" > "$E2E/out1" 2> "$E2E/err1"
check "first upload succeeds" eq "$?" 0
S=$(state "$PORT")
check "first upload creates 12 products (9 simple, 3 variable)" eq \
    "$(echo "$S" | py 'sorted(__import__("collections").Counter(p["type"] for p in s["products"]).items())')" \
    "[('simple', 9), ('variable', 3)]"
check "first upload creates 13 variations (22 SKUs in all)" eq "$(echo "$S" | py 'len(s["variations"])')" 13
check "new products arrive as drafts" eq \
    "$(echo "$S" | py 'sorted(set(p["status"] for p in s["products"]))')" "['draft']"
check "global attributes and their terms exist (the colour map applied)" eq \
    "$(echo "$S" | py 'sorted((a["name"], sorted(t["name"] for t in a["terms"])) for a in s["attributes"])')" \
    "[('Color', ['Blue', 'Burgundy', 'Green', 'Pink', 'Red', 'White']), ('Size', ['Extra Large', 'Large', 'Medium', 'Small'])]"
check "a variable product's options are its attribute terms" eq \
    "$(echo "$S" | py '[a["options"] for p in s["products"] if p["sku"]=="app-lighthouse-tee" for a in p["attributes"] if a["name"]=="Color"][0]')" \
    "['Pink', 'Burgundy', 'Blue']"
check "variations carry their attribute terms" eq \
    "$(echo "$S" | py '[v["attributes"] for v in s["variations"] if v["sku"]=="3105-NAV-M"][0]')" \
    "{'pa_color': 'blue', 'pa_size': 'medium'}"
check "regular price is the higher, sale price the lower (exact strings)" eq \
    "$(echo "$S" | py '[(p["regular_price"], p["sale_price"]) for p in s["products"] if p["sku"]=="6301"][0]')" \
    "('26.00', '22.00')"
check "stock is managed: the sum of the mapped stores" eq \
    "$(echo "$S" | py '[(v["manage_stock"], v["stock_quantity"]) for v in s["variations"] if v["sku"]=="3105-NAV-M"][0]')" \
    "(True, 7)"
check "the first upload is 1 products batch, 3 variations batches, attributes and terms" eq \
    "$(echo "$S" | py 'sorted(s["counters"]["requestsByOperation"].items())')" \
    "[('attributes.batch', 1), ('attributes.list', 1), ('products.batch', 1), ('products.list', 1), ('terms.batch', 2), ('variations.batch', 3)]"
WRITES1=$(echo "$S" | py 's["counters"]["writes"]')

# 2. Nothing changed: no request at all.
$PB -c "$CFG" --json upload --store woo "$B" > "$E2E/out2" 2> "$E2E/err2"
check "an unchanged re-run exits 0" eq "$?" 0
check "an unchanged re-run makes zero requests" eq "$(py 's["requests"]' < "$E2E/out2")" 0
check "an unchanged re-run writes nothing" eq "$(state "$PORT" | py 's["counters"]["writes"]')" "$WRITES1"

# 3. One price change: one variations batch with one item.
B2=$E2E/batch2
new_batch "$B2"
set_cell "$B2/woo/products.csv" 3105-ROS-M price 21.49
emu "$PORT" /__emulator/requests -X DELETE >/dev/null
$PB -c "$CFG" --json upload --store woo "$B2" > "$E2E/out3" 2> "$E2E/err3"
check "a price change exits 0" eq "$?" 0
check "a price change is one update" eq "$(py '(s["updated"], s["created"], s["inventory"])' < "$E2E/out3")" "(1, 0, 0)"
check "a price change costs one request" eq "$(py 's["requests"]' < "$E2E/out3")" 1
R=$(emu "$PORT" /__emulator/requests)
check "the request is the variations batch with exactly that variation" eq \
    "$(echo "$R" | py '[(r["path"].split("/")[-1], [v["sale_price"] for v in json.loads(r["body"])["update"]]) for r in s["requests"]]')" \
    "[('batch', ['21.49'])]"
check "the new price is in the store, the regular price kept" eq \
    "$(state "$PORT" | py '[(v["regular_price"], v["sale_price"]) for v in s["variations"] if v["sku"]=="3105-ROS-M"][0]')" "('29.99', '21.49')"
check "the plan names the change" grep -q 'update,price: 24.99 -> 21.49' "$B2/woo/plan.csv"
check "an update sends no status" bash -c "! grep -q '\"status\"' <<< '$(echo "$R" | py 's["requests"][0]["body"]')'"

# 4. A quantity change: inventory only, one request.
set_cell "$B2/woo/products.csv" 5203 location_qty_02 9
set_cell "$B2/woo/products.csv" 5203 inventory_qty 21
$PB -c "$CFG" --json upload --store woo "$B2" > "$E2E/out4" 2> "$E2E/err4"
check "a quantity change is inventory only, one request" eq \
    "$(py '(s["inventory"], s["updated"], s["requests"])' < "$E2E/out4")" "(1, 0, 1)"
check "the stock number is the new sum" eq \
    "$(state "$PORT" | py '[p["stock_quantity"] for p in s["products"] if p["sku"]=="5203"][0]')" 21

# 5. 429 storms and 5xx answers are waited out.
set_cell "$B2/woo/products.csv" 3105-ROS-M price 20.99
emu "$PORT" /__emulator/faults -X POST -H 'Content-Type: application/json' \
    -d '{"rules":[{"match":"variations/batch","status":429,"count":2,"retry_after":"1"},{"match":"variations/batch","status":503,"count":1}]}' >/dev/null
$PB -c "$CFG" --json upload --store woo "$B2" > "$E2E/out5" 2> "$E2E/err5"
check "429 and 503 answers are retried until the update lands" eq \
    "$(py '(s["updated"], s["failed"], s["retries"])' < "$E2E/out5")" "(1, 0, 3)"
check "the store has the price after the storm" eq \
    "$(state "$PORT" | py '[v["sale_price"] for v in s["variations"] if v["sku"]=="3105-ROS-M"][0]')" "20.99"

# 5b. --dry-run --remote shows a price edited in the store by hand.
ID=$(state "$PORT" | py '[p["id"] for p in s["products"] if p["sku"]=="4410"][0]')
emu "$PORT" /__emulator/faults -X DELETE >/dev/null
python3 - "$PORT" "$ID" "$CK" "$CS" <<'PY'
# a hand edit, signed like any OAuth client would
import base64, hashlib, hmac, json, sys, time, urllib.parse, urllib.request, uuid
port, pid, ck, cs = sys.argv[1:5]
url = "http://127.0.0.1:%s/wp-json/wc/v3/products/%s" % (port, pid)
p = {"oauth_consumer_key": ck, "oauth_nonce": uuid.uuid4().hex, "oauth_signature_method": "HMAC-SHA256",
     "oauth_timestamp": str(int(time.time()))}
enc = lambda s: urllib.parse.quote(s, safe="-._~")
base = "PUT&" + enc(url) + "&" + enc("&".join("%s=%s" % (enc(k), enc(v)) for k, v in sorted(p.items())))
p["oauth_signature"] = base64.b64encode(hmac.new((cs + "&").encode(), base.encode(), hashlib.sha256).digest()).decode()
req = urllib.request.Request(url + "?" + urllib.parse.urlencode(p), data=json.dumps({"regular_price": "99.00"}).encode(),
                             method="PUT", headers={"Content-Type": "application/json"})
urllib.request.urlopen(req).read()
PY
W0=$(state "$PORT" | py 's["counters"]["writes"]')
$PB -c "$CFG" upload --store woo --dry-run --remote "$B2" > "$E2E/out5b" 2> "$E2E/err5b"
check "dry run --remote exits 0" eq "$?" 0
check "dry run --remote reports a price edited in the store" \
    grep -q '4410,unchanged,,"store differs (edited by hand?): regular_price is 99.00 in the store, 15.99 was sent' "$B2/woo/plan.csv"
check "dry run --remote changes nothing in the store" eq "$(state "$PORT" | py 's["counters"]["writes"]')" "$W0"
check "every request passed the emulator's validation" valid "$PORT"

# 6. An answer lost on the way back: the creates happened; nothing is sent twice.
PORT2=$(start_emulator woo2 woocommerce/server.py --consumer-key "$CK" --consumer-secret "$CS") || exit 1
write_config "$E2E/home2" "$PORT2"
B3=$E2E/batch3
new_batch "$B3"
emu "$PORT2" /__emulator/faults -X POST -H 'Content-Type: application/json' \
    -d '{"rules":[{"match":"products/batch","drop":"after","count":1},{"match":"variations/batch","drop":"after","count":1}]}' >/dev/null
$PB -c "$CFG" --json upload --store woo "$B3" > "$E2E/out6" 2> "$E2E/err6"
check "lost answers to creates still end well" eq "$?" 0
S=$(state "$PORT2")
check "lost answers create nothing twice" eq \
    "$(echo "$S" | py '(len(s["products"]), len(s["variations"]), len(set(p["sku"] for p in s["products"])))')" "(12, 13, 12)"
$PB -c "$CFG" --json upload --store woo "$B3" > "$E2E/out6b" 2> "$E2E/err6b"
check "after lost answers the next run has nothing to do" eq "$(py 's["requests"]' < "$E2E/out6b")" 0
check "every request passed the emulator's validation (lost answers)" valid "$PORT2"

# 6c. kill -9 while the creates are in flight, then replay: the exact catalog, nothing twice.
PORT3=$PORT2 # the same emulator, emptied
emu "$PORT3" /__emulator/reset -X POST >/dev/null
write_config "$E2E/home3" "$PORT3"
B4=$E2E/batch4
new_batch "$B4"
emu "$PORT3" /__emulator/faults -X POST -H 'Content-Type: application/json' \
    -d '{"rules":[{"match":"products/batch","delay_ms":1500,"count":1}]}' >/dev/null
$PB -c "$CFG" upload --store woo "$B4" > "$E2E/out7" 2> "$E2E/err7" &
UP=$!
for _ in $(seq 1 100); do
    grep -q '"kind":"intent","op":"create"' "$B4/woo/results.jsonl" 2>/dev/null && break
    sleep 0.05
done
sleep 0.5
kill -9 "$UP" 2>/dev/null
wait "$UP" 2>/dev/null
check "kill -9 left creates journaled without an outcome" \
    bash -c "! grep -q '\"kind\":\"outcome\"' '$B4/woo/results.jsonl'"
sleep 1.5 # the emulator finishes the request the dead run sent
$PB -c "$CFG" replay --store woo "$B4" > "$E2E/out8" 2> "$E2E/err8"
check "replay after kill -9 exits 0" eq "$?" 0
S=$(state "$PORT3")
check "after replay every product is there once" eq \
    "$(echo "$S" | py '(len(s["products"]), len(set(p["sku"] for p in s["products"])))')" "(12, 12)"
check "after replay every variation is there once" eq \
    "$(echo "$S" | py '(len(s["variations"]), len(set(v["sku"] for v in s["variations"])))')" "(13, 13)"
check "after replay the stock is right" eq \
    "$(echo "$S" | py '[v["stock_quantity"] for v in s["variations"] if v["sku"]=="3105-NAV-M"][0]')" 7
$PB -c "$CFG" --json upload --store woo "$B4" > "$E2E/out9" 2> "$E2E/err9"
check "after replay the next run has nothing to do" eq "$(py 's["requests"]' < "$E2E/out9")" 0

# 7. Refused keys: exit 77 and a clear message.
write_config "$E2E/home" "$PORT"
set_cell "$B2/woo/products.csv" 3105-ROS-M price 19.99
WOO_CS=cs_wrong_000000 $PB -c "$CFG" upload --store woo "$B2" > "$E2E/out10" 2> "$E2E/err10"
check "refused keys exit 77" eq "$?" 77
check "refused keys say so" grep -q "refused the API keys" "$E2E/err10"

# 7b. A store that does not answer: exit 75, run again later.
write_config "$E2E/home4" 9
$PB -c "$CFG" upload --store woo "$B2" > "$E2E/out12" 2> "$E2E/err12"
check "a store that does not answer exits 75" eq "$?" 75

# 8. A batch of 100 with one item WooCommerce refuses (over HTTPS-style Basic auth):
#    99 created, the bad one failed with its error, replay after the fix sends only it.
PORT5=$(start_emulator woo5 woocommerce/server.py --consumer-key "$CK" --consumer-secret "$CS" --https-mode basic) || exit 1
emu "$PORT5" /__emulator/seed -X POST -H 'Content-Type: application/json' -d '{"attributes":[{"name":"Color","terms":["Red"]}],
  "products":[{"name":"Someone else","type":"variable","sku":"OTHER","attributes":[{"id":1,"variation":true,"options":["Red"]}],
  "variations":[{"sku":"T-050","regular_price":"1.00","attributes":[{"id":1,"option":"Red"}]}]}]}' > "$E2E/seed5"
write_config "$E2E/home5" "$PORT5" "auth = basic"
B5=$E2E/batch5
new_batch "$B5"
python3 - "$B5/woo/products.csv" <<'PY'
import csv, io, sys
p = sys.argv[1]
rows = list(csv.DictReader(io.StringIO(open(p, encoding="utf-8-sig", newline="").read())))
h = list(rows[0].keys())
out = io.StringIO()
w = csv.DictWriter(out, h, lineterminator="\n")
w.writeheader()
for i in range(100):
    r = {k: "" for k in h}
    r.update(product_key="TST/Item %03d" % i, handle="tst-item-%03d" % i, title="Item %03d" % i,
             status="draft", sku="T-%03d" % i, price="%d.50" % (i + 1), inventory_qty=str(i),
             content_hash="x")
    w.writerow(r)
open(p, "w", encoding="utf-8-sig", newline="").write(out.getvalue())
PY
emu "$PORT5" /__emulator/requests -X DELETE >/dev/null
$PB -c "$CFG" --json upload --store woo "$B5" > "$E2E/out13" 2> "$E2E/err13"
check "one refused item: exit 65 (partial failure)" eq "$?" 65
check "99 created, 1 failed" eq "$(py '(s["created"], s["failed"])' < "$E2E/out13")" "(99, 1)"
check "the 100 creates went in one batch request" eq \
    "$(emu "$PORT5" /__emulator/requests | py '[len(json.loads(r["body"])["create"]) for r in s["requests"] if r["path"].endswith("products/batch")]')" "[100]"
check "the failure and WooCommerce's error are in results.jsonl" \
    grep -q '"key":"TST/Item 050".*"status":"failed".*Invalid or duplicated SKU. (product_invalid_sku)' "$B5/woo/results.jsonl"
check "the plan says why" grep -q 'TST/Item 050,T-050,create,,SKU .T-050. is variation' "$B5/woo/plan.csv"
check "the summary names it" grep -q "create 'TST/Item 050' failed" "$E2E/err13"
check "the 99 others are in the store" eq \
    "$(state "$PORT5" | py 'len([p for p in s["products"] if p["sku"].startswith("T-")])')" 99
# the fix: the other product goes; then replay sends only the failed one
OTHER=$(py 's["products"][0]["id"]' < "$E2E/seed5")
curl -s -u "$CK:$CS" -X DELETE "http://127.0.0.1:$PORT5/wp-json/wc/v3/products/$OTHER?force=true" >/dev/null
emu "$PORT5" /__emulator/requests -X DELETE >/dev/null
$PB -c "$CFG" --json replay --store woo "$B5" > "$E2E/out14" 2> "$E2E/err14"
check "replay after the fix exits 0" eq "$?" 0
check "replay creates only the failed one" eq "$(py '(s["created"], s["failed"])' < "$E2E/out14")" "(1, 0)"
check "replay sends one item" eq \
    "$(emu "$PORT5" /__emulator/requests | py '[len(json.loads(r["body"])["create"]) for r in s["requests"] if r["path"].endswith("products/batch")]')" "[1]"
check "all 100 are in the store once" eq \
    "$(state "$PORT5" | py '(len(s["products"]), len(set(p["sku"] for p in s["products"])))')" "(100, 100)"
check "Basic auth: every request passed the emulator's validation" valid "$PORT5"

# 9. A SKU the store already has, no state: adopted and updated, never duplicated.
#    (a) found by the lookup; (b) the lookup misses it, the create meets the duplicate-SKU
#    error and its resource_id; option_attributes renames the Color attribute.
PORT6=$PORT2
emu "$PORT6" /__emulator/reset -X POST >/dev/null
emu "$PORT6" /__emulator/seed -X POST -H 'Content-Type: application/json' -d '{"products":[
  {"name":"Old mug","sku":"4410","regular_price":"1.00","manage_stock":true,"stock_quantity":1},
  {"name":"Old ink","sku":"6301","regular_price":"2.00"}]}' > /dev/null
write_config "$E2E/home6" "$PORT6" "option_attributes = Color:Colour"
B6=$E2E/batch6
new_batch "$B6"
emu "$PORT6" /__emulator/faults -X POST -H 'Content-Type: application/json' \
    -d '{"rules":[{"match":"GET /wp-json/wc/v3/products?","status":200,"body":[],"count":1}]}' >/dev/null
$PB -c "$CFG" --json upload --store woo "$B6" > "$E2E/out15" 2> "$E2E/err15"
check "SKUs already in the store: exit 0" eq "$?" 0
S=$(state "$PORT6")
check "no duplicate is created" eq \
    "$(echo "$S" | py '(len(s["products"]), len(s["variations"]), len(set(p["sku"] for p in s["products"])))')" "(12, 13, 12)"
check "the existing products are updated in place" eq \
    "$(echo "$S" | py '[(p["id"], p["regular_price"], p["stock_quantity"]) for p in s["products"] if p["sku"] in ("4410", "6301")]')" \
    "[(1, '15.99', 9), (2, '26.00', 11)]"
check "adopted products keep their status (sent on create only)" eq \
    "$(echo "$S" | py '[p["status"] for p in s["products"] if p["sku"] in ("4410", "6301")]')" "['publish', 'publish']"
check "both met the duplicate-SKU error (the lookup was made to miss them)" eq \
    "$(echo "$S" | py 's["counters"]["batchItemErrors"]')" 2
check "option_attributes names the attribute" eq \
    "$(echo "$S" | py 'sorted(a["name"] for a in s["attributes"])')" "['Colour', 'Size']"
$PB -c "$CFG" --json upload --store woo "$B6" > "$E2E/out16" 2> "$E2E/err16"
check "after adoption the next run has nothing to do" eq "$(py 's["requests"]' < "$E2E/out16")" 0
# (c) the state and the journal lost: the lookup finds every SKU, nothing is created
rm -rf "$E2E/home6/state"
B7=$E2E/batch7
new_batch "$B7"
$PB -c "$CFG" --json upload --store woo "$B7" > "$E2E/out17" 2> "$E2E/err17"
check "with the state lost, the lookup adopts everything" eq \
    "$(py '(s["created"], s["updated"], s["failed"])' < "$E2E/out17")" "(0, 12, 0)"
check "with the state lost, nothing is duplicated" eq \
    "$(state "$PORT6" | py '(len(s["products"]), len(s["variations"]))')" "(12, 13)"
check "every request passed the emulator's validation (adoption)" valid "$PORT6"

# 10. The keys are never written anywhere.
leak() { grep -rlF -e "$CK" -e "$CS" -e "$BASIC" "$E2E" --exclude='*.log.jsonl' --exclude='woo*.out' \
    --exclude='posbridge.ini' 2>/dev/null; }
if [ -n "$(leak)" ]; then
    not_ok "the API keys appear in no output, staged file, state or journal" "$(leak | head -3)"
else
    ok "the API keys appear in no output, staged file, state or journal"
fi
for mode in oauth basic; do
    if [ $mode = basic ]; then write_config "$E2E/home5" "$PORT5" "auth = basic"; D=$B5
    else write_config "$E2E/home" "$PORT"; D=$B2; fi
    $PB -vv -c "$CFG" upload --store woo --dry-run --remote "$D" > "$E2E/out-vv" 2> "$E2E/err-vv"
    if grep -qF -e "$CK" -e "$CS" -e "$BASIC" "$E2E/out-vv" "$E2E/err-vv"; then
        not_ok "traces at -vv redact the keys ($mode)"
    elif ! grep -q 'Authorization: \*\*\*\|Authorization: Basic \*\*\*\|> GET' "$E2E/err-vv"; then
        not_ok "traces at -vv redact the keys ($mode)" "no trace was printed"
    else
        ok "traces at -vv redact the keys ($mode)"
    fi
done
