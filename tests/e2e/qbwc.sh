#!/usr/bin/env bash
# posbridge qbwc, the Web Connector endpoint, behind a real web server (nginx + fcgiwrap on
# loopback, started here as an ordinary process with its own prefix), driven by the QBWC
# simulator, which hands every request to the QBPOS emulator: web orders go into QBPOS and
# QBPOS's items come back as a new export batch with no file passed by hand; a wrong
# password, a busy home, a QBPOS error on one request, a connection dropped mid-session and
# resumed without adding anything twice, malformed and hostile SOAP.
. "$(dirname "$0")/lib.sh"

for tool in nginx fcgiwrap; do
    command -v "$tool" >/dev/null || { not_ok "qbwc: $tool is installed (make deps)"; exit 0; }
done

Q="python3 $ROOT/tests/emulators/qbpos/qbpos.py"
SIM="python3 $ROOT/tests/emulators/qbwc/qbwc.py"
S=$E2E/qbpos.json
PW='Wc-pass 7!x'            # the password the retailer types into the Web Connector
export QBWC_PW="$PW" QBWC_BAD="not the password"
TOKEN=shpat_qbwc_00112233445566778899
export SHOP_TOKEN=$TOKEN

# ---- the stores, QBPOS, the config ----
PORT=$(start_emulator shopify shopify/server.py --token "$TOKEN" --shop qbwc) || exit 1
echo '{"company": {"taxRates": {"Tax": "8.25", "Non": "0"}}}' > "$E2E/seed.json"
$Q seed --state "$S" --json "$E2E/seed.json" \
    --samples samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml >/dev/null
# a name QBPOS writes in windows-1252, which QBWC passes on as text
python3 - "$S" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["items"]["5271517108806162881"]["Desc2"] = "Bain moussant \u00e0 la cr\u00e8me"
json.dump(s, open(sys.argv[1], "w"))
PY
mkdir -p "$E2E/source" "$E2E/inbox" "$E2E/outbox"
cp samples/qbpos/items-1.xml samples/qbpos/items-2.xml samples/qbpos/items-3.xml "$E2E/source/"
printf 'field,from,to\ntender,*,CreditCard:Visa\n' > "$E2E/tenders.csv"

printf '%s\n' "$PW" | $PB qbwc-passwd --iterations 20000 > "$E2E/hash" 2>"$E2E/hash.err"
check "qbwc-passwd makes a salted PBKDF2 hash from stdin" \
    grep -Eq '^password_hash = pbkdf2-sha256\$20000\$[0-9a-f]{32}\$[0-9a-f]{64}$' "$E2E/hash"
printf '%s\n' "$PW" | $PB qbwc-passwd --iterations 20000 > "$E2E/hash2" 2>/dev/null
check "the same password twice gives two different hashes (a new salt each time)" \
    test "$(cat "$E2E/hash")" != "$(cat "$E2E/hash2")"

WPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$WPORT/qbwc
cat > "$E2E/posbridge.ini" <<INI
[general]
home = $E2E/home
[qbpos]
tax_rates = Tax:8.25, Non:0
[run]
source = $E2E/source
inbox = $E2E/inbox
outbox = $E2E/outbox
[qbwc]
user = shop-qbwc
$(cat "$E2E/hash")
app_url = $URL
company = Computer Name=frontdesk;Company Data=harbor lane;Version=12
max_returned = 10
lock_wait = 1
run_every_minutes = 15
[store shop]
platform = shopify
base_url = http://127.0.0.1:$PORT
token = env:SHOP_TOKEN
maps = $E2E/tenders.csv
INI
CFG=$E2E/posbridge.ini

$PB -c "$CFG" qbwc-file > "$E2E/posbridge.qwc" 2>"$E2E/qwc.err"
check "qbwc-file writes a well-formed .qwc" xmllint --noout "$E2E/posbridge.qwc"
check "the .qwc is for QBPOS, with the URL, the user and the schedule" eq \
    "$(python3 -c 'import sys, xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); print(r.findtext("QBType"), r.findtext("AppURL"), r.findtext("UserName"), r.findtext("Scheduler/RunEveryNMinutes"), r.findtext("OwnerID")[0]+r.findtext("FileID")[-1])' "$E2E/posbridge.qwc")" \
    "QBPOS $URL shop-qbwc 15 {}"
check "the password is not in the .qwc" eq "$(grep -c "$PW" "$E2E/posbridge.qwc")" 0

# ---- nginx + fcgiwrap ----
NG=$E2E/nginx
mkdir -p "$NG/tmp" "$NG/logs"
cat > "$E2E/qbwc.cgi" <<SH
#!/bin/sh
export ASAN_OPTIONS='${ASAN_OPTIONS:-detect_leaks=1}' UBSAN_OPTIONS='${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}' LC_ALL=C TZ=UTC
exec "$PB" -c "$CFG" qbwc 2>>"$E2E/cgi.err"
SH
chmod 755 "$E2E/qbwc.cgi"
USER_LINE=""
[ "$(id -u)" = 0 ] && USER_LINE="user root root;"
cat > "$NG/nginx.conf" <<CONF
$USER_LINE
worker_processes 1;
daemon off;
pid $NG/nginx.pid;
error_log $NG/logs/error.log info;
events { worker_connections 64; }
http {
    access_log $NG/logs/access.log;
    client_body_temp_path $NG/tmp/body;
    fastcgi_temp_path $NG/tmp/fastcgi;
    proxy_temp_path $NG/tmp/proxy;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    client_max_body_size 40m;
    client_body_buffer_size 1m;
    server {
        listen 127.0.0.1:$WPORT;
        location = /qbwc {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $E2E/qbwc.cgi;
            fastcgi_pass unix:$E2E/fcgiwrap.sock;
            fastcgi_read_timeout 60s;
        }
    }
}
CONF
# fcgiwrap forks its workers: in a session of its own, the cleanup stops them all.
setsid fcgiwrap -c 2 -s "unix:$E2E/fcgiwrap.sock" > "$E2E/fcgiwrap.out" 2>&1 &
EMU_PIDS+=("-$!")
nginx -p "$NG" -e "$NG/logs/error.log" -c "$NG/nginx.conf" > "$E2E/nginx.out" 2>&1 &
EMU_PIDS+=($!)
for _ in $(seq 1 100); do
    curl -s -o /dev/null "$URL" 2>/dev/null && break
    sleep 0.1
done
check "nginx and fcgiwrap serve the endpoint (a GET is answered 405)" eq \
    "$(curl -s -o /dev/null -w '%{http_code}' "$URL")" 405

# ---- the night's orders into the outbox ----
python3 - "$PORT" <<'PY'
import json, sys, urllib.request
def order(name, email, last, lines):
    return {"name": name, "status": "shipped", "gateway": "shopify_payments",
            "customer": {"email": email, "firstName": "Pat", "lastName": last}, "lines": lines}
orders = [order("#2001", "bo@example.com", "Park",
                [{"sku": "2238-Aqua", "quantity": 1, "price": "34.99", "tax": "2.89"}]),
          order("#2002", "cy@example.com", "Lund",
                [{"sku": "4410", "quantity": 2, "price": "14.99", "tax": "2.47"}])]
r = urllib.request.Request("http://127.0.0.1:%s/__emulator/seed" % sys.argv[1],
                           data=json.dumps({"orders": orders}).encode(),
                           headers={"Content-Type": "application/json"})
urllib.request.urlopen(r).read()
PY
sleep 1   # the download window ends at the second the run starts
O=shop:order:gid://shopify/Order/56000000   # + 01, 02, 03: the receipts' keys
AQUA=5271517108806162881
qty() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"][sys.argv[2]]["OnHandStore01"])' "$S" $AQUA; }
receipts() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["receipts"]))' "$S"; }
marked() { python3 -c 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1]))["receipts"].values() if "[pb:" + sys.argv[2] + "]" in r.get("Comments","")))' "$S" "$1"; }
before=$(qty)
$PB -c "$CFG" run > "$E2E/run1" 2>&1
check "the nightly run leaves the orders in the outbox" eq "$(ls "$E2E/outbox"/*.xml 2>/dev/null | wc -l | tr -d ' ')" 1
NITEMS=$(sed -n 's/.*3 files: \([0-9]*\) items.*/\1/p' "$E2E/run1")
nbatches() { ls -d "$E2E/home/batches/"*-catalog 2>/dev/null | wc -l | tr -d ' '; }
catalogs_before=$(nbatches)

sim() { # NAME ARGS...: one scheduled update
    local name=$1
    shift
    $SIM --url "$URL" --user shop-qbwc --password-env QBWC_PW --qbpos-state "$S" --noop-wait 0.2 \
        --out "$E2E/$name.json" "$@" 2> "$E2E/$name.err"
}
j() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print($2)" "$E2E/$1.json"; }

# ---- a wrong password ----
sim wrong --password-env QBWC_BAD
check "a wrong password is answered nvu" eq "$(j wrong 's["authenticate"], s["end"]')" "nvu authenticate: nvu"
check "the refusal is logged, with the user name" grep -q "user 'shop-qbwc'.*wrong user name or password" "$E2E/home/log/qbwc.log"
check "a refused login makes no session" eq "$(ls "$E2E/home/qbwc/sessions" 2>/dev/null | wc -l | tr -d ' ')" 0

# ---- the whole session: orders in, items out ----
sim s1
check "the session runs to 100 through nginx" eq "$(j s1 's["end"]')" "done"
check "authenticate answers the QBPOS connection string" eq "$(j s1 's["authenticate"]')" \
    "Computer Name=frontdesk;Company Data=harbor lane;Version=12"
check "the outbox document first, then the items in three iterator chunks" eq \
    "$(j s1 '[c["answer"][0].split()[0] if "Customer" in c["answer"][0] else c["answer"] for c in s["calls"] if c["call"]=="sendRequestXML"]')" \
    "['CustomerAddRq', ['ItemInventoryQueryRq items-1 Start'], ['ItemInventoryQueryRq items-2 Continue'], ['ItemInventoryQueryRq items-3 Continue']]"
check "receiveResponseXML says honestly how far it is" eq "$(j s1 's["percent"]')" "[50, 66, 83, 100]"
check "QBPOS has both web orders" eq "$(marked ${O}01)$(marked ${O}02)" "11"
check "QBPOS sold the tub" eq "$(python3 -c "print('%.2f' % (float('$before') - float('$(qty)')))")" "1.00"
check "the outbox is drained" eq "$(ls "$E2E/outbox"/*.xml 2>/dev/null | wc -l | tr -d ' '):$(ls "$E2E/outbox/sent" | wc -l | tr -d ' ')" "0:1"
check "QBPOS's answer is in the inbox, ingested" eq "$(ls "$E2E/inbox/done" | wc -l | tr -d ' ')" 1
check "the ledger has both receipts confirmed" eq \
    "$(python3 -c 'import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]; print(sorted({l["key"] for l in L if l.get("status")=="confirmed" and l["key"].startswith("shop:order")}))' "$E2E/home/state/qbpos/ledger.jsonl")" \
    "['${O}01', '${O}02']"
check "the items came back as a new export batch" eq "$(nbatches)" $((catalogs_before + 1))
NEWB=$(ls -d "$E2E/home/batches/"*-catalog | tail -1)
check "the new batch holds every QBPOS item ($NITEMS)" eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stages"]["export"]["written"])' "$NEWB/manifest.json")" "$NITEMS"
check "the new batch has the tub's new stock" eq \
    "$(python3 -c 'import csv,sys; print([r["on_hand_store_01"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")) if r["list_id"]==sys.argv[2]][0])' "$NEWB/items.csv" $AQUA | cut -d. -f1)" \
    "$(qty | cut -d. -f1)"
check "a windows-1252 name arrives intact (UTF-8) in the batch" \
    grep -q "Bain moussant $(printf '\303\240') la cr$(printf '\303\250')me" "$NEWB/items.csv"
check "closeConnection sums the session up" grep -q "$NITEMS items exported to $(basename "$NEWB")" "$E2E/s1.json"
check "the session file is gone after closeConnection" eq "$(ls "$E2E/home/qbwc/sessions" | wc -l | tr -d ' ')" 0
check "the next nightly run carries the new batch" eq \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["catalog_batch"])' "$E2E/home/state/run.json")" "$(basename "$NEWB")"

# ---- the home is locked by a run: busy, at once ----
exec 8> "$E2E/home/lock"
flock -x 8
t0=$(date +%s)
sim busy
t1=$(date +%s)
exec 8>&-
check "a locked home answers busy" eq "$(j busy 's["end"]')" "authenticate: busy"
check "busy comes after lock_wait, not a hang" test $((t1 - t0)) -lt 5

# ---- a QBPOS error on one request: recorded, the session goes on, nothing sent twice ----
python3 - "$PORT" <<'PY'
import json, sys, urllib.request
o = {"name": "#2003", "status": "shipped", "gateway": "shopify_payments",
     "customer": {"email": "bo@example.com", "firstName": "Pat", "lastName": "Park"},
     "lines": [{"sku": "4410", "quantity": 1, "price": "14.99", "tax": "1.24"}]}
r = urllib.request.Request("http://127.0.0.1:%s/__emulator/seed" % sys.argv[1],
                           data=json.dumps({"orders": [o]}).encode(), headers={"Content-Type": "application/json"})
urllib.request.urlopen(r).read()
PY
sleep 1
$PB -c "$CFG" run > "$E2E/run2" 2>&1
check "the next order is in the outbox" eq "$(ls "$E2E/outbox"/*.xml 2>/dev/null | wc -l | tr -d ' ')" 1
n0=$(receipts)
sim s2 --fail 1:status
check "after a QBPOS error the session still ends at 100" eq "$(j s2 's["end"], s["percent"][-1]')" "done 100"
check "the refused document is sent once, never again in a loop" eq \
    "$(j s2 'sum(1 for c in s["calls"] if c["call"]=="sendRequestXML" and any("add:" in r for r in c["answer"]))')" 1
check "the error is recorded in the ledger with QBPOS's code" eq \
    "$(python3 -c 'import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]; print([(l["status"], l["code"]) for l in L if l.get("key")==sys.argv[2] and l["kind"]=="outcome"])' "$E2E/home/state/qbpos/ledger.jsonl" ${O}03)" \
    "[('failed', 3180)]"
check "closeConnection reports the error" grep -q "QBPOS refused 1 of the requests" "$E2E/s2.json"
check "nothing was added by the refused request" eq "$(receipts)" "$n0"
check "no item changed since the last export: no new batch" eq "$(nbatches)" $((catalogs_before + 1))

# ---- the connection drops after QBPOS ran the request; the next session resumes ----
$PB -c "$CFG" run > "$E2E/run3" 2>&1
check "the refused receipt goes out again the next night" eq "$(cat "$E2E/outbox"/*.xml | grep -c "SalesReceiptAddRq requestID=\"add:${O}03\"")" 1
sim s3 --drop 1:after
check "the connection dropped mid-session" eq "$(j s3 's["dropped"]')" "True"
check "QBPOS added the receipt before the drop" eq "$(marked ${O}03)" 1
sim s4
check "the next session runs to the end" eq "$(j s4 's["end"]')" "done"
check "it asks QBPOS about the unanswered add instead of adding again" eq \
    "$(j s4 '[c["answer"] for c in s["calls"] if c["call"]=="sendRequestXML"][0]')" "['SalesReceiptQueryRq check:${O}03']"
check "the receipt is in QBPOS once" eq "$(marked ${O}03)" 1
check "the receipt is confirmed from QBPOS's answer" eq \
    "$(python3 -c 'import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]; print([l["status"] for l in L if l.get("key")==sys.argv[2] and l["kind"]=="outcome"][-1])' "$E2E/home/state/qbpos/ledger.jsonl" ${O}03)" \
    "confirmed"
$PB -c "$CFG" --json emit "$(ls -d "$E2E/home/batches/"*-sales-shop | tail -1)" > "$E2E/emit4" 2>/dev/null
check "nothing is left to send for it" eq "$(py '(s["receipts"], s["checks"])' < "$E2E/emit4")" "(0, 0)"

# ---- the service dies after storing QBPOS's answer, before recording it: nothing lost ----
python3 - "$PORT" <<'PY'
import json, sys, urllib.request
o = {"name": "#2004", "status": "shipped", "gateway": "shopify_payments",
     "customer": {"email": "cy@example.com", "firstName": "Pat", "lastName": "Lund"},
     "lines": [{"sku": "2238-Aqua", "quantity": 1, "price": "34.99", "tax": "2.89"}]}
r = urllib.request.Request("http://127.0.0.1:%s/__emulator/seed" % sys.argv[1],
                           data=json.dumps({"orders": [o]}).encode(), headers={"Content-Type": "application/json"})
urllib.request.urlopen(r).read()
PY
sleep 1
$PB -c "$CFG" run > "$E2E/run4" 2>&1
DOC4=$(grep -l "add:${O}04" "$E2E/outbox"/*.xml | head -1)
check "the fourth order is in the outbox" test -n "$DOC4"
sim s7 --drop 1:after --keep-answer "$E2E/answer4.xml"
cp "$E2E/answer4.xml" "$E2E/inbox/$(basename "$DOC4")"   # stored, then the process died
sim s8
check "the answer left in the inbox is ingested first" eq \
    "$(python3 -c 'import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]; print([l["status"] for l in L if l.get("key")==sys.argv[2] and l["kind"]=="outcome"])' "$E2E/home/state/qbpos/ledger.jsonl" ${O}04)" \
    "['confirmed']"
check "so nothing about it is sent again, not even a query" eq \
    "$(j s8 'sum(1 for c in s["calls"] if c["call"]=="sendRequestXML" and any("${O}04" in r for r in c["answer"]))')" 0
check "the fourth receipt is in QBPOS once" eq "$(marked ${O}04)" 1
check "the answer is filed under done/" test -s "$E2E/inbox/done/$(basename "$DOC4")"

# ---- QBWC cannot open QBPOS ----
sim s5 --connection-error
check "connectionError ends the session and is reported" eq "$(j s5 's["end"], "could not open QBPOS" in s["last_error"]')" "connectionError True"

# ---- a failed call (HRESULT) on the item query; the config's extra request documents ----
printf '<?xml version="1.0"?>\n<?qbposxml version="3.0"?>\n<QBPOSXML><QBPOSXMLMsgsRq onError="stopOnError"><DepartmentQueryRq requestID="dept"/></QBPOSXMLMsgsRq></QBPOSXML>\n' > "$E2E/departments.xml"
sed -i "s|^lock_wait = 1$|lock_wait = 1\nrequests = $E2E/departments.xml|" "$CFG"
sim s6 --fail 1:hresult
check "an HRESULT on the item query is recorded and the session goes on" eq \
    "$(j s6 's["end"], s["percent"], "could not run the item query: 0x80040400" in s["close"]')" "done [50, 100] True"
check "the extra request document's answer is kept" grep -q '<DepartmentQueryRs requestID="dept"' "$E2E/home/qbwc/responses/departments.xml"

# ---- a session past its ticket's lifetime ----
call() { # METHOD PARAMS-XML: prints the result text
    curl -s -H 'Content-Type: text/xml; charset=utf-8' -H "SOAPAction: \"http://developer.intuit.com/$1\"" \
        --data-binary "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><$1 xmlns=\"http://developer.intuit.com/\">$2</$1></soap:Body></soap:Envelope>" "$URL" |
        python3 -c 'import sys,xml.etree.ElementTree as E; r=E.parse(sys.stdin).getroot(); print("|".join(x.text or "" for x in r.iter() if x.tag.endswith("Result") or x.tag.endswith("}string")))'
}
T=$(call authenticate "<strUserName>shop-qbwc</strUserName><strPassword>$PW</strPassword>" | cut -d'|' -f2)
check "a ticket is 128 random bits in hex" eq "$(echo "$T" | grep -cE '^[0-9a-f]{32}$')" 1
python3 - "$E2E/home/qbwc/sessions/$T.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["expires"] = 1; json.dump(s, open(sys.argv[1], "w"))
PY
check "an expired ticket gets nothing to do" eq "$(call sendRequestXML "<ticket>$T</ticket><qbXMLMajorVers>3</qbXMLMajorVers><qbXMLMinorVers>0</qbXMLMinorVers>")" ""
check "and getLastError says why" eq "$(call getLastError "<ticket>$T</ticket>" | grep -c 'session expired')" 1

# ---- hostile or broken calls ----
soap() { curl -s -o "$E2E/$1.body" -w '%{http_code}' -H 'Content-Type: text/xml; charset=utf-8' --data-binary @- "$URL"; }
code=$(soap bad <<< '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><authenticate')
check "malformed XML gets HTTP 500 and a Client fault" eq "$code:$(grep -o 'soap:Client' "$E2E/bad.body")" "500:soap:Client"
code=$(soap dtd <<'XML'
<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><authenticate xmlns="http://developer.intuit.com/"><strUserName>&lol3;</strUserName></authenticate></soap:Body></soap:Envelope>
XML
)
check "a DTD is refused with a fault" eq "$code:$(grep -o 'a DOCTYPE is not accepted' "$E2E/dtd.body")" "500:a DOCTYPE is not accepted"
code=$(soap unk <<< '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><getInteractiveURL xmlns="http://developer.intuit.com/"><wcTicket>x</wcTicket></getInteractiveURL></soap:Body></soap:Envelope>')
check "an unsupported call is a Client fault" eq "$code:$(grep -o 'does not implement' "$E2E/unk.body")" "500:does not implement"
code=$(soap tk <<< '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><receiveResponseXML xmlns="http://developer.intuit.com/"><ticket>../../etc/passwd</ticket><response>x</response><hresult/><message/></receiveResponseXML></soap:Body></soap:Envelope>')
check "an unknown ticket gets -1" eq "$code:$(grep -o '<receiveResponseXMLResult>[^<]*' "$E2E/tk.body")" "200:<receiveResponseXMLResult>-1"
code=$(CONTENT_LENGTH=999999999 REQUEST_METHOD=POST $PB -c "$CFG" qbwc < /dev/null 2>/dev/null | head -1 | tr -d '\r')
check "a body over the cap is refused before it is read" eq "$code" "Status: 413 Payload Too Large"

# ---- nothing leaked, nothing broke ----
check "the password is in no file, log or output" eq \
    "$(grep -rlF "$PW" "$E2E/home" "$NG/logs" "$E2E"/*.json "$E2E"/*.err "$E2E"/run* "$E2E/inbox" "$E2E/outbox" 2>/dev/null | wc -l | tr -d ' ')" 0
check "no sanitizer report from any CGI call" eq "$(grep -c -E 'AddressSanitizer|LeakSanitizer|runtime error' "$E2E/cgi.err" 2>/dev/null || true)" 0
check "no protocol error in any session" eq "$(cat "$E2E"/s*.json "$E2E/wrong.json" "$E2E/busy.json" | grep -c protocol_error)" 0
