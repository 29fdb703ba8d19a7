#!/usr/bin/env bash
# Orders back from WooCommerce into QBPOS: download completed orders (and a refunded one
# that was completed first), their refunds and customers, every page (a 503 and an OAuth
# 500 survived), on a site whose clock is not GMT; transform them into receipts, emit,
# run them through the QBPOS emulator, ingest; an order changed inside the overlap comes
# again but nothing is added twice; refused keys leave the cursor where it was.
. "$(dirname "$0")/lib.sh"

CK=ck_dl_0a1b2c3d4e5f60718293a4b5c6d7e8f9
CS=cs_dl_f9e8d7c6b5a4938271605f4e3d2c1b0a
export WOO_CK=$CK WOO_CS=$CS
PORT=$(start_emulator woo woocommerce/server.py --consumer-key "$CK" --consumer-secret "$CS" \
    --utc-offset-hours -5) || exit 1
Q="python3 $ROOT/tests/emulators/qbpos/qbpos.py"
S=$E2E/qbpos.json
echo '{"company": {"taxRates": {"Tax": "8.25", "Non": "0"}}}' > "$E2E/seed.json"
$Q seed --state "$S" --json "$E2E/seed.json" \
    --samples samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml >/dev/null
printf 'field,from,to\ntender,stripe,CreditCard:Visa\ntender,*,Cash\n' > "$E2E/tenders.csv"
cat > "$E2E/posbridge.ini" <<INI
[general]
home = $E2E/home
qbpos_timezone = America/Chicago
[qbpos]
tax_rates = Tax:8.25, Non:0
[store woo]
platform = woocommerce
base_url = http://127.0.0.1:$PORT
consumer_key = env:WOO_CK
consumer_secret = env:WOO_CS
maps = $E2E/tenders.csv
INI
CFG=$E2E/posbridge.ini
# QBPOS's items in the home (the newest export), and the same SKUs in the store's catalog.
$PB -c "$CFG" export samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml >/dev/null 2>&1

seed() { # JSON on stdin -> the emulator's answer
    curl -s --max-time 20 -X POST -H 'Content-Type: application/json' --data-binary @- \
        "http://127.0.0.1:$PORT/__emulator/seed"
}
python3 - > "$E2E/seed-woo.json" <<'PY'
import json
def product(sku, name, price, stock):
    return {"sku": sku, "name": name, "type": "simple", "regular_price": price,
            "manage_stock": True, "stock_quantity": stock}
catalog = [product("2238-Aqua", "Harbor Tub - Aqua", "34.99", 5), product("4410", "Cafe Mug", "14.99", 11),
           product("5203", "Jalapeno Hot Sauce", "7.49", 12), product("6301", "Creme Brulee Candle", "22.00", 400),
           product("2290", "Sailor's Knot Bracelet", "12.00", 15), product("2301", "Tide Chart Poster", "9.95", 2)]
ann_bill = {"first_name": "Ann", "last_name": "Lee", "company": "Lee & Co", "address_1": "1 Main St",
            "address_2": "Suite 2", "city": "Austin", "state": "TX", "postcode": "78701", "country": "US",
            "email": "ann@example.com", "phone": "512-555-0100"}
ann_ship = {"first_name": "Bob", "last_name": "Lee", "company": "", "address_1": "9 Dock Rd", "city": "Austin",
            "state": "TX", "postcode": "78702", "country": "US", "phone": "512-555-0199"}
def order(number, lines, status="completed", **kw):
    o = {"key": number, "number": number, "status": status, "currency": "USD",
         "created_at": "2026-11-20T10:00:00Z", "completed_at": "2026-11-21T02:30:00Z",
         "updated_at": "2026-11-21T02:30:00Z", "payment_gateway": "stripe",
         "payment_method_title": "Credit Card (Stripe)", "lines": lines}
    o.update(kw)
    return o
orders = [
    # two lines, a coupon on the first, shipping with tax, a card; a refund restocking one tub
    order("1001", [{"sku": "2238-Aqua", "qty": 1, "price": "34.99", "discount": "3.00", "tax": "2.64"},
                   {"sku": "4410", "qty": 2, "price": "14.99", "tax": "2.47"}],
          customer="ann", billing=ann_bill, shipping=ann_ship,
          shipping_lines=[{"method_id": "flat_rate", "method_title": "Flat rate", "total": "5.00", "tax": "0.41"}],
          coupons=[{"code": "SAVE3", "discount": "3.00"}], updated_at="2026-11-25T18:00:00Z",
          refunds=[{"created_at": "2026-11-25T18:00:00Z", "reason": "broken", "restock": True,
                    "lines": [{"sku": "2238-Aqua", "qty": 1, "tax": "2.64"}]}]),
    # a guest, another gateway, nothing taxable
    order("1002", [{"sku": "5203", "qty": 1, "price": "7.49"}], payment_gateway="paypal",
          payment_method_title="PayPal",
          billing={"first_name": "Gus", "last_name": "Guest", "email": "guest@example.com", "country": "US"}),
    # not completed yet: must not come
    order("1003", [{"sku": "6301", "qty": 1, "price": "22.00", "tax": "1.82"}], status="processing",
          completed_at=None, billing={"email": "later@example.com"}),
    # 35.00 for three: 11.67 a unit and a cent off; two of them refunded (11.67 + 11.66)
    order("1004", [{"sku": "2290", "qty": 3, "subtotal": "35.00", "tax": "2.89"}],
          customer="ann", billing=ann_bill, updated_at="2026-11-24T09:00:00Z",
          refunds=[{"created_at": "2026-11-24T09:00:00Z", "restock": True,
                    "lines": [{"sku": "2290", "qty": 2, "tax": "1.92"}]}]),
    # completed, then refunded in full: still a sale, and a return
    order("1005", [{"sku": "2301", "qty": 1, "price": "9.95", "tax": "0.82"}], status="refunded",
          billing={"email": "rita@example.com", "first_name": "Rita"}, updated_at="2026-11-23T12:00:00Z",
          refunds=[{"created_at": "2026-11-23T12:00:00Z", "restock": True,
                    "lines": [{"sku": "2301", "qty": 1, "tax": "0.82"}]}]),
    # a SKU QBPOS does not have
    order("1006", [{"sku": "ZZZ-1", "name": "Gift wrap", "qty": 1, "price": "5.00"}],
          billing={"email": "zed@example.com"}),
] + [order(str(2000 + i), [{"sku": "6301", "qty": 1, "price": "22.00", "tax": "1.82"}],
           billing={"email": "f%d@example.com" % i}, updated_at="2026-11-22T%02d:%02d:00Z" % (i // 60, i % 60))
     for i in range(100)]
customers = [{"key": "ann", "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee",
              "username": "ann", "created_at": "2026-01-02T03:04:05Z", "billing": ann_bill}]
print(json.dumps({"products": catalog, "customers": customers, "orders": orders}))
PY
seed < "$E2E/seed-woo.json" > "$E2E/seeded.json"
check "the store is seeded" eq "$(py 'len(s["orders"])' < "$E2E/seeded.json")" 106
emu "$PORT" /__emulator/faults -X POST -H 'Content-Type: application/json' \
    -d '{"rules": [{"match": "op:orders.list", "status": 503, "skip": 1, "count": 1},
                   {"match": "op:refunds.list", "status": 500, "count": 1}]}' >/dev/null
emu "$PORT" /__emulator/requests -X DELETE >/dev/null

# 1. The first download: every page, a 503 and a 500 (OAuth: signed again) survived.
$PB -c "$CFG" --json download --store woo > "$E2E/dl1" 2> "$E2E/dl1.err"
check "download exits 0" eq "$?" 0
check "completed orders, three refunds, one customer, nothing rejected" eq \
    "$(py '(s["orders"], s["returns"], s["customers"], s["rejected"])' < "$E2E/dl1")" "(105, 3, 1, 0)"
REQS=$(emu "$PORT" /__emulator/requests)
check "two pages of orders, and the 503 asked again" eq \
    "$(echo "$REQS" | py '[(r["status"], dict(__import__("urllib.parse").parse.parse_qsl(r["query"]))["page"]) for r in s["requests"] if r["path"].endswith("/orders")]')" \
    "[(200, '1'), (503, '2'), (200, '2')]"
check "the orders are asked by GMT modified date, completed and refunded ones, oldest first" eq \
    "$(echo "$REQS" | py '[(q["status"], q["dates_are_gmt"], q["orderby"], q["order"], q["per_page"], q["modified_after"][-1] != "Z") for q in [dict(__import__("urllib.parse").parse.parse_qsl(r["query"])) for r in s["requests"] if r["path"].endswith("/orders")][:1]][0]')" \
    "('completed,refunded', 'true', 'modified', 'asc', '100', True)"
check "a refunds read answered 500 was signed again and sent once more" eq \
    "$(echo "$REQS" | py '[[r["status"] for r in s["requests"] if r["path"] == p] for p in [r["path"] for r in s["requests"] if r["path"].endswith("/refunds") and r["status"] == 500]]')" "[[500, 200]]"
check "refunds only for the orders that have some" eq \
    "$(echo "$REQS" | py 'sorted(set(r["path"].split("/")[-2] for r in s["requests"] if r["path"].endswith("/refunds")))' | tr -d "'" )" \
    "$(py 'sorted(str(o["id"]) for o in s["orders"] if o["refunds"])' < "$E2E/seeded.json" | tr -d "'")"
B1=$(py 's["batch"]' < "$E2E/dl1")
rows() { python3 -c 'import csv,sys; print([tuple(r[c] for c in sys.argv[2].split(",")) for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")) if r[sys.argv[3]]==sys.argv[4]])' "$@"; }
one() { rows "$@" | python3 -c 'import ast,sys; print(ast.literal_eval(sys.stdin.read())[0])'; }
check "an order's lines: unit price, the coupon on its line, tax, exact" eq \
    "$(rows "$B1/orders.csv" line_sku,line_title,line_qty,line_price,line_discount,line_tax order_number 1001)" \
    "[('2238-Aqua', 'Harbor Tub - Aqua', '1', '34.99', '3.00', '2.64'), ('4410', 'Cafe Mug', '2', '14.99', '', '2.47')]"
check "shipping, its tax, the tax, the total and the payment" eq \
    "$(one "$B1/orders.csv" shipping,shipping_tax,ship_method,tax_total,total,tender_01_gateway,tender_01_amount,order_discount order_number 1001)" \
    "('5.00', '0.41', 'Flat rate', '5.52', '72.49', 'stripe', '72.49', '')"
check "dates are GMT (the site is at UTC-5)" eq \
    "$(one "$B1/orders.csv" created_at,shipped_at,updated_at order_number 1001)" \
    "('2026-11-20T10:00:00Z', '2026-11-21T02:30:00Z', '2026-11-25T18:00:00Z')"
check "the customer from billing, the ship-to from shipping" eq \
    "$(one "$B1/orders.csv" customer_email,customer_first_name,customer_last_name,customer_company,customer_phone,bill_street,bill_street2,bill_city,bill_state,bill_postal_code,bill_country,ship_full_name,ship_street,ship_postal_code,ship_phone order_number 1001)" \
    "('ann@example.com', 'Ann', 'Lee', 'Lee & Co', '512-555-0100', '1 Main St', 'Suite 2', 'Austin', 'TX', '78701', 'US', 'Bob Lee', '9 Dock Rd', '78702', '512-555-0199')"
ANN=$(py '[c["id"] for c in s["customers"] if c["key"]=="ann"][0]' < "$E2E/seeded.json")
check "a registered customer's id; a guest has none" eq \
    "$(one "$B1/orders.csv" customer_id order_number 1001)/$(one "$B1/orders.csv" customer_id,customer_email,tender_01_gateway,total order_number 1002)" \
    "('$ANN',)/('', 'guest@example.com', 'paypal', '7.49')"
check "the customers file has the registered customer only" eq \
    "$(python3 -c 'import csv,sys; print([(r["customer_id"], r["email"], r["first_name"], r["company"], r["city"]) for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"))])' "$B1/customers.csv")" \
    "[('$ANN', 'ann@example.com', 'Ann', 'Lee & Co', 'Austin')]"
check "a unit price that does not divide: the cent above, the difference as discount" eq \
    "$(rows "$B1/orders.csv" line_qty,line_price,line_discount,total order_number 1004)" "[('3', '11.67', '0.01', '37.89')]"
check "the unfinished order did not come" eq "$(grep -c 'later@example.com' "$B1/orders.csv")" 0
check "the refunded order, completed first, came" eq "$(rows "$B1/orders.csv" total order_number 1005)" "[('10.77',)]"
check "the refund: positive quantity, price and tax, restocked, paid back to the card" eq \
    "$(rows "$B1/returns.csv" line_sku,line_qty,line_price,line_tax,restock,refund_total,tender_01_gateway,tender_01_amount,customer_email order_number 1001)" \
    "[('2238-Aqua', '1', '31.99', '2.64', 'true', '34.63', 'stripe', '34.63', 'ann@example.com')]"
check "a refunded amount that does not divide: two rows a cent apart" eq \
    "$(rows "$B1/returns.csv" line_qty,line_price,line_tax,refund_total order_number 1004)" \
    "[('1', '11.67', '1.92', '25.25'), ('1', '11.66', '', '25.25')]"
check "the refund points at the order line" eq \
    "$(one "$B1/returns.csv" line_id order_number 1001)" \
    "('$(py '[str(o["line_items"][0]) for o in s["orders"] if o["number"]=="1001"][0]' < "$E2E/seeded.json")',)"
check "the cursor is saved" test -s "$E2E/home/state/woo/cursor.json"

# 2. Into QBPOS.
AQUA=5271517108806162881
onhand() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"][sys.argv[2]]["OnHandStore01"])' "$S" "$1"; }
before=$(onhand $AQUA)
$PB -c "$CFG" --json transform "$B1" > "$E2E/tf1" 2>/dev/null
check "sales and returns become receipts; the unknown SKU's order is rejected alone" eq \
    "$(py '(s["receipts"], s["rejected"])' < "$E2E/tf1")" "(107, 1)"
check "the reject names the SKU" grep -q "SKU 'ZZZ-1' is not a QBPOS item" "$B1/qbpos/rejects.csv"
$PB -c "$CFG" emit "$B1" >/dev/null 2>&1
$Q process --state "$S" < "$B1/qbpos/requests.xml" > "$E2E/r1.xml" 2> "$E2E/r1.err"
check "QBPOS accepts the document" eq "$?" 0
$PB -c "$CFG" --json ingest "$B1" "$E2E/r1.xml" > "$E2E/in1" 2>/dev/null
check "QBPOS balances every receipt" eq "$(py '(s["confirmed"], s["failed"])' < "$E2E/in1")" "(107, 0)"
check "stock moved: a tub sold and one returned" eq \
    "$(python3 -c "print('%.2f' % (float('$before') - float('$(onhand $AQUA)')))")" "0.00"
check "stock moved: the candles sold" eq \
    "$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print([float(i["QuantityOnHand"]) for i in s["items"].values() if i.get("ALU")=="6301"][0])' "$S")" "-89.0"

# 3. An order changed after the download: the next window meets it again, and leaves it
#    (and its refund) out because QBPOS has them.
echo '{"orders": [{"key": "1004", "update": {"customer_note": "gift"}}]}' | seed >/dev/null
sleep 1   # the window ends at the current second; the change must fall before it
$PB -c "$CFG" --json download --store woo > "$E2E/dl2" 2>/dev/null
check "the second window meets the changed order, which QBPOS holds already" eq \
    "$(py '(s["orders"], s["returns"], s["in_qbpos"], s["batch"])' < "$E2E/dl2")" "(0, 0, 2, None)"

# 4. Refused keys: exit 77, the cursor does not move, the keys are never shown.
cp "$E2E/home/state/woo/cursor.json" "$E2E/cursor.before"
WOO_CS=cs_wrong_0000000000000000000000000000 $PB -c "$CFG" -vv download --store woo > "$E2E/dl4" 2> "$E2E/dl4.err"
check "refused keys exit 77" eq "$?" 77
check "the error says the keys were refused" grep -q "refused the API keys" "$E2E/dl4.err"
check "the cursor did not move" cmp -s "$E2E/cursor.before" "$E2E/home/state/woo/cursor.json"
check "the keys are in no output or file" eq \
    "$(grep -rl -e "$CS" -e cs_wrong_0000000000000000000000000000 -e "$CK" "$E2E/home" "$E2E"/dl* "$E2E"/tf* "$E2E"/em* "$E2E"/in* 2>/dev/null | wc -l | tr -d ' ')" 0

# 4b. A refunds list that cannot be read: the download fails whole, the cursor stays.
emu "$PORT" /__emulator/faults -X POST -H 'Content-Type: application/json' \
    -d '{"rules": [{"match": "op:refunds.list", "status": 400, "count": 0}]}' >/dev/null
$PB -c "$CFG" download --store woo > "$E2E/dl4b" 2> "$E2E/dl4b.err"
check "an unreadable refunds list fails the download" test "$?" -ne 0
check "the error names what could not be read" grep -q "cannot read an order's refunds" "$E2E/dl4b.err"
check "the cursor did not move either" cmp -s "$E2E/cursor.before" "$E2E/home/state/woo/cursor.json"
emu "$PORT" /__emulator/faults -X DELETE >/dev/null

# 5. Orders changed while the pages are read leave the window and the others move up a
#    place: the page they could have moved to is read again, and none is missed.  Page 2
#    is first answered 503 with Retry-After; an order of page 1 changes meanwhile.
emu "$PORT" /__emulator/faults -X POST -H 'Content-Type: application/json' \
    -d '{"rules": [{"match": "op:orders.list", "skip": 1, "count": 1, "status": 503, "retry_after": "2"}]}' >/dev/null
emu "$PORT" /__emulator/requests -X DELETE >/dev/null
$PB -c "$CFG" --json download --store woo --since 2026-11-01T00:00:00Z > "$E2E/dl5" 2>/dev/null &
DL=$!
for _ in $(seq 1 100); do   # page 2 refused: the client waits
    [ "$(emu "$PORT" /__emulator/requests | py 'sum(1 for r in s["requests"] if r["status"] == 503)')" -gt 0 ] && break
    sleep 0.05
done
echo '{"orders": [{"key": "2000", "update": {"customer_note": "changed meanwhile"}}]}' | seed >/dev/null
wait $DL
check "the download with an order changed meanwhile exits 0" eq "$?" 0
check "page 1 was read again after the total dropped" eq \
    "$(emu "$PORT" /__emulator/requests | py '[(r["status"], dict(__import__("urllib.parse").parse.parse_qsl(r["query"]))["page"]) for r in s["requests"] if r["path"].endswith("/orders")]')" \
    "[(200, '1'), (503, '2'), (200, '2'), (200, '1'), (200, '2')]"
check "every order and refund came (105 + 3), none skipped by the shift" eq "$(py 's["orders"] + s["returns"] + s["in_qbpos"]' < "$E2E/dl5")" 108
