#!/usr/bin/env bash
# make demo: run the nightly job on the bundled sample data.
# Today the job is the export stage: QBPOS item answers -> a staged batch, then a check of
# what was staged.  It grows stage by stage into the whole cycle.
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
echo "done: $batch"
