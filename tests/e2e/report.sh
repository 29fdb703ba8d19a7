#!/usr/bin/env bash
# posbridge status and report on a batch with rejects (bad rows in the QBPOS export),
# failures (SKUs a WooCommerce store refuses, and a batch request a Shopify store answers
# with 400) and a value no mapping table knows; the page loaded in headless Chromium shows
# the right counts per store, the rejected SKU and its reason, a <script> from a product
# title as text, and asks for nothing outside the page.  Progress bars stay off when stderr
# is not a terminal.
. "$(dirname "$0")/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    not_ok "chromium is installed (run 'make deps')"
    exit 1
fi

CK=ck_report_00112233445566778899aabbccddeeff
CS=cs_report_ffeeddccbbaa99887766554433221100
TOKEN=shpat_report_0123456789abcdef
export WOO_CK=$CK WOO_CS=$CS SHOP_TOKEN=$TOKEN
WOO=$(start_emulator woo woocommerce/server.py --consumer-key "$CK" --consumer-secret "$CS") || exit 1
SHOP=$(start_emulator shop shopify/server.py --token "$TOKEN" --shop report) || exit 1

cat > "$E2E/posbridge.ini" <<EOF
[general]
home = $E2E/home
[transform]
maps = $ROOT/samples/maps/colors.csv, $ROOT/samples/maps/departments.csv
[store woo]
platform = woocommerce
base_url = http://127.0.0.1:$WOO
consumer_key = env:WOO_CK
consumer_secret = env:WOO_CS
[store shop]
platform = shopify
base_url = http://127.0.0.1:$SHOP
token = env:SHOP_TOKEN
concurrency = 1
EOF
CFG=$E2E/posbridge.ini

# Four more QBPOS items: a good one whose title carries a script (the WooCommerce store
# will refuse its SKU), one with a bad price and a script in its title, one with a bad
# quantity, one in a colour no mapping table has, and one with no price (which transform
# refuses for every store).
item() { # list_id alu desc1 price on_hand_02 attribute
    cat <<EOF
      <ItemInventoryRet>
        <ListID>$1</ListID>
        <TimeCreated>2025-02-11T09:14:03-06:00</TimeCreated>
        <TimeModified>2026-11-20T17:42:49-06:00</TimeModified>
        <ALU>$2</ALU>
        ${6:+<Attribute>$6</Attribute>}
        <Cost>4.00</Cost>
        <DepartmentCode>GAT</DepartmentCode>
        <Desc1>$3</Desc1>
        <IsWebItem>True</IsWebItem>
        <ItemNumber>$2</ItemNumber>
        <ItemType>Inventory</ItemType>
        <OnHandStore01>1.00</OnHandStore01>
        <OnHandStore02>$5</OnHandStore02>
        <Price1>$4</Price1>
        <QuantityOnHand>3.00</QuantityOnHand>
        <TaxCode>Tax</TaxCode>
      </ItemInventoryRet>
EOF
}
{
    echo '<?xml version="1.0" encoding="utf-8"?>'
    echo '<QBPOSXML><QBPOSXMLMsgsRs><ItemInventoryQueryRs requestID="1" statusCode="0" statusMessage="Status OK" statusSeverity="Info">'
    item 9000000000000000001 9101 'Beach &lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt; Towel' 18.00 2.00 ''
    item 9000000000000000002 9102 'Knit &lt;script&gt;alert(1)&lt;/script&gt; Beanie' 12.3x 2.00 ''
    item 9000000000000000003 9103 'Tide Chart Poster' 12.00 abc ''
    item 9000000000000000004 9104 'Harbor Cap' 15.00 2.00 Teal
    item 9000000000000000005 9105 'Unpriced Mug' '' 2.00 ''
    echo '</ItemInventoryQueryRs></QBPOSXMLMsgsRs></QBPOSXML>'
} > "$E2E/extra.xml"

B=$E2E/home/batches/20261127T020000Z-catalog
mkdir -p "$E2E/home/batches"
$PB -c "$CFG" export -o "$B" samples/qbpos/items-1.xml samples/qbpos/items-2.xml \
    samples/qbpos/items-3.xml "$E2E/extra.xml" > /dev/null 2> "$E2E/export.err"
check "export: two bad rows rejected (exit 65)" eq "$?" 65
$PB -c "$CFG" transform "$B" > /dev/null 2> "$E2E/transform.err"
check "transform refuses the unpriced product (exit 65)" eq "$?" 65

# The WooCommerce store has SKU 9101 and 4410 already, as variations of someone else's
# product: creating them fails with the store's own error.
emu "$WOO" /__emulator/seed -X POST -H 'Content-Type: application/json' -d '{
  "attributes":[{"id":1,"name":"Color","terms":["Red"]}],
  "products":[{"name":"Someone else","type":"variable","sku":"OTHER","attributes":[{"id":1,"variation":true,"options":["Red"]}],
  "variations":[{"sku":"9101","regular_price":"1.00","attributes":[{"id":1,"option":"Red"}]},
                {"sku":"4410","regular_price":"1.00","attributes":[{"id":1,"option":"Red"}]}]}]}' > /dev/null
$PB -c "$CFG" --json upload --store woo "$B" > "$E2E/up-woo" 2> "$E2E/up-woo.err"
check "woo: two products refused by the store (exit 65)" eq "$?" 65
check "woo: the upload's own counts" eq "$(py '(s["created"], s["failed"])' < "$E2E/up-woo")" "(12, 2)"

# The Shopify store answers the product batch with 400: every product in it fails.
emu "$SHOP" /__emulator/faults -X POST -H 'Content-Type: application/json' \
    -d '{"rules":[{"match":"op:Create","status":400,"count":1}]}' > /dev/null
$PB -c "$CFG" --json upload --store shop "$B" > "$E2E/up-shop" 2> "$E2E/up-shop.err"
check "shop: some products failed (exit 65)" eq "$?" 65
SHOP_COUNTS=$(py '(s["created"], s["failed"])' < "$E2E/up-shop")

# status: the counts, as JSON, for the page to match
$PB -c "$CFG" --json status "$B" > "$E2E/status" 2> "$E2E/status.err"
check "status on the batch exits 0" eq "$?" 0
scount() { py "[(x['created'], x['updated'], x['unchanged'], x['rejected'], x['failed'], x['pending'], x['not_sent']) for x in s[0]['stores'] if x['store']=='$1'][0]" < "$E2E/status"; }
check "status: woo created 12, 1 rejected, 2 failed" eq "$(scount woo)" "(12, 0, 0, 1, 2, 0, 0)"
check "status: shop agrees with the upload's counts" eq \
    "$(py "[(x['created'], x['failed']) for x in s[0]['stores'] if x['store']=='shop'][0]" < "$E2E/status")" "$SHOP_COUNTS"
check "status: shop's 14 products failed, 1 rejected, replay says how" eq \
    "$(py "[(x['created'], x['rejected'], x['failed'], x['replay'].split()[1]) for x in s[0]['stores'] if x['store']=='shop'][0]" < "$E2E/status")" "(0, 1, 14, 'replay')"
check "status: the export's rejects are counted" eq "$(py 's[0]["rejected_records"]' < "$E2E/status")" 2
$PB -c "$CFG" status 20261127T020000Z-catalog > "$E2E/status.txt" 2>&1
check "status takes a batch id" grep -q "woo  *12 done, 0 unchanged, 2 failed" "$E2E/status.txt"
$PB -c "$CFG" status no-such-batch > /dev/null 2>&1
check "status: an unknown batch exits 66" eq "$?" 66

# report: by id, the default place, the path printed
$PB -c "$CFG" report 20261127T020000Z-catalog > "$E2E/report.out" 2> "$E2E/report.err"
check "report exits 0" eq "$?" 0
check "report prints where the page is" eq "$(cat "$E2E/report.out")" "$B/report.html"
check "the page is there" test -s "$B/report.html"
$PB -c "$CFG" report no-such-batch > /dev/null 2>&1
check "report: an unknown batch exits 66" eq "$?" 66
$PB -c "$CFG" report > /dev/null 2>&1
check "report: no batch exits 64" eq "$?" 64
$PB -c "$CFG" report -o /nonexistent-dir/r.html "$B" > /dev/null 2>&1
check "report: an output that cannot be created exits 73" eq "$?" 73
check "report --help describes -o" bash -c "'$PB' report --help | grep -q -- '-o FILE.html'"
mkdir -p "$E2E/elsewhere"
$PB -c "$CFG" --json report -o "$E2E/elsewhere/night.html" "$B" > "$E2E/report2.out" 2>/dev/null
check "report -o writes there and --json names it" eq "$(py 's["report"]' < "$E2E/report2.out")" "$E2E/elsewhere/night.html"
check "links from elsewhere are relative to the page" \
    grep -q 'href="../home/batches/20261127T020000Z-catalog/woo/products.csv"' "$E2E/elsewhere/night.html"
check "no temp file is left behind" eq "$(ls -A "$E2E/elsewhere")" "night.html"

P=$B/report.html
check "the page has no script element" bash -c "! grep -qi '<script' '$P'"
check "the page loads nothing from outside (no src=, no url(), no http link)" \
    bash -c "! grep -Eqi ' src=|url\\(|href=\"(https?:)?//|@import' '$P'"
check "no secret from the environment is on the page" bash -c "! grep -qE '$CK|$CS|$TOKEN' '$P'"

# Headless Chromium: the DOM as rendered, and every request it made.
chrome() { # out-file args...
    local out=$1
    shift
    timeout 60 "$CHROMIUM" --headless --disable-gpu --no-sandbox --no-first-run \
        --user-data-dir="$E2E/chrome-profile" --disable-extensions --disable-background-networking \
        --disable-component-update --disable-sync --disable-default-apps --no-pings \
        --disable-domain-reliability --disable-features=Translate,OptimizationHints,MediaRouter \
        --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE localhost' "$@" > "$out" 2> "$out.err"
}
chrome "$E2E/dom.html" --dump-dom "file://$P"
check "chromium renders the page" grep -q '<table class="summary"' "$E2E/dom.html"
cat > "$E2E/dom.py" <<'PY'
import html.parser, json, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.rows, self.scripts, self.title = [], {}, 0, ""
        self.cur, self.col, self.text, self.external = None, None, [], []
        self.in_title = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script": self.scripts += 1
        if tag == "title": self.in_title = True
        for k in ("src", "href", "action", "poster", "data"):
            v = a.get(k)
            if v and (v.startswith("http") or v.startswith("//") or ":" in v.split("/")[0] and not v.startswith("#")):
                self.external.append(v)
        if tag == "table": self.stack.append(a.get("class", ""))
        if tag == "tr" and self.stack and self.stack[-1].startswith("summary"):
            self.cur = a.get("data-store")
        if tag == "td" and self.cur and "data-col" in a:
            self.col, self.text = a["data-col"], []
    def handle_endtag(self, tag):
        if tag == "title": self.in_title = False
        if tag == "table" and self.stack: self.stack.pop()
        if tag == "td" and self.col:
            self.rows.setdefault(self.cur, {})[self.col] = int("".join(self.text))
            self.col = None
        if tag == "tr": self.cur = None
    def handle_data(self, d):
        if self.col: self.text.append(d)
        if self.in_title: self.title += d
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
print(json.dumps({"rows": p.rows, "scripts": p.scripts, "external": p.external, "title": p.title}))
PY
python3 "$E2E/dom.py" "$E2E/dom.html" > "$E2E/dom.json"
pcount() { py "tuple(s['rows']['$1'][c] for c in ('created', 'updated', 'unchanged', 'rejected', 'failed', 'pending', 'not_sent'))" < "$E2E/dom.json"; }
check "the page shows woo's counts (as status)" eq "$(pcount woo)" "$(scount woo)"
check "the page shows shop's counts (as status)" eq "$(pcount shop)" "$(scount shop)"
check "woo: 12 created, 1 rejected, 2 failed on the page" eq "$(pcount woo)" "(12, 0, 0, 1, 2, 0, 0)"
check "shop: 1 rejected, 14 failed on the page" eq "$(pcount shop)" "(0, 0, 0, 1, 14, 0, 0)"
check "the rendered page has no script element" eq "$(py 's["scripts"]' < "$E2E/dom.json")" 0
check "the injected script did not run (title unchanged)" eq "$(py 's["title"]' < "$E2E/dom.json")" \
    "posbridge: 20261127T020000Z-catalog"
check "no link or source points outside the page's folder" eq "$(py 's["external"]' < "$E2E/dom.json")" "[]"
check "the title's <script> shows as text" grep -q 'Knit &lt;script&gt;alert(1)&lt;/script&gt; Beanie' "$E2E/dom.html"
check "the failed product's <script> shows as text" grep -q 'Beach &lt;script&gt;document.title=' "$E2E/dom.html"
check "the rejected row's file:line and reason are shown" \
    grep -q "extra.xml:[0-9]*:[0-9]*</code></td><td>export</td><td>price1</td><td class=\"reason\">not a number: '12.3x'" "$E2E/dom.html"
check "the rejected SKU is shown" grep -q '<b>alu: 9102</b>\|alu: 9102' "$E2E/dom.html"
check "the other rejected row (bad quantity) is shown" grep -q "not a number: 'abc'" "$E2E/dom.html"
check "woo's error from the store is shown" grep -q 'Invalid or duplicated SKU' "$E2E/dom.html"
check "shop's failures show the store's answer" grep -q 'the store answered HTTP 400' "$E2E/dom.html"
check "the product transform refused is listed with its reason" grep -q "item 9105 has no price" "$E2E/dom.html"
check "the replay command is shown" grep -q "posbridge replay -c /[^ ]*\.ini --store woo $B" "$E2E/dom.html"
check "the unmapped colour is listed with its mapping table" \
    grep -q '<td>attribute</td><td><code>Teal</code></td><td class="n" data-col="count">1</td><td><code>[^<]*departments.csv</code>' "$E2E/dom.html"
check "the staged files are linked, relative" grep -q '<a href="woo/plan.csv">woo/plan.csv</a>' "$E2E/dom.html"

# Every request Chromium made while loading: only the page itself (file://), nothing else.
chrome "$E2E/netlog.out" --log-net-log="$E2E/netlog.json" --net-log-capture-mode=Default \
    --dump-dom "file://$P"
check "chromium wrote its network log" test -s "$E2E/netlog.json"
# requests the page made (Chromium's own background requests have no origin)
page_requests() { # netlog
    python3 - "$1" <<'PY'
import json, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
try:
    log = json.loads(text)
except ValueError:  # still being written when chromium exited
    log = json.loads(text.rstrip().rstrip(",") + "]}")
start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
urls = set()
for e in log.get("events", []):
    p = e.get("params") or {}
    url = p.get("url")
    if e["type"] == start and url and p.get("initiator") != "not an origin" and not url.startswith("file:"):
        urls.add(url)
print("\n".join(sorted(urls)))
PY
}
page_requests "$E2E/netlog.json" > "$E2E/urls"
check "loading the page requests nothing from the network" eq "$(cat "$E2E/urls")" ""
# the same check sees a page that does load something (so it can fail)
printf '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/probe.png"></body></html>' > "$E2E/probe.html"
chrome "$E2E/probe.out" --log-net-log="$E2E/probe.json" --dump-dom "file://$E2E/probe.html"
check "the request check sees a page's request" eq "$(page_requests "$E2E/probe.json")" "http://127.0.0.1:9/probe.png"

check "the default cap shows both rejected rows" eq "$(grep -c '<td>export</td>' "$P")" 2
# A long list is cut, and a line says how many more and where they all are.
$PB -c "$CFG" report --rows 1 -o "$E2E/short.html" "$B" > /dev/null 2>&1
check "--rows 1 shows one rejected row of two" eq "$(grep -c '<td>export</td>' "$E2E/short.html")" 1
check "and says where the other is" grep -q '1 more not shown; the full list is in <a href="home/batches/20261127T020000Z-catalog/rejects.csv">' "$E2E/short.html"

# Progress: nothing drawn when stderr is not a terminal (a cron run).
check "no progress line in a non-terminal's stderr" \
    bash -c "! cat '$E2E'/export.err '$E2E'/transform.err '$E2E'/up-woo.err '$E2E'/up-shop.err | grep -q \$'\\r'"
# ... and drawn on one when there is (script(1) gives the command a terminal).
script -qec "$PB export -o '$E2E/tty-batch' '$ROOT/samples/qbpos/items-1.xml'" /dev/null > "$E2E/tty.out" 2>&1
check "a terminal gets the progress line, redrawn in place" grep -q $'\rexport (bytes) \\[#' "$E2E/tty.out"
check "-q draws none, even on a terminal" \
    bash -c "script -qec \"$PB -q export -o '$E2E/tty-batch-q' '$ROOT/samples/qbpos/items-1.xml'\" /dev/null | { ! grep -q 'export (bytes)'; }"
