"""Tests of the Magento emulator's orders, invoices, shipments, credit memos and customers.

Run from the repository root:
    python3 -m unittest tests/emulators/magento/test_orders.py
One emulator subprocess for the module, reset before each test.
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
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from magento.oauth import sign_header  # noqa: E402

TOKEN = "admin_token_for_order_tests"
CK, CS, AT, ATS = "k" * 32, "s" * 32, "t" * 32, "u" * 32
DATE_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")

_server = None


def setUpModule():
    global _server
    tmp = tempfile.mkdtemp(prefix="magento-orders-")
    port_file = os.path.join(tmp, "port")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--port", "0", "--port-file", port_file,
                             "--token", TOKEN, "--oauth", ",".join([CK, CS, AT, ATS]),
                             "--start-time", "2024-06-01T12:00:00Z"], stderr=subprocess.PIPE)
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
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(_server[1] + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def control(method, name, body=None):
    return call(method, "/__emulator/" + name, body, token=None)


def sc(filters=(), sort=None, page_size=None, page=None):
    """searchCriteria query string: filters = [[(field, value, condition), ...OR...], ...AND...]."""
    q = []
    for g, group in enumerate(filters):
        for f, (field, value, cond) in enumerate(group):
            pre = "searchCriteria[filter_groups][%d][filters][%d]" % (g, f)
            q += [(pre + "[field]", field), (pre + "[value]", value), (pre + "[condition_type]", cond)]
    if sort:
        q += [("searchCriteria[sortOrders][0][field]", sort[0]), ("searchCriteria[sortOrders][0][direction]", sort[1])]
    if page_size is not None:
        q.append(("searchCriteria[pageSize]", str(page_size)))
    if page is not None:
        q.append(("searchCriteria[currentPage]", str(page)))
    return urllib.parse.urlencode(q)


CATALOG = {
    "products": [
        {"sku": "HOODIE", "name": "Chaz Hoodie", "type_id": "configurable", "price": 52},
        {"sku": "HOODIE-S-GRAY", "name": "Chaz Hoodie-S-Gray", "price": 52, "visibility": 1,
         "custom_attributes": {"color": "Gray", "size": "S"}, "sources": {"default": 4}},
        {"sku": "MUG", "name": "Mug", "price": 10, "weight": 0.5, "sources": {"default": 2}}],
}
JANE = {"email": "jane@example.com", "first_name": "Jane", "last_name": "Doe",
        "created_at": "2024-01-02 03:04:05",
        "addresses": [{"street": ["123 Oak Ave", "Suite 4"], "city": "Purchase", "state": "NY", "postcode": "10755",
                       "country": "US", "phone": "512-555-1111"}]}


class Base(unittest.TestCase):
    def setUp(self):
        control("POST", "reset")
        control("POST", "config", {"pagePastEnd": "last", "inputLimit": False, "mode": "production"})

    def seed(self, data):
        status, body = control("POST", "seed", data)
        self.assertEqual(status, 200, body)
        return body

    def seed_catalog(self):
        out = self.seed(CATALOG)
        _, child = call("GET", "/rest/all/V1/products/HOODIE-S-GRAY")
        _, parent = call("GET", "/rest/all/V1/products/HOODIE")
        gray, small = out["attributes"]["color"]["options"]["Gray"], out["attributes"]["size"]["options"]["S"]
        status, body = call("PUT", "/rest/all/V1/products/HOODIE", {"product": {"sku": "HOODIE", "extension_attributes": {
            "configurable_product_options": [
                {"attribute_id": "93", "label": "Color", "values": [{"value_index": int(gray)}]},
                {"attribute_id": "141", "label": "Size", "values": [{"value_index": int(small)}]}],
            "configurable_product_links": [child["id"]]}}})
        self.assertEqual(status, 200, body)
        return parent["id"], child["id"], int(gray), int(small)

    def orders(self, query):
        status, body = call("GET", "/rest/default/V1/orders?" + query)
        self.assertEqual(status, 200, body)
        return body


class OrderShapeTest(Base):
    def test_configurable_pair_money_and_addresses(self):
        parent_id, child_id, gray, small = self.seed_catalog()
        self.seed({"customers": [JANE], "orders": [{
            "customer": "jane@example.com", "created_at": "2024-05-01T10:00:00Z", "updated_at": "2024-05-01 11:00:00",
            "lines": [{"sku": "HOODIE-S-GRAY", "qty": 2, "price": 52, "tax_percent": 10},
                      {"sku": "MUG", "qty": 1, "discount": 1}],
            "discount": {"amount": 10, "description": "Spring sale", "coupon_code": "SPRING"},
            "shipping": {"amount": 5, "tax": 0.5, "method": "tablerate_bestway", "description": "Best Way - Table Rate"},
            "payment": {"method": "checkmo"}}]})
        body = self.orders(sc(page_size=10))
        self.assertEqual(body["total_count"], 1)
        o = body["items"][0]
        self.assertEqual((o["entity_id"], o["increment_id"], o["state"], o["status"]), (1, "000000001", "complete",
                                                                                        "complete"))
        self.assertEqual((o["created_at"], o["updated_at"]), ("2024-05-01 10:00:00", "2024-05-01 11:00:00"))
        parent, child, mug = o["items"]
        # the parent row carries the money and the child's SKU; the child row has price 0
        self.assertEqual((parent["product_type"], parent["sku"], parent["product_id"], parent["name"]),
                         ("configurable", "HOODIE-S-GRAY", parent_id, "Chaz Hoodie"))
        self.assertEqual((parent["price"], parent["row_total"], parent["qty_ordered"]), (52, 104, 2))
        self.assertNotIn("parent_item_id", parent)
        self.assertEqual(parent["product_option"]["extension_attributes"]["configurable_item_options"],
                         [{"option_id": "93", "option_value": gray}, {"option_id": "141", "option_value": small}])
        self.assertEqual((child["product_type"], child["sku"], child["product_id"], child["parent_item_id"]),
                         ("simple", "HOODIE-S-GRAY", child_id, parent["item_id"]))
        self.assertEqual((child["price"], child["row_total"], child["tax_amount"], child["discount_amount"]),
                         (0, 0, 0, 0))
        self.assertEqual(child["parent_item"]["item_id"], parent["item_id"])
        self.assertEqual(child["parent_item"]["price"], 52)
        # the order discount is spread over the rows (positive), the order total is negative
        self.assertEqual(parent["discount_amount"] + mug["discount_amount"], 11)
        self.assertEqual(mug["discount_amount"], 1.8)   # 1 on the line + 10 * 9/113 of the rule
        self.assertEqual(o["discount_amount"], -11)
        self.assertEqual(o["discount_description"], "Spring sale")
        self.assertEqual(o["coupon_code"], "SPRING")
        # tax after discount (apply_after_discount): (104 - 9.2) * 10%
        self.assertEqual(parent["discount_amount"], 9.2)
        self.assertEqual(parent["tax_amount"], 9.48)
        self.assertEqual(o["tax_amount"], 9.98)
        self.assertEqual(o["subtotal"], 114)
        self.assertEqual(o["shipping_amount"], 5)
        self.assertEqual(o["shipping_tax_amount"], 0.5)
        self.assertEqual(o["shipping_incl_tax"], 5.5)
        self.assertEqual(o["grand_total"], round(114 + 5 + 9.98 - 11, 2))
        self.assertEqual(o["base_grand_total"], o["grand_total"])
        self.assertEqual((o["total_paid"], o["total_due"], o["total_qty_ordered"]), (o["grand_total"], 0, 3))
        self.assertIsInstance(o["grand_total"], float)
        self.assertIsInstance(o["subtotal"], int)
        self.assertEqual((parent["qty_invoiced"], parent["qty_shipped"], child["qty_shipped"]), (2, 2, 2))
        self.assertEqual(o["order_currency_code"], "USD")
        # customer and addresses: street is an array; shipping address only in shipping_assignments
        self.assertEqual((o["customer_id"], o["customer_is_guest"], o["customer_email"], o["customer_firstname"]),
                         (1, 0, "jane@example.com", "Jane"))
        bill = o["billing_address"]
        self.assertEqual(bill["street"], ["123 Oak Ave", "Suite 4"])
        self.assertEqual((bill["region"], bill["region_code"], bill["region_id"], bill["firstname"]),
                         ("New York", "NY", 43, "Jane"))
        self.assertNotIn("shipping_address", o)
        ship = o["extension_attributes"]["shipping_assignments"][0]["shipping"]
        self.assertEqual((ship["address"]["address_type"], ship["method"]), ("shipping", "tablerate_bestway"))
        self.assertEqual(o["shipping_description"], "Best Way - Table Rate")
        self.assertEqual(ship["total"]["shipping_amount"], 5)
        # payment: required nulls printed, method code, title
        pay = o["payment"]
        self.assertEqual((pay["method"], pay["additional_information"], pay["account_status"], pay["cc_last4"]),
                         ("checkmo", ["Check / Money order"], None, None))
        self.assertIn({"key": "method_title", "value": "Check / Money order"},
                      o["extension_attributes"]["payment_additional_info"])
        taxes = o["extension_attributes"]["applied_taxes"]
        self.assertEqual([(t["percent"], t["amount"]) for t in taxes], [(10, 9.98)])
        hist = o["status_histories"]
        self.assertEqual(hist[0]["status"], "complete")
        self.assertIn("comment", hist[0])
        for key in ("created_at", "updated_at"):
            self.assertRegex(o[key], DATE_RE)
        self.assertNotIn("customer_note", o)   # nulls are left out
        # the same order by id
        self.assertEqual(call("GET", "/rest/V1/orders/1"), (200, o))

    def test_guest_order_currency_and_stand_alone_lines(self):
        self.seed({"orders": [{"email": "guest@example.org", "currency": "EUR", "base_currency": "USD",
                               "base_to_order_rate": 0.8, "state": "processing",
                               "billing_address": {"first_name": "Gus", "last_name": "Guest", "street": "1 Rue",
                                                   "city": "Paris", "postcode": "75001", "country": "FR",
                                                   "phone": "01"},
                               "lines": [{"sku": "LOOSE-1", "name": "Loose thing", "qty": 1.5, "price": 8}]}]})
        o = call("GET", "/rest/V1/orders/1")[1]
        self.assertEqual((o["customer_is_guest"], o["customer_email"], o["customer_firstname"]),
                         (1, "guest@example.org", "Gus"))
        self.assertNotIn("customer_id", o)
        self.assertEqual((o["order_currency_code"], o["base_currency_code"]), ("EUR", "USD"))
        self.assertEqual((o["grand_total"], o["base_grand_total"]), (12, 15))   # base = order / 0.8
        item = o["items"][0]
        self.assertEqual((item["qty_ordered"], item["is_qty_decimal"], item["product_type"]), (1.5, 1, "simple"))
        self.assertNotIn("product_id", item)
        self.assertEqual((item["qty_invoiced"], item["qty_shipped"]), (1.5, 0))   # processing: invoiced, not shipped
        self.assertEqual(o["billing_address"]["street"], ["1 Rue"])
        self.assertEqual(call("GET", "/rest/V1/shipments?searchCriteria=all")[1]["total_count"], 0)


class IncrementalDownloadTest(Base):
    def seed_many(self):
        orders = []
        for n in range(1, 8):
            orders.append({"created_at": "2024-05-0%d 08:00:00" % n, "updated_at": "2024-05-0%d 09:00:00" % n,
                           "state": "complete", "lines": [{"sku": "S%d" % n, "qty": 1, "price": n}]})
        orders[2]["state"] = "processing"
        orders[3]["state"] = "canceled"
        orders[4]["status"] = "shipped_custom"   # a merchant status: state is still complete
        orders[5]["updated_at"] = orders[6]["updated_at"]   # two orders with one updated_at
        return self.seed({"orders": orders})

    def query(self, since, page_size, page):
        return sc([[("updated_at", since, "gteq")], [("state", "complete", "eq")]], ("updated_at", "ASC"),
                  page_size, page)

    def test_pages_by_total_count_and_the_last_page_repeated(self):
        self.seed_many()
        since = "2024-05-02 00:00:00"
        first = self.orders(self.query(since, 2, 1))
        self.assertEqual(first["total_count"], 4)   # orders 2, 5, 6, 7 (3 processing, 4 canceled, 1 too old)
        pages = -(-first["total_count"] // 2)
        seen = []
        for p in range(1, pages + 1):
            seen += [o["increment_id"] for o in self.orders(self.query(since, 2, p))["items"]]
        self.assertEqual(seen, ["000000002", "000000005", "000000006", "000000007"])
        self.assertEqual(self.orders(self.query(since, 2, 5))["items"],
                         self.orders(self.query(since, 2, 2))["items"])   # past the end: the last page again
        echo = first["search_criteria"]
        self.assertEqual(echo["filter_groups"][1]["filters"][0], {"field": "state", "value": "complete",
                                                                  "condition_type": "eq"})
        self.assertEqual((echo["page_size"], echo["current_page"]), (2, 1))
        statuses = {o["increment_id"]: o["status"] for o in self.orders(self.query(since, 10, 1))["items"]}
        self.assertEqual(statuses["000000005"], "shipped_custom")
        # status is not state: filtering status=complete misses the renamed one
        by_status = self.orders(sc([[("status", "complete", "eq")]], page_size=50))
        self.assertNotIn("000000005", [o["increment_id"] for o in by_status["items"]])
        control("POST", "config", {"pagePastEnd": "empty"})
        self.assertEqual(self.orders(self.query(since, 2, 5))["items"], [])

    def test_update_moves_updated_at_and_a_full_refund_closes(self):
        self.seed_catalog()
        self.seed({"orders": [
            {"created_at": "2024-05-01 08:00:00", "lines": [{"sku": "MUG", "qty": 2, "price": 10}],
             "shipping": {"amount": 4}, "payment": {"method": "banktransfer"}},
            {"created_at": "2024-05-01 09:00:00", "state": "processing",
             "lines": [{"sku": "HOODIE-S-GRAY", "qty": 1, "price": 52}]}]})
        window = sc([[("updated_at", "2024-06-01 00:00:00", "gteq")], [("state", "complete", "eq")]],
                    ("updated_at", "ASC"), 50, 1)
        self.assertEqual(self.orders(window)["total_count"], 0)
        # ship the processing order: it becomes complete and its updated_at moves
        out = self.seed({"orders": [{"id": 2, "update": {"ship": True, "updated_at": "2024-06-02 10:00:00"}}]})
        self.assertEqual(out["orders"][0]["state"], "complete")
        got = self.orders(window)["items"]
        self.assertEqual([(o["entity_id"], o["updated_at"]) for o in got], [(2, "2024-06-02 10:00:00")])
        # a partial refund of order 1 (one mug, back to stock): still complete, updated_at moves
        self.seed({"orders": [{"id": 1, "update": {"updated_at": "2024-06-03 10:00:00", "refunds": [
            {"lines": [{"sku": "MUG", "qty": 1, "restock": True}], "shipping": 0}]}}]})
        got = self.orders(window)["items"]
        self.assertEqual([o["entity_id"] for o in got], [2, 1])
        o1 = got[1]
        self.assertEqual((o1["state"], o1["total_refunded"], o1["total_offline_refunded"]), ("complete", 10, 10))
        self.assertEqual(o1["items"][0]["qty_refunded"], 1)
        self.assertEqual(o1["status_histories"][0]["comment"], "We refunded $10.00 offline.")
        stock = call("GET", "/rest/all/V1/inventory/source-items?" + sc([[("sku", "MUG", "eq")]]))[1]["items"]
        self.assertEqual([s["quantity"] for s in stock if s["source_code"] == "default"], [3])
        # the rest (by default the memo also refunds the shipping left): closed, gone from state=complete
        self.seed({"orders": [{"id": 1, "update": {"updated_at": "2024-06-04 10:00:00", "refunds": [{}]}}]})
        got = self.orders(window)["items"]
        self.assertEqual([o["entity_id"] for o in got], [2])
        o1 = call("GET", "/rest/V1/orders/1")[1]
        self.assertEqual((o1["state"], o1["status"], o1["total_refunded"], o1["shipping_refunded"]),
                         ("closed", "closed", 24, 4))
        memos = call("GET", "/rest/V1/creditmemos?" + sc([[("order_id", "1", "eq")]], ("created_at", "ASC")))[1]
        self.assertEqual([(m["grand_total"], m["shipping_amount"]) for m in memos["items"]], [(10, 0), (14, 4)])
        self.assertEqual(memos["items"][1]["updated_at"], "2024-06-04 10:00:00")

    def test_order_items_route(self):
        self.seed_catalog()
        self.seed({"orders": [{"lines": [{"sku": "HOODIE-S-GRAY", "qty": 1, "price": 52}, {"sku": "MUG"}]}]})
        body = call("GET", "/rest/V1/orders/items?" + sc([[("parent_item_id", "", "null")]]))[1]
        self.assertEqual([(i["sku"], i["product_type"]) for i in body["items"]],
                         [("HOODIE-S-GRAY", "configurable"), ("MUG", "simple")])
        self.assertEqual(call("GET", "/rest/V1/orders/items/2")[1]["parent_item_id"], 1)


class RefundAndShipmentTest(Base):
    def test_creditmemo_shape(self):
        self.seed_catalog()
        self.seed({"orders": [{"created_at": "2024-05-01 08:00:00", "updated_at": "2024-05-01 09:00:00",
                               "lines": [{"sku": "HOODIE-S-GRAY", "qty": 2, "price": 50, "discount": 10, "tax": 9},
                                         {"sku": "MUG", "qty": 1, "price": 10}],
                               "shipping": {"amount": 6, "tax": 0.6},
                               "payment": {"method": "braintree", "last_trans_id": "txn-1", "cc_last4": "1111"},
                               "shipments": [{"created_at": "2024-05-01 08:30:00",
                                              "tracks": [{"number": "1Z999", "carrier_code": "ups",
                                                          "title": "United Parcel Service"}]}],
                               "refunds": [{"created_at": "2024-05-05 10:00:00",
                                            "lines": [{"sku": "HOODIE-S-GRAY", "qty": 1, "restock": True}],
                                            "shipping": 3, "adjustment_positive": 1, "adjustment_negative": 2,
                                            "transaction_id": "txn-1-refund", "comment": "damaged"}]}]})
        status, body = call("GET", "/rest/V1/creditmemos?" + sc([[("updated_at", "2024-05-05 00:00:00", "gteq")]],
                                                                 page_size=10, page=1))
        self.assertEqual((status, body["total_count"]), (200, 1))
        m = body["items"][0]
        self.assertEqual((m["entity_id"], m["increment_id"], m["order_id"], m["invoice_id"], m["state"]),
                         (1, "000000001", 1, 1, 2))
        parent, child = m["items"]
        self.assertEqual((parent["sku"], parent["order_item_id"], parent["qty"], parent["price"], parent["row_total"],
                          parent["tax_amount"], parent["discount_amount"]), ("HOODIE-S-GRAY", 1, 1, 50, 50, 4.5, 5))
        self.assertEqual((child["sku"], child["order_item_id"], child["qty"], child["price"]), ("HOODIE-S-GRAY", 2, 1, 0))
        self.assertNotIn("row_total", child)
        self.assertIn("base_cost", child)
        self.assertEqual((m["subtotal"], m["discount_amount"], m["shipping_amount"], m["shipping_tax_amount"]),
                         (50, -5, 3, 0.3))
        self.assertEqual((m["adjustment_positive"], m["adjustment_negative"], m["adjustment"]), (1, 2, -1))
        self.assertEqual(m["tax_amount"], 4.8)
        self.assertEqual(m["grand_total"], round(50 + 3 + 4.8 - 5 - 1, 2))
        self.assertEqual(m["transaction_id"], "txn-1-refund")
        self.assertEqual(m["comments"][0]["comment"], "damaged")
        self.assertNotIn("back_to_stock", json.dumps(m))   # not in the memo (§B11)
        state = control("GET", "state")[1]
        self.assertEqual(state["creditmemos"]["1"]["_emulator"]["return_to_stock_items"], [1])
        o = call("GET", "/rest/V1/orders/1")[1]
        self.assertEqual(o["updated_at"], "2024-05-05 10:00:00")
        self.assertEqual((o["total_online_refunded"], o["discount_refunded"]), (m["grand_total"], -5))
        self.assertEqual(call("GET", "/rest/V1/creditmemo/1"), (200, m))
        # the shipment: the configurable's parent row only, with its tracks
        status, sh = call("GET", "/rest/V1/shipments?" + sc([[("order_id", "1", "eq")]]))
        s = sh["items"][0]
        self.assertEqual([(i["order_item_id"], i["sku"], i["qty"]) for i in s["items"]],
                         [(1, "HOODIE-S-GRAY", 2), (3, "MUG", 1)])
        self.assertEqual((s["tracks"][0]["track_number"], s["tracks"][0]["carrier_code"], s["tracks"][0]["weight"]),
                         ("1Z999", "ups", None))
        self.assertEqual((s["created_at"], s["total_qty"]), ("2024-05-01 08:30:00", 3))
        self.assertEqual(call("GET", "/rest/V1/shipment/%d" % s["entity_id"])[1], s)
        inv = call("GET", "/rest/V1/invoices?" + sc([[("order_id", "1", "eq")]]))[1]["items"][0]
        self.assertEqual([(i["order_item_id"], i["price"]) for i in inv["items"]], [(1, 50), (2, 0), (3, 10)])
        self.assertEqual(inv["grand_total"], o["grand_total"])

    def test_seeded_closed_order_and_refund_errors(self):
        out = self.seed({"orders": [{"state": "closed", "lines": [{"sku": "A", "price": 3}]}]})
        self.assertEqual(out["orders"][0]["state"], "closed")
        self.assertEqual(call("GET", "/rest/V1/orders/1")[1]["total_refunded"], 3 + 0)
        status, body = control("POST", "seed", {"orders": [{"id": 1, "update": {"refunds": [{}]}}]})
        self.assertEqual((status, body), (400, {"error": "order 1: We can't create creditmemo for the order."}))
        status, body = control("POST", "seed", {"orders": [{"state": "new", "lines": [{"sku": "B", "price": 1}],
                                                            "refunds": [{}]}]})
        self.assertEqual(status, 400)
        self.assertIn("invoice", body["error"])


class CustomerTest(Base):
    def test_search_get_update(self):
        out = self.seed({"customers": [JANE, {"email": "bob@example.com", "first_name": "Bob", "last_name": "Roe",
                                              "created_at": "2024-03-01 00:00:00"}]})
        self.assertEqual([c["id"] for c in out["customers"]], [1, 2])
        status, c = call("GET", "/rest/V1/customers/1")
        self.assertEqual(status, 200)
        self.assertEqual((c["email"], c["firstname"], c["default_billing"], c["website_id"]),
                         ("jane@example.com", "Jane", "1", 1))
        addr = c["addresses"][0]
        self.assertEqual((addr["street"], addr["region"], addr["default_billing"], addr["firstname"]),
                         (["123 Oak Ave", "Suite 4"], {"region_code": "NY", "region": "New York", "region_id": 43},
                          True, "Jane"))
        q = sc([[("updated_at", "2024-02-01 00:00:00", "gteq")]], ("updated_at", "ASC"), 10, 1)
        self.assertEqual([x["email"] for x in call("GET", "/rest/V1/customers/search?" + q)[1]["items"]],
                         ["bob@example.com"])
        self.seed({"customers": [{"email": "jane@example.com", "update": {"last_name": "Smith"}}]})
        got = call("GET", "/rest/V1/customers/search?" + q)[1]["items"]
        self.assertEqual([(x["email"], x["lastname"]) for x in got],
                         [("bob@example.com", "Roe"), ("jane@example.com", "Smith")])
        self.assertEqual(got[1]["updated_at"][:10], "2024-06-01")
        self.assertEqual(call("GET", "/rest/V1/customers/99"),
                         (404, {"message": "No such entity with %fieldName = %fieldValue",
                                "parameters": {"fieldName": "customerId", "fieldValue": 99}}))
        self.assertEqual(call("GET", "/rest/V1/customers/search?" + sc([[("colour", "x", "eq")]])),
                         (400, {"message": "Invalid attribute name: %1", "parameters": ["colour"]}))
        state = control("GET", "state")[1]
        self.assertEqual(sorted(c["email"] for c in state["customers"].values()),
                         ["bob@example.com", "jane@example.com"])


class ErrorsAuthFaultsTest(Base):
    def setUp(self):
        super().setUp()
        self.seed({"orders": [{"lines": [{"sku": "A", "price": 1}]}, {"lines": [{"sku": "B", "price": 2}]},
                              {"lines": [{"sku": "C", "price": 3}]}]})

    def test_query_validation(self):
        self.assertEqual(call("GET", "/rest/V1/orders"),
                         (400, {"message": '"%fieldName" is required. Enter and try again.',
                                "parameters": {"fieldName": "searchCriteria"}}))
        self.assertEqual(call("GET", "/rest/V1/orders?searchCriteria[pageSize]=ten"),
                         (400, {"message": 'Error occurred during "pageSize" processing. The "ten" value\'s type is '
                                           'invalid. The "int" type was expected. Verify and try again.'}))
        status, body = call("GET", "/rest/V1/orders?" + sc([[("sku", "A", "eq")]]))
        self.assertEqual(status, 500)
        self.assertTrue(body["message"].startswith("Internal Error. Details are available in Magento log file."))
        status, body = call("GET", "/rest/V1/orders?searchCriteria[page]=1")
        self.assertEqual(status, 500)
        self.assertEqual(call("GET", "/rest/V1/orders/999"),
                         (404, {"message": "The entity that was requested doesn't exist. Verify the entity and try "
                                           "again."}))
        self.assertEqual(call("GET", "/rest/V1/orders/abc")[0], 400)
        self.assertEqual(call("GET", "/rest/V1/creditmemo/5")[0], 404)
        control("POST", "config", {"mode": "developer"})
        status, body = call("GET", "/rest/V1/orders?" + sc([[("sku", "A", "eq")]]))
        self.assertIn("Unknown column 'main_table.sku'", body["message"])

    def test_input_limit_and_fields(self):
        control("POST", "config", {"inputLimit": True})
        self.assertEqual(call("GET", "/rest/V1/orders?searchCriteria[pageSize]=301"),
                         (400, {"message": "Maximum SearchCriteria pageSize is %max", "parameters": {"max": 300}}))
        body = call("GET", "/rest/V1/orders?searchCriteria=all")[1]
        self.assertEqual((body["total_count"], body["search_criteria"]["page_size"]), (3, 20))
        status, body = call("GET", "/rest/V1/orders?searchCriteria=all&fields=items[increment_id,entity_id]")
        self.assertEqual(body, {"items": [{"entity_id": n, "increment_id": "%09d" % n} for n in (1, 2, 3)]})
        status, body = call("GET", "/rest/V1/orders?searchCriteria[pageSize]=2&fields=items[entity_id],total_count")
        self.assertEqual(body, {"items": [{"entity_id": 1}, {"entity_id": 2}], "total_count": 3})

    def test_auth(self):
        path = "/rest/V1/orders?searchCriteria[pageSize]=5"
        self.assertEqual(call("GET", path, token=None),
                         (401, {"message": "The consumer isn't authorized to access %resources.",
                                "parameters": {"resources": "Magento_Sales::actions_view"}}))
        self.assertEqual(call("GET", "/rest/V1/creditmemos?searchCriteria=all", token="bad")[1]["parameters"],
                         {"resources": "Magento_Sales::sales_creditmemo"})
        self.assertEqual(call("GET", "/rest/V1/customers/1", token="bad")[1]["parameters"],
                         {"resources": "Magento_Customer::customer"})
        url = _server[1] + path
        now = int(control("GET", "clock")[1]["epoch"])   # the emulator's clock (--start-time)
        auth = sign_header("GET", url, CK, CS, AT, ATS, "nonce-orders-%f" % time.time(), now)
        status, body = call("GET", path, token=None, headers={"Authorization": auth})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["total_count"], 3)

    def test_faults(self):
        control("POST", "faults", {"rules": [{"match": "op:search_orders", "status": 503, "count": 1},
                                             {"match": "/V1/creditmemos", "status": 429, "count": 1}]})
        status, body = call("GET", "/rest/V1/orders?searchCriteria=all")
        self.assertEqual(status, 503)
        self.assertTrue(body["message"].startswith("Internal Error."))
        self.assertEqual(call("GET", "/rest/V1/orders?searchCriteria=all")[0], 200)
        self.assertEqual(call("GET", "/rest/V1/creditmemos?searchCriteria=all"),
                         (429, {"message": "Too Many Requests", "trace": None}))
        log = control("GET", "requests")[1]["requests"]
        self.assertEqual([e["operation"] for e in log[:2]], ["search_orders", "search_orders"])


if __name__ == "__main__":
    unittest.main()
