#!/usr/bin/env bash
# Orders back from BigCommerce into QBPOS: download shipped orders (v2, more than one page,
# a 503 retried, v2's 204 on an empty page), their refunds and customers (v3), exact money
# from v2's four-decimal strings and RFC 2822 dates; transform, emit, the QBPOS emulator,
# ingest; an order updated inside the overlap comes again but nothing is added twice; a
# refused token exits 77 and leaves the cursor where it was; requests kept to a count.
. "$(dirname "$0")/lib.sh"

TOKEN=bc_dl_5e0c2b7a9d14f36e8a01c4d2
export BC_TOKEN=$TOKEN
HASH=dl42
# A quota of 300 a second: the connector waits on X-Rate-Limit-* instead of meeting 429s.
PORT=$(start_emulator bc bigcommerce/server.py --token "$TOKEN" --store-hash $HASH \
    --rate-quota 300 --rate-window-ms 1000) || exit 1
# start_emulator runs in $(...), so its pid never reaches EMU_PIDS: add it for the cleanup
EMU_PIDS+=($(pgrep -f -- "--port-file $E2E/bc.port"))
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
compare_at = msrp
tax_rates = Tax:8.25, Non:0
[transform]
maps = $ROOT/samples/maps/colors.csv, $ROOT/samples/maps/departments.csv
[store bc]
platform = bigcommerce
base_url = http://127.0.0.1:$PORT/stores/$HASH
token = env:BC_TOKEN
quantity = per_store
locations = 1:1, 2:2
maps = $ROOT/samples/maps/categories-bigcommerce.csv, $E2E/tenders.csv
INI
CFG=$E2E/posbridge.ini
# The catalog first (the sample items, uploaded), so order lines find their products and
# their QBPOS items.
CAT=$($PB -c "$CFG" export samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml 2>/dev/null)
$PB -c "$CFG" transform "$CAT" >/dev/null 2>&1
$PB -c "$CFG" upload --store bc "$CAT" >/dev/null 2>&1
check "the catalog is in the store" eq \
    "$(emu "$PORT" /__emulator/state | py 'len(s["products"]) > 0')" True

(python3 - "$PORT" <<'PY'
import datetime as dt, json, sys, urllib.request
port = sys.argv[1]
now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
def t(hours):  # two days ago, plus hours
    return (now - dt.timedelta(days=2) + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
ann = {"id": 7, "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "company": "Lee & Co",
       "phone": "+15125550100", "created_at": t(-100), "updated_at": t(-50),
       "addresses": [{"address1": "1 Main St", "city": "Austin", "state_or_province": "Texas",
                      "postal_code": "78701", "country_code": "US"}]}
def order(oid, lines, **kw):
    o = {"id": oid, "status": "Shipped", "created_at": t(0), "shipped_at": t(1), "lines": lines,
         "payment": {"gateway": "stripe", "method": "Credit Card"}}
    o.update(kw)
    return o
orders = [
    # two lines, a coupon spread over them, 8.25% tax, shipping with tax, a card; one tub
    # refunded and restocked later (the order moves to Partially Refunded)
    order(100, [{"sku": "2238-Aqua", "qty": 1, "price": "34.99"}, {"sku": "4410", "qty": 2, "price": "14.99"}],
          customer_email="ann@example.com", tax_rate=8.25, discounts=[{"code": "SAVE5", "amount": 5}],
          shipping={"method": "UPS Ground", "amount": 5, "tax": 0.41},
          shipping_address={"first_name": "Ann", "last_name": "Lee", "street_1": "9 Side Rd", "city": "Dallas",
                            "state": "Texas", "zip": "75201", "country_iso2": "US"},
          refunds=[{"created_at": t(3), "lines": [{"sku": "2238-Aqua", "qty": 1, "restock": True}]}]),
    # a guest, paid with PayPal
    order(101, [{"sku": "5203", "qty": 1, "price": "7.49"}], payment={"gateway": "paypalexpress", "method": "PayPal"},
          billing_address={"first_name": "Gus", "last_name": "Guest", "email": "guest@example.com",
                           "street_1": "5 Elm St", "city": "Waco", "state": "Texas", "zip": "76701",
                           "country_iso2": "US"}),
    # not shipped yet: must not come
    order(102, [{"sku": "6301", "qty": 1, "price": "22.00"}], status="Awaiting Fulfillment", shipped_at=None),
    # an unknown SKU: downloaded, rejected alone by transform
    order(103, [{"sku": "ZZZ-1", "qty": 1, "price": "5.00", "name": "Gift wrap", "standalone": True}]),
    # refunded in full before it ever shipped: neither it nor its refund comes
    order(104, [{"sku": "6301", "qty": 1, "price": "22.00"}], status="Awaiting Fulfillment", shipped_at=None,
          refunds=[{"created_at": t(2), "lines": [{"sku": "6301", "qty": 1}]}]),
] + [order(200 + i, [{"sku": "6301", "qty": 1, "price": "22.00"}], tax_rate=8.25, created_at=t(-1 - i / 100.0),
           shipped_at=t(-0.5 - i / 100.0)) for i in range(251)]  # Shipped: 253 = two pages of 250
r = urllib.request.Request("http://127.0.0.1:%s/__emulator/seed" % port,
                           data=json.dumps({"customers": [ann], "orders": orders}).encode(),
                           headers={"Content-Type": "application/json"})
urllib.request.urlopen(r).read()
print(t(0), t(1))
PY
) > "$E2E/times"
read -r CREATED SHIPPED < "$E2E/times"
emu "$PORT" /__emulator/faults -X POST -H 'Content-Type: application/json' \
    -d '{"rules": [{"match": "op:getOrders", "skip": 1, "status": 503, "count": 1}]}' >/dev/null
emu "$PORT" /__emulator/requests -X DELETE >/dev/null

# 1. The first download: every page, a 503 survived.
$PB -c "$CFG" --json download --store bc > "$E2E/dl1" 2> "$E2E/dl1.err"
check "download exits 0" eq "$?" 0
check "shipped orders, one refund, one customer" eq \
    "$(py '(s["orders"], s["returns"], s["customers"], s["rejected"])' < "$E2E/dl1")" "(254, 1, 1, 0)"
REQS=$E2E/reqs1.json
emu "$PORT" /__emulator/requests > "$REQS"
count() { python3 -c 'import json,re,sys; s=json.load(open(sys.argv[1])); print(sum(1 for r in s["requests"] if not r.get("control") and re.search(sys.argv[2], r["method"]+" "+r["path"]+"?"+r.get("query",""))))' "$REQS" "$1"; }
# 4 statuses (Shipped, Completed, Partially Refunded, Refunded) + Shipped's second page +
# the 503 retried; one refunds page; per shipped order products, address, transactions;
# one customers request for all.
check "order pages: four statuses, a second page, one retry" eq "$(count 'GET /stores/dl42/v2/orders\?')" 6
check "v2 dates and the '+' of their offsets go out encoded" eq \
    "$(count 'min_date_modified=[0-9-]+T[0-9]{2}%3A[0-9]{2}%3A[0-9]{2}%2B00%3A00&max_date_modified=')" 6
check "the second page starts after the last id seen" eq "$(count 'status_id=2.*min_id=')" 1
check "refunds: one page" eq "$(count 'payment_actions/refunds')" 1
check "three requests per shipped order" eq "$(count '/v2/orders/[0-9]+/products|/shipping_addresses|/transactions')" 762
check "one request for the customers" eq "$(count '/v3/customers\?id:in=7&')" 1
check "nothing else was asked" eq "$(count '.')" 770
check "no request met a 429" eq "$(python3 -c 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1]))["requests"] if r.get("status") == 429))' "$REQS")" 0

B1=$(py 's["batch"]' < "$E2E/dl1")
rows() { python3 -c 'import csv,sys; print([tuple(r[c] for c in sys.argv[2].split(",")) for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")) if r[sys.argv[3]]==sys.argv[4]])' "$@"; }
one() { python3 -c 'import ast,sys; print(ast.literal_eval(sys.stdin.read())[0])'; }
check "the lines: unit prices before discount, the coupon on the lines, their tax" eq \
    "$(rows "$B1/orders.csv" line_sku,line_qty,line_price,line_discount,line_tax,order_discount order_id 100)" \
    "[('2238-Aqua', '1', '34.99', '2.69', '2.66', ''), ('4410', '2', '14.99', '2.31', '2.28', '')]"
check "shipping, its tax, the total and the card" eq \
    "$(rows "$B1/orders.csv" ship_method,shipping,shipping_tax,tax_total,total,tender_01_gateway,tender_01_amount order_id 100 | one)" \
    "('UPS Ground', '5.00', '0.41', '5.35', '70.32', 'stripe', '70.32')"
check "times from RFC 2822 to UTC, the customer and the ship-to" eq \
    "$(rows "$B1/orders.csv" order_number,created_at,shipped_at,customer_id,customer_email,customer_first_name,bill_city,ship_full_name,ship_city order_id 100 | one)" \
    "('100', '$CREATED', '$SHIPPED', '7', 'ann@example.com', 'Ann', 'Austin', 'Ann Lee', 'Dallas')"
check "the guest: no customer id, the billing address names them" eq \
    "$(rows "$B1/orders.csv" customer_id,customer_email,customer_first_name,customer_last_name,bill_postal_code,tender_01_gateway,total order_id 101 | one)" \
    "('', 'guest@example.com', 'Gus', 'Guest', '76701', 'paypalexpress', '7.49')"
check "the unshipped order and the one refunded before shipping did not come" eq \
    "$(python3 -c 'import csv,sys; print(sorted({r["order_id"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"))} & {"102", "104"}))' "$B1/orders.csv")" "[]"
check "the refund: the tub after its discount, its tax, restocked, the card" eq \
    "$(rows "$B1/returns.csv" order_number,line_sku,line_qty,line_price,line_tax,restock,refund_total,tender_01_gateway,tender_01_amount order_id 100)" \
    "[('100', '2238-Aqua', '1', '32.30', '2.66', 'true', '34.96', 'stripe', '34.96')]"
check "the customer" eq \
    "$(rows "$B1/customers.csv" email,first_name,last_name,company,phone,street,city,postal_code,country customer_id 7)" \
    "[('ann@example.com', 'Ann', 'Lee', 'Lee & Co', \"'+15125550100\", '1 Main St', 'Austin', '78701', 'US')]"
check "the cursor is saved" test -s "$E2E/home/state/bc/cursor.json"

# 2. Into QBPOS.
onhand() { python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(sum(float(i.get("OnHandStore01") or 0) for i in s["items"].values() if i.get("ALU") == sys.argv[2]))' "$S" "$1"; }
before6301=$(onhand 6301)
beforeAqua=$(onhand 2238-Aqua)
$PB -c "$CFG" --json transform "$B1" > "$E2E/tf1" 2>/dev/null
check "the order with an unknown SKU is rejected alone" eq \
    "$(py '(s["receipts"], s["rejected"])' < "$E2E/tf1")" "(254, 1)"
check "the reject names the SKU" grep -q "SKU 'ZZZ-1' is not a QBPOS item" "$B1/qbpos/rejects.csv"
$PB -c "$CFG" emit "$B1" >/dev/null 2>&1
$Q process --state "$S" < "$B1/qbpos/requests.xml" > "$E2E/r1.xml" 2> "$E2E/r1.err"
check "QBPOS accepts the document" eq "$?" 0
$PB -c "$CFG" --json ingest "$B1" "$E2E/r1.xml" > "$E2E/in1" 2>/dev/null
check "QBPOS balances every receipt" eq "$(py '(s["confirmed"], s["failed"])' < "$E2E/in1")" "(254, 0)"
check "stock moved: 251 mugs sold" eq \
    "$(python3 -c "print('%.0f' % (float('$before6301') - float('$(onhand 6301)')))")" 251
check "stock moved: a tub sold and returned" eq \
    "$(python3 -c "print('%.0f' % (float('$beforeAqua') - float('$(onhand 2238-Aqua)')))")" 0

# 3. An order changed after the download: the next window (the overlap) meets it again and
# leaves it out, since QBPOS has it; nothing reaches QBPOS twice.
emu "$PORT" /__emulator/seed -X POST -H 'Content-Type: application/json' \
    -d '{"orders": [{"id": 101, "update": {"staff_notes": "gift", "touch": true}}]}' >/dev/null
sleep 1   # the window ends at the current second; the change must fall before it
emu "$PORT" /__emulator/requests -X DELETE >/dev/null
$PB -c "$CFG" --json download --store bc > "$E2E/dl2" 2>/dev/null
check "the second window meets the updated order, which QBPOS holds already" eq \
    "$(py '(s["orders"], s["returns"], s["in_qbpos"], s["batch"])' < "$E2E/dl2")" "(0, 0, 1, None)"
emu "$PORT" /__emulator/requests > "$REQS"
check "four status queries, refunds, the order's three: eight requests" eq "$(count '.')" 8
check "the empty statuses ended at v2's 204" eq \
    "$(python3 -c 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1]))["requests"] if r.get("status") == 204 and "/v2/orders?" in r["path"] + "?"))' "$REQS")" 3

# 4. A refused token: exit 77, the cursor does not move, the token is never shown.
cp "$E2E/home/state/bc/cursor.json" "$E2E/cursor.before"
BC_TOKEN=bc_wrong_0000000000000000 $PB -c "$CFG" -vv download --store bc > "$E2E/dl4" 2> "$E2E/dl4.err"
check "a refused token exits 77" eq "$?" 77
check "the cursor did not move" cmp -s "$E2E/cursor.before" "$E2E/home/state/bc/cursor.json"
check "the token is in no output or file" eq \
    "$(grep -rl -e "$TOKEN" -e bc_wrong_0000000000000000 "$E2E/home" "$E2E"/dl* "$E2E"/tf* "$E2E"/em* "$E2E"/in* 2>/dev/null | wc -l | tr -d ' ')" 0
