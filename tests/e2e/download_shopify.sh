#!/usr/bin/env bash
# Orders back from Shopify into QBPOS: download shipped orders, refunds and customers
# (every page, a fault retried), transform them into receipts, emit, run them through the
# QBPOS emulator, ingest; an order updated inside the overlap comes again but nothing is
# added twice; bad credentials leave the cursor where it was.
. "$(dirname "$0")/lib.sh"

TOKEN=shpat_dl_aabbccddeeff00112233
export SHOP_TOKEN=$TOKEN
PORT=$(start_emulator shopify shopify/server.py --token "$TOKEN" --shop dl) || exit 1
Q="python3 $ROOT/tests/emulators/qbpos/qbpos.py"
S=$E2E/qbpos.json
echo '{"company": {"taxRates": {"Tax": "8.25", "Non": "0"}}}' > "$E2E/seed.json"
$Q seed --state "$S" --json "$E2E/seed.json" \
    --samples samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml >/dev/null
printf 'field,from,to\ntender,shopify_payments,CreditCard:Visa\ntender,*,Cash\n' > "$E2E/tenders.csv"
cat > "$E2E/posbridge.ini" <<INI
[general]
home = $E2E/home
qbpos_timezone = America/Chicago
[qbpos]
compare_at = msrp
tax_rates = Tax:8.25, Non:0
[transform]
maps = $ROOT/samples/maps/colors.csv, $ROOT/samples/maps/departments.csv
[store shop]
platform = shopify
base_url = http://127.0.0.1:$PORT
token = env:SHOP_TOKEN
quantity = per_store
locations = 1:gid://shopify/Location/1, 2:gid://shopify/Location/2
maps = $E2E/tenders.csv
INI
CFG=$E2E/posbridge.ini
# The catalog first, so order lines find their products and QBPOS items.
CAT=$($PB -c "$CFG" export samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml 2>/dev/null)
$PB -c "$CFG" transform "$CAT" >/dev/null 2>&1
$PB -c "$CFG" upload --store shop "$CAT" >/dev/null 2>&1

python3 - "$PORT" <<'PY'
import json, sys, urllib.request
port = sys.argv[1]
ann = {"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee"}
bill = {"firstName": "Ann", "lastName": "Lee", "company": "Lee & Co", "address1": "1 Main St",
        "city": "Austin", "provinceCode": "TX", "zip": "78701", "countryCodeV2": "US"}
def order(name, lines, status="shipped", **kw):
    o = {"name": name, "createdAt": "2026-11-20T10:00:00Z", "fulfilledAt": "2026-11-21T02:30:00Z",
         "status": status, "gateway": "shopify_payments", "lines": lines}
    o.update(kw)
    return o
orders = [
    order("#1001", [{"sku": "2238-Aqua", "quantity": 1, "price": "34.99", "tax": "2.89"},
                    {"sku": "4410", "quantity": 2, "price": "14.99", "tax": "2.47"}],
          customer=ann, billingAddress=bill, shippingAddress=bill,
          shipping={"title": "Standard", "price": "5.00", "tax": "0.41"},
          refunds=[{"createdAt": "2026-11-25T18:00:00Z",
                    "lines": [{"sku": "2238-Aqua", "quantity": 1, "restockType": "RETURN",
                               "subtotal": "34.99", "tax": "2.89"}]}]),
    order("#1002", [{"sku": "5203", "quantity": 1, "price": "7.49"}], email="guest@example.com",
          gateway="paypal"),
    order("#1003", [{"sku": "6301", "quantity": 1, "price": "22.00", "tax": "1.82"}], status="unfulfilled"),
    order("#1004", [{"sku": "6301", "quantity": 1, "price": "22.00", "discount": "2.00", "tax": "1.65"}],
          customer=ann),
    order("#1020", [{"sku": "ZZZ-1", "quantity": 1, "price": "5.00", "title": "Gift wrap"}]),
] + [order("#10%d" % (10 + i), [{"sku": "6301", "quantity": 1, "price": "22.00", "tax": "1.82"}])
     for i in range(6)]
r = urllib.request.Request("http://127.0.0.1:%s/__emulator/seed" % port,
                           data=json.dumps({"orders": orders}).encode(),
                           headers={"Content-Type": "application/json"})
urllib.request.urlopen(r).read()
PY
emu "$PORT" /__emulator/faults -X POST -H 'Content-Type: application/json' \
    -d '{"rules": [{"match": "op:Orders", "status": 503, "count": 1}]}' >/dev/null
emu "$PORT" /__emulator/requests -X DELETE >/dev/null

# 1. The first download: every page, a 503 survived.
$PB -c "$CFG" --json download --store shop > "$E2E/dl1" 2> "$E2E/dl1.err"
check "download exits 0" eq "$?" 0
check "shipped orders, one refund, one customer" eq \
    "$(py '(s["orders"], s["returns"], s["customers"], s["rejected"])' < "$E2E/dl1")" "(10, 1, 1, 0)"
check "two pages and the retried 503" eq \
    "$(emu "$PORT" /__emulator/requests | py 'sum(1 for r in s["requests"] if "Orders" in r.get("body",""))')" 3
B1=$(py 's["batch"]' < "$E2E/dl1")
rows() { python3 -c 'import csv,sys; print([tuple(r[c] for c in sys.argv[2].split(",")) for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")) if r[sys.argv[3]]==sys.argv[4]])' "$@"; }
check "an order's lines, prices, taxes and discounts are exact" eq \
    "$(rows "$B1/orders.csv" line_sku,line_qty,line_price,line_discount,line_tax order_number '#1001')" \
    "[('2238-Aqua', '1', '34.99', '', '2.89'), ('4410', '2', '14.99', '', '2.47')]"
check "shipping, its tax, the total and the payment" eq \
    "$(rows "$B1/orders.csv" shipping,shipping_tax,tax_total,total,tender_01_gateway,tender_01_amount,customer_email order_number '#1001' | python3 -c 'import ast,sys; print(ast.literal_eval(sys.stdin.read())[0])')" \
    "('5.00', '0.41', '5.77', '75.74', 'shopify_payments', '75.74', 'ann@example.com')"
check "a line discount is on its line" eq \
    "$(rows "$B1/orders.csv" line_discount,total order_number '#1004')" "[('2.00', '21.65')]"
check "the unshipped order did not come" eq "$(grep -c '#1003' "$B1/orders.csv")" 0
check "the refund, restocked, with its tax" eq \
    "$(rows "$B1/returns.csv" order_number,line_sku,line_qty,line_price,line_tax,restock,refund_total order_number '#1001')" \
    "[('#1001', '2238-Aqua', '1', '34.99', '2.89', 'true', '37.88')]"
check "the cursor is saved" test -s "$E2E/home/state/shop/cursor.json"

# 2. Into QBPOS.
$PB -c "$CFG" --json transform "$B1" > "$E2E/tf1" 2>/dev/null
check "the order with an unknown SKU is rejected alone" eq \
    "$(py '(s["receipts"], s["rejected"])' < "$E2E/tf1")" "(10, 1)"
check "the reject names the SKU" grep -q "SKU 'ZZZ-1' is not a QBPOS item" "$B1/qbpos/rejects.csv"
$PB -c "$CFG" emit "$B1" >/dev/null 2>&1
$Q process --state "$S" < "$B1/qbpos/requests.xml" > "$E2E/r1.xml" 2> "$E2E/r1.err"
check "QBPOS accepts the document" eq "$?" 0
$PB -c "$CFG" --json ingest "$B1" "$E2E/r1.xml" > "$E2E/in1" 2>/dev/null
check "QBPOS balances every receipt" eq "$(py '(s["confirmed"], s["failed"])' < "$E2E/in1")" "(10, 0)"

# 3. An order changed after the download: the next window brings it again, and only it.
python3 - "$PORT" <<'PY'
import json, sys, urllib.request
r = urllib.request.Request("http://127.0.0.1:%s/__emulator/seed" % sys.argv[1],
                           data=json.dumps({"orders": [{"name": "#1004", "update": {"note": "gift"}}]}).encode(),
                           headers={"Content-Type": "application/json"})
urllib.request.urlopen(r).read()
PY
sleep 1   # the window ends at the current second; the change must fall before it
$PB -c "$CFG" --json download --store shop > "$E2E/dl2" 2>/dev/null
check "an order QBPOS already holds is not staged again" eq \
    "$(py '(s["orders"], s["in_qbpos"], s["batch"])' < "$E2E/dl2")" "(0, 1, None)"
python3 - "$PORT" <<'PY'
import json, sys, urllib.request
r = urllib.request.Request("http://127.0.0.1:%s/__emulator/seed" % sys.argv[1],
                           data=json.dumps({"orders": [{"name": "#1004", "update": {"refunds": [
                               {"lines": [{"sku": "6301", "quantity": 1, "restockType": "RETURN"}]}]}}]}).encode(),
                           headers={"Content-Type": "application/json"})
urllib.request.urlopen(r).read()
PY
sleep 1
$PB -c "$CFG" --json download --store shop > "$E2E/dl3" 2>/dev/null
check "a refund made later comes on its own" eq "$(py '(s["orders"], s["returns"], s["in_qbpos"])' < "$E2E/dl3")" "(0, 1, 1)"
B3=$(py 's["batch"]' < "$E2E/dl3")
$PB -c "$CFG" transform "$B3" >/dev/null 2>&1
$PB -c "$CFG" --json emit "$B3" > "$E2E/em3" 2>/dev/null
check "and becomes one return receipt" eq "$(py '(s["receipts"], s["confirmed"])' < "$E2E/em3")" "(1, 0)"

# 4. A refused token: exit 77, the cursor does not move, the token is never shown.
cp "$E2E/home/state/shop/cursor.json" "$E2E/cursor.before"
SHOP_TOKEN=shpat_wrong_000000000000 $PB -c "$CFG" -vv download --store shop > "$E2E/dl4" 2> "$E2E/dl4.err"
check "a refused token exits 77" eq "$?" 77
check "the cursor did not move" cmp -s "$E2E/cursor.before" "$E2E/home/state/shop/cursor.json"
check "the token is in no output or file" eq \
    "$(grep -rl -e "$TOKEN" -e shpat_wrong_000000000000 "$E2E/home" "$E2E"/dl* "$E2E"/tf* "$E2E"/em* 2>/dev/null | wc -l | tr -d ' ')" 0
