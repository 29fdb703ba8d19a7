#!/bin/sh
# make-checks.sh OUT.csv: items for the platform checks that count characters, not bytes
# (titles of 250 and 251 two-byte letters), a 15-digit barcode, two items with the same
# options once the colour map has run, a style whose items disagree on vendor and
# keywords, and colours the map has no row for.
set -e
out=$1
e250=$(awk 'BEGIN { for (i = 0; i < 250; i++) printf "\303\251" }')
{
printf 'item_number,alu,upc,desc1,department_code,attribute,size,price1,on_hand_store_01,vendor_code,keywords,is_web_item\n'
printf '3001,LONG-1,,%s\303\251,APP,Rose,,10.00,1,,,true\n' "$e250"
printf '3002,LONG-2,,%s,KIT,Rose,,11.00,1,,,true\n' "$e250"
printf '3004,BAR-1,123456789012345,Long Barcode,APP,,,13.00,1,,,true\n'
printf '3005,TWIN-1,,Twin Tee,APP,Rose,M,14.00,1,,,true\n'
printf '3006,TWIN-2,,Twin Tee,APP,Wine,M,14.00,1,,,true\n'
printf '3007,MIX-1,,Mixed Tee,APP,Teal,S,15.00,1,ACM,"Tee, Summer",true\n'
printf '3008,MIX-2,,Mixed Tee,APP,Teal,M,15.00,1,BLT,"Tee, Winter",true\n'
printf '3009,MIX-3,,Mixed Tee,APP,Plum,M,15.00,1,ACM,"Tee, Summer",true\n'
} > "$out"
