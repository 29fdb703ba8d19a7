#!/usr/bin/env bash
# Transform over a catalog big enough for many chunks, for five stores in three groups
# (stores of a group share their rows but for quantities), with four sets of quantity
# settings (stores with the same settings share them): each store's files are byte for
# byte what a run for that store alone writes, in CSV and in JSONL, and its warnings come
# in the same order.  The catalog has a style of 1,500 items (a chunk of its own), styles whose items
# are far apart in the file, a SKU used twice in styles thousands of rows apart, SKUs
# equal but for case, items without a SKU or a price.
. "$(dirname "$0")/lib.sh"

B=$E2E/batch
mkdir -p "$B"
python3 - "$B/items.csv" <<'EOF'
import csv, random, sys
random.seed(7)
rows = []
colours = ["Rose", "Wine", "Navy", "Sage", "Sand", "Coal"]
sizes = ["S", "M", "L", "XL"]
n = 0
def item(style, dept, v, sku, price="12.50", qty=(3, 4), colour=None):
    global n
    n += 1
    return [str(10000 + n), sku, style, dept, colour or colours[v % 6], sizes[(v // 6) % 4], price,
            "20.00", str(qty[0]), str(qty[1]), "true", "Tub, Beach" if v % 3 else "Harbor"]
for s in range(1400):
    dept = ["APP", "KIT", "GAT", "BTH"][s % 4]
    for v in range(1 + s % 7):
        rows.append(item(f"Style {s}", dept, v, f"S{s}-{v}", qty=(v, s % 5)))
rows += [item("Huge Style", "APP", v, f"HUGE-{v:04d}", colour=f"C{v:04d}") for v in range(1500)]
rows.append(item("Dup A", "KIT", 0, "DUP-1"))
rows.append(item("Case Low", "KIT", 0, "case-sku"))
rows.append(item("No Sku", "KIT", 0, ""))
rows.append(item("No Price", "KIT", 0, "NOPRICE", price=""))
random.shuffle(rows)
rows.append(item("Dup B", "GAT", 0, "DUP-1"))
rows.append(item("Case Up", "GAT", 0, "CASE-SKU"))
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["item_number", "alu", "desc1", "department_code", "attribute", "size",
                "price1", "msrp", "on_hand_store_01", "on_hand_store_02", "is_web_item",
                "keywords"])
    w.writerows(rows)
EOF
printf '{"id":"t","kind":"catalog","stages":{}}\n' > "$B/manifest.json"
printf 'field,from,to\ntag,Beach,Coast\n' > "$E2E/tags.csv"

config() { # config FORMAT
    cat <<EOF
[general]
format = $1
[qbpos]
sku = alu
online = all
compare_at = msrp
quantity = sum
[transform]
maps = $ROOT/samples/maps/colors.csv, $ROOT/samples/maps/departments.csv
[store shopify]
platform = shopify
base_url = https://example.myshopify.com
token = env:T
quantity = per_store
locations = 1:gid://shopify/Location/1, 2:gid://shopify/Location/2
[store bigcommerce]
platform = bigcommerce
base_url = https://api.bigcommerce.com/stores/abc
token = env:T
new_products = visible
quantity = store 2
safety_buffer = 1
[store woocommerce]
platform = woocommerce
base_url = https://shop.example.com
consumer_key = env:T
consumer_secret = env:T
maps = $E2E/tags.csv
quantity = store 2
[store magento]
platform = magento
base_url = https://magento.example.com
token = env:T
quantity = per_store
locations = 1:store1, 2:store2
[store outlet]
platform = shopify
base_url = https://outlet.myshopify.com
token = env:T
quantity = per_store
locations = 2:gid://shopify/Location/9
EOF
}
export T=secret-token-value
STORES="shopify bigcommerce woocommerce magento outlet"

for fmt in csv jsonl; do
    config $fmt > "$E2E/$fmt.ini"
    rm -rf "$B"/{shopify,bigcommerce,woocommerce,magento,outlet}
    "$PB" -c "$E2E/$fmt.ini" transform "$B" > "$E2E/all.out" 2> "$E2E/all.err"
    rc=$?
    check "$fmt: the five stores transform with rejects (rc 65)" eq "$rc" 65
    for s in $STORES; do
        mkdir -p "$E2E/all/$s"
        cp "$B/$s/products.$fmt" "$B/$s/rejects.csv" "$E2E/all/$s/"
    done
    for s in $STORES; do
        rm -rf "$B"/{shopify,bigcommerce,woocommerce,magento,outlet}
        "$PB" -c "$E2E/$fmt.ini" transform --store "$s" "$B" > /dev/null 2> "$E2E/one.err"
        check "$fmt: $s's products file is the same as when it is transformed alone" \
            cmp -s "$B/$s/products.$fmt" "$E2E/all/$s/products.$fmt"
        check "$fmt: $s's rejects are the same as when it is transformed alone" \
            cmp -s "$B/$s/rejects.csv" "$E2E/all/$s/rejects.csv"
        grep "^posbridge: warning: $s:" "$E2E/one.err" > "$E2E/one.w"
        grep "^posbridge: warning: $s:" "$E2E/all.err" > "$E2E/all.w"
        check "$fmt: $s's warnings come in the same order as when it is alone" \
            cmp -s "$E2E/one.w" "$E2E/all.w"
    done
done

# What the stores got (the JSONL run's files).
A=$E2E/all
rows() { grep -c "$2" "$A/$1/products.jsonl"; }
check "the huge style is one product of 1,500 variants for Shopify" eq "$(rows shopify '"HUGE-')" 1500
check "and refused by BigCommerce (600 at most)" eq "$(rows bigcommerce '"HUGE-')" 0
check "BigCommerce says why" grep -q "product 'APP/Huge Style' rejected for bigcommerce: 1500 variants; at most 600" "$E2E/all.err"
check "the SKU used twice goes to the first product only" \
    eq "$(grep -c '"sku":"DUP-1"' "$A/shopify/products.jsonl")" 1
check "SKUs equal but for case: both for Shopify, one for BigCommerce and Magento" \
    eq "$(rows shopify '"sku":"[cC][aA][sS][eE]-')/$(rows bigcommerce '"sku":"[cC][aA][sS][eE]-')/$(rows magento '"sku":"[cC][aA][sS][eE]-')" 2/1/1
check "Shopify's rows carry both locations, WooCommerce's the sum alone" \
    eq "$(grep -c '"location_qty_02"' "$A/shopify/products.jsonl")/$(grep -c '"location_qty' "$A/woocommerce/products.jsonl")" \
    "$(wc -l < "$A/shopify/products.jsonl" | tr -d ' ')/0"
# Quantities per SKU: "sku inventory location_01 location_02", a dash for a missing one.
qty() {
    python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["sku"], *(r.get(k, "-") for k in ("inventory_qty", "location_qty_01", "location_qty_02")))
' "$A/$1/products.jsonl" | sort > "$E2E/q.$1"
}
for s in $STORES; do qty $s; done
count() { wc -l | tr -d ' '; }
check "Magento's stock per location is Shopify's (the same settings)" \
    eq "$(join "$E2E/q.shopify" "$E2E/q.magento" | awk '$2 != $5 || $3 != $6 || $4 != $7' | count)/$(join "$E2E/q.shopify" "$E2E/q.magento" | count)" \
    "0/$(count < "$E2E/q.magento")"
check "the outlet's rows carry store 2 alone, as their stock" \
    eq "$(awk '$3 != "-" || $4 == "-" || $2 != $4' "$E2E/q.outlet" | count)/$(join "$E2E/q.outlet" "$E2E/q.shopify" | awk '$4 != $7' | count)" \
    "0/0"
check "WooCommerce's stock is store 2's" \
    eq "$(join "$E2E/q.woocommerce" "$E2E/q.shopify" | awk '$3 != "-" || $2 != $7' | count)" 0
check "BigCommerce's safety buffer of 1 is taken off store 2's stock (not WooCommerce's)" \
    eq "$(join "$E2E/q.woocommerce" "$E2E/q.bigcommerce" | awk '$5 != ($2 > 0 ? $2 - 1 : 0)' | count)/$(join "$E2E/q.woocommerce" "$E2E/q.bigcommerce" | awk '$2 > 1' | sed -n 1p | wc -l)" \
    "0/1"
check "WooCommerce's own tag map applies to it" grep -q '"tags":"Tub, Coast"' "$A/woocommerce/products.jsonl"
check "and to no other store" sh -c "! grep -q Coast '$A/shopify/products.jsonl'"
check "new products: hidden for Shopify, visible for BigCommerce" \
    eq "$(grep -c '"status":"draft"' "$A/bigcommerce/products.jsonl")/$(grep -c '"status":"active"' "$A/shopify/products.jsonl")" 0/0
check "the token is in no output" sh -c "! grep -rq secret-token-value '$E2E/all' '$E2E/all.err' '$B/manifest.json'"
