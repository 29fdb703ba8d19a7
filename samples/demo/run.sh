#!/usr/bin/env bash
# make demo: the nightly job on the bundled sample data, against four emulated web stores and
# an emulated QBPOS, three nights in a row:
#   night 1  the QBPOS catalog goes out to Shopify, BigCommerce, WooCommerce and Magento
#   day      each store sells something
#   night 2  nothing to upload; the orders come back as QBPOS receipts in the outbox
#   (QBPOS)  runs the receipts (its stock moves) and answers into the inbox
#   night 3  the answers are filed, and the quantities QBPOS now has go out to the stores
set -eu
cd "$(dirname "$0")/../.."
PB=${PB:-./posbridge}
H=${DEMO_HOME:-demo-home}   # the tests run it elsewhere
rm -rf "$H"
mkdir -p "$H/source" "$H/inbox" "$H/outbox" "$H/emu"
# start runs in $(...), a subshell: the emulators' pids go to a file, read when stopping
trap '[ -f "$H/emu/pids" ] && while read -r p; do kill "$p" 2>/dev/null; done < "$H/emu/pids"; wait 2>/dev/null' EXIT

start() { # name script args...: the port
    local name=$1 script=$2
    shift 2
    python3 "tests/emulators/$script" --port 0 --port-file "$H/emu/$name.port" "$@" \
        > "$H/emu/$name.log" 2>&1 &
    echo $! >> "$H/emu/pids"
    for _ in $(seq 1 150); do [ -s "$H/emu/$name.port" ] && break; sleep 0.1; done
    cat "$H/emu/$name.port"
}
echo "== starting the emulated stores and QBPOS on loopback"
SHOP=$(start shopify shopify/server.py --token shpat_demo_token --shop harbor-lane)
BC=$(start bigcommerce bigcommerce/server.py --token bc_demo_token --store-hash abc123)
WOO=$(start woocommerce woocommerce/server.py --consumer-key ck_demo --consumer-secret cs_demo)
MAG=$(start magento magento/server.py --token magento_demo_token --bulk-delay-ms 100)
sed -e "s|127.0.0.1:8701|127.0.0.1:$SHOP|; s|127.0.0.1:8702|127.0.0.1:$BC|" \
    -e "s|127.0.0.1:8703|127.0.0.1:$WOO|; s|127.0.0.1:8704|127.0.0.1:$MAG|" \
    -e "s|\.\./\.\./demo-home/||; s|\.\./\.\./demo-home|.|; s|\.\./maps/|$PWD/samples/maps/|g" \
    samples/demo/posbridge.ini > "$H/posbridge.ini"
export POSBRIDGE_SHOPIFY_TOKEN=shpat_demo_token POSBRIDGE_BIGCOMMERCE_TOKEN=bc_demo_token
export POSBRIDGE_WOO_KEY=ck_demo POSBRIDGE_WOO_SECRET=cs_demo POSBRIDGE_MAGENTO_TOKEN=magento_demo_token
CFG=$H/posbridge.ini
QB="python3 tests/emulators/qbpos/qbpos.py"
echo '{"company": {"taxRates": {"Tax": "8.25", "Non": "0"}}}' > "$H/emu/qbpos-seed.json"
$QB seed --state "$H/emu/qbpos.json" --json "$H/emu/qbpos-seed.json" \
    --samples samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml > /dev/null
cp samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml "$H/source/"
status=0

echo
echo "== night 1: posbridge run (the QBPOS items in $H/source go out to four stores)"
$PB -c "$CFG" run || status=$?

echo
echo "== during the day, each store ships an order"
python3 samples/demo/orders.py "$SHOP" "$BC" "$WOO" "$MAG"
sleep 1   # a night's window ends at the second it starts: let the orders fall before it

echo
echo "== night 2: posbridge run (no catalog change; the orders come back for QBPOS)"
$PB -c "$CFG" run || status=$?
ls "$H/outbox"

echo
echo "== QBPOS runs the requests from the outbox and answers into the inbox"
for f in "$H"/outbox/*.xml; do
    $QB process --state "$H/emu/qbpos.json" < "$f" > "$H/inbox/$(basename "$f")"
    mv "$f" "$H/emu/"
done
printf '<?xml version="1.0"?>\n<?qbposxml version="3.0"?>\n<QBPOSXML><QBPOSXMLMsgsRq onError="stopOnError"><ItemInventoryQueryRq requestID="1"/></QBPOSXMLMsgsRq></QBPOSXML>\n' \
    > "$H/emu/items-query.xml"
rm -f "$H"/source/*
$QB process --state "$H/emu/qbpos.json" < "$H/emu/items-query.xml" > "$H/source/items-now.xml"
echo "QBPOS's items, with its new stock, are in $H/source/items-now.xml"

echo
echo "== night 3: posbridge run (QBPOS's answers filed; only the quantities the orders moved go out)"
$PB -c "$CFG" run || status=$?

echo
echo "Everything is under $H/: batches/ (open any .csv in a spreadsheet), state/, log/."
REPORT=$(ls "$H"/log/*-report.html 2>/dev/null | sort | tail -1)
[ -n "$REPORT" ] && echo "The last night's report (open it in a browser): $REPORT"
exit $status
