"""Tests of the QBPOS emulator itself (not of posbridge).

Run from the repository root:
    python3 -m unittest discover -s tests/emulators -p 'test_*.py'
The HTTP mode runs as one subprocess for the module (reset and seeded from samples/qbpos before each
test); the command line (`process`, `seed`) is run as subprocesses too.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CLI = os.path.join(HERE, "qbpos.py")
SAMPLES = [os.path.join(ROOT, "samples", "qbpos", "items-%d.xml" % n) for n in (1, 2, 3)]

CAFE_MUG = "-5183292717677460717"      # 4.00 in store 1, 5.00 in store 2, Price1 15.99 (samples README)
HARBOR_TUB_WHITE = "481200168827491255"  # 0.00 / 4.00, 34.99

_server = None


def setUpModule():
    global _server
    tmp = tempfile.mkdtemp(prefix="qbpos-emu-")
    port_file = os.path.join(tmp, "port")
    proc = subprocess.Popen([sys.executable, CLI, "serve", "--port", "0", "--port-file", port_file,
                             "--state", os.path.join(tmp, "state.json")], stderr=subprocess.PIPE)
    deadline = time.time() + 15
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError("emulator did not start: %s" % proc.stderr.read().decode())
        time.sleep(0.05)
    with open(port_file) as f:
        _server = (proc, "http://127.0.0.1:%d" % int(f.read()), tmp)


def tearDownModule():
    _server[0].terminate()
    _server[0].wait(10)
    _server[0].stderr.close()


def post(path, data, ctype="application/xml"):
    req = urllib.request.Request(_server[1] + path, data=data, method="POST", headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def control(method, name, body=None):
    req = urllib.request.Request(_server[1] + "/__emulator/" + name, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def doc(*requests, on_error="stopOnError", version="3.0"):
    return ('<?xml version="1.0" encoding="utf-8"?>\n<?qbposxml version="%s"?>\n<QBPOSXML>\n'
            '<QBPOSXMLMsgsRq onError="%s">\n%s\n</QBPOSXMLMsgsRq>\n</QBPOSXML>\n'
            % (version, on_error, "\n".join(requests))).encode("utf-8")


def sale(rid, lines, tenders, extra="", rtype="Sales"):
    body = "<SalesReceiptType>%s</SalesReceiptType><StoreNumber>2</StoreNumber>%s" % (rtype, extra)
    for lid, qty, price in lines:
        body += ("<SalesReceiptItemAdd><ListID>%s</ListID><Price>%s</Price><Qty>%s</Qty></SalesReceiptItemAdd>"
                 % (lid, price, qty))
    for amount in tenders:
        body += "<TenderCashAdd><TenderAmount>%s</TenderAmount></TenderCashAdd>" % amount
    return ('<SalesReceiptAddRq requestID="%s"><SalesReceiptAdd><Cashier>Webstore</Cashier>%s</SalesReceiptAdd>'
            "</SalesReceiptAddRq>" % (rid, body))


def rs_list(payload):
    return list(ET.fromstring(payload).find("QBPOSXMLMsgsRs"))


class Base(unittest.TestCase):
    def setUp(self):
        control("POST", "reset")
        control("POST", "seed", {"samples": SAMPLES})

    def run_doc(self, data):
        status, payload = post("/qbposxml", data)
        self.assertEqual(status, 200, payload)
        return rs_list(payload)

    def on_hand(self, list_id):
        item = control("GET", "state")["items"][list_id]
        return item["OnHandStore01"], item["OnHandStore02"], item["QuantityOnHand"]


class ParsingTest(Base):
    def test_child_out_of_schema_order_fails_the_whole_call(self):
        bad = doc('<ItemInventoryQueryRq requestID="1"><IsWebItem>true</IsWebItem><MaxReturned>5</MaxReturned>'
                  "</ItemInventoryQueryRq>", '<DepartmentQueryRq requestID="2"/>', on_error="continueOnError")
        status, payload = post("/qbposxml", bad)
        self.assertEqual(status, 500)
        err = json.loads(payload)
        self.assertEqual((err["hresult"], err["message"]),
                         ("0x80040400", "QuickBooks found an error when parsing the provided XML text stream."))
        self.assertIn("MaxReturned", err["detail"])
        self.assertIn("out of order", err["detail"])
        # the same through the command line: no response document, status 2
        state = os.path.join(_server[2], "cli-state.json")
        p = subprocess.run([sys.executable, CLI, "process", "--state", state], input=bad, capture_output=True)
        self.assertEqual((p.returncode, p.stdout), (2, b""))
        self.assertIn(b"0x80040400", p.stderr)
        # missing required child, unknown element, missing PI: same failure
        for data in (doc(sale("x", [], []).replace("<Cashier>", "<SalesReceiptItemAdd><Qty>1</Qty>"
                                                             "</SalesReceiptItemAdd><Cashier>")),
                     doc('<ItemInventoryQueryRq><Colour>Red</Colour></ItemInventoryQueryRq>'),
                     doc("<DepartmentQueryRq/>").replace(b'<?qbposxml version="3.0"?>', b"")):
            self.assertEqual(post("/qbposxml", data)[0], 500, data)

    def test_response_is_windows_1252_crlf_in_qbpos_order(self):
        status, payload = post("/qbposxml", doc('<ItemInventoryQueryRq requestID="q1"><ListID>%s</ListID>'
                                                "</ItemInventoryQueryRq>" % CAFE_MUG))
        self.assertEqual(status, 200)
        self.assertTrue(payload.startswith(b'<?xml version="1.0" encoding="windows-1252"?>\r\n<QBPOSXML>\r\n'))
        self.assertNotIn(b"qbposxml version", payload)
        self.assertIn(b"<Desc1>Caf\xe9 Mug</Desc1>", payload)           # real cp1252 byte, not UTF-8
        self.assertNotIn(b"\xc3", payload)
        self.assertEqual(payload.count(b"\n"), payload.count(b"\r\n"))
        self.assertIn(b'<ItemInventoryQueryRs requestID="q1" retCount="1" statusCode="0" '
                      b'statusMessage="Status OK" statusSeverity="Info">', payload)
        tags = re.findall(rb"\r\n        <(\w+)>", payload)                 # children of ItemInventoryRet
        self.assertEqual(tags[:3], [b"ListID", b"TimeCreated", b"TimeModified"])
        scalars = [t.decode() for t in tags[3:tags.index(b"AvailableQty")]]
        self.assertEqual(scalars, sorted(scalars, key=str.lower))
        self.assertEqual(tags[-1], b"VendorInfo5")
        self.assertIn(b"<IsWebItem>True</IsWebItem>", payload)
        self.assertIn(b"<Price1>15.99</Price1>", payload)


class IteratorTest(Base):
    def test_iterator_over_three_chunks(self):
        start = '<ItemInventoryQueryRq requestID="it" iterator="Start"><MaxReturned>9</MaxReturned></ItemInventoryQueryRq>'
        seen, counts, remaining, ids = [], [], [], set()
        rs = self.run_doc(doc(start))[0]
        while True:
            counts.append(int(rs.get("retCount")))
            remaining.append(int(rs.get("iteratorRemainingCount")))
            ids.add(rs.get("iteratorID"))
            seen += [r.findtext("ListID") for r in rs.findall("ItemInventoryRet")]
            if rs.get("iteratorRemainingCount") == "0":
                break
            nxt = start.replace('iterator="Start"', 'iterator="Continue" iteratorID="%s"' % rs.get("iteratorID"))
            rs = self.run_doc(doc(nxt))[0]
        self.assertEqual(counts, [9, 9, 7])
        self.assertEqual(remaining, [16, 7, 0])
        self.assertEqual(len(ids), 1)
        self.assertEqual(len(set(seen)), 25)
        # finished iterators are gone: Continue again is an error on that request only
        again = self.run_doc(doc(nxt))[0]
        self.assertEqual((again.get("statusCode"), again.get("statusSeverity")), ("3120", "Error"))

    def test_filters_and_metadata_only(self):
        rs = self.run_doc(doc(
            '<ItemInventoryQueryRq requestID="1"><IsWebItem>false</IsWebItem></ItemInventoryQueryRq>',
            '<ItemInventoryQueryRq requestID="2" metaData="MetaDataOnly"><ALUFilter><MatchStringCriterion>StartsWith'
            "</MatchStringCriterion><ALU>3105-</ALU></ALUFilter></ItemInventoryQueryRq>",
            '<ItemInventoryQueryRq requestID="3"><TimeModifiedRangeFilter><FromTimeModified>2026-11-27T00:00:00'
            "</FromTimeModified><ToTimeModified>2026-11-28T00:00:00</ToTimeModified></TimeModifiedRangeFilter>"
            "</ItemInventoryQueryRq>",
            '<ItemInventoryQueryRq requestID="4"><ALUFilter><MatchStringCriterion>Equal</MatchStringCriterion>'
            "<ALU>nope</ALU></ALUFilter></ItemInventoryQueryRq>"))
        self.assertEqual(sorted(r.findtext("Desc1") for r in rs[0]), ["Gift Wrapping", "Harbor Lane Gift Card",
                                                                       "Tide Chart Poster"])
        self.assertEqual((rs[1].get("retCount"), len(rs[1])), ("7", 0))
        self.assertEqual([r.findtext("ListID") for r in rs[2]], [CAFE_MUG])
        self.assertEqual((rs[3].get("statusCode"), rs[3].get("statusSeverity")), ("1", "Info"))


class SalesTest(Base):
    def test_balanced_sale_decrements_the_receipt_store(self):
        before = self.on_hand(CAFE_MUG)
        rs = self.run_doc(doc(sale("s1", [(CAFE_MUG, 2, "15.99"), (HARBOR_TUB_WHITE, 1, "34.99")], ["66.97", "5.00"],
                                   extra="<ShippingInformation><Shipping>5.00</Shipping></ShippingInformation>")))[0]
        self.assertEqual((rs.get("statusCode"), rs.get("requestID")), ("0", "s1"), rs.attrib)
        ret = rs.find("SalesReceiptRet")
        self.assertEqual((ret.findtext("Subtotal"), ret.findtext("Total"), ret.findtext("TenderType")),
                         ("66.97", "71.97", "Split"))
        self.assertTrue(re.match(r"^-?\d+$", ret.findtext("TxnID")))
        self.assertEqual(before, ("4.00", "5.00", "9.00"))
        self.assertEqual(self.on_hand(CAFE_MUG), ("4.00", "3.00", "7.00"))
        self.assertEqual(self.on_hand(HARBOR_TUB_WHITE), ("0.00", "3.00", "3.00"))

    def test_return_increments_stock(self):
        rs = self.run_doc(doc(sale("r1", [(CAFE_MUG, 1, "15.99")], ["15.99"], rtype="Return")))[0]
        self.assertEqual(rs.get("statusCode"), "0", rs.attrib)
        self.assertEqual(rs.find("SalesReceiptRet").findtext("Total"), "-15.99")
        self.assertEqual(self.on_hand(CAFE_MUG), ("4.00", "6.00", "10.00"))

    def test_unbalanced_receipt_is_20004_and_moves_nothing(self):
        rs = self.run_doc(doc(sale("u1", [(CAFE_MUG, 1, "15.99")], ["14.60"])))[0]
        self.assertEqual(rs.attrib, {"requestID": "u1", "statusCode": "20004", "statusSeverity": "Error",
                                     "statusMessage": "The receipt is not balanced. Undefined amount is 1.39."})
        self.assertEqual(self.on_hand(CAFE_MUG), ("4.00", "5.00", "9.00"))
        self.assertEqual(control("GET", "state")["receipts"], {})

    def test_stop_and_continue_on_error(self):
        reqs = [sale("a", [(CAFE_MUG, 1, "15.99")], ["15.99"]), sale("b", [("12345", 1, "1.00")], ["1.00"]),
                sale("c", [(CAFE_MUG, 1, "15.99")], ["15.99"])]
        rs = self.run_doc(doc(*reqs, on_error="stopOnError"))
        self.assertEqual([(r.get("requestID"), r.get("statusCode")) for r in rs], [("a", "0"), ("b", "3120")])
        self.assertEqual(rs[1].get("statusMessage"), 'Object "12345" specified in the request cannot be found.')
        self.assertEqual(self.on_hand(CAFE_MUG)[1], "4.00")
        rs = self.run_doc(doc(*reqs, on_error="continueOnError"))
        self.assertEqual([(r.get("requestID"), r.get("statusCode")) for r in rs],
                         [("a", "0"), ("b", "3120"), ("c", "0")])
        self.assertEqual(self.on_hand(CAFE_MUG)[1], "2.00")

    def test_customer_def_macro_used_by_the_receipt(self):
        rs = self.run_doc(doc(
            '<CustomerAddRq requestID="c"><CustomerAdd defMacro="ListID:web-1001"><EMail>ann@example.com</EMail>'
            "<FirstName>Ann</FirstName><LastName>Lee</LastName></CustomerAdd></CustomerAddRq>",
            sale("s", [(CAFE_MUG, 1, "15.99")], ["15.99"]).replace(
                "<Cashier>Webstore</Cashier>", '<Cashier>Webstore</Cashier><CustomerListID useMacro="ListID:web-1001"/>'),
            '<CustomerQueryRq requestID="q"><EMailFilter><MatchStringCriterion>Equal</MatchStringCriterion>'
            "<EMail>ANN@example.com</EMail></EMailFilter></CustomerQueryRq>"))
        cust_id = rs[0].find("CustomerRet").findtext("ListID")
        self.assertEqual(rs[1].find("SalesReceiptRet").findtext("CustomerListID"), cust_id)
        self.assertEqual(rs[2].find("CustomerRet").findtext("ListID"), cust_id)
        self.assertEqual(rs[2].find("CustomerRet").findtext("LastSale"), rs[1].find("SalesReceiptRet").findtext("TxnDate"))
        # a macro is only valid inside its own message set
        rs = self.run_doc(doc(sale("t", [(CAFE_MUG, 1, "15.99")], ["15.99"]).replace(
            "<Cashier>Webstore</Cashier>", '<Cashier>Webstore</Cashier><CustomerListID useMacro="ListID:web-1001"/>')))
        self.assertEqual(rs[0].get("statusCode"), "3120")

    def test_cli_process_keeps_state_between_steps(self):
        state = os.path.join(_server[2], "steps.json")
        subprocess.run([sys.executable, CLI, "seed", "--reset", "--state", state, "--samples"] + SAMPLES,
                       check=True, capture_output=True)
        for _ in range(2):
            p = subprocess.run([sys.executable, CLI, "process", "--state", state],
                               input=doc(sale("s", [(CAFE_MUG, 1, "15.99")], ["15.99"])), capture_output=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(rs_list(p.stdout)[0].get("statusCode"), "0")
        with open(state, encoding="utf-8") as f:
            self.assertEqual(json.load(f)["items"][CAFE_MUG]["OnHandStore02"], "3.00")


if __name__ == "__main__":
    unittest.main()
