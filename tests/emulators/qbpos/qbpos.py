#!/usr/bin/env python3
"""QuickBooks Point of Sale emulator for posbridge's tests: library, command line, HTTP endpoint.

    python3 tests/emulators/qbpos/qbpos.py process --state S.json < request.xml > response.xml
    python3 tests/emulators/qbpos/qbpos.py seed --state S.json [--samples F ...] [--json seed.json] [--reset]
    python3 tests/emulators/qbpos/qbpos.py serve --port 0 --port-file F --state S.json [common flags]

`process` runs one request document (what QBPOSXMLRP.ProcessRequest does) against the company in
the state file and writes the response document to stdout; the state file is saved atomically.
When the document does not parse or does not fit the DTD, real QBPOS returns no document: the call
fails with HRESULT 0x80040400 "QuickBooks found an error when parsing the provided XML text stream."
(reference qbpos.md §10). `process` then writes nothing to stdout, prints
"0x80040400 <message>" and the parser's detail on stderr and exits with status 2.

`serve` answers POST /qbposxml (body: the request document) with the response document
(Content-Type application/xml; charset=windows-1252), or, for a parse failure, HTTP 500 with
{"hresult": "0x80040400", "message": ..., "detail": ...}; plus the control endpoints of ../common.py
(state, requests, reset, seed, clock, faults, config). See ../README.md.
"""

import argparse
import json
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if __name__ == "__main__":
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
    sys.path.insert(0, os.path.dirname(_HERE))
    import qbpos.qbpos as _self  # noqa: E402

    sys.exit(_self.main())

import common  # noqa: E402
from .engine import Engine, ParseFailure, new_state  # noqa: E402

SAMPLES_DIR = os.path.abspath(os.path.join(_HERE, "..", "..", "..", "samples", "qbpos"))


def load_state(path):
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return new_state()


def save_state(path, state):
    if path:
        common.atomic_write(path, json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"))


class QBPOSPlatform(common.Platform):
    name = "qbpos"

    def __init__(self, args, clock):
        super().__init__(args, clock)
        self.engine = Engine(new_state(stores=args.stores), clock)
        for path in args.samples or []:
            with open(path, "rb") as f:
                self.engine.seed_sample_xml(f.read())

    def op_label(self, req):
        import re
        m = re.search(rb"<(\w+Rq)[\s>]", req.body[req.body.find(b"QBPOSXMLMsgsRq") + 14:] if req.body else b"")
        return m.group(1).decode() if m else None

    def fault_response(self, status, req):
        return common.Response(status, {"hresult": "0x80040401", "message": "Could not access QuickBooks."})

    def handle(self, req):
        if req.path.rstrip("/") != "/qbposxml":
            return common.Response(404, {"error": "POST the request document to /qbposxml"})
        if req.method != "POST":
            return common.Response(405, {"error": "POST only"}, {"Allow": "POST"})
        with self.lock:
            try:
                body = self.engine.process(req.body)
            except ParseFailure as e:
                resp = common.Response(500, {"hresult": e.hresult, "message": e.message, "detail": e.detail})
                resp.state_changed = True
                return resp
        resp = common.Response(200, body, content_type="application/xml; charset=windows-1252")
        resp.state_changed = True
        return resp

    def state_dump(self):
        return self.engine.state

    def persist_load(self, data):
        self.engine.state = data

    def reset(self):
        self.engine.state = new_state(stores=self.args.stores)

    def seed(self, data):
        return self.engine.seed_json(data)

    def configure(self, data):
        comp = self.engine.state["company"]
        known = {"stores", "storeNumber", "timezone", "taxRates", "companyName"}
        unknown = set(data) - known
        if unknown:
            raise ValueError("unknown config keys: %s" % ", ".join(sorted(unknown)))
        comp.update(data)
        return comp


def _add_common_state_alias(p):
    # the brief's spelling --state S.json is the same as the harness's --state-file
    p.add_argument("--state", dest="state_file", help="state file (same as --state-file)")
    return p


def make_serve_parser():
    p = common.base_arg_parser("QuickBooks POS (qbposXML 3.0) emulator, HTTP mode")
    _add_common_state_alias(p)
    p.add_argument("--stores", type=int, default=2, help="number of stores in the company (default 2)")
    p.add_argument("--samples", nargs="*", help="seed items from ItemInventoryQueryRs documents at start")
    return p


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "serve":
        sys.argv = [sys.argv[0]] + rest
        return common.main(QBPOSPlatform, make_serve_parser())
    p = argparse.ArgumentParser(prog="qbpos.py " + cmd)
    p.add_argument("--state", "--state-file", dest="state", required=True, help="state file (JSON)")
    p.add_argument("--start-time", help="the POS clock: ISO-8601 time to use as now (default: wall clock)")
    if cmd == "process":
        p.add_argument("--in", dest="infile", help="request document (default: stdin)")
        p.add_argument("--out", dest="outfile", help="response document (default: stdout)")
        a = p.parse_args(rest)
        state = load_state(a.state)
        clock = common.Clock(1.0, common.parse_iso(a.start_time)) if a.start_time else None
        eng = Engine(state, clock)
        data = open(a.infile, "rb").read() if a.infile else sys.stdin.buffer.read()
        try:
            out = eng.process(data)
        except ParseFailure as e:
            save_state(a.state, state)
            sys.stderr.write("%s %s\n%s\n" % (e.hresult, e.message, e.detail))
            return 2
        save_state(a.state, state)
        if a.outfile:
            common.atomic_write(a.outfile, out)
        else:
            sys.stdout.buffer.write(out)
            sys.stdout.buffer.flush()
        return 0
    if cmd == "seed":
        p.add_argument("--samples", nargs="*", default=[], help="ItemInventoryQueryRs documents to load")
        p.add_argument("--json", help="seed JSON (departments, items, customers, company; see README)")
        p.add_argument("--reset", action="store_true", help="start from an empty company")
        p.add_argument("--stores", type=int, help="number of stores")
        a = p.parse_args(rest)
        state = new_state() if a.reset else load_state(a.state)
        if a.stores:
            state["company"]["stores"] = a.stores
        eng = Engine(state)
        n = 0
        for path in a.samples:
            with open(path, "rb") as f:
                n += eng.seed_sample_xml(f.read())
        created = {}
        if a.json:
            with open(a.json, encoding="utf-8") as f:
                created = eng.seed_json(json.load(f))
        save_state(a.state, state)
        print(json.dumps({"samples_items": n, "created": created, "items": len(state["items"]),
                          "departments": len(state["departments"])}))
        return 0
    sys.stderr.write("unknown command %r (process, seed, serve)\n" % cmd)
    return 64


__all__ = ["QBPOSPlatform", "Engine", "main", "make_serve_parser"]
