#!/usr/bin/env python3
"""QuickBooks Web Connector (QBWC) simulator for posbridge's tests: one scheduled update.

    python3 tests/emulators/qbwc/qbwc.py --url URL --user NAME --password-env VAR \\
        --qbpos-state S.json [--fail N:status|N:hresult] [--drop N:before|N:after]
        [--connection-error] [--version 2.3.0.215] [--out summary.json]

It speaks SOAP 1.1 to the web service at URL exactly as QBWC does (reference qbpos.md §11,
QBWebConnectorSvc.wsdl): serverVersion, clientVersion, authenticate, then sendRequestXML /
receiveResponseXML until the service says 100 (or sends nothing, or a negative number, after
which it asks getLastError), then closeConnection.  Each request document goes to the QBPOS
emulator's engine (../qbpos/engine.py) against the company in the state file, as QBWC hands it
to QBPOSXMLRP.ProcessRequest; the answer (windows-1252 from QBPOS) travels back as a string,
still declaring windows-1252, as it does under QBWC.

Faults, to test the service:
  --fail N:status    the Nth request gets an error answer from "QBPOS" (statusCode 3180,
                     severity Error, on every request in it); nothing is saved in QBPOS
  --fail N:hresult   the Nth request fails as a whole: receiveResponseXML carries hresult
                     0x80040400 and no response
  --drop N:after     QBPOS runs the Nth request, then the connection drops: no
                     receiveResponseXML, no closeConnection (a crash or a cable pulled)
  --drop N:before    the connection drops right after the Nth sendRequestXML
  --connection-error QBWC cannot open QBPOS: connectionError instead of the loop
  --keep-answer F    with --drop N:after, QBPOS's answer to that request goes to F (as QBPOS
                     wrote it), so a test can play "the service stored it, then died"

The password is read from the environment variable named by --password-env, so it is in no
command line.  A JSON summary of the session goes to stdout (or --out): every call and answer
(the request documents as their requestIDs), the percentages, the last error, the exit.
Exit status: 0 the session ran (whatever it answered), 2 the service broke the protocol.
"""

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))

from qbpos.engine import Engine, ParseFailure  # noqa: E402
from qbpos.qbpos import load_state, save_state  # noqa: E402

TNS = "http://developer.intuit.com/"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
HCP_QBPOS = "HOSTQUERY/COMPANYQUERY/PREFQUERY is currently not supported in QBPOS."


class ProtocolError(Exception):
    pass


class Client:
    def __init__(self, url, timeout=30):
        self.url = url
        self.timeout = timeout
        self.calls = []

    def call(self, method, params):
        """One SOAP call; params is a list of (name, value) in WSDL order. Returns the Result element."""
        body = "".join("<%s>%s</%s>" % (k, escape(str(v)), k) for k, v in params)
        env = ('<?xml version="1.0" encoding="utf-8"?>\n'
               '<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
               'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="%s">'
               '<soap:Body><%s xmlns="%s">%s</%s></soap:Body></soap:Envelope>' % (SOAP, method, TNS, body, method))
        req = urllib.request.Request(self.url, data=env.encode("utf-8"), method="POST", headers={
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"%s%s"' % (TNS, method)})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                status, ctype, data = r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            status, ctype, data = e.code, e.headers.get("Content-Type", ""), e.read()
        if not ctype.startswith("text/xml"):
            raise ProtocolError("%s: Content-Type %r, not text/xml" % (method, ctype))
        try:
            root = ET.fromstring(data)
        except ET.ParseError as e:
            raise ProtocolError("%s: the answer is not XML: %s" % (method, e))
        if root.tag != "{%s}Envelope" % SOAP:
            raise ProtocolError("%s: the answer is not a SOAP 1.1 envelope" % method)
        fault = root.find("{%s}Body/{%s}Fault" % (SOAP, SOAP))
        if fault is not None:
            raise ProtocolError("%s: SOAP fault (HTTP %d): %s" % (method, status, fault.findtext("faultstring")))
        if status != 200:
            raise ProtocolError("%s: HTTP %d without a fault" % (method, status))
        resp = root.find("{%s}Body/{%s}%sResponse" % (SOAP, TNS, method))
        if resp is None:
            raise ProtocolError("%s: no %sResponse in the tns namespace" % (method, method))
        result = resp.find("{%s}%sResult" % (TNS, method))
        return result

    def string(self, method, params):
        r = self.call(method, params)
        v = "" if r is None or r.text is None else r.text
        self.calls.append({"call": method, "answer": v if method != "sendRequestXML" else _summary(v)})
        return v

    def strings(self, method, params):
        r = self.call(method, params)
        v = [] if r is None else [s.text or "" for s in r.findall("{%s}string" % TNS)]
        self.calls.append({"call": method, "answer": v})
        return v

    def int(self, method, params):
        r = self.call(method, params)
        if r is None or not re.fullmatch(r"-?\d+", (r.text or "").strip()):
            raise ProtocolError("%s: the result is not an int" % method)
        v = int(r.text.strip())
        self.calls.append({"call": method, "answer": v})
        return v


def _summary(doc):
    """A request document, as the requests in it (tag and requestID)."""
    if doc in ("", "NoOp"):
        return doc
    out = []
    for m in re.finditer(r'<(\w+Rq)(\s[^>]*)?>', doc):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out.append(" ".join(x for x in (m.group(1), attrs.get("requestID"), attrs.get("iterator")) if x))
    return [x for x in out if not x.startswith("QBPOSXMLMsgsRq")]


def error_answer(doc):
    """What QBPOS answers when it cannot save: every request gets an error status."""
    rs = []
    for m in re.finditer(r'<(\w+)Rq(?:\s[^>]*?requestID="([^"]*)")?[^>]*>', doc):
        if m.group(1) == "QBPOSXMLMsgs":
            continue
        rid = ' requestID="%s"' % m.group(2) if m.group(2) is not None else ""
        rs.append('<%sRs%s statusCode="3180" statusSeverity="Error" statusMessage="There was an error when '
                  'saving a %s.  QuickBooks error message: The record is in use by another user."/>'
                  % (m.group(1), rid, m.group(1)))
    return ('<?xml version="1.0" encoding="windows-1252"?>\n<QBPOSXML><QBPOSXMLMsgsRs>%s</QBPOSXMLMsgsRs></QBPOSXML>\n'
            % "".join(rs))


def run(a):
    pw = os.environ.get(a.password_env, "")
    c = Client(a.url)
    out = {"calls": c.calls, "requests": 0, "percent": [], "last_error": None, "dropped": False, "end": None}
    fail_n, fail_kind = (int(a.fail.split(":")[0]), a.fail.split(":")[1]) if a.fail else (0, None)
    drop_n, drop_kind = (int(a.drop.split(":")[0]), a.drop.split(":")[1]) if a.drop else (0, None)

    c.string("serverVersion", [("strVersion", "")])
    cv = c.string("clientVersion", [("strVersion", a.version)])
    if cv.startswith("E:") or cv.startswith("O:"):
        out["end"] = "clientVersion refused: " + cv
        return out
    auth = c.strings("authenticate", [("strUserName", a.user), ("strPassword", pw)])
    if len(auth) < 2:
        raise ProtocolError("authenticate: fewer than two strings")
    ticket, company = auth[0], auth[1]
    out["authenticate"] = company
    if company in ("nvu", "none", "busy"):
        out["end"] = "authenticate: " + company
        return out
    if a.connection_error:
        c.string("connectionError", [("ticket", ticket), ("hresult", "0x80040408"),
                                     ("message", "Could not start QuickBooks Point of Sale.")])
        out["last_error"] = c.string("getLastError", [("ticket", ticket)])
        out["close"] = c.string("closeConnection", [("ticket", ticket)])
        out["end"] = "connectionError"
        return out
    state = load_state(a.qbpos_state)
    eng = Engine(state)
    first = True
    noops = 0
    while True:
        doc = c.string("sendRequestXML", [
            ("ticket", ticket), ("strHCPResponse", HCP_QBPOS if first else ""),
            ("strCompanyFileName", company), ("qbXMLCountry", "US"), ("qbXMLMajorVers", 3), ("qbXMLMinorVers", 0)])
        first = False
        if doc == "NoOp":
            noops += 1
            c.string("getLastError", [("ticket", ticket)])
            if noops > a.max_noops:
                out["end"] = "too many NoOp"
                break
            time.sleep(a.noop_wait)
            continue
        if doc == "":
            out["last_error"] = c.string("getLastError", [("ticket", ticket)])
            out["end"] = "nothing to send"
            break
        out["requests"] += 1
        n = out["requests"]
        if n == drop_n and drop_kind == "before":
            out["dropped"] = True
            out["end"] = "dropped before request %d" % n
            return out
        hresult, message, response = "", "", ""
        if n == fail_n and fail_kind == "hresult":
            hresult, message = "0x80040400", "QuickBooks found an error when parsing the provided XML text stream."
        elif n == fail_n and fail_kind == "status":
            response = error_answer(doc)
        else:
            try:
                raw = eng.process(doc.encode("utf-8"))
                response = raw.decode("cp1252")
            except ParseFailure as e:
                hresult, message = e.hresult, e.message
            save_state(a.qbpos_state, state)
        if n == drop_n and drop_kind == "after":
            if a.keep_answer:   # what the service would have received, for a test to place by hand
                with open(a.keep_answer, "wb") as f:
                    f.write(response.encode("cp1252"))
            out["dropped"] = True
            out["end"] = "dropped after request %d" % n
            return out
        pct = c.int("receiveResponseXML", [("ticket", ticket), ("response", response), ("hresult", hresult),
                                           ("message", message)])
        out["percent"].append(pct)
        if pct < 0:
            out["last_error"] = c.string("getLastError", [("ticket", ticket)])
            out["end"] = "negative"
            break
        if pct >= 100:
            out["end"] = "done"
            break
        if n > a.max_requests:
            out["end"] = "too many requests"
            break
    out["close"] = c.string("closeConnection", [("ticket", ticket)])
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="qbwc.py", description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password-env", required=True, help="environment variable holding the password")
    p.add_argument("--qbpos-state", required=True, help="the QBPOS emulator's state file")
    p.add_argument("--version", default="2.3.0.215", help="the QBWC version sent to clientVersion")
    p.add_argument("--fail", help="N:status or N:hresult")
    p.add_argument("--drop", help="N:before or N:after")
    p.add_argument("--connection-error", action="store_true")
    p.add_argument("--keep-answer", help="with --drop N:after: write QBPOS's answer to the dropped request here")
    p.add_argument("--noop-wait", type=float, default=5.0, help="seconds QBWC waits after NoOp (5)")
    p.add_argument("--max-noops", type=int, default=3)
    p.add_argument("--max-requests", type=int, default=200, help="a guard against a service that never ends")
    p.add_argument("--out", help="write the summary here instead of stdout")
    a = p.parse_args(argv)
    for opt, kinds in (("fail", ("status", "hresult")), ("drop", ("before", "after"))):
        v = getattr(a, opt)
        if v and not re.fullmatch(r"\d+:(%s)" % "|".join(kinds), v):
            p.error("--%s takes N:%s" % (opt, "|".join(kinds)))
    rc = 0
    try:
        out = run(a)
    except ProtocolError as e:
        out = {"protocol_error": str(e)}
        rc = 2
    text = json.dumps(out, indent=1)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    return rc


if __name__ == "__main__":
    sys.exit(main())
