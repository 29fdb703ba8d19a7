"""Tests of the WooCommerce emulator itself (not of posbridge).

Run from the repository root:
    python3 -m unittest discover -s tests/emulators -p 'test_*.py'
Each class runs one emulator subprocess (the real command line); each test
starts from POST /__emulator/reset.
"""

import base64
import hashlib
import hmac
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
import urllib.parse
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
CK = "ck_0123456789abcdef0123456789abcdef"
CS = "cs_fedcba9876543210fedcba9876543210"
API = "/wp-json/wc/v3"


def start_server(tmp, *extra):
    port_file = os.path.join(tmp, "port")
    cmd = [sys.executable, os.path.join(HERE, "server.py"), "--port", "0", "--port-file", port_file,
           "--consumer-key", CK, "--consumer-secret", CS, "--log-file", os.path.join(tmp, "log.jsonl")] + list(extra)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(300):
        if os.path.exists(port_file):
            break
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode())
        time.sleep(0.02)
    with open(port_file) as f:
        return proc, int(f.read())


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    proc.stderr.close()


def oauth_sign(method, url, params, secret, algo="HMAC-SHA1"):
    """An independent RFC 5849 one-legged signer (what a client does)."""
    enc = lambda s: urllib.parse.quote(str(s), safe="-_.~")  # noqa: E731
    pairs = sorted((enc(k), enc(v)) for k, v in params.items())
    norm = "&".join("%s=%s" % kv for kv in pairs)
    base = "&".join([method.upper(), enc(url), enc(norm)])
    digest = hashlib.sha256 if algo == "HMAC-SHA256" else hashlib.sha1
    return base64.b64encode(hmac.new((secret + "&").encode(), base.encode(), digest).digest()).decode()


class Client:
    def __init__(self, port, mode="basic"):
        self.port = port
        self.url = "http://127.0.0.1:%d" % port
        self.mode = mode

    def raw(self, method, path, body=None, headers=None):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
        except urllib.error.HTTPError as e:
            return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()

    def api(self, method, path, body=None, auth="default", query=None, headers=None):
        headers = dict(headers or {})
        query = dict(query or {})
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        if auth == "default":
            auth = self.mode
        if auth == "basic":
            headers["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % (CK, CS)).encode()).decode()
        elif auth == "oauth":
            query.update(self.oauth_params(method, API + path, query))
        qs = ("?" + urllib.parse.urlencode(query)) if query else ""
        status, hdrs, payload = self.raw(method, API + path + qs, body, headers)
        try:
            data = json.loads(payload) if payload else None
        except ValueError:
            data = payload.decode()
        return status, hdrs, data

    def oauth_params(self, method, path, query, algo="HMAC-SHA1", secret=CS, ts=None, nonce=None, key=CK):
        p = {"oauth_consumer_key": key, "oauth_timestamp": str(int(ts if ts is not None else time.time())),
             "oauth_nonce": nonce or uuid.uuid4().hex, "oauth_signature_method": algo}
        p["oauth_signature"] = oauth_sign(method, "http://127.0.0.1:%d%s" % (self.port, path), dict(query, **p),
                                          secret, algo)
        return p

    def control(self, method, name, body=None):
        _, _, payload = self.raw(method, "/__emulator/" + name, body,
                                 {"Content-Type": "application/json"} if body is not None else {})
        return json.loads(payload)


class WooBasicTest(unittest.TestCase):
    """--https-mode basic: "pretend this is HTTPS", HTTP Basic accepted."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wc-emu-")
        cls.proc, port = start_server(cls.tmp, "--https-mode", "basic")
        cls.c = Client(port, "basic")

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.proc)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.c.control("POST", "reset")
        self.c.control("POST", "config", {"rateLimit": None, "keyPermissions": "read_write"})

    # ------------------------------------------------------------ auth
    def test_auth_failures(self):
        status, _, body = self.c.api("GET", "/products", auth=None)
        self.assertEqual((status, body["code"]), (401, "woocommerce_rest_cannot_view"))
        self.assertEqual(body["data"], {"status": 401})
        wrong = "Basic " + base64.b64encode(("%s:cs_wrong" % CK).encode()).decode()
        status, hdrs, body = self.c.api("GET", "/products", auth=None, headers={"Authorization": wrong})
        self.assertEqual(status, 401)
        self.assertEqual(body, {"code": "woocommerce_rest_authentication_error",
                                "message": "Consumer secret is invalid.", "data": {"status": 401}})
        self.assertIn("WooCommerce API", hdrs["www-authenticate"])
        unknown = "Basic " + base64.b64encode(b"ck_nobody:cs_x").decode()
        status, _, body = self.c.api("POST", "/products", {"name": "x"}, auth=None, headers={"Authorization": unknown})
        self.assertEqual((status, body["code"]), (401, "woocommerce_rest_cannot_create"))
        # the query-string pair works over "HTTPS"
        status, _, body = self.c.api("GET", "/products", auth=None, query={"consumer_key": CK, "consumer_secret": CS})
        self.assertEqual(status, 200)
        self.c.control("POST", "config", {"keyPermissions": "read"})
        status, _, body = self.c.api("POST", "/products", {"name": "x"})
        self.assertEqual(body["message"], "The API key provided does not have write permissions.")
        self.assertEqual(self.c.control("GET", "state")["products"], [])
        log = json.dumps(self.c.control("GET", "requests"))
        self.assertNotIn(CS, log)
        self.assertNotIn(CK, log)

    # ------------------------------------------------------------ products
    def test_create_update_and_lookup_by_sku(self):
        status, hdrs, p = self.c.api("POST", "/products", {
            "name": "Cotton Tee", "type": "simple", "status": "draft", "sku": "TEE-1", "regular_price": "19.99",
            "manage_stock": True, "stock_quantity": "7"})
        self.assertEqual(status, 201, p)
        self.assertTrue(hdrs["location"].endswith("/wp-json/wc/v3/products/%d" % p["id"]))
        self.assertEqual((p["status"], p["regular_price"], p["price"]), ("draft", "19.99", "19.99"))
        self.assertEqual((p["stock_quantity"], p["stock_status"]), (7, "instock"))  # "7" sanitized to 7
        status, _, found = self.c.api("GET", "/products", query={"sku": "tee-1"})
        self.assertEqual([x["id"] for x in found], [p["id"]])
        status, _, found = self.c.api("GET", "/products", query={"sku": "TEE"})  # exact, not partial
        self.assertEqual(found, [])
        status, _, u = self.c.api("PUT", "/products/%d" % p["id"], {"regular_price": "24.54", "sale_price": "20.00",
                                                                    "stock_quantity": 0})
        self.assertEqual(status, 200, u)
        self.assertEqual((u["price"], u["on_sale"], u["stock_status"]), ("20.00", True, "outofstock"))
        status, _, u = self.c.api("PUT", "/products/%d" % p["id"], {"manage_stock": False, "stock_quantity": 5})
        self.assertIsNone(u["stock_quantity"])  # stock_quantity needs manage_stock (§A3)
        status, _, body = self.c.api("GET", "/products/999")
        self.assertEqual((status, body["code"]), (404, "woocommerce_rest_product_invalid_id"))
        status, _, body = self.c.api("PUT", "/products/999", {"name": "x"})
        self.assertEqual(status, 400)

    def test_field_types_follow_the_route_schema(self):
        status, _, body = self.c.api("POST", "/products", {"name": "X", "regular_price": 21.99})
        self.assertEqual(status, 400)
        self.assertEqual(body["code"], "rest_invalid_param")
        self.assertEqual(body["message"], "Invalid parameter(s): regular_price")
        self.assertEqual(body["data"]["params"], {"regular_price": "regular_price is not of type string."})
        self.assertEqual(body["data"]["details"]["regular_price"]["code"], "rest_invalid_type")
        status, _, body = self.c.api("POST", "/products", {"name": "X", "status": "hidden", "stock_quantity": 1.5,
                                                          "categories": [{"id": "nine"}]})
        self.assertEqual(status, 400)
        self.assertEqual(set(body["data"]["params"]), {"status", "stock_quantity", "categories"})
        self.assertEqual(body["data"]["params"]["status"], "status is not one of draft, pending, private, and publish.")
        self.assertEqual(body["data"]["params"]["categories"], "categories[0][id] is not of type integer.")
        status, _, body = self.c.api("POST", "/products/attributes", {"slug": "pa_x"})
        self.assertEqual((status, body["code"]), (400, "rest_missing_callback_param"))
        status, _, body = self.c.api("POST", "/products", b'{"name": ', headers={"Content-Type": "application/json"})
        self.assertEqual((status, body["code"]), (400, "rest_invalid_json"))
        # JSON sent without a JSON Content-Type is not read by WordPress at all
        status, _, body = self.c.api("POST", "/products", b'{"name": "Lost"}', headers={"Content-Type": "text/plain"})
        self.assertEqual((status, body["name"]), (201, ""))
        self.assertEqual(len(self.c.control("GET", "state")["products"]), 1)

    def test_sku_uniqueness_carries_the_existing_id(self):
        _, _, p = self.c.api("POST", "/products", {"name": "A", "sku": "SKU-1", "regular_price": "1.00"})
        status, _, body = self.c.api("POST", "/products", {"name": "B", "sku": "sku-1"})
        self.assertEqual(status, 400)
        self.assertEqual(body, {"code": "product_invalid_sku", "message": "Invalid or duplicated SKU.",
                                "data": {"status": 400, "resource_id": p["id"], "unique_sku": "sku-1-1"}})
        # a trashed product no longer holds its SKU; force-delete removes it
        status, _, body = self.c.api("DELETE", "/products/%d" % p["id"])
        self.assertEqual((status, body["status"]), (200, "trash"))
        status, _, body = self.c.api("DELETE", "/products/%d" % p["id"])
        self.assertEqual((status, body["code"]), (410, "woocommerce_rest_already_trashed"))
        status, _, q = self.c.api("POST", "/products", {"name": "B", "sku": "sku-1"})
        self.assertEqual(status, 201)
        self.assertEqual(len(self.c.control("GET", "state")["products"]), 2)

    # ------------------------------------------------------------ batch
    def test_batch_answers_200_with_per_item_errors(self):
        _, _, keep = self.c.api("POST", "/products", {"name": "Keep", "sku": "KEEP"})
        _, _, gone = self.c.api("POST", "/products", {"name": "Gone", "sku": "GONE"})
        status, _, body = self.c.api("POST", "/products/batch", {
            "create": [{"name": "A", "sku": "A-1", "regular_price": "5.00"},
                       {"name": "Dup", "sku": "keep", "regular_price": "6.00"},
                       {"name": "C", "sku": "C-1", "regular_price": 7}],
            "update": [{"id": keep["id"], "regular_price": "9.99"}, {"id": 4242, "regular_price": "1.00"}],
            "delete": [gone["id"], 4343]})
        self.assertEqual(status, 200)
        created = body["create"]
        self.assertEqual(created[0]["sku"], "A-1")
        self.assertEqual(created[1]["id"], 0)
        self.assertEqual(created[1]["error"]["code"], "product_invalid_sku")
        self.assertEqual(created[1]["error"]["data"]["resource_id"], keep["id"])
        self.assertEqual(created[2]["regular_price"], "7")  # batch items skip the schema check: coerced
        self.assertEqual(body["update"][0]["regular_price"], "9.99")
        self.assertEqual(body["update"][1], {"id": 4242, "error": {
            "code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": {"status": 400}}})
        self.assertEqual(body["delete"][0]["id"], gone["id"])
        self.assertEqual(body["delete"][1]["error"]["data"]["status"], 404)
        st = self.c.control("GET", "state")
        self.assertEqual(sorted(p["sku"] for p in st["products"]), ["A-1", "C-1", "KEEP"])
        self.assertEqual((st["counters"]["batchItemErrors"], st["counters"]["batchItemsCoerced"]), (3, 1))

    def test_batch_limit_is_100_objects_in_total(self):
        body = {"create": [{"name": "P%d" % i} for i in range(60)], "update": [{"id": i} for i in range(1, 41)],
                "delete": [1]}
        status, _, out = self.c.api("POST", "/products/batch", body)
        self.assertEqual(status, 413)
        self.assertEqual(out, {"code": "woocommerce_rest_request_entity_too_large",
                               "message": "Unable to accept more than 100 items for this request.",
                               "data": {"status": 413}})
        self.assertEqual(self.c.control("GET", "state")["products"], [])

    # ------------------------------------------------------------ variable products
    def test_attributes_terms_and_variations(self):
        status, _, color = self.c.api("POST", "/products/attributes", {"name": "Color", "slug": "pa_color"})
        self.assertEqual((status, color["slug"]), (201, "pa_color"))
        status, _, body = self.c.api("POST", "/products/attributes/%d/terms/batch" % color["id"],
                                     {"create": [{"name": "Black"}, {"name": "Green"}, {"name": "black"}]})
        self.assertEqual(status, 200)
        self.assertEqual(body["create"][2]["error"]["code"], "term_exists")
        self.assertEqual(body["create"][2]["error"]["data"]["resource_id"], body["create"][0]["id"])
        status, _, p = self.c.api("POST", "/products", {
            "name": "Ship Your Idea", "type": "variable", "sku": "SYI",
            "attributes": [{"id": color["id"], "variation": True, "options": ["Black", "Green", "Red"]},
                           {"name": "Size", "variation": True, "options": ["S", "M"]}]})
        self.assertEqual(status, 201, p)
        self.assertEqual(p["attributes"][0]["options"], ["Black", "Green", "Red"])
        status, hdrs, terms = self.c.api("GET", "/products/attributes/%d/terms" % color["id"])
        self.assertEqual(hdrs["x-wp-total"], "3")  # "Red" was created by the product (get_terms)
        status, _, body = self.c.api("POST", "/products/%d/variations/batch" % p["id"], {"create": [
            {"sku": "SYI-BLK-S", "regular_price": "9.00", "manage_stock": True, "stock_quantity": 5,
             "attributes": [{"id": color["id"], "option": "Black"}, {"name": "Size", "option": "S"}]},
            {"sku": "syi", "regular_price": "9.00", "attributes": [{"id": color["id"], "option": "Green"}]},
            {"sku": "SYI-GRN-M", "regular_price": "11.00", "attributes": [{"id": color["id"], "option": "Green"},
                                                                         {"name": "Size", "option": "M"}]}]})
        self.assertEqual(status, 200)
        v1, bad, v3 = body["create"]
        self.assertEqual(bad["error"]["data"]["resource_id"], p["id"])  # variation SKUs share the namespace
        self.assertEqual(v1["attributes"], [{"id": color["id"], "name": "Color", "option": "Black"},
                                            {"id": 0, "name": "Size", "option": "S"}])
        self.assertEqual((v1["stock_quantity"], v3["stock_quantity"]), (5, None))
        status, _, found = self.c.api("GET", "/products", query={"sku": "SYI-GRN-M"})
        self.assertEqual((found[0]["type"], found[0]["parent_id"], found[0]["id"]), ("variation", p["id"], v3["id"]))
        status, hdrs, vs = self.c.api("GET", "/products/%d/variations" % p["id"], query={"per_page": 1})
        self.assertEqual((hdrs["x-wp-total"], hdrs["x-wp-totalpages"], len(vs)), ("2", "2", 1))
        status, _, parent = self.c.api("GET", "/products/%d" % p["id"])
        self.assertEqual((parent["price"], sorted(parent["variations"])), ("9.00", sorted([v1["id"], v3["id"]])))
        status, _, body = self.c.api("DELETE", "/products/%d/variations/%d" % (p["id"], v1["id"]))
        self.assertEqual(status, 501)  # variations need force=true
        status, _, body = self.c.api("DELETE", "/products/%d/variations/%d" % (p["id"], v1["id"]),
                                     query={"force": "true"})
        self.assertEqual(status, 200)
        st = self.c.control("GET", "state")
        self.assertEqual([v["sku"] for v in st["variations"]], ["SYI-GRN-M"])
        self.assertEqual(st["variations"][0]["attributes"], {"pa_color": "green", "size": "M"})

    # ------------------------------------------------------------ indexes
    def test_sku_index_follows_renames_trash_and_deletes(self):
        # SKUs, a product's variations, slugs and the terms in use are looked up through
        # indexes: they must follow every rename, update and delete.
        def sku_ids(sku):
            return [x["id"] for x in self.c.api("GET", "/products", query={"sku": sku})[2]]

        _, _, a = self.c.api("POST", "/products", {"name": "A", "sku": "A-1"})
        _, _, v = self.c.api("POST", "/products", {"name": "V", "type": "variable", "sku": "V",
                                                  "attributes": [{"name": "Size", "variation": True,
                                                                  "options": ["S", "M"]}]})
        _, _, body = self.c.api("POST", "/products/%d/variations/batch" % v["id"], {"create": [
            {"sku": "V-S", "attributes": [{"name": "Size", "option": "S"}]}]})
        vs = body["create"][0]
        status, _, body = self.c.api("PUT", "/products/%d" % a["id"], {"sku": "A-2"})
        self.assertEqual((status, body["sku"]), (200, "A-2"))
        status, _, body = self.c.api("PUT", "/products/%d/variations/%d" % (v["id"], vs["id"]), {"sku": "V-SMALL"})
        self.assertEqual((status, body["sku"]), (200, "V-SMALL"))
        self.assertEqual((sku_ids("a-1"), sku_ids("A-2"), sku_ids("v-s"), sku_ids("v-small")), ([], [a["id"]], [], [vs["id"]]))
        self.assertEqual(sku_ids("A-2,V-SMALL"), [vs["id"], a["id"]])   # newest first
        status, _, body = self.c.api("POST", "/products", {"name": "B", "sku": "v-small"})
        self.assertEqual((status, body["data"].get("resource_id")), (400, vs["id"]))
        self.assertEqual(self.c.api("POST", "/products", {"name": "B", "sku": "A-1"})[0], 201)
        # a trashed parent frees its variations' SKUs; restoring it takes them back
        self.assertEqual(self.c.api("DELETE", "/products/%d" % v["id"])[0], 200)
        self.assertEqual(sku_ids("V-SMALL"), [])
        self.assertEqual(self.c.api("PUT", "/products/%d" % v["id"], {"status": "publish"})[0], 200)
        self.assertEqual(sku_ids("V-SMALL"), [vs["id"]])
        # force-deleted with its variations: the SKUs are free, the variations gone
        self.assertEqual(self.c.api("DELETE", "/products/%d" % v["id"], query={"force": "true"})[0], 200)
        self.assertEqual((sku_ids("V"), sku_ids("V-SMALL")), ([], []))
        self.assertEqual(self.c.control("GET", "state")["variations"], [])
        self.assertEqual(self.c.api("POST", "/products", {"name": "C", "sku": "V-SMALL"})[0], 201)
        # a binary collation compares the same index exactly
        self.c.control("POST", "config", {"skuCaseSensitive": True})
        try:
            self.assertEqual(sku_ids("a-2"), [])
            self.assertEqual(sku_ids("A-2"), [a["id"]])
            self.assertEqual(self.c.api("POST", "/products", {"name": "D", "sku": "a-2"})[0], 201)
        finally:
            self.c.control("POST", "config", {"skuCaseSensitive": False})

    def test_variation_slug_and_term_indexes_follow_updates(self):
        _, _, color = self.c.api("POST", "/products/attributes", {"name": "Color"})
        _, _, p = self.c.api("POST", "/products", {"name": "Tee", "type": "variable", "attributes": [
            {"id": color["id"], "variation": True, "options": ["Red", "Blue"]}]})
        _, _, other = self.c.api("POST", "/products", {"name": "Mug", "type": "variable", "attributes": [
            {"id": color["id"], "variation": True, "options": ["Red"]}]})
        _, _, body = self.c.api("POST", "/products/%d/variations/batch" % p["id"], {"create": [
            {"regular_price": "5.00", "attributes": [{"id": color["id"], "option": "Red"}]},
            {"regular_price": "7.00", "attributes": [{"id": color["id"], "option": "Blue"}]}]})
        red, blue = [x["id"] for x in body["create"]]
        self.c.api("POST", "/products/%d/variations" % other["id"], {"regular_price": "3.00", "attributes": [
            {"id": color["id"], "option": "Red"}]})
        _, _, tee = self.c.api("GET", "/products/%d" % p["id"])
        self.assertEqual((sorted(tee["variations"]), tee["price"]), ([red, blue], "5.00"))
        self.assertEqual(self.c.api("DELETE", "/products/%d/variations/%d" % (p["id"], red), query={"force": "true"})[0],
                         200)
        _, hdrs, vs = self.c.api("GET", "/products/%d/variations" % p["id"])
        self.assertEqual(([x["id"] for x in vs], hdrs["x-wp-total"]), ([blue], "1"))
        _, _, tee = self.c.api("GET", "/products/%d" % p["id"])
        self.assertEqual((tee["variations"], tee["price"]), ([blue], "7.00"))
        # a variation is found under its own parent only
        self.assertEqual(self.c.api("GET", "/products/%d/variations/%d" % (other["id"], blue))[0], 404)
        # slugs: a renamed slug is free again
        self.assertEqual((tee["slug"], other["slug"]), ("tee", "mug"))
        self.assertEqual(self.c.api("POST", "/products", {"name": "Tee"})[2]["slug"], "tee-2")
        self.assertEqual(self.c.api("PUT", "/products/%d" % p["id"], {"slug": "tee-shirt"})[2]["slug"], "tee-shirt")
        self.assertEqual(self.c.api("POST", "/products", {"name": "Tee"})[2]["slug"], "tee")
        # term counts follow the products' attributes
        def counts():
            terms = self.c.api("GET", "/products/attributes/%d/terms" % color["id"])[2]
            return {t["name"]: t["count"] for t in terms}
        self.assertEqual(counts(), {"Red": 2, "Blue": 1})
        self.c.api("PUT", "/products/%d" % p["id"], {"attributes": [
            {"id": color["id"], "variation": True, "options": ["Blue", "Green"]}]})
        self.assertEqual(counts(), {"Red": 1, "Blue": 1, "Green": 1})
        self.c.api("DELETE", "/products/%d" % other["id"], query={"force": "true"})
        self.assertEqual(counts(), {"Red": 0, "Blue": 1, "Green": 1})

    # ------------------------------------------------------------ paging
    def test_paging_headers(self):
        self.c.control("POST", "seed", {"products": [{"name": "P%02d" % i, "sku": "P%02d" % i} for i in range(25)]})
        status, hdrs, body = self.c.api("GET", "/products", query={"per_page": 10, "page": 2, "orderby": "id",
                                                                   "order": "asc"})
        self.assertEqual((status, hdrs["x-wp-total"], hdrs["x-wp-totalpages"]), (200, "25", "3"))
        self.assertEqual([p["sku"] for p in body], ["P%02d" % i for i in range(10, 20)])
        self.assertIn('rel="prev"', hdrs["link"])
        self.assertIn('rel="next"', hdrs["link"])
        self.assertIn("page=3", hdrs["link"])
        status, hdrs, body = self.c.api("GET", "/products", query={"per_page": 10, "page": 4})
        self.assertEqual((status, body, hdrs["x-wp-total"]), (200, [], "25"))  # past the end: [] (§A4)
        status, _, body = self.c.api("GET", "/products", query={"per_page": 101})
        self.assertEqual((status, body["code"]), (400, "rest_invalid_param"))
        status, hdrs, body = self.c.api("GET", "/products")
        self.assertEqual(len(body), 10)  # default per_page

    # ------------------------------------------------------------ throttling and faults
    def test_host_rate_limit_and_faults(self):
        self.c.control("POST", "config", {"rateLimit": "3/s"})
        for _ in range(3):
            self.assertEqual(self.c.api("GET", "/products")[0], 200)
        status, hdrs, body = self.c.api("GET", "/products")
        self.assertEqual(status, 429)
        self.assertTrue(hdrs["content-type"].startswith("text/html"))
        self.assertGreaterEqual(int(hdrs["retry-after"]), 1)
        self.c.control("POST", "clock", {"advance_ms": 1001})
        self.assertEqual(self.c.api("GET", "/products")[0], 200)
        self.c.control("POST", "config", {"rateLimit": None})
        self.c.control("POST", "faults", {"rules": [{"match": "op:products.batch", "status": 503}]})
        status, hdrs, body = self.c.api("POST", "/products/batch", {"create": [{"name": "x"}]})
        self.assertEqual(status, 503)
        self.assertIn("Service Unavailable", body)
        self.assertEqual(self.c.control("GET", "state")["products"], [])

    def test_routes(self):
        status, _, body = self.c.api("GET", "/nothing")
        self.assertEqual(body, {"code": "rest_no_route", "message": "No route was found matching the URL and "
                                "request method", "data": {"status": 404}})
        status, _, body = self.c.api("PATCH", "/products")  # known path, wrong method
        self.assertEqual((status, body["code"]), (404, "rest_no_route"))
        status, _, body = self.c.raw("GET", "/?rest_route=/wc/v3/products&consumer_key=%s&consumer_secret=%s"
                                     % (CK, CS))
        self.assertEqual(status, 200)
        status, _, body = self.c.api("GET", "/orders")  # orders.py (test_orders.py)
        self.assertEqual((status, body), (200, []))
        status, _, body = self.c.api("GET", "/orders/1/notes")  # not emulated
        self.assertEqual((status, body["code"]), (404, "rest_no_route"))


class WooOAuthTest(unittest.TestCase):
    """--https-mode oauth (default): plain HTTP, OAuth 1.0a only."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wc-emu-")
        cls.proc, port = start_server(cls.tmp, "--oauth-clock", "real")
        cls.c = Client(port, "oauth")

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.proc)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.c.control("POST", "reset")

    def test_signed_requests(self):
        status, _, body = self.c.api("POST", "/products", {"name": "Signed", "sku": "S-1"},
                                     query={"context": "edit"})
        self.assertEqual(status, 201, body)  # JSON bodies are not part of the signature
        for algo in ("HMAC-SHA1", "HMAC-SHA256"):
            q = {"sku": "S-1", "per_page": "5"}
            q.update(self.c.oauth_params("GET", API + "/products", q, algo=algo))
            status, _, body = self.c.raw("GET", API + "/products?" + urllib.parse.urlencode(q))
            self.assertEqual(status, 200, body)
            self.assertEqual(len(json.loads(body)), 1)
        # the same parameters in an Authorization: OAuth header
        p = self.c.oauth_params("GET", API + "/products", {})
        header = "OAuth " + ", ".join('%s="%s"' % (k, urllib.parse.quote(v, safe="")) for k, v in p.items())
        status, _, body = self.c.raw("GET", API + "/products", headers={"Authorization": header})
        self.assertEqual(status, 200, body)

    def test_oauth_failures(self):
        def call(params):
            status, _, body = self.c.raw("GET", API + "/products?" + urllib.parse.urlencode(params))
            return status, json.loads(body)

        p = self.c.oauth_params("GET", API + "/products", {}, secret="cs_wrong")
        self.assertEqual(call(p), (401, {"code": "woocommerce_rest_authentication_error",
                                         "message": "Invalid signature - provided signature does not match.",
                                         "data": {"status": 401}}))
        p = self.c.oauth_params("GET", API + "/products", {}, nonce="fixed-nonce")
        self.assertEqual(call(p)[0], 200)
        p = self.c.oauth_params("GET", API + "/products", {}, nonce="fixed-nonce", ts=time.time() + 1)
        self.assertEqual(call(p)[1]["message"], "Invalid nonce - nonce has already been used.")
        p = self.c.oauth_params("GET", API + "/products", {}, ts=time.time() - 16 * 60)
        self.assertEqual(call(p)[1]["message"], "Invalid timestamp.")
        p = self.c.oauth_params("GET", API + "/products", {}, key="ck_unknown")
        self.assertEqual(call(p)[1]["message"], "Consumer key is invalid.")
        p = self.c.oauth_params("GET", API + "/products", {}, algo="PLAINTEXT")
        self.assertEqual(call(p)[1]["message"], "Invalid signature - signature method is invalid.")
        p = self.c.oauth_params("GET", API + "/products", {})
        del p["oauth_nonce"]
        status, body = call(p)
        self.assertEqual((status, body["code"], body["message"]),
                         (401, "woocommerce_rest_authentication_missing_parameter",
                          "Missing OAuth parameter oauth_nonce"))
        # a signature over another host name than the site's does not match
        q = {"oauth_consumer_key": CK, "oauth_timestamp": str(int(time.time())), "oauth_nonce": "n-host",
             "oauth_signature_method": "HMAC-SHA1"}
        q["oauth_signature"] = oauth_sign("GET", "http://localhost:%d%s/products" % (self.c.port, API), q, CS)
        self.assertEqual(call(q)[0], 401)

    def test_basic_auth_is_ignored_over_plain_http(self):
        status, _, body = self.c.api("GET", "/products", auth="basic")
        self.assertEqual((status, body["code"]), (401, "woocommerce_rest_cannot_view"))
        status, _, body = self.c.api("GET", "/products", auth=None, query={"consumer_key": CK, "consumer_secret": CS})
        self.assertEqual(status, 401)
        st = self.c.control("GET", "state")
        self.assertEqual(st["config"]["httpsMode"], "oauth")


if __name__ == "__main__":
    unittest.main()
