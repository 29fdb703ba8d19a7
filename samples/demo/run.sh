#!/usr/bin/env bash
# make demo: run the nightly job on the bundled sample data.
# Today: export (QBPOS item answers -> a staged batch), a check of what was staged, and
# transform (the batch -> what each of four stores gets).  It grows into the whole cycle.
set -eu
cd "$(dirname "$0")/../.."
PB=./posbridge
CFG=samples/demo/posbridge.ini
echo "== export: QBPOS item answers (an iterator split over three files) -> a new batch"
batch=$($PB -c $CFG export samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml)
batch=$(realpath --relative-to=. "$batch")
echo "batch: $batch"
echo
echo "== validate: every staged file against its schema"
$PB validate "$batch"/items.*
echo
echo "== the staged items (open items.csv in a spreadsheet; it is yours to edit)"
mlr --icsv --opprint --from "$batch/items.csv" \
    cut -o -f item_number,alu,desc1,attribute,size,price1,on_hand_store_01,on_hand_store_02 \
    then head -n 12
echo
echo "== transform: the items -> products for four stores (samples/demo/posbridge.ini)"
$PB -c $CFG transform "$batch" || [ $? -eq 65 ]
echo
echo "== what Shopify will get"
mlr --icsv --opprint --from "$batch/shopify-main/products.csv" \
    cut -o -f handle,option1_value,option2_value,sku,price,compare_at_price,location_qty_01,location_qty_02,status \
    then head -n 10

# The Shopify store is the emulator in tests/emulators, on a free loopback port.
mkdir -p demo-home
rm -f demo-home/shopify.port
python3 tests/emulators/shopify/server.py --port 0 --port-file demo-home/shopify.port \
    --token shpat_demo_token --shop harbor-lane > demo-home/shopify.log 2>&1 &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait $EMU 2>/dev/null' EXIT
for _ in $(seq 1 150); do [ -s demo-home/shopify.port ] && break; sleep 0.1; done
PORT=$(cat demo-home/shopify.port)
sed "s|^base_url = http://127.0.0.1:8701$|base_url = http://127.0.0.1:$PORT|; s|^home = ../../demo-home$|home = .|" \
    $CFG > demo-home/posbridge.ini
export POSBRIDGE_SHOPIFY_TOKEN=shpat_demo_token
echo
echo "== upload to Shopify (the emulator on port $PORT): new products arrive hidden"
$PB -c demo-home/posbridge.ini upload --store shopify-main "$batch"
echo
echo "== upload again: nothing changed, so nothing is sent"
$PB -c demo-home/posbridge.ini upload --store shopify-main "$batch"
echo
echo "== a price edited by hand in products.csv, then upload: one update"
sed -i 's/^\(APP\/Lighthouse Tee,[^\n]*3105-NAV-M,[0-9]*,\)24\.99,/\119.99,/' "$batch/shopify-main/products.csv"
$PB -c demo-home/posbridge.ini upload --store shopify-main "$batch"
grep -v ',unchanged,' "$batch/shopify-main/plan.csv" | sed 's/^\xef\xbb\xbf//'
echo
echo "done: $batch"
echo "open its items.csv, shopify-main/products.csv or shopify-main/plan.csv in a spreadsheet"
