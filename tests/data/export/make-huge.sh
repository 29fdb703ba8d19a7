#!/bin/sh
# make-huge.sh [OUT] - write huge-field.xml: a valid qbposXML ItemInventoryQueryRs
# (windows-1252, CRLF) with three items; the second one's Desc2 is exactly
# 2,000,000 ASCII characters.  The file is about 2 MB, so it is generated on
# demand and never committed.  OUT defaults to huge-field.xml next to this script.
set -eu

out=${1:-$(dirname "$0")/huge-field.xml}
tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT HUP INT TERM

crlf() { awk '{ printf "%s\r\n", $0 }'; }

item() { # ListID ALU Desc1
    crlf <<ITEM
<ItemInventoryRet>
<ListID>$1</ListID>
<TimeCreated>2025-02-11T09:14:03-06:00</TimeCreated>
<TimeModified>2026-11-20T17:42:49-06:00</TimeModified>
<ALU>$2</ALU>
<Cost>4.00</Cost>
<DepartmentCode>GAT</DepartmentCode>
<DepartmentListID>1707170331186280388</DepartmentListID>
<Desc1>$3</Desc1>
ITEM
}

rest() { # ItemNumber
    crlf <<ITEM
<IsWebItem>True</IsWebItem>
<ItemNumber>$1</ItemNumber>
<ItemType>Inventory</ItemType>
<OnHandStore01>1.00</OnHandStore01>
<OnHandStore02>2.00</OnHandStore02>
<Price1>12.00</Price1>
<QuantityOnHand>3.00</QuantityOnHand>
<TaxCode>Tax</TaxCode>
</ItemInventoryRet>
ITEM
}

{
    crlf <<'HEAD'
<?xml version="1.0" encoding="windows-1252"?>
<QBPOSXML>
<QBPOSXMLMsgsRs>
<ItemInventoryQueryRs requestID="1" retCount="3" statusCode="0" statusMessage="Status OK" statusSeverity="Info">
HEAD
    item 4416720693517240031 7131 'Harbor Tub'
    rest 7131
    item 4416720693517240032 7132 'Huge Description'
    printf '<Desc2>'
    # 46-character phrase repeated, cut at exactly 2,000,000 characters.
    yes 'Harbor Lane Goods, tide-worn and sea-salted. ' | tr -d '\n' | head -c 2000000
    printf '</Desc2>\r\n'
    rest 7132
    item 4416720693517240033 7133 'Knit Beanie'
    rest 7133
    crlf <<'TAIL'
</ItemInventoryQueryRs>
</QBPOSXMLMsgsRs>
</QBPOSXML>
TAIL
} >"$tmp"

mv "$tmp" "$out"
trap - EXIT HUP INT TERM
