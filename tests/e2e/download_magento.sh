#!/usr/bin/env bash
# Download from the Magento emulator: shipped (complete) orders with a configurable line, a
# guest, a discount, shipping with tax and a card payment; an order not shipped yet and a
# closed order that never shipped stay out; a credit memo with a restocked line; more
# orders than one page; a 503 on a page retried.  Then transform -> emit -> QBPOS (the
# emulator) -> ingest; a second download meets an order updated inside the overlap and
# leaves it out, QBPOS has it; refused credentials exit 77 with the cursor unchanged; no secret leaks.
. "$(dirname "$0")/lib.sh"

TOKEN=mage_dl_token_0a1b2c3d4e5f66778899
export MAGE_TOKEN=$TOKEN MAGE_BAD=not_the_token_at_all_123
PORT=$(start_emulator magento magento/server.py --token "$TOKEN") || exit 1
Q="python3 $ROOT/tests/emulators/qbpos/qbpos.py"
S=$E2E/qbpos.json
echo '{"company": {"taxRates": {"Tax": "8.25", "Non": "0"}}}' > "$E2E/qseed.json"
$Q seed --state "$S" --json "$E2E/qseed.json" \
    --samples samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml >/dev/null
printf 'field,from,to\ntender,braintree,CreditCard:Visa\ntender,*,Cash\n' > "$E2E/tenders.csv"
write_config() { # token reference
    cat > "$E2E/posbridge.ini" <<INI
[general]
home = $E2E/home
qbpos_timezone = America/Chicago
[qbpos]
tax_rates = Tax:8.25, Non:0
[store mage]
platform = magento
base_url = http://127.0.0.1:$PORT
token = $1
maps = $E2E/tenders.csv
cashier = Web Mage
INI
}
write_config env:MAGE_TOKEN
CFG=$E2E/posbridge.ini
$PB -c "$CFG" export samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml >/dev/null 2>&1

# The store: the sample SKUs in its catalog, a customer, and the orders (times UTC, an
# hour ago, outside the 10 minutes looked at again).
python3 - "$E2E/seed.json" <<'PY'
import datetime as dt, json, sys
now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
t = lambda minutes: (now - dt.timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")
skus = {"2238-Aqua": 34.99, "4410": 15.99, "5203": 7.49, "6301": 22.00, "3105-ROS-M": 24.99}
products = [{"sku": s, "name": s, "type_id": "simple", "price": p, "sources": {"default": 10}}
            for s, p in skus.items()]
bill = {"first_name": "Jane", "last_name": "Doe", "company": "Doe & Co", "street": ["1 Main St", "Apt 2"],
        "city": "Austin", "state": "TX", "postcode": "78701", "country": "US", "phone": "5125550000"}
orders = [
    # 1: two lines, one with a discount, shipping with tax, a card; one 4410 refunded, restocked
    {"id": 1, "increment_id": "000000001", "customer": "jane@example.com", "state": "complete",
     "created_at": t(90), "shipped_at": t(80), "updated_at": t(60), "billing_address": bill,
     "shipping_address": {"first_name": "Jim", "last_name": "Doe", "street": ["9 Dock Rd"], "city": "Portland",
                          "state": "ME", "postcode": "04101", "country": "US", "phone": "2075550101"},
     "lines": [{"sku": "2238-Aqua", "name": "Harbor Tub Aqua", "qty": 1, "price": 34.99, "discount": 5,
                "tax_percent": 8.25},
               {"sku": "4410", "name": "Cafe Mug", "qty": 2, "price": 15.99, "tax_percent": 8.25}],
     "shipping": {"amount": 5, "tax": 0.41, "method": "flatrate_flatrate", "description": "Flat Rate - Fixed"},
     "payment": {"method": "braintree", "cc_last4": "1111", "last_trans_id": "txn-1"},
     "refunds": [{"created_at": t(55), "lines": [{"sku": "4410", "qty": 1, "restock": True}], "shipping": 0}]},
    # 2: a guest buying a configurable (parent row + child row), check / money order
    {"id": 2, "increment_id": "000000002", "customer": {"email": "guest@example.net", "first_name": "Gus",
                                                        "last_name": "Guest"},
     "state": "complete", "created_at": t(88), "updated_at": t(61),
     "billing_address": {"street": "5 Elm St", "city": "Boston", "state": "MA", "postcode": "02101",
                         "country": "US", "phone": "6175550000"},
     "lines": [{"sku": "3105-ROS-M", "parent_sku": "app-lighthouse-tee", "name": "Lighthouse Tee",
                "qty": 1, "price": 24.99, "tax_percent": 8.25}],
     "payment": "checkmo"},
    # 3: paid, not shipped yet: not downloaded
    {"id": 3, "customer": "jane@example.com", "state": "processing", "created_at": t(70), "updated_at": t(65),
     "lines": [{"sku": "6301", "qty": 1, "price": 22, "tax_percent": 8.25}]},
    # 4: refunded in full before it shipped (closed, nothing shipped): neither it nor its memo
    {"id": 4, "customer": "jane@example.com", "state": "processing", "created_at": t(70), "updated_at": t(64),
     "lines": [{"sku": "6301", "qty": 1, "price": 22, "tax_percent": 8.25}], "refunds": [{"created_at": t(63)}]},
    # 5: a SKU QBPOS does not have
    {"id": 5, "customer": {"email": "odd@example.org"}, "state": "complete", "created_at": t(70),
     "updated_at": t(62), "lines": [{"sku": "NOPE-9", "qty": 1, "price": 10}], "payment": "checkmo"},
]
# more than one page (50) of orders: hot sauce, not taxed
for i in range(6, 58):
    orders.append({"id": i, "customer": {"email": "buyer%d@example.com" % i}, "state": "complete",
                   "created_at": t(120 + i), "updated_at": t(100 - i % 30), "payment": "checkmo",
                   "lines": [{"sku": "5203", "name": "Hot Sauce", "qty": 1, "price": 7.49}]})
# 58: a configurable shipped, then refunded in full (closed) before any download: it comes,
# and so does its memo (one line: the child row of the pair skipped)
orders.append({"id": 58, "customer": "jane@example.com", "state": "closed", "created_at": t(75),
               "updated_at": t(58), "payment": "braintree",
               "lines": [{"sku": "3105-ROS-M", "parent_sku": "app-lighthouse-tee", "name": "Lighthouse Tee",
                          "qty": 1, "price": 24.99, "tax_percent": 8.25}]})
json.dump({"products": products, "customers": [{"email": "jane@example.com", "first_name": "Jane",
                                                "last_name": "Doe", "created_at": t(1000)}],
           "orders": orders}, open(sys.argv[1], "w"))
PY
emu "$PORT" /__emulator/seed -X POST -H 'Content-Type: application/json' --data @"$E2E/seed.json" > "$E2E/seeded"
check "the store is seeded" eq "$(py 'len(s["orders"])' < "$E2E/seeded")" 58
# a 503 on the second page of orders, and on the credit memos
emu "$PORT" /__emulator/faults -X POST -H 'Content-Type: application/json' \
    --data '{"rules": [{"match": "op:search_orders", "skip": 1, "status": 503}, {"match": "op:search_creditmemos", "status": 500}]}' >/dev/null

# 1. The first download.
$PB -c "$CFG" --json download --store mage > "$E2E/dl1" 2> "$E2E/dl1.err"
check "download succeeds" eq "$?" 0
check "56 shipped orders, two refunds, one customer; the faults retried" eq \
    "$(py '(s["orders"], s["returns"], s["customers"], s["rejected"], s["retries"] >= 2)' < "$E2E/dl1")" \
    "(56, 2, 1, 0, True)"
B1=$(py 's["batch"]' < "$E2E/dl1")
check "requests: two pages of orders, their shipments, one page of memos" eq \
    "$(py 's["requests"] - s["retries"]' < "$E2E/dl1")" 5
check "the orders search pages by total_count with updated_at, state and pageSize" \
    grep -q 'field%5D=updated_at.*condition_type%5D=gteq.*field%5D=state.*value%5D=complete%2Cclosed.*condition_type%5D=in.*pageSize%5D=50&searchCriteria%5BcurrentPage%5D=2' \
    "$E2E/magento.log.jsonl"
check "never a page past the end" eq \
    "$(grep -c 'V1/orders?.*currentPage%5D=3' "$E2E/magento.log.jsonl")" 0

col() { # file id-field id field...: the values of the first row of that record
    python3 - "$@" <<'PY'
import csv, sys
path, key, val = sys.argv[1:4]
rows = [r for r in csv.DictReader(open(path, encoding="utf-8-sig")) if r[key] == val]
print("|".join(";".join(r[f] for r in rows) if f.startswith("line_") or f == "restock" else (rows[0][f] if rows else "")
               for f in sys.argv[4:]))
PY
}
O=$B1/orders.csv
check "the order's record" eq \
    "$(col "$O" order_id 1 order_number created_at customer_id customer_email customer_first_name customer_last_name customer_company customer_phone currency)" \
    "000000001|$(python3 -c 'import json;print([o for o in json.load(open("'"$E2E/seed.json"'"))["orders"] if o["id"]==1][0]["created_at"].replace(" ","T")+"Z")')|1|jane@example.com|Jane|Doe|Doe & Co|5125550000|USD"
check "bill-to (street is a list) and ship-to (from shipping_assignments)" eq \
    "$(col "$O" order_id 1 bill_street bill_street2 bill_city bill_state bill_postal_code bill_country ship_full_name ship_street ship_city ship_state ship_postal_code ship_phone ship_method)" \
    "1 Main St|Apt 2|Austin|TX|78701|US|Jim Doe|9 Dock Rd|Portland|ME|04101|2075550101|Flat Rate - Fixed"
# (34.99 - 5.00) x 8.25% = 2.47; 31.98 x 8.25% = 2.64; shipping 5.00 + 0.41:
# 29.99 + 31.98 + 5.00 + 5.52 = 72.49
check "money: lines, discount, shipping with its tax, tax, total, the card" eq \
    "$(col "$O" order_id 1 line_sku line_qty line_price line_discount line_tax shipping shipping_tax order_discount tax_total total tender_01_gateway tender_01_amount)" \
    "2238-Aqua;4410|1;2|34.99;15.99|5.00;|2.47;2.64|5.00|0.41||5.52|72.49|braintree|72.49"
check "shipped_at is the shipment's time" eq "$(col "$O" order_id 1 shipped_at)" \
    "$(python3 -c 'import json;print([o for o in json.load(open("'"$E2E/seed.json"'"))["orders"] if o["id"]==1][0]["shipped_at"].replace(" ","T")+"Z")')"
check "a configurable: one line, the parent row's (the child row skipped)" eq \
    "$(col "$O" order_id 2 line_sku line_qty line_price line_tax total customer_id customer_email customer_first_name tender_01_gateway)" \
    "3105-ROS-M|1|24.99|2.06|27.05||guest@example.net|Gus|checkmo"
check "not shipped, or closed before shipping: not downloaded" eq \
    "$(col "$O" order_id 3 order_id)$(col "$O" order_id 4 order_id)" ""
check "the credit memo: its line, restocked, the card, the order's number" eq \
    "$(col "$B1/returns.csv" order_id 1 order_number customer_email refund_shipping refund_total tender_01_gateway tender_01_amount line_sku line_qty line_price line_tax restock)" \
    "000000001|jane@example.com||17.31|braintree|17.31|4410|1|15.99|1.32|true"
check "a closed order that shipped comes with its memo; the configurable's child row skipped" eq \
    "$(col "$O" order_id 58 line_sku total),$(col "$B1/returns.csv" order_id 58 line_sku line_qty line_price line_tax refund_total)" \
    "3105-ROS-M|27.05,3105-ROS-M|1|24.99|2.06|27.05"
check "customers: the registered customer only (a guest has none)" eq \
    "$(python3 -c 'import csv,sys; print([(r["customer_id"], r["email"], r["first_name"], r["street"], r["state"], r["phone"]) for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"))])' "$B1/customers.csv")" \
    "[('1', 'jane@example.com', 'Jane', '1 Main St', 'TX', '5125550000')]"

# 2. transform -> emit -> QBPOS -> ingest.
$PB -c "$CFG" --json transform "$B1" > "$E2E/tf" 2> "$E2E/tf.err"
check "transform: 56 orders and two refunds, the unknown SKU's order rejected alone" eq \
    "$(py '(s["orders"], s["returns"], s["receipts"], s["rejected"])' < "$E2E/tf")" "(56, 2, 57, 1)"
check "the unknown SKU is named" grep -q "order 000000005: SKU 'NOPE-9' is not a QBPOS item" "$B1/qbpos/rejects.csv"
MUG=$(python3 -c 'import csv,sys; print([r["list_id"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")) if r["alu"]=="4410"][0].lstrip("\x27"))' "$(ls -d "$E2E"/home/batches/*/items.csv | head -1)")
onhand() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"][sys.argv[2]]["OnHandStore01"])' "$S" "$MUG"; }
before=$(onhand)
$PB -c "$CFG" --json emit "$B1" > "$E2E/emit" 2>/dev/null
check "emit sends 57 receipts" eq "$(py 's["receipts"]' < "$E2E/emit")" 57
$Q process --state "$S" < "$B1/qbpos/requests.xml" > "$E2E/resp.xml" 2> "$E2E/resp.err"
check "QBPOS accepts the document" eq "$?" 0
$PB -c "$CFG" --json ingest "$B1" "$E2E/resp.xml" > "$E2E/ing" 2>/dev/null
check "QBPOS confirms every receipt (no 20004)" eq "$(py '(s["confirmed"], s["failed"])' < "$E2E/ing")" "(57, 0)"
check "stock moved: two mugs sold, one returned" eq \
    "$(python3 -c "print('%.2f' % (float('$before') - float('$(onhand)')))")" "1.00"

# 3. A second download right away; order 2 was changed (a comment) inside the overlap.
cursor1=$(cat "$E2E/home/state/mage/cursor.json")
until1=$(py 's["until"]' < "$E2E/dl1")
late=$(python3 -c 'import datetime as d,sys; print((d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ") - d.timedelta(seconds=60)).strftime("%Y-%m-%d %H:%M:%S"))' "$until1")
emu "$PORT" /__emulator/seed -X POST -H 'Content-Type: application/json' \
    --data "{\"orders\": [{\"id\": 2, \"update\": {\"comment\": \"Gift note added\", \"updated_at\": \"$late\"}}]}" >/dev/null
$PB -c "$CFG" --json download --store mage > "$E2E/dl2" 2> "$E2E/dl2.err"
check "second download: the order met again inside the overlap is already in QBPOS" eq \
    "$(py '(s["orders"], s["returns"], s["in_qbpos"], s["batch"])' < "$E2E/dl2")" "(0, 0, 1, None)"

# 4. Refused credentials: exit 77, the cursor where it was.
cursor2=$(cat "$E2E/home/state/mage/cursor.json")
write_config env:MAGE_BAD
$PB -c "$CFG" download --store mage > "$E2E/dl3" 2> "$E2E/dl3.err"
check "a refused token exits 77" eq "$?" 77
check "... says so" grep -q "refused the credentials" "$E2E/dl3.err"
check "... and leaves the cursor" eq "$(cat "$E2E/home/state/mage/cursor.json")" "$cursor2"
check "the cursor moved on after the second download" test "$cursor1" != "$cursor2"

# 5. The secrets are nowhere.
leaks=$(grep -rl -e "$TOKEN" -e "$MAGE_BAD" "$E2E"/dl* "$E2E"/tf* "$E2E"/emit* "$E2E/home" 2>/dev/null)
check "no secret in any output, batch, state or log" eq "$leaks" ""
