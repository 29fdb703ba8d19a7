#!/usr/bin/env bash
# Receipts into QBPOS: emit a qbposXML document from qbpos/receipts.csv, run it through the
# QBPOS emulator, ingest the answers; re-runs add nothing twice, a refused receipt is sent
# again after a fix, a lost answer is checked before anything is added again, stock moves.
. "$(dirname "$0")/lib.sh"

Q="python3 $ROOT/tests/emulators/qbpos/qbpos.py"
S=$E2E/qbpos.json
$Q seed --state "$S" --samples samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml >/dev/null
printf '[general]\nhome = %s/home\n' "$E2E" > "$E2E/posbridge.ini"
CFG=$E2E/posbridge.ini
B=$E2E/sales
$PB export -o "$B" samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml >/dev/null 2>&1
mkdir -p "$B/qbpos"

# receipts.csv from a small table: key, type, customer, lines, tenders
python3 - "$B/qbpos/receipts.csv" <<'PY'
import csv, sys
head = ["receipt_key", "type", "web_store", "web_number", "txn_date", "customer_key",
        "customer_first_name", "customer_last_name", "customer_email", "ship_full_name",
        "ship_city", "shipping", "line_list_id", "line_sku", "line_qty", "line_price",
        "line_discount", "tender_01_type", "tender_01_card_name", "tender_01_amount"]
AQUA, MUG, CANDLE = "5271517108806162881", "-5183292717677460717", "1992910575734396892"
cust = ["shop:customer:ann@example.com", "Ann", "Lee & Co", "ann@example.com"]
rows = [
    # 1001: new customer, two lines, shipping, paid by card: 34.99 + 2 x 14.99 + 5.00
    ["shop:order:1001", "Sales", "shop", "1001", "2026-11-20"] + cust + ["Ann Lee", "Austin", "5.00", AQUA, "2238-Aqua", "1", "34.99", "", "CreditCard", "Visa", "69.97"],
    ["shop:order:1001", "Sales", "shop", "1001", "2026-11-20"] + cust + ["Ann Lee", "Austin", "5.00", MUG, "4410", "2", "14.99", "", "CreditCard", "Visa", "69.97"],
    # 1002: the same new customer again (one CustomerAdd for both), a discounted line, cash
    ["shop:order:1002", "Sales", "shop", "1002", "2026-11-21"] + cust + ["", "", "", CANDLE, "6301", "1", "22.00", "2.00", "Cash", "", "20.00"],
    # 1003: tendered one dollar short: QBPOS answers 20004
    ["shop:order:1003", "Sales", "shop", "1003", "2026-11-21", "", "", "", "", "", "", "", MUG, "4410", "1", "14.99", "", "Cash", "", "13.99"],
    # refund of 1001's tub
    ["shop:return:5001", "Return", "shop", "5001", "2026-11-22", "", "", "", "", "", "", "", AQUA, "2238-Aqua", "1", "34.99", "", "CreditCard", "Visa", "34.99"],
    # 1004: no tender at all: refused before it is sent
    ["shop:order:1004", "Sales", "shop", "1004", "2026-11-22", "", "", "", "", "", "", "", MUG, "4410", "1", "14.99", "", "", "", ""],
]
w = csv.writer(open(sys.argv[1], "w", newline="", encoding="utf-8"), lineterminator="\n")
w.writerow(head)
w.writerows(rows)
PY

onhand() { # ListID -> OnHandStore01
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"][sys.argv[2]].get("OnHandStore01"))' "$S" "$1"
}
receipts_with() { # marker -> how many receipts carry it in their Comments
    python3 -c 'import json,sys; print(sum(sys.argv[2] in r.get("Comments","") for r in json.load(open(sys.argv[1]))["receipts"].values()))' "$S" "$1"
}
AQUA=5271517108806162881
aqua0=$(onhand $AQUA)

# 1. emit: four receipts and one customer; the receipt without a tender is refused.
$PB -c "$CFG" --json emit "$B" > "$E2E/emit1" 2> "$E2E/emit1.err"
rc=$?
check "emit exits 65 when a receipt is refused" eq "$rc" 65
check "emit counts receipts, customers and rejects" eq \
    "$(py '(s["receipts"], s["customers"], s["rejected"])' < "$E2E/emit1")" "(4, 1, 1)"
check "the refused receipt is in qbpos/rejects.csv with its reason" \
    grep -q "shop:order:1004.*no tender" "$B/qbpos/rejects.csv"
check "the error names the file and line" grep -q "qbpos/receipts.csv:7" "$E2E/emit1.err"
check "requests.xml is well-formed" xmllint --noout "$B/qbpos/requests.xml"
check "one CustomerAdd with defMacro, used twice" eq \
    "$(grep -c 'defMacro="ListID:c1"' "$B/qbpos/requests.xml"),$(grep -c 'useMacro="ListID:c1"' "$B/qbpos/requests.xml")" "1,2"
check "the web order number is in the receipt's comments" \
    grep -q "Web order 1001 (shop) \[pb:shop:order:1001\]" "$B/qbpos/requests.xml"
check "special characters are escaped" grep -q "Lee &amp; Co" "$B/qbpos/requests.xml"

# 2. QBPOS runs it (the emulator checks every element against the qbposXML 3.0 DTD).
$Q process --state "$S" --start-time 2026-11-23T10:00:00 < "$B/qbpos/requests.xml" > "$E2E/resp1.xml" 2> "$E2E/resp1.err"
check "QBPOS accepts the whole document" eq "$?" 0
$PB -c "$CFG" --json ingest "$B" "$E2E/resp1.xml" > "$E2E/ing1" 2>/dev/null
check "ingest exits 65 when QBPOS refused a receipt" eq "$?" 65
check "ingest: 3 confirmed, 1 customer, 1 refused" eq \
    "$(py '(s["confirmed"], s["customers"], s["failed"], s["unmatched"])' < "$E2E/ing1")" "(3, 1, 1, 0)"
check "the refusal carries QBPOS's code and message" \
    grep -q '"code":20004.*not balanced' "$B/qbpos/results.jsonl"
check "the ledger holds the TxnID of a confirmed receipt" \
    grep -q '"key":"shop:order:1001".*"status":"confirmed".*"txn_id"' "$E2E/home/state/qbpos/ledger.jsonl"
check "a copy of the response is kept in the batch" test -s "$B/qbpos/responses/01-resp1.xml"
check "stock moved: sold one tub, one came back" eq "$(onhand $AQUA)" "$aqua0"

# 3. The retailer fixes the refused receipt's tender by hand; replay sends only it.
sed -i 's/,Cash,,13.99$/,Cash,,14.99/' "$B/qbpos/receipts.csv"
$PB -c "$CFG" --json replay "$B" > "$E2E/replay" 2>/dev/null
check "replay emits only the receipt QBPOS refused" eq \
    "$(py '(s["receipts"], s["customers"], s["confirmed"], s["checks"])' < "$E2E/replay")" "(1, 0, 3, 0)"
check "the refused receipt is the one sent again" eq \
    "$(grep -o 'requestID="[^"]*"' "$B/qbpos/requests.xml" | tr '\n' ' ')" 'requestID="add:shop:order:1003" '
$Q process --state "$S" < "$B/qbpos/requests.xml" > "$E2E/resp2.xml" 2>/dev/null
$PB -c "$CFG" --json ingest "$B" "$E2E/resp2.xml" > "$E2E/ing2" 2>/dev/null
check "the fixed receipt is confirmed" eq "$(py 's["confirmed"]' < "$E2E/ing2")" 1

# 5. A crash between emit and ingest: the document reached QBPOS, its answer was lost.
echo "shop:order:1005,Sales,shop,1005,2026-11-24,,,,,,,,1992910575734396892,6301,1,22.00,,Cash,,22.00" >> "$B/qbpos/receipts.csv"
$PB -c "$CFG" emit "$B" >/dev/null 2>&1
$Q process --state "$S" < "$B/qbpos/requests.xml" > /dev/null 2>&1   # the answer is lost
check "QBPOS has the new receipt once" eq "$(receipts_with '[pb:shop:order:1005]')" 1
$PB -c "$CFG" --json emit "$B" > "$E2E/emit3" 2>/dev/null
check "the next emit asks QBPOS instead of adding again" eq \
    "$(py '(s["receipts"], s["checks"])' < "$E2E/emit3")" "(0, 1)"
check "the check is a SalesReceiptQuery by the comment marker" \
    grep -q "<Comments>\[pb:shop:order:1005\]</Comments>" "$B/qbpos/requests.xml"
$Q process --state "$S" < "$B/qbpos/requests.xml" > "$E2E/resp3.xml" 2>/dev/null
$PB -c "$CFG" --json ingest "$B" "$E2E/resp3.xml" > "$E2E/ing3" 2>/dev/null
check "the check confirms the receipt QBPOS already had" eq "$(py 's["confirmed"]' < "$E2E/ing3")" 1
$PB -c "$CFG" --json emit "$B" > "$E2E/emit4" 2>/dev/null
check "then nothing is left to send" eq "$(py '(s["receipts"], s["checks"], s["written"])' < "$E2E/emit4")" "(0, 0, False)"
check "no requests.xml is left behind when nothing is to be sent" test ! -e "$B/qbpos/requests.xml"
check "QBPOS still has it once" eq "$(receipts_with '[pb:shop:order:1005]')" 1

# 6. A check that finds nothing lets the receipt be added after all.
echo "shop:order:1006,Sales,shop,1006,2026-11-24,,,,,,,,1992910575734396892,6301,1,22.00,,Cash,,22.00" >> "$B/qbpos/receipts.csv"
$PB -c "$CFG" emit "$B" >/dev/null 2>&1          # emitted, never sent to QBPOS
$PB -c "$CFG" emit "$B" >/dev/null 2>&1          # so this one asks instead
$Q process --state "$S" < "$B/qbpos/requests.xml" > "$E2E/resp4.xml" 2>/dev/null
$PB -c "$CFG" --json ingest "$B" "$E2E/resp4.xml" > "$E2E/ing4" 2>/dev/null
check "a check that finds nothing says absent" eq "$(py 's["absent"]' < "$E2E/ing4")" 1
$PB -c "$CFG" --json emit "$B" > "$E2E/emit5" 2>/dev/null
check "an absent receipt is added on the next emit" eq "$(py 's["receipts"]' < "$E2E/emit5")" 1

# 7. Hostile or broken responses are refused with a position.
printf '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<QBPOSXML><QBPOSXMLMsgsRs/></QBPOSXML>\n' > "$E2E/dtd.xml"
$PB -c "$CFG" ingest "$B" "$E2E/dtd.xml" > /dev/null 2> "$E2E/dtd.err"
check "a DOCTYPE in a response is refused" eq "$?" 65
check "the refusal says where" grep -q "dtd.xml:2:1:" "$E2E/dtd.err"
printf '<QBPOSXML><QBPOSXMLMsgsRs><SalesReceiptAddRs requestID="add:x" statusCode="0"' > "$E2E/trunc.xml"
$PB -c "$CFG" ingest "$B" "$E2E/trunc.xml" > /dev/null 2> "$E2E/trunc.err"
check "a truncated response is refused" eq "$?" 65
