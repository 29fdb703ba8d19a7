"""Tests of the Magento emulator itself (not of posbridge).

Run from the repository root:
    python3 -m unittest discover -s tests/emulators -p 'test_*.py'
One emulator subprocess for the module (a free port, --port-file), reset before each test.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from magento.oauth import sign_header  # noqa: E402

TOKEN = "admin_token_for_tests"
CK, CS, AT, ATS = "k" * 32, "s" * 32, "t" * 32, "u" * 32
NOT_AUTHORIZED = {"message": "The consumer isn't authorized to access %resources.",
                  "parameters": {"resources": "Magento_Catalog::products"}}

_server = None


def setUpModule():
    global _server
    tmp = tempfile.mkdtemp(prefix="magento-emu-")
    port_file = os.path.join(tmp, "port")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--port", "0", "--port-file", port_file,
                             "--token", TOKEN, "--oauth", ",".join([CK, CS, AT, ATS]), "--bulk-delay-ms", "5000"],
                            stderr=subprocess.PIPE)
    deadline = time.time() + 15
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError("emulator did not start: %s" % proc.stderr.read().decode())
        time.sleep(0.05)
    with open(port_file) as f:
        port = int(f.read())
    _server = (proc, "http://127.0.0.1:%d" % port)


def tearDownModule():
    proc = _server[0]
    proc.terminate()
    proc.wait(10)
    proc.stderr.close()


def call(method, path, body=None, token=TOKEN, headers=None):
    url = _server[1] + path
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def control(method, name, body=None):
    return call(method, "/__emulator/" + name, body, token=None)[1]


def option_id(attr, label):
    _, opts = call("GET", "/rest/all/V1/products/attributes/%s/options" % attr)
    return next(o["value"] for o in opts if o["label"] == label)


class Base(unittest.TestCase):
    def setUp(self):
        control("POST", "reset")
        control("POST", "config", {"bearerIntegration": False, "pagePastEnd": "last", "bulkConsumers": True})

    def create(self, sku, name=None, **extra):
        product = {"sku": sku, "name": name or sku, "attribute_set_id": 4, "price": 10, "type_id": "simple"}
        product.update(extra)
        product = {k: v for k, v in product.items() if v is not None}
        status, body = call("POST", "/rest/all/V1/products", {"product": product})
        self.assertEqual(status, 200, body)
        return body


class AuthTest(Base):
    def test_admin_bearer_and_missing_token(self):
        self.assertEqual(call("GET", "/rest/all/V1/products?searchCriteria[pageSize]=5")[0], 200)
        self.assertEqual(call("GET", "/rest/all/V1/products?searchCriteria[pageSize]=5", token=None),
                         (401, NOT_AUTHORIZED))
        self.assertEqual(call("GET", "/rest/all/V1/products?searchCriteria[pageSize]=5", token="nope"),
                         (401, NOT_AUTHORIZED))

    def test_integration_token_as_bearer_only_when_enabled(self):
        self.assertEqual(call("GET", "/rest/V1/inventory/sources", token=AT)[0], 401)
        control("POST", "config", {"bearerIntegration": True})
        status, body = call("GET", "/rest/V1/inventory/sources", token=AT)
        self.assertEqual(status, 200)
        self.assertEqual([s["source_code"] for s in body["items"]], ["default", "store1", "store2"])

    def _oauth_get(self, path, **over):
        url = _server[1] + path
        args = dict(consumer_key=CK, consumer_secret=CS, token=AT, token_secret=ATS,
                    nonce="n%f" % time.time(), timestamp=int(time.time()))
        args.update(over)
        auth = sign_header("GET", url, **args)
        return call("GET", path, token=None, headers={"Authorization": auth}), auth

    def test_oauth_signature_good_bad_and_replayed(self):
        path = "/rest/all/V1/products?searchCriteria%5BpageSize%5D=10&searchCriteria[currentPage]=1"
        (status, body), auth = self._oauth_get(path)
        self.assertEqual(status, 200, body)
        # the same nonce again: Nonce\Generator refuses it
        self.assertEqual(call("GET", path, token=None, headers={"Authorization": auth}),
                         (401, {"message": "The nonce is already being used by the consumer with ID %1",
                                "parameters": [1]}))
        (status, body), _ = self._oauth_get(path, consumer_secret="x" * 32)
        self.assertEqual((status, body), (401, {"message": "The signature is invalid. Verify and try again."}))
        # signed for another query string
        url = _server[1] + "/rest/all/V1/products?searchCriteria[pageSize]=99"
        auth = sign_header("GET", url, CK, CS, AT, ATS, "other-nonce", int(time.time()))
        self.assertEqual(call("GET", path, token=None, headers={"Authorization": auth})[0], 401)
        (status, body), _ = self._oauth_get(path, method_name="HMAC-SHA1")
        self.assertEqual((status, body), (400, {"message": "Signature method %1 is not supported",
                                                "parameters": ["HMAC-SHA1"]}))


class CatalogTest(Base):
    def test_unknown_option_value_is_rejected_until_the_option_exists(self):
        product = {"sku": "TEE-NAVY", "name": "Tee Navy", "price": 19.99, "type_id": "simple",
                   "custom_attributes": [{"attribute_code": "color", "value": "Navy"}]}
        status, body = call("POST", "/rest/all/V1/products", {"product": product})
        self.assertEqual((status, body), (400, {"message": "Invalid product data: %1",
                                                "parameters": ['The value of attribute "color" is invalid.']}))
        self.assertIsNone(control("GET", "state")["products"].get("TEE-NAVY"))
        status, new_id = call("POST", "/rest/all/V1/products/attributes/color/options",
                              {"option": {"label": "Navy", "sort_order": 0, "is_default": False}})
        self.assertEqual(status, 200)
        self.assertTrue(isinstance(new_id, str) and new_id.isdigit(), new_id)
        self.assertEqual(call("POST", "/rest/all/V1/products/attributes/color/options",
                              {"option": {"label": "navy"}}),
                         (400, {"message": 'Admin store attribute option label "%1" already exists.',
                                "parameters": ["navy"]}))
        product["custom_attributes"][0]["value"] = new_id
        status, body = call("POST", "/rest/all/V1/products", {"product": product})
        self.assertEqual(status, 200, body)
        self.assertIn({"attribute_code": "color", "value": new_id}, body["custom_attributes"])
        self.assertEqual(body["price"], 19.99)

    def test_spec_invalid_bodies(self):
        self.assertEqual(call("PUT", "/rest/all/V1/products/X", {"product": {"sku": "X", "price": "cheap"}}),
                         (400, {"message": 'Error occurred during "price" processing. The "cheap" value\'s type is '
                                           'invalid. The "float" type was expected. Verify and try again.'}))
        self.assertEqual(call("POST", "/rest/all/V1/products", {"item": {"sku": "X"}}),
                         (400, {"message": '"%fieldName" is required. Enter and try again.',
                                "parameters": {"fieldName": "product"}}))
        # numeric strings are converted, as in Adobe's own examples ("weight": "0.5")
        self.assertEqual(call("PUT", "/rest/all/V1/products/X", {"product": {"sku": "X", "weight": "0.5"}})[0], 200)
        status, body = call("POST", "/rest/all/V1/inventory/source-items",
                            {"sourceItems": [{"sku": "X", "source_code": "default", "quantity": "test", "status": 1}]})
        self.assertEqual(body["message"], 'Error occurred during "quantity" processing. The "test" value\'s type is '
                                          'invalid. The "float" type was expected. Verify and try again.')
        # a property the interface does not have: LogicException, masked in production mode
        status, body = call("POST", "/rest/all/V1/products", {"product": {"sku": "Y", "colour": "red"}})
        self.assertEqual(status, 500)
        self.assertTrue(body["message"].startswith("Internal Error. Details are available in Magento log file."))

    def test_configurable_with_children(self):
        red, blue = option_id("color", "Red"), option_id("color", "Blue")
        size_m = option_id("size", "M")
        status, attr = call("GET", "/rest/all/V1/products/attributes/color")
        self.assertEqual((status, attr["attribute_id"], attr["frontend_input"]), (200, 93, "select"))
        self.create("TEE", "Tee", type_id="configurable", visibility=4, status=2, price=None)
        for sku, color in (("TEE-RED-M", red), ("TEE-BLUE-M", blue), ("TEE-RED-M2", red)):
            self.create(sku, "Tee " + sku, visibility=1, custom_attributes=[
                {"attribute_code": "color", "value": color}, {"attribute_code": "size", "value": size_m}])
        self.assertEqual(call("POST", "/rest/all/V1/configurable-products/TEE/child", {"childSku": "TEE-RED-M"}),
                         (400, {"message": "The parent product doesn't have configurable product options."}))
        status, opt_id = call("POST", "/rest/all/V1/configurable-products/TEE/options", {"option": {
            "attribute_id": "93", "label": "Color", "position": 0, "is_use_default": True,
            "values": [{"value_index": int(red)}, {"value_index": int(blue)}]}})
        self.assertEqual(status, 200)
        self.assertIsInstance(opt_id, int)
        self.assertEqual(call("POST", "/rest/all/V1/configurable-products/TEE/child", {"childSku": "TEE-RED-M"}),
                         (200, True))
        self.assertEqual(call("POST", "/rest/all/V1/configurable-products/TEE/child", {"childSku": "TEE-BLUE-M"}),
                         (200, True))
        self.assertEqual(call("POST", "/rest/all/V1/configurable-products/TEE/child", {"childSku": "TEE-RED-M"}),
                         (400, {"message": "The product is already attached."}))
        status, body = call("POST", "/rest/all/V1/configurable-products/TEE/child", {"childSku": "TEE-RED-M2"})
        self.assertEqual(status, 400)
        self.assertEqual(body["message"], 'Products "%1" and "%2" have the same set of attribute values.')
        status, parent = call("GET", "/rest/all/V1/products/TEE")
        ext = parent["extension_attributes"]
        children = {call("GET", "/rest/all/V1/products/" + s)[1]["id"] for s in ("TEE-RED-M", "TEE-BLUE-M")}
        self.assertEqual(set(ext["configurable_product_links"]), children)
        self.assertEqual(ext["configurable_product_options"][0]["attribute_id"], "93")
        self.assertEqual((parent["status"], parent["price"], parent["type_id"]), (2, 0, "configurable"))
        status, kids = call("GET", "/rest/all/V1/configurable-products/TEE/children")
        self.assertEqual(sorted(k["sku"] for k in kids), ["TEE-BLUE-M", "TEE-RED-M"])

    def test_store_view_write_is_an_override(self):
        self.create("MUG", "Mug")
        status, body = call("PUT", "/rest/default/V1/products/MUG", {"product": {"sku": "MUG", "name": "Mug (view)",
                                                                                 "price": 12}})
        self.assertEqual((status, body["name"], body["price"]), (200, "Mug (view)", 12))
        _, admin = call("GET", "/rest/all/V1/products/MUG")
        self.assertEqual((admin["name"], admin["price"]), ("Mug", 12))   # name is store-scoped, price global
        state = control("GET", "state")["products"]["MUG"]
        self.assertEqual(state["overrides"], {"default": {"name": "Mug (view)"}})

    def test_search_paging_past_the_end_returns_the_last_page(self):
        for i in range(5):
            self.create("P%d" % i, price=10 + i)
        q = ("/rest/all/V1/products?searchCriteria[filter_groups][0][filters][0][field]=sku"
             "&searchCriteria[filter_groups][0][filters][0][value]=P%25"
             "&searchCriteria[filter_groups][0][filters][0][condition_type]=like"
             "&searchCriteria[sortOrders][0][field]=price&searchCriteria[sortOrders][0][direction]=DESC"
             "&searchCriteria[pageSize]=2&searchCriteria[currentPage]=")
        pages = {n: call("GET", q + str(n))[1] for n in (1, 3, 4, 9)}
        self.assertEqual([p["sku"] for p in pages[1]["items"]], ["P4", "P3"])
        self.assertEqual([p["sku"] for p in pages[3]["items"]], ["P0"])
        self.assertEqual(pages[4]["items"], pages[3]["items"])
        self.assertEqual(pages[9]["items"], pages[3]["items"])
        self.assertEqual({p["total_count"] for p in pages.values()}, {5})
        self.assertEqual(pages[9]["search_criteria"]["filter_groups"][0]["filters"][0]["condition_type"], "like")
        control("POST", "config", {"pagePastEnd": "empty"})
        self.assertEqual(call("GET", q + "9")[1]["items"], [])


class IndexTest(Base):
    """URL keys, product ids, SKU searches, option labels and source items are looked up through
    indexes: they must follow renames, updates and deletes."""

    def search_skus(self, value, cond="in"):
        status, body = call("GET", "/rest/all/V1/products?searchCriteria[filter_groups][0][filters][0][field]=sku"
                                   "&searchCriteria[filter_groups][0][filters][0][value]=%s"
                                   "&searchCriteria[filter_groups][0][filters][0][condition_type]=%s" % (value, cond))
        self.assertEqual(status, 200, body)
        return [p["sku"] for p in body["items"]], body["total_count"]

    def test_url_key_index_follows_renames_overrides_and_deletes(self):
        taken = (400, {"message": "URL key for specified store already exists."})
        self.create("MUG-1", "Mug")
        self.assertEqual(call("POST", "/rest/all/V1/products", {"product": {"sku": "MUG-2", "name": "Mug"}}), taken)
        # renamed: the old key is free, the new one taken
        status, body = call("PUT", "/rest/all/V1/products/MUG-1", {"product": {"custom_attributes": [
            {"attribute_code": "url_key", "value": "mug-old"}]}})
        self.assertEqual(status, 200, body)
        self.create("MUG-2", "Mug")
        self.assertEqual(call("POST", "/rest/all/V1/products", {"product": {"sku": "MUG-3", "name": "Mug Old"}}), taken)
        # a not-visible product has no URL rewrite: it does not take its key
        self.create("MUG-4", "Mug Old", visibility=1)
        # a store-view override takes the key in that store view only
        status, body = call("PUT", "/rest/default/V1/products/MUG-2", {"product": {"custom_attributes": [
            {"attribute_code": "url_key", "value": "mug-view"}]}})
        self.assertEqual(status, 200, body)
        status, body = call("PUT", "/rest/default/V1/products/MUG-1", {"product": {"custom_attributes": [
            {"attribute_code": "url_key", "value": "mug-view"}]}})
        self.assertEqual((status, body), taken)
        # deleted: its keys are free again
        self.assertEqual(call("DELETE", "/rest/all/V1/products/MUG-2"), (200, True))
        self.create("MUG-5", "Mug")
        self.assertEqual(call("PUT", "/rest/default/V1/products/MUG-1", {"product": {"custom_attributes": [
            {"attribute_code": "url_key", "value": "mug-view"}]}})[0], 200)

    def test_sku_search_index_follows_creates_and_deletes(self):
        for sku in ("Tee-1", "TEE-2", "007", "mug"):
            self.create(sku, "P " + sku)
        self.assertEqual(self.search_skus("tee-1,TEE-2,7,nope"), (["Tee-1", "TEE-2", "007"], 3))
        self.assertEqual(self.search_skus("MUG", "eq"), (["mug"], 1))
        self.assertEqual(call("DELETE", "/rest/all/V1/products/TEE-2"), (200, True))
        self.assertEqual(self.search_skus("tee-1,TEE-2,7"), (["Tee-1", "007"], 2))
        self.create("tee-2", "P again")
        self.assertEqual(self.search_skus("TEE-2", "eq"), (["tee-2"], 1))
        # another condition or field: every product is looked at, as before
        self.assertEqual(self.search_skus("tee%25", "like"), (["Tee-1", "tee-2"], 2))

    def test_configurable_links_follow_deleted_children(self):
        red, blue = option_id("color", "Red"), option_id("color", "Blue")
        self.create("TEE", "Tee", type_id="configurable")
        for sku, color in (("TEE-R", red), ("TEE-B", blue)):
            self.create(sku, "Tee " + sku, visibility=1, custom_attributes=[{"attribute_code": "color", "value": color}])
        ids = {s: call("GET", "/rest/all/V1/products/" + s)[1]["id"] for s in ("TEE-R", "TEE-B")}
        status, body = call("PUT", "/rest/all/V1/products/TEE", {"product": {"extension_attributes": {
            "configurable_product_options": [{"attribute_id": "93", "label": "Color",
                                              "values": [{"value_index": int(red)}, {"value_index": int(blue)}]}],
            "configurable_product_links": [ids["TEE-R"], ids["TEE-B"]]}}})
        self.assertEqual(status, 200, body)
        self.assertEqual(call("DELETE", "/rest/all/V1/products/TEE-R"), (200, True))
        _, parent = call("GET", "/rest/all/V1/products/TEE")
        self.assertEqual(parent["extension_attributes"]["configurable_product_links"], [ids["TEE-B"]])
        self.assertEqual([k["sku"] for k in call("GET", "/rest/all/V1/configurable-products/TEE/children")[1]],
                         ["TEE-B"])
        # a new product under the deleted SKU gets a new id: it is not the old child
        self.create("TEE-R", "Tee again", visibility=1, custom_attributes=[{"attribute_code": "color", "value": red}])
        self.assertEqual(call("POST", "/rest/all/V1/configurable-products/TEE/child", {"childSku": "TEE-R"}), (200, True))
        self.assertEqual(len(call("GET", "/rest/all/V1/configurable-products/TEE/children")[1]), 2)

    def test_option_index_follows_new_options(self):
        status, navy = call("POST", "/rest/all/V1/products/attributes/color/options", {"option": {"label": "Navy"}})
        self.assertEqual(status, 200)
        self.assertEqual(call("POST", "/rest/all/V1/products/attributes/color/options", {"option": {"label": "NAVY"}}),
                         (400, {"message": 'Admin store attribute option label "%1" already exists.',
                                "parameters": ["NAVY"]}))
        self.create("TEE-NAVY", "Tee Navy", custom_attributes=[{"attribute_code": "color", "value": navy}])
        self.assertEqual(call("POST", "/rest/all/V1/products", {"product": {
            "sku": "TEE-X", "name": "Tee X", "custom_attributes": [{"attribute_code": "color", "value": str(int(navy) + 1)}]}})[0],
            400)

    def test_source_items_go_with_their_product(self):
        for sku in ("A-1", "A-10"):
            self.create(sku)
            self.assertEqual(call("POST", "/rest/all/V1/inventory/source-items", {"sourceItems": [
                {"sku": sku, "source_code": "store1", "quantity": 4, "status": 1}]}), (200, []))
        self.assertEqual(call("DELETE", "/rest/all/V1/products/A-1"), (200, True))
        items = control("GET", "state")["source_items"]
        self.assertEqual(sorted((i["sku"], i["source_code"]) for i in items), [("A-10", "store1")])
        self.create("A-1")
        self.assertEqual(call("POST", "/rest/all/V1/inventory/source-items", {"sourceItems": [
            {"sku": "A-1", "source_code": "store2", "quantity": 1, "status": 1}]}), (200, []))
        self.assertEqual(call("DELETE", "/rest/all/V1/products/A-1"), (200, True))
        self.assertEqual([i["sku"] for i in control("GET", "state")["source_items"]], ["A-10"])


class FastCheckTest(unittest.TestCase):
    """Bodies are first checked by schema.FastCheck, which may only say "valid" when the full
    validator finds no error: compare the two on generated bodies, valid and not, for every
    POST and PUT body of the schema."""

    def test_fast_check_agrees_with_the_full_validator(self):
        import random
        from magento.schema import get_schema
        s = get_schema()
        rnd = random.Random(7)
        scalars = [None, 1, 2.5, "12", "abc", "", True, False, [], {}, [1, "x"], {"a": 1}, " 3 ", "1e3"]

        def gen(node, depth=0):
            if "$ref" in node:
                node = s.defs[node["$ref"].split("/")[-1]]
            if rnd.random() < 0.08 or depth > 4:
                return rnd.choice(scalars)
            t = node.get("type")
            if "properties" in node or t == "object":
                out = {k: gen(sub, depth + 1) for k, sub in node.get("properties", {}).items() if rnd.random() < 0.4}
                if rnd.random() < 0.05:
                    out["not_a_field"] = 1
                if node.get("x-magento-custom-attribute"):
                    for k, choices in (("attribute_code", ["color", "", None]), ("value", scalars)):
                        if rnd.random() < 0.7:
                            out[k] = rnd.choice(choices)
                return list(out.values()) if rnd.random() < 0.05 else out
            if t == "array":
                return [gen(node.get("items", {}), depth + 1) for _ in range(rnd.randint(0, 3))]
            return rnd.choice({"string": ["x", 1, 2.5, True, None, [1], {}], "integer": [1, "2", "x", 1.5, None, [], True],
                               "number": [1, "2.5", "x", None, {}], "boolean": [True, "1", 0, [], None]}.get(t, scalars))

        seen = {True: 0, False: 0}
        for tpl, ops in sorted(s.doc["paths"].items()):
            for method in sorted(ops):
                if method.upper() not in ("POST", "PUT") or s.validator(tpl, method) is None:
                    continue
                v, fast = s.validator(tpl, method), s._fast[(tpl, method)]
                self.assertIsNotNone(fast, tpl)
                for _ in range(12):
                    body = gen(v.schema)
                    valid = not list(v.iter_errors(body))
                    self.assertEqual(fast(body), valid, (tpl, method, body))
                    seen[valid] += 1
        self.assertTrue(seen[True] > 100 and seen[False] > 100, seen)


class InventoryAndBulkTest(Base):
    def test_msi_source_items(self):
        self.create("SKU-1")
        items = [{"sku": "SKU-1", "source_code": "store1", "quantity": 7, "status": 1},
                 {"sku": "SKU-1", "source_code": "default", "quantity": 3.5, "status": 1}]
        self.assertEqual(call("POST", "/rest/all/V1/inventory/source-items", {"sourceItems": items}), (200, []))
        status, body = call("GET", "/rest/all/V1/inventory/source-items?searchCriteria[filter_groups][0][filters][0]"
                                   "[field]=sku&searchCriteria[filter_groups][0][filters][0][value]=SKU-1")
        self.assertEqual(body["total_count"], 2)
        self.assertEqual({(i["source_code"], i["quantity"]) for i in body["items"]}, {("store1", 7), ("default", 3.5)})
        self.assertEqual(call("GET", "/rest/all/V1/products/SKU-1")[1]["extension_attributes"]["stock_item"]["qty"], 3.5)
        self.assertEqual(call("POST", "/rest/all/V1/inventory/source-items", {"sourceItems": [
            {"sku": " ", "source_code": "store1", "quantity": 1, "status": 1}]}),
            (400, {"message": "Validation Failed", "errors": [{"message": '"%field" can not be empty.',
                                                               "parameters": {"field": "sku"}}]}))
        self.assertEqual(call("POST", "/rest/all/V1/inventory/source-items", {"sourceItems": [
            {"sku": "SKU-1", "source_code": "nowhere", "quantity": 1, "status": 1}]}),
            (400, {"message": "Could not save Source Item"}))

    def test_async_bulk_products_then_status(self):
        status, body = call("POST", "/rest/all/async/bulk/V1/products", [
            {"product": {"sku": "B-1", "name": "Bulk one", "price": 5, "type_id": "simple"}},
            {"product": {"sku": "B-2", "name": "Bulk two", "price": 6, "type_id": "simple",
                         "custom_attributes": [{"attribute_code": "color", "value": "Mauve"}]}}])
        self.assertEqual(status, 202)
        self.assertEqual([(i["id"], i["status"]) for i in body["request_items"]], [(0, "accepted"), (1, "accepted")])
        self.assertFalse(body["errors"])
        uid = body["bulk_uuid"]
        status, st = call("GET", "/rest/V1/bulk/%s/status" % uid)
        self.assertEqual([o["status"] for o in st["operations_list"]], [4, 4])   # open: the consumer has not run
        self.assertEqual(call("GET", "/rest/all/V1/products/B-1")[0], 404)
        control("POST", "clock", {"advance_ms": 6000})
        status, st = call("GET", "/rest/V1/bulk/%s/detailed-status" % uid)
        self.assertEqual(st["description"], "Topic async.magento.catalog.api.productrepositoryinterface.save.post")
        self.assertEqual(st["operation_count"], 2)
        ops = st["operations_list"]
        self.assertEqual([o["status"] for o in ops], [1, 3])
        self.assertEqual(ops[1]["result_message"], 'Invalid product data: The value of attribute "color" is invalid.')
        meta = json.loads(json.loads(ops[0]["serialized_data"])["meta_information"])
        self.assertEqual(meta["product"]["sku"], "B-1")
        self.assertEqual(call("GET", "/rest/all/V1/products/B-1")[1]["name"], "Bulk one")
        self.assertEqual(call("GET", "/rest/V1/bulk/%s/operation-status/1" % uid), (200, 1))
        # one invalid body refuses the whole bulk request, nothing is scheduled
        status, body = call("POST", "/rest/all/async/bulk/V1/configurable-products/bySku/child",
                            [{"sku": "B-1", "childSku": "B-2"}, {"sku": "B-1"}])
        self.assertEqual((status, body["parameters"]), (400, {"fieldName": "childSku"}))


if __name__ == "__main__":
    unittest.main()
