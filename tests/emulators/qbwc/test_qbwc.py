"""Tests of the QBWC simulator itself (not of posbridge), against a scripted SOAP service.

Run from the repository root:
    python3 -m unittest discover -s tests/emulators -p 'test_*.py'
"""

import http.server
import json
import os
import re
import tempfile
import threading
import unittest
import xml.etree.ElementTree as ET

from . import qbwc as sim
from qbpos.qbpos import save_state
from qbpos.engine import new_state

QUERY = ('<?xml version="1.0" encoding="utf-8"?>\n<?qbposxml version="3.0"?>\n<QBPOSXML><QBPOSXMLMsgsRq '
         'onError="stopOnError"><DepartmentQueryRq requestID="d1"/></QBPOSXMLMsgsRq></QBPOSXML>')


class Service(http.server.BaseHTTPRequestHandler):
    """Two requests, then done; records every call."""
    calls = []
    plan = []

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        root = ET.fromstring(body)
        call = list(root.find("{%s}Body" % sim.SOAP))[0]
        method = call.tag.split("}")[1]
        params = {c.tag.split("}")[1]: c.text or "" for c in call}
        Service.calls.append((method, params, self.headers.get("SOAPAction")))
        if method == "authenticate":
            ok = params.get("strPassword") == "pw"
            result = "<string>t1</string><string>%s</string>" % ("" if ok else "nvu")
        elif method == "sendRequestXML":
            result = sim.escape(Service.plan.pop(0)) if Service.plan else ""
        elif method == "receiveResponseXML":
            result = "100" if not Service.plan else "50"
        else:
            result = "ok"
        out = ('<?xml version="1.0"?><soap:Envelope xmlns:soap="%s"><soap:Body><%sResponse xmlns="%s">'
               '<%sResult>%s</%sResult></%sResponse></soap:Body></soap:Envelope>'
               % (sim.SOAP, method, sim.TNS, method, result, method, method)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


class SimulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.httpd = http.server.HTTPServer(("127.0.0.1", 0), Service)
        threading.Thread(target=cls.httpd.serve_forever, daemon=True).start()
        cls.url = "http://127.0.0.1:%d/qbwc" % cls.httpd.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.httpd.shutdown()

    def setUp(self):
        Service.calls = []
        Service.plan = [QUERY, QUERY]
        self.dir = tempfile.mkdtemp()
        self.state = os.path.join(self.dir, "s.json")
        save_state(self.state, new_state())
        os.environ["SIM_PW"] = "pw"

    def run_sim(self, *extra):
        out = os.path.join(self.dir, "out.json")
        rc = sim.main(["--url", self.url, "--user", "u", "--password-env", "SIM_PW", "--qbpos-state", self.state,
                       "--out", out] + list(extra))
        with open(out) as f:
            return rc, json.load(f)

    def test_session_follows_the_protocol(self):
        rc, s = self.run_sim()
        self.assertEqual(rc, 0)
        self.assertEqual([c[0] for c in Service.calls],
                         ["serverVersion", "clientVersion", "authenticate", "sendRequestXML", "receiveResponseXML",
                          "sendRequestXML", "receiveResponseXML", "closeConnection"])
        self.assertEqual(Service.calls[3][1]["strHCPResponse"], sim.HCP_QBPOS)
        self.assertEqual(Service.calls[5][1]["strHCPResponse"], "")
        self.assertEqual(Service.calls[3][2], '"http://developer.intuit.com/sendRequestXML"')
        # the answer is what QBPOS said, still declaring windows-1252
        self.assertTrue(Service.calls[4][1]["response"].startswith('<?xml version="1.0" encoding="windows-1252"?>'))
        self.assertRegex(Service.calls[4][1]["response"], r'<DepartmentQueryRs requestID="d1"[^>]* statusCode="1"')
        self.assertEqual(s["percent"], [50, 100])

    def test_wrong_password_stops_after_authenticate(self):
        os.environ["SIM_PW"] = "nope"
        rc, s = self.run_sim()
        self.assertEqual(s["end"], "authenticate: nvu")
        self.assertEqual(Service.calls[-1][0], "authenticate")

    def test_injected_faults(self):
        rc, s = self.run_sim("--fail", "1:status")
        rs = Service.calls[4][1]["response"]
        self.assertTrue(re.search(r'<DepartmentQueryRs requestID="d1" statusCode="3180" statusSeverity="Error"', rs))
        Service.calls, Service.plan = [], [QUERY, QUERY]
        rc, s = self.run_sim("--fail", "2:hresult")
        self.assertEqual(Service.calls[6][1]["hresult"], "0x80040400")
        self.assertEqual(Service.calls[6][1]["response"], "")
        Service.calls, Service.plan = [], [QUERY, QUERY]
        rc, s = self.run_sim("--drop", "1:after")
        self.assertTrue(s["dropped"])
        self.assertEqual(Service.calls[-1][0], "sendRequestXML")


if __name__ == "__main__":
    unittest.main()
