"""Tests of the Shopify emulator itself (not of posbridge).

Run from the repository root:
    python3 -m unittest discover -s tests/emulators -p 'test_*.py'
Most tests share one in-process emulator (reset before each test); a few start
the real command line in a subprocess.
"""

import gzip
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import common  # noqa: E402
from shopify.server import ShopifyPlatform, make_parser  # noqa: E402

TOKEN = "shpat_test_0123456789abcdef"
V = "2026-01"  # default served version in these tests
V_STRICT = "2026-04"

PRODUCT_SET = """
mutation ProductSet($input: ProductSetInput!, $synchronous: Boolean!) {
  productSet(input: $input, synchronous: $synchronous) {
    product {
      id handle status title vendor productType tags
      options { name values }
      variants(first: 20) {
        nodes { id sku price compareAtPrice barcode title selectedOptions { name value }
                inventoryItem { id tracked unitCost { amount } } }
      }
    }
    userErrors { code field message }
  }
}"""

BULK_UPDATE = """
mutation Bulk($productId: ID!, $variants: [ProductVariantsBulkInput!]!, $partial: Boolean) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: $partial) {
    product { id }
    productVariants { id sku price compareAtPrice barcode inventoryItem { sku tracked unitCost { amount } } }
    userErrors { code field message }
  }
}"""

SET_QTY = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta item { id } location { id } } }
    userErrors { code field message }
  }
}"""

SET_QTY_IDEMPOTENT = """
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta } }
    userErrors { code field message }
  }
}"""

LEVEL = """
query Level($id: ID!, $loc: ID!) {
  inventoryItem(id: $id) {
    id tracked
    inventoryLevel(locationId: $loc) { quantities(names: ["available", "on_hand"]) { name quantity } }
  }
}"""


def tee_input(**over):
    inp = {
        "title": "Cotton Tee", "vendor": "Acme", "productType": "Apparel", "status": "DRAFT",
        "productOptions": [
            {"name": "Size", "position": 1, "values": [{"name": "S"}, {"name": "M"}]},
            {"name": "Color", "position": 2, "values": [{"name": "Red"}]}],
        "variants": [
            {"optionValues": [{"optionName": "Size", "name": "S"}, {"optionName": "Color", "name": "Red"}],
             "sku": "TEE-S-RED", "price": "19.99", "compareAtPrice": "24.99", "barcode": "012345678905",
             "inventoryItem": {"cost": "7.50", "tracked": True},
             "inventoryQuantities": [{"locationId": "gid://shopify/Location/1", "name": "available",
                                      "quantity": 5}]},
            {"optionValues": [{"optionName": "Size", "name": "M"}, {"optionName": "Color", "name": "Red"}],
             "sku": "TEE-M-RED", "price": "19.99"}],
    }
    inp.update(over)
    return inp


class Client:
    def __init__(self, url):
        self.url = url

    def raw(self, method, path, body=None, headers=None):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                payload = r.read()
                return r.status, dict(r.headers), payload
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def gql(self, query, variables=None, version=V, token=TOKEN, operation=None):
        body = {"query": query, "variables": variables or {}}
        if operation:
            body["operationName"] = operation
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["X-Shopify-Access-Token"] = token
        status, hdrs, payload = self.raw("POST", "/admin/api/%s/graphql.json" % version, body, headers)
        return status, hdrs, json.loads(payload)

    def control(self, method, name, body=None):
        status, _, payload = self.raw(method, "/__emulator/" + name, body,
                                      {"Content-Type": "application/json"} if body is not None else {})
        return status, json.loads(payload)


class EmulatorCase(unittest.TestCase):
    """One emulator for the class; state reset before each test."""

    extra_args = []

    @classmethod
    def setUpClass(cls):
        args = make_parser().parse_args(["--port", "0", "--token", TOKEN] + cls.extra_args)
        cls.emu = common.Emulator(ShopifyPlatform, args).start()
        cls.c = Client(cls.emu.url)

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self.c.control("POST", "reset")
        self.c.control("POST", "config", {"oldestVersion": "2026-01", "throttle": "standard"})

    # helpers
    def ok(self, query, variables=None, version=V):
        status, _, body = self.c.gql(query, variables, version)
        self.assertEqual(status, 200, body)
        self.assertNotIn("errors", body, body)
        return body["data"]

    def create_tee(self, version=V, **over):
        data = self.ok(PRODUCT_SET, {"synchronous": True, "input": tee_input(**over)}, version)
        self.assertEqual(data["productSet"]["userErrors"], [])
        return data["productSet"]["product"]

    def state(self):
        return self.c.control("GET", "state")[1]


class AuthAndVersionTest(EmulatorCase):
    def test_missing_or_wrong_token_is_401_with_shopify_body(self):
        for token in (None, "shpat_wrong"):
            status, hdrs, body = self.c.gql("{ shop { name } }", token=token)
            self.assertEqual(status, 401)
            self.assertEqual(body, {"errors": "[API] Invalid API key or access token "
                                              "(unrecognized login or wrong password)"})
            self.assertEqual(hdrs["X-Shopify-API-Version"], V)

    def test_version_falls_forward_and_header_names_the_server(self):
        for asked, served in (("2026-04", "2026-04"), ("2024-10", "2026-01"), ("1999-01", "2026-01"),
                              ("garbage", "2026-01"), ("unstable", "unstable"), ("2026-10", "2026-10")):
            status, hdrs, body = self.c.gql("{ shop { name currencyCode } }", version=asked)
            self.assertEqual(status, 200, body)
            self.assertEqual(hdrs["X-Shopify-API-Version"], served, asked)
            self.assertEqual(body["data"]["shop"], {"name": "demo", "currencyCode": "USD"})

    def test_every_answer_carries_cost_extensions(self):
        _, _, body = self.c.gql("{ shop { name } locations(first: 5) { nodes { id name } } }")
        cost = body["extensions"]["cost"]
        self.assertEqual(cost["requestedQueryCost"], 1 + 2 + 5)
        self.assertEqual(cost["actualQueryCost"], 1 + 2 + 2)
        ts = cost["throttleStatus"]
        self.assertEqual((ts["maximumAvailable"], ts["restoreRate"]), (2000.0, 100.0))
        self.assertEqual(body["data"]["locations"]["nodes"], [
            {"id": "gid://shopify/Location/1", "name": "Main Store"},
            {"id": "gid://shopify/Location/2", "name": "Warehouse"}])

    def test_missing_query_is_400(self):
        status, _, payload = self.c.raw("POST", "/admin/api/2026-01/graphql.json", {"variables": {}},
                                        {"X-Shopify-Access-Token": TOKEN, "Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(payload), {"errors": {"query": "Required parameter missing or invalid"}})


class ValidationTest(EmulatorCase):
    def test_unknown_field_has_graphql_ruby_shape(self):
        status, _, body = self.c.gql("query Q {\n  products(first: 1) {\n    nodes {\n      id\n      nope\n"
                                     "    }\n  }\n}\n")
        self.assertEqual(status, 200)
        self.assertNotIn("data", body)
        self.assertEqual(body["errors"], [{
            "message": "Field 'nope' doesn't exist on type 'Product'",
            "locations": [{"line": 5, "column": 7}],
            "path": ["query Q", "products", "nodes", "nope"],
            "extensions": {"code": "undefinedField", "typeName": "Product", "fieldName": "nope"}}])

    def test_parse_error(self):
        _, _, body = self.c.gql("query X {\n  shop {\n    id\n")
        self.assertEqual(body["errors"][0]["extensions"], {"code": "PARSE_ERROR"})
        self.assertTrue(body["errors"][0]["message"].startswith("syntax error, unexpected end of file at"))

    def test_missing_selection_and_required_argument(self):
        _, _, body = self.c.gql("query M {\n  shop\n}\n")
        self.assertEqual(body["errors"][0]["message"],
                         "Field must have selections (field 'shop' returns Shop! but has no selections. "
                         "Did you mean 'shop { ... }'?)")
        _, _, body = self.c.gql("{ product { id } }")
        self.assertEqual(body["errors"][0]["extensions"]["code"], "missingRequiredArguments")

    def test_variables_are_coerced_like_graphql_ruby(self):
        q = "mutation M($input: ProductSetInput!) { productSet(input: $input) { userErrors { message } } }"
        _, _, body = self.c.gql(q, {})
        self.assertEqual(body["errors"][0]["message"],
                         "Variable $input of type ProductSetInput! was provided invalid value")
        self.assertEqual(body["errors"][0]["extensions"]["problems"],
                         [{"path": [], "explanation": "Expected value to not be null"}])
        _, _, body = self.c.gql(q, {"input": {"title": "x", "bogus": 1, "variants": [
            {"optionValues": [], "price": "abc"}]}})
        e = body["errors"][0]
        self.assertEqual(e["extensions"]["code"], "INVALID_VARIABLE")
        paths = {tuple(p["path"]): p["explanation"] for p in e["extensions"]["problems"]}
        self.assertEqual(paths[("bogus",)], "Field is not defined on ProductSetInput")
        self.assertEqual(paths[("variants", 0, "price")], "invalid money 'abc'")
        _, _, body = self.c.gql("query P($id: ID!) { product(id: $id) { id } }", {"id": "123"})
        self.assertEqual(body["errors"][0]["extensions"]["problems"][0]["explanation"], "Invalid global id '123'")

    def test_idempotent_directive_does_not_exist_before_2026_01(self):
        self.c.control("POST", "config", {"oldestVersion": "2025-01"})
        q = ('mutation { inventorySetQuantities(input: {name: "available", reason: "correction", '
             'ignoreCompareQuantity: true, quantities: []}) @idempotent(key: "k1") { userErrors { message } } }')
        _, _, body = self.c.gql(q, version="2025-07")
        self.assertEqual(body["errors"][0]["message"], "Directive @idempotent is not defined")
        self.assertEqual(body["errors"][0]["extensions"]["code"], "undefinedDirective")
        _, _, body = self.c.gql(q, version="2026-01")
        self.assertNotIn("errors", body)

    def test_unimplemented_non_null_fields_do_not_break_the_answer(self):
        p = self.create_tee()
        data = self.ok("query($id: ID!) { product(id: $id) { id isGiftCard publishedOnCurrentPublication "
                       "availablePublicationsCount { count } media(first: 2) { nodes { id } } "
                       "seo { title } } }", {"id": p["id"]})
        self.assertEqual(data["product"]["media"]["nodes"], [])
        self.assertIs(data["product"]["isGiftCard"], False)


class ProductSetTest(EmulatorCase):
    def test_create_shapes(self):
        p = self.create_tee()
        self.assertRegex(p["id"], r"^gid://shopify/Product/\d+$")
        self.assertEqual((p["handle"], p["status"], p["vendor"]), ("cotton-tee", "DRAFT", "Acme"))
        self.assertEqual(p["options"], [{"name": "Size", "values": ["S", "M"]},
                                        {"name": "Color", "values": ["Red"]}])
        v1, v2 = p["variants"]["nodes"]
        self.assertEqual((v1["sku"], v1["price"], v1["compareAtPrice"], v1["barcode"], v1["title"]),
                         ("TEE-S-RED", "19.99", "24.99", "012345678905", "S / Red"))
        self.assertEqual(v1["inventoryItem"]["unitCost"], {"amount": "7.5"})
        self.assertRegex(v1["inventoryItem"]["id"], r"^gid://shopify/InventoryItem/\d+$")
        self.assertIsNone(v2["compareAtPrice"])
        st = self.state()
        levels = {(l["sku"], l["locationId"]): l for l in st["inventoryLevels"]}
        self.assertEqual(levels[("TEE-S-RED", "gid://shopify/Location/1")]["available"], 5)
        self.assertNotIn(("TEE-S-RED", "gid://shopify/Location/2"), levels)

    def test_status_defaults_to_active_and_handles_are_made_unique(self):
        inp = {"title": "Plain Mug"}
        handles = []
        for _ in range(3):
            d = self.ok(PRODUCT_SET, {"synchronous": True, "input": inp})
            handles.append(d["productSet"]["product"]["handle"])
            self.assertEqual(d["productSet"]["product"]["status"], "ACTIVE")
            self.assertEqual(d["productSet"]["product"]["options"], [{"name": "Title", "values": ["Default Title"]}])
        self.assertEqual(handles, ["plain-mug", "plain-mug-1", "plain-mug-2"])
        d = self.ok(PRODUCT_SET, {"synchronous": True, "input": {"title": "Other", "handle": "Plain Mug"}})
        self.assertIsNone(d["productSet"]["product"])
        self.assertEqual(d["productSet"]["userErrors"], [{
            "code": "HANDLE_NOT_UNIQUE", "field": ["input", "handle"],
            "message": "Handle 'Plain Mug' already in use. Please provide a new handle."}])

    def test_update_replaces_the_variant_list_and_deletes_omitted_variants(self):
        p = self.create_tee()
        keep, drop = p["variants"]["nodes"]
        d = self.ok(PRODUCT_SET, {"synchronous": True, "input": {
            "id": p["id"],
            "productOptions": [{"name": "Size", "values": [{"name": "S"}]}, {"name": "Color", "values": [{"name": "Red"}]}],
            "variants": [{"id": keep["id"], "price": "21.00",
                          "optionValues": [{"optionName": "Size", "name": "S"}, {"optionName": "Color", "name": "Red"}]}]}})
        out = d["productSet"]["product"]
        self.assertEqual(d["productSet"]["userErrors"], [])
        self.assertEqual([v["id"] for v in out["variants"]["nodes"]], [keep["id"]])
        self.assertEqual(out["variants"]["nodes"][0]["price"], "21.00")
        self.assertEqual(out["variants"]["nodes"][0]["sku"], "TEE-S-RED")  # omitted fields unchanged
        self.assertEqual(out["title"], "Cotton Tee")
        st = self.state()
        self.assertEqual([v["id"] for v in st["variants"]], [keep["id"]])
        self.assertNotIn("TEE-M-RED", [l["sku"] for l in st["inventoryLevels"]])
        data = self.ok("query($id: ID!) { productVariant(id: $id) { id } }", {"id": drop["id"]})
        self.assertIsNone(data["productVariant"])

    def test_variant_without_id_is_a_new_variant(self):
        p = self.create_tee()
        inp = tee_input(id=p["id"])
        for v in inp["variants"]:
            v.pop("inventoryQuantities", None)
        d = self.ok(PRODUCT_SET, {"synchronous": True, "input": inp})
        new_ids = {v["id"] for v in d["productSet"]["product"]["variants"]["nodes"]}
        self.assertFalse(new_ids & {v["id"] for v in p["variants"]["nodes"]})
        self.assertEqual(len(self.state()["variants"]), 2)

    def test_option_value_mismatch_and_duplicate_variants(self):
        inp = tee_input()
        inp["variants"][1]["optionValues"][1]["name"] = "Blue"
        d = self.ok(PRODUCT_SET, {"synchronous": True, "input": inp})
        self.assertIsNone(d["productSet"]["product"])
        self.assertEqual(d["productSet"]["userErrors"], [{
            "code": "OPTION_VALUE_DOES_NOT_EXIST", "field": ["input", "variants", "1", "optionValues", "1"],
            "message": "Option value does not exist"}])
        inp = tee_input()
        inp["variants"][1]["optionValues"][0]["name"] = "S"
        d = self.ok(PRODUCT_SET, {"synchronous": True, "input": inp})
        self.assertEqual(d["productSet"]["userErrors"][0]["message"],
                         "The variant 'S / Red' already exists. Please change at least one option value.")
        self.assertEqual(d["productSet"]["userErrors"][0]["field"], ["input", "variants", "1"])
        self.assertEqual(self.state()["products"], [])

    def test_identifier_upsert_by_handle(self):
        q = """mutation($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
          productSet(input: $input, identifier: $identifier) { product { id handle title } userErrors { code field message } } }"""
        a = self.ok(q, {"identifier": {"handle": "blue-mug"}, "input": {"title": "Blue Mug"}})["productSet"]
        b = self.ok(q, {"identifier": {"handle": "blue-mug"}, "input": {"title": "Blue Mug v2"}})["productSet"]
        self.assertEqual(a["product"]["id"], b["product"]["id"])
        self.assertEqual((b["product"]["handle"], b["product"]["title"]), ("blue-mug", "Blue Mug v2"))
        c = self.ok(q, {"identifier": {"handle": "blue-mug"}, "input": {"id": a["product"]["id"], "title": "x"}})
        self.assertEqual(c["productSet"]["userErrors"], [{
            "code": "ID_NOT_ALLOWED", "field": ["input"], "message": "The id field is not allowed if identifier is provided."}])
        self.assertEqual(len(self.state()["products"]), 1)
        # 2025-01 has no identifier argument
        self.c.control("POST", "config", {"oldestVersion": "2025-01"})
        _, _, body = self.c.gql(q, {"identifier": {"handle": "x"}, "input": {"title": "x"}}, version="2025-01")
        self.assertEqual(body["errors"][0]["extensions"]["code"], "variableRequiresValidType")

    def test_length_limits(self):
        d = self.ok(PRODUCT_SET, {"synchronous": True, "input": {"title": "t" * 256, "vendor": "v" * 256}})
        self.assertEqual(d["productSet"]["userErrors"], [
            {"code": None, "field": ["input", "title"], "message": "is too long (maximum is 255 characters)"},
            {"code": None, "field": ["input"], "message": "Vendor is too long (maximum is 255 characters)"},
            {"code": None, "field": ["input"], "message": "Handle is too long (maximum is 255 characters)"}])

    def test_async_mode_returns_an_operation(self):
        q = """mutation($input: ProductSetInput!) { productSet(input: $input, synchronous: false) {
            product { id } productSetOperation { id status } userErrors { message } } }"""
        d = self.ok(q, {"input": {"title": "Async"}})["productSet"]
        self.assertIsNone(d["product"])
        self.assertEqual(d["productSetOperation"]["status"], "CREATED")
        op = self.ok("query($id: ID!) { productOperation(id: $id) { status product { title } } }",
                     {"id": d["productSetOperation"]["id"]})["productOperation"]
        self.assertEqual(op, {"status": "COMPLETE", "product": {"title": "Async"}})


class VariantsTest(EmulatorCase):
    def test_bulk_update_prices_barcode_cost(self):
        p = self.create_tee()
        v1, v2 = p["variants"]["nodes"]
        d = self.ok(BULK_UPDATE, {"productId": p["id"], "variants": [
            {"id": v1["id"], "price": "18.9", "compareAtPrice": None, "barcode": "999",
             "inventoryItem": {"sku": "TEE-S-RED-2", "cost": "7.10", "tracked": False}}]})
        r = d["productVariantsBulkUpdate"]
        self.assertEqual(r["userErrors"], [])
        self.assertEqual(r["productVariants"], [{
            "id": v1["id"], "sku": "TEE-S-RED-2", "price": "18.90", "compareAtPrice": None, "barcode": "999",
            "inventoryItem": {"sku": "TEE-S-RED-2", "tracked": False, "unitCost": {"amount": "7.1"}}}])
        self.assertEqual(self.state()["counters"]["mutations"]["productVariantsBulkUpdate"], 1)

    def test_bulk_update_errors_and_partial_updates(self):
        p = self.create_tee()
        v1, v2 = p["variants"]["nodes"]
        batch = [{"id": v1["id"], "price": "9.99"}, {"id": v2["id"], "price": "-1.00"}]
        d = self.ok(BULK_UPDATE, {"productId": p["id"], "variants": batch})["productVariantsBulkUpdate"]
        self.assertEqual(d["userErrors"], [{"code": "GREATER_THAN_OR_EQUAL_TO", "field": ["variants", "1", "price"],
                                            "message": "Price must be greater than or equal to 0"}])
        self.assertEqual(self.state()["variants"][0]["price"], "19.99")  # all or nothing
        d = self.ok(BULK_UPDATE, {"productId": p["id"], "variants": batch, "partial": True})["productVariantsBulkUpdate"]
        self.assertEqual(len(d["userErrors"]), 1)
        self.assertEqual([v["price"] for v in d["productVariants"]], ["9.99", "19.99"])
        d = self.ok(BULK_UPDATE, {"productId": p["id"], "variants": [
            {"id": "gid://shopify/ProductVariant/1", "price": "1"}, {"price": "2"},
            {"id": v1["id"], "inventoryQuantities": [{"availableQuantity": 1, "locationId": "gid://shopify/Location/1"}]}]})
        codes = [e["code"] for e in d["productVariantsBulkUpdate"]["userErrors"]]
        self.assertEqual(codes, ["PRODUCT_VARIANT_DOES_NOT_EXIST", "PRODUCT_VARIANT_ID_MISSING",
                                 "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE"])

    def test_bulk_create(self):
        p = self.create_tee()
        q = """mutation($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
          productVariantsBulkCreate(productId: $productId, variants: $variants) {
            productVariants { id title sku price } userErrors { code field message } } }"""
        d = self.ok(q, {"productId": p["id"], "variants": [
            {"optionValues": [{"optionName": "Size", "name": "L"}, {"optionName": "Color", "name": "Red"}],
             "price": "22.00", "inventoryItem": {"sku": "TEE-L-RED"},
             "inventoryQuantities": [{"availableQuantity": 4, "locationId": "gid://shopify/Location/2"}]}]})
        r = d["productVariantsBulkCreate"]
        self.assertEqual(r["userErrors"], [])
        self.assertEqual((r["productVariants"][0]["title"], r["productVariants"][0]["sku"]), ("L / Red", "TEE-L-RED"))
        st = self.state()
        self.assertEqual(st["products"][0]["options"][0]["values"], ["S", "M", "L"])
        lv = [l for l in st["inventoryLevels"] if l["sku"] == "TEE-L-RED"]
        self.assertEqual({l["locationId"]: l["available"] for l in lv},
                         {"gid://shopify/Location/1": 0, "gid://shopify/Location/2": 4})
        d = self.ok(q, {"productId": p["id"], "variants": [
            {"optionValues": [{"optionName": "Size", "name": "S"}, {"optionName": "Color", "name": "Red"}]}]})
        self.assertEqual(d["productVariantsBulkCreate"]["userErrors"][0]["code"], "VARIANT_ALREADY_EXISTS")

    def test_sku_search_pagination_and_duplicate_skus(self):
        self.create_tee()
        self.create_tee(title="Second Tee")  # same SKUs: Shopify allows duplicates
        q = """query($q: String, $after: String) { productVariants(first: 2, after: $after, query: $q) {
            pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id sku product { title } } } } }"""
        d = self.ok(q, {"q": 'sku:"TEE-S-RED"'})["productVariants"]
        self.assertEqual([e["node"]["product"]["title"] for e in d["edges"]], ["Cotton Tee", "Second Tee"])
        self.assertFalse(d["pageInfo"]["hasNextPage"])
        self.assertEqual(self.ok(q, {"q": "sku:tee-m-red"})["productVariants"]["edges"][0]["node"]["sku"], "TEE-M-RED")
        self.assertEqual(self.ok(q, {"q": "sku:NOPE"})["productVariants"]["edges"], [])
        seen, after = [], None
        while True:
            d = self.ok(q, {"after": after})["productVariants"]
            seen += [e["node"]["id"] for e in d["edges"]]
            if not d["pageInfo"]["hasNextPage"]:
                break
            after = d["pageInfo"]["endCursor"]
        self.assertEqual(len(seen), 4)
        self.assertEqual(len(set(seen)), 4)
        dup = self.ok('{ productVariants(first: 1, query: "sku:TEE-S-RED") { nodes { inventoryItem { duplicateSkuCount } } } }')
        self.assertEqual(dup["productVariants"]["nodes"][0]["inventoryItem"]["duplicateSkuCount"], 1)

    def test_products_query_filters(self):
        self.create_tee()
        self.create_tee(title="Hidden", status="ARCHIVED", tags=["b", "A", "a"])
        q = 'query($q: String) { products(first: 10, query: $q) { nodes { title tags } } }'
        self.assertEqual([n["title"] for n in self.ok(q, {"q": "status:ARCHIVED"})["products"]["nodes"]], ["Hidden"])
        self.assertEqual(self.ok(q, {"q": "tag:a"})["products"]["nodes"], [{"title": "Hidden", "tags": ["A", "b"]}])
        self.assertEqual(len(self.ok(q, {"q": "status:active,draft"})["products"]["nodes"]), 1)
        self.assertEqual(len(self.ok(q, {"q": "title:Cotton OR title:Hidden"})["products"]["nodes"]), 2)


class InventoryTest(EmulatorCase):
    def setUp(self):
        super().setUp()
        p = self.create_tee()
        self.item = p["variants"]["nodes"][0]["inventoryItem"]["id"]

    def q(self, **over):
        quantity = {"inventoryItemId": self.item, "locationId": "gid://shopify/Location/1", "quantity": 12}
        quantity.update(over.pop("quantity", {}))
        inp = {"name": "on_hand", "reason": "correction", "referenceDocumentUri": "posbridge://batch/1/row/2",
               "quantities": [quantity]}
        inp.update(over)
        return {"input": inp}

    def level(self, loc="gid://shopify/Location/1"):
        d = self.ok(LEVEL, {"id": self.item, "loc": loc})
        lv = d["inventoryItem"]["inventoryLevel"]
        return None if lv is None else {x["name"]: x["quantity"] for x in lv["quantities"]}

    def test_set_on_hand_with_ignore_compare(self):
        d = self.ok(SET_QTY, self.q(ignoreCompareQuantity=True))["inventorySetQuantities"]
        self.assertEqual(d["userErrors"], [])
        g = d["inventoryAdjustmentGroup"]
        self.assertEqual(g["reason"], "correction")
        self.assertEqual([(c["name"], c["delta"]) for c in g["changes"]], [("on_hand", 7), ("available", 7)])
        self.assertEqual(self.level(), {"available": 12, "on_hand": 12})

    def test_compare_quantity_rules_2026_01(self):
        d = self.ok(SET_QTY, self.q())["inventorySetQuantities"]
        self.assertEqual(d["userErrors"][0]["code"], "COMPARE_QUANTITY_REQUIRED")
        d = self.ok(SET_QTY, self.q(quantity={"compareQuantity": 4}))["inventorySetQuantities"]
        self.assertEqual(d["userErrors"][0]["code"], "COMPARE_QUANTITY_STALE")
        d = self.ok(SET_QTY, self.q(quantity={"changeFromQuantity": 4}))["inventorySetQuantities"]
        self.assertEqual(d["userErrors"], [{"code": "CHANGE_FROM_QUANTITY_STALE",
                                            "field": ["input", "quantities", "0", "changeFromQuantity"],
                                            "message": "The changeFromQuantity value does not match the persisted quantity."}])
        self.assertEqual(self.level()["on_hand"], 5)
        d = self.ok(SET_QTY, self.q(quantity={"changeFromQuantity": 5}))["inventorySetQuantities"]
        self.assertEqual(d["userErrors"], [])
        d = self.ok(SET_QTY, self.q(quantity={"changeFromQuantity": None, "quantity": 3}))["inventorySetQuantities"]
        self.assertEqual(d["userErrors"], [])
        self.assertEqual(self.level()["on_hand"], 3)

    def test_location_errors_and_activation(self):
        wh = "gid://shopify/Location/2"
        d = self.ok(SET_QTY, self.q(ignoreCompareQuantity=True, quantity={"locationId": wh}))["inventorySetQuantities"]
        self.assertEqual(d["userErrors"], [{"code": "ITEM_NOT_STOCKED_AT_LOCATION",
                                            "field": ["input", "quantities", "0", "locationId"],
                                            "message": "The specified inventory item is not stocked at the location."}])
        d = self.ok(SET_QTY, self.q(ignoreCompareQuantity=True, quantity={"locationId": "gid://shopify/Location/99"}))
        self.assertEqual(d["inventorySetQuantities"]["userErrors"][0]["code"], "INVALID_LOCATION")
        d = self.ok("mutation($i: ID!, $l: ID!) { inventoryActivate(inventoryItemId: $i, locationId: $l, available: 2) "
                    "{ inventoryLevel { id quantities(names: [\"available\"]) { quantity } } userErrors { message } } }",
                    {"i": self.item, "l": wh})
        self.assertEqual(d["inventoryActivate"]["inventoryLevel"]["quantities"], [{"quantity": 2}])
        d = self.ok(SET_QTY, self.q(ignoreCompareQuantity=True, quantity={"locationId": wh}))
        self.assertEqual(d["inventorySetQuantities"]["userErrors"], [])
        self.assertEqual(self.level(wh), {"available": 12, "on_hand": 12})

    def test_bad_name_reason_and_bounds(self):
        d = self.ok(SET_QTY, self.q(name="damaged", reason="because", ignoreCompareQuantity=True,
                                    quantity={"quantity": -1}))["inventorySetQuantities"]
        self.assertEqual([e["code"] for e in d["userErrors"]], ["INVALID_NAME", "INVALID_REASON"])
        d = self.ok(SET_QTY, self.q(ignoreCompareQuantity=True, quantity={"quantity": -1}))["inventorySetQuantities"]
        self.assertEqual(d["userErrors"][0]["code"], "INVALID_QUANTITY_NEGATIVE")

    def test_2026_04_needs_idempotent_and_change_from_quantity(self):
        status, _, body = self.c.gql(SET_QTY, self.q(quantity={"changeFromQuantity": 5}), version=V_STRICT)
        self.assertEqual(body["errors"][0]["message"],
                         "The @idempotent directive is required for this mutation but was not provided.")
        self.assertEqual(body["errors"][0]["extensions"], {"code": "BAD_REQUEST"})
        self.assertEqual(body["data"], {"inventorySetQuantities": None})
        self.assertIn("cost", body["extensions"])
        v = dict(self.q(), key="posbridge-1")
        _, _, body = self.c.gql(SET_QTY_IDEMPOTENT, v, version=V_STRICT)
        self.assertEqual(body["errors"][0]["message"],
                         "InventoryQuantityInput must include the following argument: changeFromQuantity.")
        self.assertEqual(body["errors"][0]["extensions"]["code"], "INVALID_FIELD_ARGUMENTS")
        _, _, body = self.c.gql(SET_QTY_IDEMPOTENT, dict(self.q(ignoreCompareQuantity=True), key="k"), version=V_STRICT)
        self.assertEqual(body["errors"][0]["extensions"]["problems"][0],
                         {"path": ["ignoreCompareQuantity"],
                          "explanation": "Field is not defined on InventorySetQuantitiesInput"})
        v = dict(self.q(quantity={"changeFromQuantity": 5}), key="posbridge-1")
        first = self.ok(SET_QTY_IDEMPOTENT, v, version=V_STRICT)
        again = self.ok(SET_QTY_IDEMPOTENT, v, version=V_STRICT)  # a retry: no second change
        self.assertEqual(first, again)
        self.assertEqual(self.level()["on_hand"], 12)
        st = self.state()
        self.assertEqual(st["counters"]["idempotentReplays"], 1)
        self.assertEqual(len(st["inventoryAdjustmentGroups"]), 1)
        _, _, body = self.c.gql(SET_QTY_IDEMPOTENT, dict(self.q(quantity={"changeFromQuantity": 12, "quantity": 1}),
                                                         key="posbridge-1"), version=V_STRICT)
        self.assertEqual(body["errors"][0]["extensions"]["code"], "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")
        # productSet needs no directive in 2026-04
        self.create_tee(version=V_STRICT, title="Strict Tee")


class LimitsAndThrottleTest(EmulatorCase):
    def test_input_arrays_over_250(self):
        p = self.create_tee()
        variants = [{"id": p["variants"]["nodes"][0]["id"], "price": "1.00"}] * 251
        _, _, body = self.c.gql(BULK_UPDATE, {"productId": p["id"], "variants": variants})
        self.assertNotIn("data", body)
        self.assertEqual(body["errors"][0]["message"], "The input array size of 251 is greater than the maximum allowed of 250.")
        self.assertEqual(body["errors"][0]["extensions"], {"code": "MAX_INPUT_SIZE_EXCEEDED"})
        self.assertEqual(body["errors"][0]["path"], ["productVariantsBulkUpdate", "variants"])

    def test_max_cost_exceeded(self):
        _, _, body = self.c.gql("{ products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }")
        e = body["errors"][0]
        self.assertEqual(e["extensions"]["code"], "MAX_COST_EXCEEDED")
        self.assertEqual(e["extensions"]["maxCost"], 1000)
        self.assertTrue(e["message"].startswith("Query cost is %d, which exceeds the single query max cost limit (1000)."
                                                % e["extensions"]["cost"]))

    def test_throttled_then_restored(self):
        self.c.control("POST", "config", {"bucket": 30, "restoreRate": 1})
        q = "{ products(first: 10) { nodes { id } } }"  # requested 12
        answers = [self.c.gql(q)[2] for _ in range(3)]
        self.assertNotIn("errors", answers[0])
        self.assertNotIn("errors", answers[1])  # actual 2 each: refunded
        for _ in range(10):
            self.c.gql("mutation { productCreate(product: {title: \"t\"}) { userErrors { message } } }")
        body = self.c.gql(q)[2]
        self.assertEqual(body["errors"], [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}])
        self.assertNotIn("data", body)
        self.assertIsNone(body["extensions"]["cost"]["actualQueryCost"])
        self.assertEqual(body["extensions"]["cost"]["requestedQueryCost"], 12)
        self.c.control("POST", "clock", {"advance_ms": 30000})
        self.assertNotIn("errors", self.c.gql(q)[2])
        self.assertGreaterEqual(self.state()["counters"]["throttled"], 1)


class HarnessTest(EmulatorCase):
    def test_fault_rules(self):
        self.c.control("POST", "faults", {"rules": [{"match": "graphql", "status": 429, "count": 2},
                                                    {"status": 503, "count": 1}]})
        codes = [self.c.gql("{ shop { name } }")[0] for _ in range(4)]
        self.assertEqual(codes, [429, 429, 503, 200])
        self.c.control("POST", "faults", {"rules": [{"status": 429}]})
        status, hdrs, body = self.c.gql("{ shop { name } }")
        self.assertEqual(status, 429)
        self.assertEqual(hdrs["Retry-After"], "2.0")
        self.assertIn("Exceeded 2 calls per second", body["errors"])

    def test_drop_and_drop_after(self):
        self.c.control("POST", "faults", {"rules": [{"drop": True}]})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
            self.c.gql("{ shop { name } }")
        self.c.control("POST", "faults", {"rules": [{"match": "op:ProductSet", "drop": "after"}]})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
            self.c.gql(PRODUCT_SET, {"synchronous": True, "input": tee_input()}, operation="ProductSet")
        self.assertEqual(len(self.state()["products"]), 1)  # it ran; only the answer was lost

    def test_delay_uses_scaled_clock(self):
        self.c.control("POST", "faults", {"rules": [{"delay_ms": 300}]})
        t = time.monotonic()
        self.assertEqual(self.c.gql("{ shop { name } }")[0], 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.29)

    def test_gzip(self):
        status, hdrs, payload = self.c.raw("POST", "/admin/api/2026-01/graphql.json", {"query": "{ shop { name } }"},
                                           {"X-Shopify-Access-Token": TOKEN, "Accept-Encoding": "gzip",
                                            "Content-Type": "application/json"})
        self.assertEqual(hdrs.get("Content-Encoding"), "gzip")
        self.assertEqual(json.loads(gzip.decompress(payload))["data"]["shop"]["name"], "demo")

    def test_request_log_redacts_the_token(self):
        self.c.gql("{ shop { name } }", operation=None)
        _, log = self.c.control("GET", "requests")
        entry = log["requests"][-1]
        self.assertEqual(entry["headers"]["X-Shopify-Access-Token"], "***")
        self.assertNotIn(TOKEN, json.dumps(log))
        self.assertEqual(entry["status"], 200)
        self.assertEqual(entry["operation"], "shop")

    def test_seed_and_state(self):
        status, out = self.c.control("POST", "seed", {"products": [
            {"title": "Seeded Shirt", "options": [{"name": "Size", "values": ["S", "M"]}],
             "variants": [{"options": ["S"], "sku": "SH-S", "price": "10", "inventory": {"Main Store": 3, "Warehouse": 1}},
                          {"options": ["M"], "sku": "SH-M", "price": "10.5", "cost": "4"}]}]})
        self.assertEqual(status, 200)
        st = self.state()
        self.assertEqual([v["price"] for v in st["variants"]], ["10.00", "10.50"])
        self.assertEqual({(l["sku"], l["locationId"]): l["available"] for l in st["inventoryLevels"]},
                         {("SH-S", "gid://shopify/Location/1"): 3, ("SH-S", "gid://shopify/Location/2"): 1,
                          ("SH-M", "gid://shopify/Location/1"): 0})
        d = self.ok('{ productVariants(first: 5, query: "sku:SH-M") { nodes { id inventoryItem { unitCost { amount } } } } }')
        self.assertEqual(d["productVariants"]["nodes"][0]["inventoryItem"]["unitCost"]["amount"], "4.0")
        self.assertEqual(out["products"][0]["variants"][0]["sku"], "SH-S")

    def test_bad_fault_rule_is_400(self):
        status, body = self.c.control("POST", "faults", {"rules": [{"match": "x"}]})
        self.assertEqual(status, 400)

    def test_fault_skip_and_operation_match(self):
        self.c.control("POST", "faults", {"rules": [{"match": "op:Two", "skip": 1, "status": 500}]})
        q = "query Two { shop { name } }"
        self.assertEqual([self.c.gql(q)[0] for _ in range(3)], [200, 500, 200])
        self.assertEqual(self.c.gql("query One { shop { name } }")[0], 200)
        _, rules = self.c.control("GET", "faults")
        self.assertEqual((rules["rules"][0]["remaining"], rules["rules"][0]["applied"]), (0, 1))

    def test_token_in_a_body_is_redacted_too(self):
        self.c.gql("query($t: String) { shop { name } productsCount(query: $t) { count } }", {"t": TOKEN})
        _, log = self.c.control("GET", "requests")
        self.assertNotIn(TOKEN, json.dumps(log))
        self.assertIn("***", log["requests"][-1]["body"])

    def test_search_lags_writes(self):
        self.c.control("POST", "config", {"searchLagMs": 5000})
        self.create_tee()
        q = '{ productVariants(first: 5, query: "sku:TEE-S-RED") { nodes { id } } }'
        self.assertEqual(self.ok(q)["productVariants"]["nodes"], [])
        self.c.control("POST", "clock", {"advance_ms": 6000})
        self.assertEqual(len(self.ok(q)["productVariants"]["nodes"]), 1)
        self.c.control("POST", "config", {"searchLagMs": 0})


class ClockScaleTest(EmulatorCase):
    extra_args = ["--clock-scale", "10", "--throttle", "plus"]

    def test_restore_rate_follows_clock_scale(self):
        self.c.control("POST", "config", {"throttle": "plus"})
        ts = self.c.gql("{ shop { name } }")[2]["extensions"]["cost"]["throttleStatus"]
        self.assertEqual((ts["maximumAvailable"], ts["restoreRate"]), (20000.0, 10000.0))


class CommandLineTest(unittest.TestCase):
    def start(self, tmp, *extra):
        port_file = os.path.join(tmp, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        cmd = [sys.executable, os.path.join(HERE, "server.py"), "--port", "0", "--port-file", port_file,
               "--token", TOKEN, "--shop", "cli", "--state-file", os.path.join(tmp, "state.json"),
               "--log-file", os.path.join(tmp, "log.jsonl")] + list(extra)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(200):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        with open(port_file) as f:
            return proc, Client("http://127.0.0.1:%d" % int(f.read()))

    def stop(self, proc):
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        proc.stderr.close()

    def test_state_file_survives_restart_and_log_file_has_no_token(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc, c = self.start(tmp)
            try:
                status, _, body = c.gql(PRODUCT_SET, {"synchronous": True, "input": tee_input()})
                self.assertEqual(status, 200, body)
                pid = body["data"]["productSet"]["product"]["id"]
            finally:
                self.stop(proc)
            proc, c = self.start(tmp)
            try:
                _, hdrs, body = c.gql("query($id: ID!) { product(id: $id) { handle variants(first: 5) { nodes { sku } } } "
                                      "shop { name } }", {"id": pid})
                self.assertEqual(body["data"]["product"]["handle"], "cotton-tee")
                self.assertEqual(body["data"]["shop"]["name"], "cli")
                self.assertEqual(len(body["data"]["product"]["variants"]["nodes"]), 2)
            finally:
                self.stop(proc)
            with open(os.path.join(tmp, "log.jsonl")) as f:
                text = f.read()
            self.assertIn("productSet", text)
            self.assertNotIn(TOKEN, text)


if __name__ == "__main__":
    unittest.main()
