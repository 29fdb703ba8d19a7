#!/bin/sh
# make-items.sh OUT.csv: a staged items file with a 650-variant style (over BigCommerce's
# 600), a duplicate SKU across two products, and SKUs equal but for case.
set -e
out=$1
{
printf 'item_number,alu,desc1,department_code,attribute,size,price1,on_hand_store_01,is_web_item\n'
awk 'BEGIN { for (i = 1; i <= 650; i++) printf "%d,BIG-%04d,Big Style,APP,C%03d,S%d,10.00,1,true\n", 1000 + i, i, (i - 1) % 325, int((i - 1) / 325) }'
printf '2001,DUP-1,First Mug,KIT,,,5.00,2,true\n'
printf '2002,DUP-1,Second Mug,KIT,,,6.00,3,true\n'
printf '2003,case-sku,Lower Case,KIT,,,7.00,4,true\n'
printf '2004,CASE-SKU,Upper Case,KIT,,,8.00,5,true\n'
printf '2005,,No Sku,KIT,,,9.00,6,true\n'
printf '2006,NOPRICE,No Price,KIT,,,,6,true\n'
} > "$out"
