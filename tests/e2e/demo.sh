#!/usr/bin/env bash
# make demo, checked: three nights of posbridge run against four emulated stores and an
# emulated QBPOS.  Each store's order reaches QBPOS once, and the stock QBPOS then has goes
# back out to every store.
. "$(dirname "$0")/lib.sh"

DEMO_HOME=$E2E/demo bash samples/demo/run.sh > "$E2E/out" 2> "$E2E/err"
check "the demo exits 0" eq "$?" 0
L=$(ls "$E2E"/demo/log/*-run.log | sort)
check "three runs, three logs" eq "$(echo "$L" | wc -l | tr -d ' ')" 3
first=$(echo "$L" | sed -n 1p); second=$(echo "$L" | sed -n 2p); third=$(echo "$L" | sed -n 3p)
for s in shopify-main bigcommerce woocommerce magento; do
    check "night 1: $s gets the twelve products" grep -q "run: upload $s: 12 created" "$first"
    check "night 2: $s's order comes back" grep -q "run: download $s: 1 orders" "$second"
    check "night 3: $s gets the quantities the orders moved, nothing else" \
        grep -q "run: upload $s: 0 created, 0 updated, [1-9] inventory" "$third"
done
check "night 2 sends no catalog request" eq "$(grep -c 'run: upload .*; 0 requests' "$second")" 4
check "night 3 files four QBPOS answers, every receipt confirmed" eq \
    "$(grep -c 'run: ingest -: .*: 1 receipts confirmed, 1 customers, 0 refused' "$third")" 4
check "QBPOS has each web order once" eq \
    "$(python3 -c 'import json,sys; print(sorted(r.get("Comments","").split(" [pb:")[0] for r in json.load(open(sys.argv[1]))["receipts"].values()))' "$E2E/demo/emu/qbpos.json")" \
    "['Web order #1001 (shopify-main)', 'Web order 000000001 (magento)', 'Web order 100 (bigcommerce)', 'Web order 26 (woocommerce)']"
check "nothing is left for QBPOS after night 3" grep -q "run: emit -: nothing for QBPOS" "$third"
check "each night wrote its report beside its log" eq "$(ls "$E2E"/demo/log/*-report.html | wc -l | tr -d ' ')" 3
check "the demo says where the last report is" grep -q "The last night's report (open it in a browser): .*-report.html" "$E2E/out"
check "night 1's report shows the four stores' summary" eq \
    "$(grep -o '<tr data-store="[a-z-]*"><th scope="row">[a-z-]*</th><td class="n[a-z ]*" data-col="created">12<' "$(ls "$E2E"/demo/log/*-report.html | sort | head -1)" | wc -l | tr -d ' ')" 4
check "night 2's report still says the catalog batch created the twelve products" eq \
    "$(grep -o '<tr data-store="[a-z-]*"><th scope="row">[a-z-]*</th><td class="n[a-z ]*" data-col="created">12<' "$(ls "$E2E"/demo/log/*-report.html | sort | sed -n 2p)" | wc -l | tr -d ' ')" 4
check "night 2's report shows no catalog update" eq \
    "$(grep -c 'data-col="updated">[1-9]' "$(ls "$E2E"/demo/log/*-report.html | sort | sed -n 2p)")" 0
