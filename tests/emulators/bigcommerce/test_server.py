"""Tests of the BigCommerce emulator itself (not of posbridge).

Run from the repository root:
    python3 -m unittest discover -s tests/emulators -p 'test_*.py'
One emulator subprocess (the real command line) serves the whole class; each
test starts from POST /__emulator/reset.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "bc_tok_0123456789abcdef"
HASH = "abc123"
DOC_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


def start_server(tmp, *extra):
    port_file = os.path.join(tmp, "port")
    cmd = [sys.executable, os.path.join(HERE, "server.py"), "--port", "0", "--port-file", port_file,
           "--store-hash", HASH, "--token", TOKEN, "--state-file", os.path.join(tmp, "state.json"),
           "--log-file", os.path.join(tmp, "log.jsonl")] + list(extra)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(300):
        if os.path.exists(port_file):
            break
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode())
        time.sleep(0.02)
    with open(port_file) as f:
        return proc, "http://127.0.0.1:%d" % int(f.read())


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    proc.stderr.close()


class Client:
    def __init__(self, url):
        self.url = url

    def raw(self, method, path, body=None, headers=None):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
        except urllib.error.HTTPError as e:
            return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()

    def api(self, method, path, body=None, token=TOKEN, store=HASH, version="v3", ctype="application/json"):
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["X-Auth-Token"] = token
        if body is not None:
            headers["Content-Type"] = ctype
        status, hdrs, payload = self.raw(method, "/stores/%s/%s%s" % (store, version, path), body, headers)
        return status, hdrs, (json.loads(payload) if payload else None)

    def control(self, method, name, body=None):
        status, _, payload = self.raw(method, "/__emulator/" + name, body,
                                      {"Content-Type": "application/json"} if body is not None else {})
        return json.loads(payload)


def tee(**over):
    body = {"name": "Cotton Tee", "type": "physical", "weight": 0.2, "price": 19.99, "sku": "TEE",
            "is_visible": False, "inventory_tracking": "variant",
            "variants": [
                {"sku": "TEE-S-RED", "price": 19.99, "retail_price": 24.99, "upc": "012345678905",
                 "option_values": [{"option_display_name": "Size", "label": "S"},
                                   {"option_display_name": "Color", "label": "Red"}]},
                {"sku": "TEE-M-RED",
                 "option_values": [{"option_display_name": "Size", "label": "M"},
                                   {"option_display_name": "Color", "label": "Red"}]}]}
    body.update(over)
    return body


def simple(name, sku, price=5.0, **over):
    body = {"name": name, "type": "physical", "weight": 1, "price": price, "sku": sku}
    body.update(over)
    return body


class BigCommerceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bc-emu-")
        cls.proc, url = start_server(cls.tmp)
        cls.c = Client(url)

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.proc)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.c.control("POST", "reset")
        self.c.control("POST", "config", {"rateQuota": 150, "rateWindowMs": 30000, "inventoryLagMs": 0})

    # ------------------------------------------------------------ auth
    def test_auth_failures(self):
        for token in (None, "wrong"):
            status, hdrs, body = self.c.api("GET", "/catalog/products", token=token)
            self.assertEqual(status, 401)
            self.assertEqual(body["status"], 401)
            self.assertEqual(body["type"], DOC_TYPE)
            self.assertIn("x-rate-limit-requests-left", hdrs)
        status, _, body = self.c.api("GET", "/catalog/products", store="other")
        self.assertEqual(status, 403)
        status, _, body = self.c.api("GET", "/orders", token="wrong", version="v2")
        self.assertEqual(status, 401)
        self.assertIsInstance(body, list)  # v2 errors are arrays (§B7)
        self.assertEqual(self.c.control("GET", "state")["counters"]["writes"], 0)

    def test_log_redacts_token(self):
        self.c.api("GET", "/catalog/products")
        log = json.dumps(self.c.control("GET", "requests"))
        self.assertIn("getProducts", log)
        self.assertNotIn(TOKEN, log)

    # ------------------------------------------------------------ create / lookup / update
    def test_create_product_with_variants_and_lookup(self):
        status, hdrs, body = self.c.api("POST", "/catalog/products", tee())
        self.assertEqual(status, 200, body)
        p = body["data"]
        self.assertIsNone(p["base_variant_id"])  # complex product
        self.assertFalse(p["is_visible"])
        self.assertEqual([v["sku"] for v in p["variants"]], ["TEE-S-RED", "TEE-M-RED"])
        self.assertEqual(p["variants"][0]["option_values"][0]["option_display_name"], "Size")
        self.assertEqual(p["variants"][1]["calculated_price"], 19.99)  # null price -> product price
        self.assertIsInstance(p["price"], float)

        status, _, body = self.c.api("GET", "/catalog/products?sku=tee&include=variants")
        self.assertEqual([x["id"] for x in body["data"]], [p["id"]])
        status, _, body = self.c.api("GET", "/catalog/variants?sku=tee-m-red")
        self.assertEqual(len(body["data"]), 1)
        self.assertEqual(body["data"][0]["product_id"], p["id"])
        status, _, body = self.c.api("GET", "/catalog/variants?sku:in=TEE-S-RED,TEE-M-RED")
        self.assertEqual(len(body["data"]), 2)
        status, _, body = self.c.api("GET", "/catalog/products?id:in=%d,999" % p["id"])
        self.assertEqual(len(body["data"]), 1)

        vid = p["variants"][0]["id"]
        status, _, body = self.c.api("PUT", "/catalog/products/%d/variants/%d" % (p["id"], vid), {"price": 17.5})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"]["price"], 17.5)
        status, _, body = self.c.api("PUT", "/catalog/products/%d" % p["id"], {"price": 21.0, "is_visible": True})
        self.assertEqual(status, 200, body)
        st = self.c.control("GET", "state")
        self.assertEqual(st["products"][0]["price"], 21.0)
        self.assertEqual(st["variants"][0]["price"], 17.5)
        self.assertEqual(st["variants"][1]["calculated_price"], 21.0)

    def test_simple_product_has_base_variant_and_new_variant_replaces_it(self):
        status, _, body = self.c.api("POST", "/catalog/products", simple("Mug", "MUG"))
        p = body["data"]
        self.assertIsNotNone(p["base_variant_id"])
        status, _, body = self.c.api("GET", "/catalog/variants?sku=MUG")
        self.assertEqual(body["data"][0]["id"], p["base_variant_id"])
        self.assertEqual(body["data"][0]["option_values"], [])
        status, _, body = self.c.api("POST", "/catalog/products/%d/variants" % p["id"],
                                     {"sku": "MUG-BLUE", "option_values": [{"option_display_name": "Color",
                                                                            "label": "Blue"}]})
        self.assertEqual(status, 200, body)
        status, _, body = self.c.api("GET", "/catalog/products/%d" % p["id"])
        self.assertIsNone(body["data"]["base_variant_id"])

    def test_batch_update_products(self):
        ids = [self.c.api("POST", "/catalog/products", simple("P%d" % i, "P-%d" % i))[2]["data"]["id"]
               for i in range(3)]
        status, _, body = self.c.api("PUT", "/catalog/products", [{"id": i, "price": 9.5} for i in ids])
        self.assertEqual(status, 200, body)
        self.assertEqual([x["price"] for x in body["data"]], [9.5] * 3)
        # all or nothing: one unknown id fails the whole batch
        status, _, body = self.c.api("PUT", "/catalog/products", [{"id": ids[0], "price": 1.0}, {"id": 999}])
        self.assertEqual(status, 404)
        self.assertEqual(self.c.control("GET", "state")["products"][0]["price"], 9.5)

    # ------------------------------------------------------------ limits
    def test_batch_caps_answer_413_with_documented_body(self):
        status, _, body = self.c.api("PUT", "/catalog/products", [{"id": i, "price": 1} for i in range(1, 12)])
        self.assertEqual(status, 413)
        self.assertEqual(body, {"errors": {}, "status": 413, "title": "The request payload is too large. The "
                                "maximum items allowed in the array is 10.",
                                "type": "/api-docs/getting-started/api-status-codes"})
        status, _, body = self.c.api("PUT", "/catalog/variants", [{"id": i, "price": 1} for i in range(1, 52)])
        self.assertEqual(status, 413)
        self.assertIn("maximum items allowed in the array is 50", body["title"])
        items = [{"location_id": 1, "sku": "X%d" % i, "quantity": 1} for i in range(2001)]
        status, _, body = self.c.api("PUT", "/inventory/adjustments/absolute", {"items": items})
        self.assertEqual(status, 413)

    def test_600_variants_per_product(self):
        variants = [{"sku": "V-%d" % i, "option_values": [{"option_display_name": "N", "label": str(i)}]}
                    for i in range(601)]
        status, _, body = self.c.api("POST", "/catalog/products", simple("Big", "BIG", variants=variants))
        self.assertEqual(status, 422, body)
        status, _, body = self.c.api("POST", "/catalog/products", simple("Big", "BIG", variants=variants[:600]))
        self.assertEqual(status, 200)
        status, _, body = self.c.api("POST", "/catalog/products/%d/variants" % body["data"]["id"],
                                     {"sku": "V-600", "option_values": [{"option_display_name": "N", "label": "600"}]})
        self.assertEqual(status, 422)

    # ------------------------------------------------------------ SKU uniqueness
    def test_sku_unique_across_products_and_variants_case_insensitive(self):
        status, _, body = self.c.api("POST", "/catalog/products", tee())
        self.assertEqual(status, 200)
        tee_id = body["data"]["id"]
        status, _, body = self.c.api("POST", "/catalog/products", simple("Other", "tee-s-red"))
        self.assertEqual(status, 409)
        self.assertEqual(body["type"], DOC_TYPE)
        self.assertIn("sku", body["errors"])
        status, _, body = self.c.api("POST", "/catalog/products", simple("Other", "Tee"))
        self.assertEqual(status, 409)
        status, _, body = self.c.api("POST", "/catalog/products", simple("Cotton Tee", "NEW"))
        self.assertEqual(status, 409)  # names are unique too
        pid = self.c.api("POST", "/catalog/products", simple("Other", "OTHER"))[2]["data"]["id"]
        status, _, body = self.c.api("PUT", "/catalog/products/%d" % pid, {"sku": "TEE-M-red"})
        self.assertEqual(status, 409)
        # a variants batch repeating a SKU changes nothing
        status, _, body = self.c.api("POST", "/catalog/products/%d/options/1/values" % tee_id,
                                     {"label": "L", "sort_order": 2})
        self.assertEqual(status, 200, body)
        size_l = body["data"]["id"]
        status, _, body = self.c.api("PUT", "/catalog/variants", [
            {"product_id": tee_id, "sku": "NEW-1", "option_values": [{"id": size_l, "option_id": 1},
                                                                     {"id": 2, "option_id": 2}]},
            {"id": 1, "sku": "new-1"}])
        self.assertEqual(status, 422)
        self.assertEqual(body["batch_errors"][0]["status"], 409)
        self.assertIn("1.sku", body["batch_errors"][0]["errors"])
        self.assertEqual(len(self.c.control("GET", "state")["variants"]), 3)  # 2 + OTHER's base variant
        status, _, body = self.c.api("PUT", "/catalog/variants", [
            {"product_id": tee_id, "sku": "NEW-1", "option_values": [{"id": size_l, "option_id": 1},
                                                                     {"id": 2, "option_id": 2}]},
            {"id": 1, "price": 3.5}])
        self.assertEqual(status, 200, body)
        self.assertEqual([v["sku"] for v in body["data"]], ["NEW-1", "TEE-S-RED"])

    def test_sku_index_follows_renames_and_deletes(self):
        # SKUs are looked up through an index: a renamed or deleted SKU is free again,
        # the new one is taken, in any case.
        pid = self.c.api("POST", "/catalog/products", simple("Mug", "MUG-1"))[2]["data"]["id"]
        base = self.c.api("GET", "/catalog/products/%d" % pid)[2]["data"]["base_variant_id"]
        status, _, body = self.c.api("PUT", "/catalog/variants", [{"id": base, "sku": "MUG-2"}])
        self.assertEqual(status, 200, body)
        self.assertEqual(self.c.api("POST", "/catalog/products", simple("Other", "mug-2"))[0], 409)
        self.assertEqual(self.c.api("POST", "/catalog/products", simple("Other", "mug-1"))[0], 200)
        self.assertEqual(self.c.api("GET", "/catalog/variants?sku=MUG-2")[2]["data"][0]["id"], base)
        self.assertEqual(self.c.api("DELETE", "/catalog/products/%d" % pid)[0], 204)
        self.assertEqual(self.c.api("GET", "/catalog/variants?sku:in=MUG-2")[2]["data"], [])
        self.assertEqual(self.c.api("POST", "/catalog/products", simple("Mug", "MUG-2"))[0], 200)

    # ------------------------------------------------------------ validation
    def test_spec_invalid_bodies_are_rejected_with_422(self):
        status, _, body = self.c.api("POST", "/catalog/products", {"name": "X", "type": "physical", "weight": 1,
                                                                   "price": "19.99"})
        self.assertEqual(status, 422)
        self.assertEqual(body["title"], "JSON data is missing or invalid")
        self.assertEqual(body["errors"], {"price": "error.expected.jsnumber"})
        status, _, body = self.c.api("POST", "/catalog/products", {"name": "X", "type": "boat", "price": 1})
        self.assertEqual(status, 422)
        self.assertEqual(body["errors"]["weight"], "error.path.missing")
        self.assertEqual(body["errors"]["type"], "error.expected.validenumvalue")
        status, _, body = self.c.api("PUT", "/catalog/products", [{"price": 1}, {"id": 1, "meta_keywords": "x"}])
        self.assertEqual(status, 422)
        self.assertEqual(body["errors"], {"0.id": "error.path.missing", "1.meta_keywords": "error.expected.jsarray"})
        status, hdrs, body = self.c.api("PUT", "/inventory/adjustments/absolute",
                                        {"items": [{"location_id": 1, "sku": "A", "variant_id": 3, "quantity": 1}]})
        self.assertEqual(status, 422)
        self.assertTrue(hdrs["content-type"].startswith("application/problem+json"))
        status, _, body = self.c.api("POST", "/catalog/products", b"name=x", ctype="application/x-www-form-urlencoded")
        self.assertEqual(status, 415)
        self.assertEqual(self.c.control("GET", "state")["products"], [])

    # ------------------------------------------------------------ paging
    def test_paging_meta_and_links(self):
        self.c.control("POST", "seed", {"products": [simple("P%d" % i, "S%d" % i) for i in range(5)]})
        status, _, body = self.c.api("GET", "/catalog/products?limit=2&page=2")
        pg = body["meta"]["pagination"]
        self.assertEqual((pg["total"], pg["count"], pg["per_page"], pg["current_page"], pg["total_pages"]),
                         (5, 2, 2, 2, 3))
        self.assertEqual(pg["links"]["next"], "?page=3&limit=2")
        self.assertEqual(pg["links"]["previous"], "?page=1&limit=2")
        status, _, body = self.c.api("GET", "/catalog/products?limit=2&page=3")
        self.assertNotIn("next", body["meta"]["pagination"]["links"])
        status, _, body = self.c.api("GET", "/catalog/products?limit=1000")
        self.assertEqual(body["meta"]["pagination"]["per_page"], 250)

    # ------------------------------------------------------------ rate limit
    def test_rate_limit_headers_and_429(self):
        self.c.control("POST", "config", {"rateQuota": 3, "rateWindowMs": 30000})
        lefts = []
        for _ in range(3):
            status, hdrs, _ = self.c.api("GET", "/catalog/products")
            self.assertEqual(status, 200)
            self.assertEqual(hdrs["x-rate-limit-requests-quota"], "3")
            self.assertEqual(hdrs["x-rate-limit-time-window-ms"], "30000")
            lefts.append(hdrs["x-rate-limit-requests-left"])
        self.assertEqual(lefts, ["2", "1", "0"])
        status, hdrs, body = self.c.api("GET", "/catalog/products")
        self.assertEqual(status, 429)
        self.assertEqual(hdrs["x-rate-limit-requests-left"], "0")
        self.assertGreater(int(hdrs["x-rate-limit-time-reset-ms"]), 0)
        self.assertIn("x-retry-after", hdrs)
        self.assertEqual(body["status"], 429)
        self.c.control("POST", "clock", {"advance_ms": 30001})
        status, hdrs, _ = self.c.api("GET", "/catalog/products")
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["x-rate-limit-requests-left"], "2")
        self.assertEqual(self.c.control("GET", "state")["counters"]["throttled"], 1)

    def test_injected_faults(self):
        self.c.control("POST", "faults", {"rules": [{"match": "op:getProducts", "status": 503, "count": 1},
                                                    {"match": "op:getProducts", "status": 429, "count": 1}]})
        status, hdrs, body = self.c.api("GET", "/catalog/products")
        self.assertEqual((status, body["status"]), (503, 503))
        self.assertIn("x-rate-limit-requests-left", hdrs)
        status, hdrs, body = self.c.api("GET", "/catalog/products")
        self.assertEqual(status, 429)
        self.assertNotIn("x-rate-limit-requests-left", hdrs)  # "platform load" 429 (§B4)
        self.assertEqual(self.c.api("GET", "/catalog/products")[0], 200)

    # ------------------------------------------------------------ inventory
    def test_inventory_by_tracking_mode_and_location(self):
        pv = self.c.api("POST", "/catalog/products", tee())[2]["data"]
        pp = self.c.api("POST", "/catalog/products", simple("Mug", "MUG", inventory_tracking="product"))[2]["data"]
        locs = self.c.api("GET", "/inventory/locations")[2]["data"]
        self.assertEqual([(l["id"], l["label"]) for l in locs], [(1, "Main Store"), (2, "Warehouse")])
        status, _, body = self.c.api("PUT", "/inventory/adjustments/absolute", {"reason": "QB POS sync", "items": [
            {"location_id": 1, "variant_id": pv["variants"][0]["id"], "quantity": 7},
            {"location_id": 2, "sku": "tee-m-red", "quantity": 3},
            {"location_id": 1, "product_id": pp["id"], "quantity": 4}]})
        self.assertEqual(status, 200, body)
        self.assertIn("transaction_id", body)
        status, hdrs, body = self.c.api("PUT", "/inventory/adjustments/absolute", {"items": [
            {"location_id": 1, "variant_id": pp["base_variant_id"], "quantity": 1}]})
        self.assertEqual(status, 422)
        self.assertEqual(body["title"], "[Item with variant_id %d is tracked by product, please update stock by "
                                        "product id]" % pp["base_variant_id"])
        status, _, body = self.c.api("PUT", "/inventory/adjustments/absolute", {"items": [
            {"location_id": 9, "variant_id": pv["variants"][0]["id"], "quantity": 1}]})
        self.assertEqual((status, body["title"]), (422, "Location not found, identities: [9]"))
        status, _, body = self.c.api("GET", "/inventory/items?sku:in=TEE-S-RED,TEE-M-RED,MUG")
        got = {d["identity"]["sku"]: [l["total_inventory_onhand"] for l in d["locations"]] for d in body["data"]}
        self.assertEqual(got, {"TEE-S-RED": [7, 0], "TEE-M-RED": [0, 3], "MUG": [4, 0]})
        status, _, body = self.c.api("GET", "/catalog/products/%d" % pv["id"])
        self.assertEqual(body["data"]["inventory_level"], 10)
        st = self.c.control("GET", "state")
        self.assertEqual(st["variants"][0]["inventory"], {"1": 7})
        # relative needs an absolute first (documented 422)
        status, _, body = self.c.api("POST", "/inventory/adjustments/relative", {"items": [
            {"location_id": 2, "variant_id": pv["variants"][0]["id"], "quantity": 1}]})
        self.assertEqual(status, 422)
        self.assertIn("requires absolute adjustment before relative", body["title"])

    def test_inventory_lag(self):
        pv = self.c.api("POST", "/catalog/products", tee())[2]["data"]
        self.c.control("POST", "config", {"inventoryLagMs": 5000})
        self.c.api("PUT", "/inventory/adjustments/absolute", {"items": [
            {"location_id": 1, "variant_id": pv["variants"][0]["id"], "quantity": 7}]})
        body = self.c.api("GET", "/inventory/items?variant_id:in=%d" % pv["variants"][0]["id"])[2]
        self.assertEqual(body["data"][0]["locations"][0]["total_inventory_onhand"], 0)
        self.c.control("POST", "clock", {"advance_ms": 5001})
        body = self.c.api("GET", "/inventory/items?variant_id:in=%d" % pv["variants"][0]["id"])[2]
        self.assertEqual(body["data"][0]["locations"][0]["total_inventory_onhand"], 7)

    def test_seed_and_state(self):
        out = self.c.control("POST", "seed", {"products": [
            dict(tee(), variants=[dict(tee()["variants"][0], inventory={"1": 5, "Warehouse": 2})])]})
        vid = out["products"][0]["variants"][0]["id"]
        st = self.c.control("GET", "state")
        self.assertEqual(st["variants"][0]["id"], vid)
        self.assertEqual(st["variants"][0]["inventory"], {"1": 5, "2": 2})
        self.assertEqual(st["storeHash"], HASH)

    def test_unknown_route_and_v2_placeholder(self):
        status, _, body = self.c.api("GET", "/catalog/nothing")
        self.assertEqual(status, 404)
        status, _, body = self.c.api("GET", "/nothing", version="v2")
        self.assertEqual(status, 404)
        self.assertIsInstance(body, list)


class StateFileTest(unittest.TestCase):
    def test_state_survives_restart(self):
        tmp = tempfile.mkdtemp(prefix="bc-emu-")
        try:
            proc, url = start_server(tmp)
            try:
                c = Client(url)
                status, _, body = c.api("POST", "/catalog/products", tee())
                self.assertEqual(status, 200)
            finally:
                stop_server(proc)
            proc, url = start_server(tmp)
            try:
                c = Client(url)
                status, _, body = c.api("GET", "/catalog/variants?sku=TEE-M-RED")
                self.assertEqual(len(body["data"]), 1)
                status, _, body = c.api("POST", "/catalog/products", simple("X", "tee-s-red"))
                self.assertEqual(status, 409)
            finally:
                stop_server(proc)
            with open(os.path.join(tmp, "log.jsonl")) as f:
                self.assertNotIn(TOKEN, f.read())
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
