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
echo
echo "done: $batch"
echo "open its items.csv or shopify-main/products.csv in a spreadsheet: they are yours to edit"
