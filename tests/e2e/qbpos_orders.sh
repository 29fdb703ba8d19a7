#!/usr/bin/env bash
# Web orders and refunds -> QBPOS receipts: transform maps SKUs to ListIDs, gateways to
# tenders, balances each receipt the way QBPOS does with the configured tax rates, rejects
# an order with an unknown SKU alone; QBPOS (the emulator) accepts every receipt it emits.
. "$(dirname "$0")/lib.sh"

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
tax_rates = Tax:8.25, Non:0
[store shop]
platform = shopify
base_url = http://127.0.0.1:9
token = env:UNUSED
maps = $E2E/tenders.csv
cashier = Web Shop
INI
CFG=$E2E/posbridge.ini
# the newest export is where SKUs find their QBPOS items
$PB -c "$CFG" export samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml >/dev/null 2>&1
B=$E2E/sales
$PB export -o "$B" samples/qbpos/items-single.xml >/dev/null 2>&1
rm -f "$B/items.csv"

python3 - "$B" <<'PY'
import csv, sys
b = sys.argv[1]
oh = ["store", "order_id", "order_number", "created_at", "updated_at", "shipped_at", "currency",
      "customer_email", "customer_first_name", "customer_last_name", "ship_full_name", "ship_city",
      "shipping", "shipping_tax", "order_discount", "tax_total", "total", "tender_01_gateway",
      "tender_01_amount", "line_id", "line_sku", "line_title", "line_qty", "line_price",
      "line_discount", "line_tax"]
def o(oid, num, lines, total, gw="shopify_payments", ship="", disc="", tax="", email="ann@example.com"):
    for i, (sku, qty, price, ldisc) in enumerate(lines):
        yield ["shop", oid, num, "2026-11-20T15:00:00Z", "2026-11-21T02:30:00Z", "2026-11-21T02:30:00Z",
               "USD", email, "Ann", "Lee", "Ann Lee", "Austin", ship, "", disc, tax, total, gw, total,
               "%s-%d" % (oid, i), sku, "t", qty, price, ldisc, ""]
rows = []
# 34.99 + 2 x 14.99 = 64.97; tax 8.25% = 5.36; shipping 5.00 -> 75.33
rows += o("9001", "#1001", [("2238-Aqua", "1", "34.99", ""), ("4410", "2", "14.99", "")], "75.33", ship="5.00", tax="5.36")
rows += o("9002", "#1002", [("NOPE-1", "1", "10.00", "")], "10.83")
# a Non-taxed hot sauce paid with PayPal (the * row: Cash)
rows += o("9003", "#1003", [("5203", "1", "7.49", "")], "7.49", gw="paypal", email="")
# the web store rounded tax a cent differently: 22.00 * 1.0825 = 23.815 -> QBPOS 23.82, web 23.81
rows += o("9004", "#1004", [("6301", "1", "22.00", "")], "23.81", tax="1.81")
# a total nowhere near what QBPOS computes
rows += o("9005", "#1005", [("6301", "1", "22.00", "")], "30.00")
# a line discount and an order discount: (34.99 - 5.00) - 2.00 = 27.99, tax 2.31 -> 30.30
rows += o("9006", "#1006", [("2238-Aqua", "1", "34.99", "5.00")], "30.30", disc="2.00", tax="2.31")
w = csv.writer(open(b + "/orders.csv", "w", newline="", encoding="utf-8"), lineterminator="\n")
w.writerow(oh)
w.writerows(rows)
rh = ["store", "return_id", "order_id", "order_number", "created_at", "updated_at", "currency",
      "customer_email", "refund_shipping", "refund_total", "tender_01_gateway", "tender_01_amount",
      "line_id", "line_sku", "line_qty", "line_price", "line_tax", "restock"]
# the tub of #1001 back: 34.99 + 2.89 tax
r = [["shop", "7001", "9001", "#1001", "2026-11-25T18:00:00Z", "2026-11-25T18:00:00Z", "USD",
      "ann@example.com", "", "37.88", "shopify_payments", "37.88", "9001-0", "2238-Aqua", "1", "34.99", "2.89", "true"]]
w = csv.writer(open(b + "/returns.csv", "w", newline="", encoding="utf-8"), lineterminator="\n")
w.writerow(rh)
w.writerows(r)
PY

$PB -c "$CFG" --json transform "$B" > "$E2E/tf" 2> "$E2E/tf.err"
check "transform exits 65 when an order is rejected" eq "$?" 65
check "six orders and a refund -> five receipts, two rejected, one adjusted" eq \
    "$(py '(s["orders"], s["returns"], s["receipts"], s["rejected"], s["adjusted"])' < "$E2E/tf")" "(6, 1, 5, 2, 1)"
check "the unknown SKU is named, and only its order is rejected" \
    grep -q "order #1002: SKU 'NOPE-1' is not a QBPOS item" "$B/qbpos/rejects.csv"
check "a total QBPOS would not match is rejected with both totals" \
    grep -q "order #1005: the web store took 30.00 but QBPOS would total 23.82" "$B/qbpos/rejects.csv"
check "the receipt date is the shipping day in the QBPOS time zone" \
    grep -q "shop:order:9001,Sales,shop,#1001,2026-11-20," "$B/qbpos/receipts.csv"
check "the gateway map gives the tender" eq \
    "$(python3 -c 'import csv,sys; print(sorted({(r["receipt_key"], r["tender_01_type"], r.get("tender_01_card_name","")) for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"))}))' "$B/qbpos/receipts.csv")" \
    "[('shop:order:9001', 'CreditCard', 'Visa'), ('shop:order:9003', 'Cash', ''), ('shop:order:9004', 'CreditCard', 'Visa'), ('shop:order:9006', 'CreditCard', 'Visa'), ('shop:return:7001', 'CreditCard', 'Visa')]"
check "shipping tax is part of the shipping QBPOS sees" \
    grep -q "shop:order:9001,.*,5.00," "$B/qbpos/receipts.csv"
check "one customer key per e-mail address" eq \
    "$(python3 -c 'import csv,sys; print(sorted({r["customer_key"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig"))}))' "$B/qbpos/receipts.csv")" \
    "['', 'email:ann@example.com']"

AQUA=5271517108806162881
before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"][sys.argv[2]]["OnHandStore01"])' "$S" $AQUA)
$PB -c "$CFG" --json emit "$B" > "$E2E/emit" 2>/dev/null
check "emit sends the five receipts and one customer" eq "$(py '(s["receipts"], s["customers"])' < "$E2E/emit")" "(5, 1)"
$Q process --state "$S" < "$B/qbpos/requests.xml" > "$E2E/resp.xml" 2> "$E2E/resp.err"
check "QBPOS accepts the document" eq "$?" 0
$PB -c "$CFG" --json ingest "$B" "$E2E/resp.xml" > "$E2E/ing" 2>/dev/null
check "QBPOS balances every receipt (no 20004)" eq \
    "$(py '(s["confirmed"], s["customers"], s["failed"])' < "$E2E/ing")" "(5, 1, 0)"
after=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"][sys.argv[2]]["OnHandStore01"])' "$S" $AQUA)
check "stock moved: two tubs sold, one returned" eq \
    "$(python3 -c "print('%.2f' % (float('$before') - float('$after')))")" "1.00"

# the same orders downloaded again (an overlap window): nothing is added twice
$PB -c "$CFG" transform "$B" >/dev/null 2>&1
$PB -c "$CFG" --json emit "$B" > "$E2E/emit2" 2>/dev/null
check "orders seen again add nothing" eq "$(py '(s["receipts"], s["customers"], s["confirmed"])' < "$E2E/emit2")" "(0, 0, 5)"
