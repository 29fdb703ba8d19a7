"""Tests of the WooCommerce emulator's orders, refunds and customers
(woocommerce/orders.py), not of posbridge.

Run from the repository root:
    python3 -m unittest tests/emulators/woocommerce/test_orders.py
Each class runs one emulator subprocess (the real command line); each test
starts from POST /__emulator/reset.
"""

import base64
import json
import os
import shutil
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from woocommerce import test_server as base  # noqa: E402

START = "2024-05-10T12:00:00Z"  # the virtual clock's start


def catalog():
    return {"attributes": [{"name": "Color", "slug": "pa_color", "terms": ["Black", "Green"]}],
            "products": [
                {"name": "Tee", "sku": "TEE", "regular_price": "10.00", "manage_stock": True, "stock_quantity": 5},
                {"name": "Mug", "sku": "", "regular_price": "4.00"},
                {"name": "Hoodie", "type": "variable",
                 "attributes": [{"id": 1, "variation": True, "options": ["Black", "Green"]}],
                 "variations": [{"sku": "HOOD-BLK", "regular_price": "30.00", "manage_stock": True,
                                 "stock_quantity": 2, "attributes": [{"id": 1, "option": "Black"}]}]}]}


def full_order(**over):
    o = {"key": "o1", "customer": "c1", "status": "completed", "created_at": "2024-05-01T10:00:00Z",
         "payment_gateway": "stripe", "transaction_id": "ch_1", "currency": "CAD",
         "lines": [{"sku": "TEE", "qty": 3, "discount": "1.00", "tax": "2.4255"},
                   {"sku": "HOOD-BLK", "qty": 1,
                    "tax": [{"code": "US-CA-STATE TAX", "label": "State Tax", "rate": 7.25, "amount": "2.175"}]},
                   {"sku": "OLD-1", "name": "Old thing", "qty": 1, "price": "5", "deleted": True},
                   {"sku": "MISC", "name": "Gift wrap", "qty": 3, "price": "3.3333", "total": "10.00"}],
         "shipping_lines": [{"method_id": "flat_rate", "total": "5.00", "tax": "0.41"}],
         "coupons": [{"code": "SAVE1", "discount": "1.00"}],
         "refunds": [{"created_at": "2024-05-03T09:00:00Z", "reason": "damaged", "restock": True,
                      "lines": [{"sku": "TEE", "qty": 1}]}]}
    o.update(over)
    return o


CUSTOMER = {"key": "c1", "email": "jane@example.com", "first_name": "Jane", "last_name": "Roe",
            "created_at": "2024-01-02T03:04:05Z",
            "billing": {"first_name": "Jane", "last_name": "Roe", "address_1": "1 Main", "city": "SF",
                        "state": "CA", "postcode": "94103", "country": "US", "phone": "555-0100"}}


class WooOrdersTest(unittest.TestCase):
    """--https-mode basic, site timezone UTC-3."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wc-orders-")
        cls.proc, port = base.start_server(cls.tmp, "--https-mode", "basic", "--utc-offset-hours", "-3",
                                           "--start-time", START, "--state-file",
                                           os.path.join(cls.tmp, "state.json"))
        cls.c = base.Client(port, "basic")

    @classmethod
    def tearDownClass(cls):
        base.stop_server(cls.proc)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.c.control("POST", "reset")
        self.c.control("POST", "config", {"rateLimit": None, "keyPermissions": "read_write",
                                          "refundsEndpoint": True})

    def seed(self, body):
        status, _, payload = self.c.raw("POST", "/__emulator/seed", json.dumps(body).encode(),
                                        {"Content-Type": "application/json"})
        return status, json.loads(payload)

    def seed_full(self):
        self.seed(catalog())
        status, out = self.seed({"customers": [CUSTOMER], "orders": [full_order()]})
        self.assertEqual(status, 200, out)
        return out["orders"][0]["id"]

    def get(self, path, **query):
        return self.c.api("GET", path, query=query)

    # ------------------------------------------------------------ shapes
    def test_order_shape_money_and_dates(self):
        oid = self.seed_full()
        status, hdrs, o = self.get("/orders/%d" % oid)
        self.assertEqual(status, 200)
        # money: strings with 2 decimals; the order's own totals
        self.assertEqual((o["total"], o["total_tax"], o["discount_total"], o["shipping_total"], o["cart_tax"]),
                         ("84.02", "5.02", "1.00", "5.00", "4.61"))
        self.assertEqual((o["currency"], o["payment_method"], o["payment_method_title"], o["transaction_id"]),
                         ("CAD", "stripe", "Credit Card (Stripe)", "ch_1"))
        tee, hood, gone, wrap = o["line_items"]
        # price is a JSON number (total / quantity), taxes are the raw stored values
        self.assertEqual((tee["subtotal"], tee["total"], tee["total_tax"]), ("30.00", "29.00", "2.43"))
        self.assertIsInstance(tee["price"], float)
        self.assertAlmostEqual(tee["price"], 29 / 3)
        self.assertEqual(tee["taxes"][0]["total"], "2.4255")
        self.assertEqual(hood["price"], 30)
        self.assertIsInstance(hood["price"], int)
        self.assertEqual(hood["taxes"], [{"id": 2, "total": "2.175", "subtotal": "2.175"}])
        self.assertEqual(wrap["price"], 3.3333333333333335)
        # variation: product_id is the parent, meta with the term slug, parent_name
        self.assertEqual((hood["product_id"] != hood["variation_id"], hood["sku"], hood["parent_name"]),
                         (True, "HOOD-BLK", "Hoodie"))
        self.assertEqual([(m["key"], m["value"], m["display_key"], m["display_value"]) for m in hood["meta_data"]],
                         [("pa_color", "black", "Color", "Black")])
        self.assertIsNone(gone["sku"])  # product deleted
        self.assertEqual(wrap["sku"], "MISC")
        self.assertEqual([(t["rate_code"], t["tax_total"], t["shipping_tax_total"]) for t in o["tax_lines"]],
                         [("US-TAX-1", "2.43", "0.41"), ("US-CA-STATE TAX", "2.18", "0.00")])
        self.assertEqual(o["shipping_lines"][0]["method_id"], "flat_rate")
        self.assertEqual((o["coupon_lines"][0]["code"], o["coupon_lines"][0]["discount"]), ("save1", "1.00"))
        # refunds summary: negative string total
        self.assertEqual(len(o["refunds"]), 1)
        self.assertEqual(o["refunds"][0]["reason"], "damaged")
        self.assertTrue(o["refunds"][0]["total"].startswith("-"))
        # dates: site-local without offset plus the _gmt twins (site is UTC-3)
        self.assertEqual((o["date_created"], o["date_created_gmt"]), ("2024-05-01T07:00:00", "2024-05-01T10:00:00"))
        self.assertEqual(o["date_modified_gmt"], "2024-05-03T09:00:00")  # the refund moved it
        self.assertEqual(o["date_completed_gmt"], "2024-05-01T10:00:00")
        # customer and addresses
        self.assertEqual(o["customer_id"], 2)
        self.assertEqual((o["billing"]["email"], o["billing"]["phone"]), ("jane@example.com", "555-0100"))
        self.assertEqual(o["shipping"]["address_1"], "1 Main")  # shipped to the billing address
        self.assertNotIn("email", o["shipping"])
        self.assertEqual(o["_links"]["customer"][0]["href"].rsplit("/", 2)[-2:], ["customers", "2"])

    def test_dp_fields_and_current_sku(self):
        oid = self.seed_full()
        _, _, o = self.get("/orders/%d" % oid, dp=3)
        self.assertEqual((o["total"], o["line_items"][0]["total"]), ("84.020", "29.000"))
        self.assertEqual(o["line_items"][0]["taxes"][0]["total"], "2.4255")  # never formatted
        _, _, o = self.get("/orders/%d" % oid, _fields="id,total,line_items.sku")
        self.assertEqual(o, {"id": oid, "total": "84.02",
                             "line_items": [{"sku": "TEE"}, {"sku": "HOOD-BLK"}, {"sku": None}, {"sku": "MISC"}]})
        # the SKU shown is the product's current one; a deleted product gives null
        tee = self.c.control("GET", "state")["products"][0]["id"]
        self.assertEqual(self.c.api("PUT", "/products/%d" % tee, {"sku": "TEE-NEW"})[0], 200)
        self.assertEqual(self.get("/orders/%d" % oid)[2]["line_items"][0]["sku"], "TEE-NEW")
        self.assertEqual(self.c.api("DELETE", "/products/%d" % tee, query={"force": "true"})[0], 200)
        line = self.get("/orders/%d" % oid)[2]["line_items"][0]
        self.assertEqual((line["sku"], line["product_id"]), (None, tee))
        # a catalog product without SKU: ""
        status, out = self.seed({"orders": [{"lines": [{"sku": "", "product_id": 2, "qty": 1}]}]})
        _, _, o = self.get("/orders/%d" % out["orders"][0]["id"])
        self.assertEqual((o["line_items"][0]["sku"], o["line_items"][0]["name"], o["total"]), ("", "Mug", "4.00"))

    # ------------------------------------------------------------ paging
    def test_paging_across_pages(self):
        orders = [{"created_at": "2024-05-01T%02d:00:00Z" % h, "lines": [{"sku": "X%d" % h, "price": "1", "qty": 1}]}
                  for h in range(23)]
        self.seed({"orders": orders})
        seen, page, pages = [], 1, None
        while True:
            status, hdrs, body = self.get("/orders", per_page=10, page=page, orderby="date", order="asc")
            self.assertEqual(status, 200)
            self.assertEqual((hdrs["x-wp-total"], hdrs["x-wp-totalpages"]), ("23", "3"))
            pages = int(hdrs["x-wp-totalpages"])
            link = hdrs.get("link", "")
            self.assertEqual('rel="next"' in link, page < pages)
            self.assertEqual('rel="prev"' in link, page > 1)
            seen += [o["id"] for o in body]
            if page >= pages:
                break
            page += 1
        self.assertEqual(len(seen), 23)
        self.assertEqual(seen, sorted(seen))
        self.assertEqual(len(body), 3)
        # past the end: [] with the totals
        status, hdrs, body = self.get("/orders", per_page=10, page=9)
        self.assertEqual((status, body, hdrs["x-wp-total"], hdrs["x-wp-totalpages"]), (200, [], "23", "3"))
        # default order is date desc
        self.assertEqual(self.get("/orders", per_page=1)[2][0]["id"], seen[-1])
        # per_page > 100 and invalid orderby: rest_invalid_param
        status, _, err = self.get("/orders", per_page=101)
        self.assertEqual((status, err["code"], list(err["data"]["params"])), (400, "rest_invalid_param",
                                                                             ["per_page"]))
        status, _, err = self.get("/orders", orderby="total")
        self.assertEqual((status, err["data"]["params"]["orderby"]),
                         (400, "orderby is not one of date, id, include, title, slug, and modified."))
        # the Link header carries the request's own query
        _, hdrs, _ = self.get("/orders", per_page=10, page=2, status="any")
        nxt = [p for p in hdrs["link"].split(", ") if 'rel="next"' in p][0]
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(nxt[1:nxt.index(">")]).query)
        self.assertEqual((q["page"], q["per_page"], q["status"]), (["3"], ["10"], ["any"]))

    # ------------------------------------------------------------ modified-time filter
    def test_modified_after_and_order_update(self):
        self.seed({"orders": [
            {"key": "a", "created_at": "2024-05-01T10:00:00Z", "lines": [{"sku": "A", "price": "1"}]},
            {"key": "b", "created_at": "2024-05-02T10:00:00Z", "lines": [{"sku": "B", "price": "1"}]},
            {"key": "c", "created_at": "2024-05-03T10:00:00Z", "lines": [{"sku": "C", "price": "1"}]}]})

        def keys(**q):
            q = dict({"status": "completed", "orderby": "modified", "order": "asc", "per_page": 100}, **q)
            status, _, body = self.get("/orders", **q)
            self.assertEqual(status, 200, body)
            return [o["number"] for o in body], body

        ids = {o["key"]: o["id"] for o in self.c.control("GET", "state")["orders"]}
        names = {v: k for k, v in ids.items()}
        got, _ = keys(modified_after="2024-05-02T10:00:00", dates_are_gmt="true")
        self.assertEqual([names[int(n)] for n in got], ["c"])  # strictly after
        got, _ = keys(modified_after="2024-05-02T09:59:59", dates_are_gmt="true")
        self.assertEqual([names[int(n)] for n in got], ["b", "c"])
        # without dates_are_gmt the value is site time (UTC-3): 07:00 local = 10:00 GMT
        got, _ = keys(modified_after="2024-05-02T06:59:59")
        self.assertEqual([names[int(n)] for n in got], ["b", "c"])
        # an offset is converted to the SITE timezone before the GMT column is compared:
        # "...10:00:00Z" becomes 07:00:00 (UTC-3), so with dates_are_gmt=true "a" comes back
        got, _ = keys(modified_after="2024-05-01T10:00:00", dates_are_gmt="true")
        self.assertEqual([names[int(n)] for n in got], ["b", "c"])
        got, _ = keys(modified_after="2024-05-01T10:00:00Z", dates_are_gmt="true")
        self.assertEqual([names[int(n)] for n in got], ["a", "b", "c"])
        got, _ = keys(modified_after="2024-05-01T13:00:00Z", dates_are_gmt="true")
        self.assertEqual([names[int(n)] for n in got], ["b", "c"])
        # without dates_are_gmt an offset is exact (site column, site time)
        got, _ = keys(modified_after="2024-05-01T10:00:00Z")
        self.assertEqual([names[int(n)] for n in got], ["b", "c"])
        got, _ = keys(modified_before="2024-05-02T10:00:00", dates_are_gmt="true")
        self.assertEqual([names[int(n)] for n in got], ["a"])
        got, _ = keys(after="2024-05-01T10:00:00", before="2024-05-03T10:00:00", dates_are_gmt="true")
        self.assertEqual([names[int(n)] for n in got], ["b"])
        # a date only, or a "+" that arrived as a space, is not a date-time
        status, _, err = self.get("/orders", modified_after="2024-05-01")
        self.assertEqual((status, err["code"], err["data"]["params"]), (400, "rest_invalid_param",
                                                                        {"modified_after": "Invalid date."}))
        status, _, err = self.c.raw("GET", base.API + "/orders?modified_after=2024-05-01T00:00:00+02:00",
                                    headers={"Authorization": self._basic()})
        self.assertEqual(status, 400)
        # change "a" after the download: its date_modified moves to now, it comes back
        cursor = "2024-05-03T10:00:00"
        self.assertEqual(keys(modified_after=cursor, dates_are_gmt="true")[0], [])
        before = self.now_gmt()
        status, out = self.seed({"orders": [{"key": "a", "update": {"shipping": {"address_1": "2 Side St"},
                                                                   "meta_data": [{"key": "note", "value": "x"}]}}]})
        self.assertEqual(status, 200)
        self.assertGreaterEqual(out["orders"][0]["date_modified_gmt"], before)
        got, body = keys(modified_after=cursor, dates_are_gmt="true")
        self.assertEqual([names[int(n)] for n in got], ["a"])
        self.assertEqual((body[0]["shipping"]["address_1"], body[0]["date_modified_gmt"],
                          body[0]["date_created_gmt"]),
                         ("2 Side St", out["orders"][0]["date_modified_gmt"], "2024-05-01T10:00:00"))
        # an explicit updated_at
        self.seed({"orders": [{"id": ids["b"], "update": {"updated_at": "2024-06-01T00:00:00Z"}}]})
        got, _ = keys(modified_after="2024-05-31T00:00:00", dates_are_gmt="true")
        self.assertEqual([names[int(n)] for n in got], ["b"])

    def now_gmt(self):
        return self.c.control("GET", "clock")["now"].rstrip("Z")

    def _basic(self):
        return "Basic " + base64.b64encode(("%s:%s" % (base.CK, base.CS)).encode()).decode()

    # ------------------------------------------------------------ status
    def test_status_filter_and_full_refund(self):
        self.seed({"orders": [
            {"key": "done", "status": "completed", "lines": [{"sku": "A", "price": "20"}]},
            {"key": "proc", "status": "processing", "lines": [{"sku": "A", "price": "20"}]},
            {"key": "hold", "status": "on-hold", "lines": [{"sku": "A", "price": "20"}]},
            {"key": "bin", "status": "trash", "lines": [{"sku": "A", "price": "20"}]}]})

        def statuses(**q):
            status, hdrs, body = self.get("/orders", **q)
            self.assertEqual(status, 200, body)
            return sorted(o["status"] for o in body)

        self.assertEqual(statuses(), ["completed", "on-hold", "processing"])  # any: not trash
        self.assertEqual(statuses(status="completed"), ["completed"])
        self.assertEqual(statuses(status="completed,processing"), ["completed", "processing"])
        status, _, body = self.c.raw("GET", base.API + "/orders?status%5B%5D=on-hold&status%5B%5D=trash",
                                     headers={"Authorization": self._basic()})
        self.assertEqual(sorted(o["status"] for o in json.loads(body)), ["on-hold", "trash"])
        status, _, err = self.get("/orders", status="shipped")
        self.assertEqual((status, err["code"], list(err["data"]["params"])), (400, "rest_invalid_param",
                                                                             ["status"]))
        self.assertIn("status[0] is not one of any, trash, pending", err["data"]["params"]["status"])
        # a full refund added later turns the order "refunded" (and moves date_modified)
        cut = self.now_gmt()
        self.c.control("POST", "clock", {"advance_ms": 3600 * 1000})
        status, out = self.seed({"orders": [{"key": "done", "update": {"refunds": [{"amount": "20.00",
                                                                                    "reason": "all"}]}}]})
        self.assertEqual((status, out["orders"][0]["status"]), (200, "refunded"))
        self.assertEqual(statuses(status="completed"), [])
        _, _, body = self.get("/orders", status="completed,refunded", modified_after=cut,
                              dates_are_gmt="true")
        self.assertEqual([(o["status"], o["refunds"][0]["total"]) for o in body], [("refunded", "-20.00")])
        # a partial one does not
        self.seed({"orders": [{"key": "proc", "update": {"refunds": [{"amount": "5"}]}}]})
        self.assertEqual(statuses(status="processing"), ["processing"])
        # more than is left is refused
        status, err = self.seed({"orders": [{"key": "proc", "update": {"refunds": [{"amount": "15.01"}]}}]})
        self.assertEqual(status, 400)
        self.assertIn("exceeds", err["error"])

    # ------------------------------------------------------------ refunds
    def test_refunds(self):
        oid = self.seed_full()
        state = self.c.control("GET", "state")
        # restock of the refunded Tee put one back in stock
        self.assertEqual(state["products"][0]["stock_quantity"], 6)
        self.assertEqual(state["refunds"][0]["restock"], True)
        status, hdrs, refunds = self.get("/orders/%d/refunds" % oid)
        self.assertEqual((status, hdrs["x-wp-total"], len(refunds)), (200, "1", 1))
        r = refunds[0]
        self.assertEqual((r["amount"], r["reason"], r["refunded_payment"], r["refunded_by"]),
                         ("10.48", "damaged", False, 1))
        self.assertNotIn("restock", r)
        item = r["line_items"][0]
        self.assertEqual((item["quantity"], item["subtotal"], item["total"], item["total_tax"]),
                         (-1, "-10.00", "-9.67", "-0.81"))
        self.assertEqual(item["taxes"][0]["total"], "-0.8088")
        self.assertEqual(item["price"], 9.67)  # total / quantity: both negative
        self.assertEqual(item["sku"], "TEE")
        self.assertEqual(item["meta_data"][0]["key"], "_refunded_item_id")
        _, _, order = self.get("/orders/%d" % oid)
        self.assertEqual(item["meta_data"][0]["value"], str(order["line_items"][0]["id"]))
        self.assertEqual(order["refunds"], [{"id": r["id"], "reason": "damaged", "total": "-10.48"}])
        self.assertEqual((r["date_created"], r["date_created_gmt"]), ("2024-05-03T06:00:00", "2024-05-03T09:00:00"))
        # single refund; errors
        self.assertEqual(self.get("/orders/%d/refunds/%d" % (oid, r["id"]))[2]["id"], r["id"])
        status, _, err = self.get("/orders/%d/refunds/99999" % oid)
        self.assertEqual((status, err["code"]), (404, "woocommerce_rest_shop_order_refund_invalid_id"))
        status, _, body = self.get("/orders/99999/refunds")
        self.assertEqual((status, body), (200, []))
        # amount-only refund on a line (quantity 0) and a shipping refund
        self.c.control("POST", "clock", {"advance_ms": 1000})
        self.seed({"orders": [{"id": oid, "update": {"refunds": [
            {"reason": "price match", "lines": [{"sku": "HOOD-BLK", "qty": 0, "total": "3.00", "tax": "0"}],
             "shipping": "5.00"}]}}]})
        _, _, refunds = self.get("/orders/%d/refunds" % oid)
        self.assertEqual([x["reason"] for x in refunds], ["price match", "damaged"])  # date desc
        new = refunds[0]
        self.assertEqual((new["amount"], new["line_items"][0]["quantity"], new["line_items"][0]["price"],
                          new["line_items"][0]["total"], new["shipping_lines"][0]["total"]),
                         ("8.00", 0, 0, "-3.00", "-5.00"))
        status, _, err = self.get("/orders/%d/refunds/%d" % (oid + 1000, new["id"]))
        other = self.seed({"orders": [{"lines": [{"sku": "Z", "price": "1"}]}]})[1]["orders"][0]["id"]
        status, _, err = self.get("/orders/%d/refunds/%d" % (other, new["id"]))
        self.assertEqual((status, err), (500, {"code": "woocommerce_rest_invalid_order_refund_id",
                                               "message": "Invalid order refund ID.", "data": 404}))
        # GET /refunds (WooCommerce >= 9.0): every order's refunds with parent_id
        status, hdrs, allr = self.get("/refunds", after="2024-05-03T09:00:00", dates_are_gmt="true")
        self.assertEqual((status, [(x["parent_id"], x["reason"]) for x in allr]), (200, [(oid, "price match")]))
        self.assertEqual(list(allr[0])[:3], ["id", "parent_id", "date_created"])
        self.assertEqual(self.get("/refunds", per_page=1)[1]["x-wp-totalpages"], "2")
        self.c.control("POST", "config", {"refundsEndpoint": False})
        status, _, err = self.get("/refunds")
        self.assertEqual((status, err["code"]), (404, "rest_no_route"))

    # ------------------------------------------------------------ customers
    def test_customers(self):
        self.seed({"customers": [CUSTOMER, {"email": "al@example.com", "first_name": "Al", "username": "zed"},
                                 {"email": "boss@example.com", "role": "shop_manager"}]})
        status, hdrs, body = self.get("/customers")
        self.assertEqual((status, hdrs["x-wp-total"]), (200, "2"))
        self.assertEqual([c["username"] for c in body], ["jane", "zed"])  # orderby name, asc
        self.assertEqual(len(self.get("/customers", role="all")[2]), 4)  # + admin (user 1) and the manager
        self.assertEqual(self.get("/customers", role="all", orderby="id")[2][0]["role"], "administrator")
        body = self.get("/customers", email="JANE@example.com")[2]
        self.assertEqual([c["id"] for c in body], [2])
        c = self.get("/customers/2")[2]
        self.assertEqual((c["email"], c["first_name"], c["billing"]["phone"], c["billing"]["email"],
                          c["date_created_gmt"], c["date_created"], c["is_paying_customer"]),
                         ("jane@example.com", "Jane", "555-0100", "jane@example.com", "2024-01-02T03:04:05",
                          "2024-01-02T00:04:05", False))
        self.assertTrue(c["avatar_url"].startswith("https://secure.gravatar.com/avatar/"))
        status, _, err = self.get("/customers/99")
        self.assertEqual((status, err), (404, {"code": "woocommerce_rest_invalid_id",
                                               "message": "Invalid resource ID.", "data": {"status": 404}}))
        status, _, err = self.get("/customers", role="nobody")
        self.assertEqual((status, err["code"]), (400, "rest_invalid_param"))
        # an order makes a paying customer; an update moves date_modified
        self.seed({"orders": [{"customer": "jane@example.com", "lines": [{"sku": "A", "price": "1"}]}]})
        self.c.control("POST", "clock", {"advance_ms": 5000})
        before = self.now_gmt()
        self.seed({"customers": [{"key": "c1", "update": {"last_name": "Doe"}}]})
        c = self.get("/customers/2")[2]
        self.assertEqual((c["last_name"], c["is_paying_customer"]), ("Doe", True))
        self.assertGreaterEqual(c["date_modified_gmt"], before)
        # guests: customer_id 0 on the order only
        self.seed({"orders": [{"billing": {"email": "guest@example.com"}, "lines": [{"sku": "A", "price": "1"}]}]})
        _, _, orders = self.get("/orders", customer=0)
        self.assertEqual([o["billing"]["email"] for o in orders], ["guest@example.com"])
        self.assertEqual([o["customer_id"] for o in self.get("/orders", customer=2)[2]], [2])

    # ------------------------------------------------------------ auth, faults, state
    def test_auth_throttle_and_faults(self):
        oid = self.seed_full()
        status, _, err = self.c.api("GET", "/orders", auth=None)
        self.assertEqual((status, err), (401, {"code": "woocommerce_rest_cannot_view",
                                               "message": "Sorry, you cannot list resources.",
                                               "data": {"status": 401}}))
        status, _, err = self.c.api("GET", "/orders/%d" % oid, auth=None)
        self.assertEqual((status, err["message"]), (401, "Sorry, you cannot view this resource."))
        wrong = "Basic " + base64.b64encode(("%s:cs_wrong" % base.CK).encode()).decode()
        status, _, err = self.c.api("GET", "/customers", auth=None, headers={"Authorization": wrong})
        self.assertEqual((status, err["message"]), (401, "Consumer secret is invalid."))
        self.c.control("POST", "config", {"keyPermissions": "write"})
        status, _, err = self.get("/orders")
        self.assertEqual((status, err["message"]), (401, "The API key provided does not have read permissions."))
        self.c.control("POST", "config", {"keyPermissions": "read"})
        self.assertEqual(self.get("/orders")[0], 200)
        # injected faults by operation label; host pages are HTML
        self.c.control("POST", "faults", {"rules": [{"match": "op:orders.list", "status": 503},
                                                    {"match": "op:refunds.list", "status": 429}]})
        status, hdrs, body = self.get("/orders")
        self.assertEqual(status, 503)
        self.assertIn("Service Unavailable", body)
        self.assertEqual(self.get("/orders/%d" % oid)[0], 200)
        status, hdrs, _ = self.get("/orders/%d/refunds" % oid)
        self.assertEqual((status, hdrs["retry-after"]), (429, "2.0"))
        self.assertEqual(self.get("/orders")[0], 200)
        # host throttling
        self.c.control("POST", "config", {"rateLimit": "2/s"})
        codes = [self.get("/customers")[0] for _ in range(4)]
        self.assertIn(429, codes)
        self.c.control("POST", "config", {"rateLimit": None})
        # writes on real routes the emulator does not serve
        self.c.control("POST", "config", {"keyPermissions": "read_write"})
        status, _, err = self.c.api("POST", "/orders/%d/refunds" % oid, {"amount": "1"})
        self.assertEqual((status, err["code"]), (501, "emulator_not_implemented"))
        log = self.c.control("GET", "requests")["requests"]
        self.assertIn("orders.list", [e.get("operation") for e in log])

    def test_state_persistence_and_seed_errors(self):
        oid = self.seed_full()
        st = self.c.control("GET", "state")
        self.assertEqual([(o["id"], o["status"], o["total"]) for o in st["orders"]], [(oid, "completed", "84.02")])
        self.assertEqual([c["email"] for c in st["customers"]], ["jane@example.com"])
        self.assertEqual(st["ordersConfig"], {"refundsEndpoint": True})
        with open(os.path.join(self.tmp, "state.json")) as f:
            saved = json.load(f)
        self.assertEqual([o["id"] for o in saved["orderBook"]["orders"]], [oid])
        for bad in ({"orders": [{"status": "shipped"}]}, {"orders": [{"customer": "nobody@example.com"}]},
                    {"orders": [{"key": "zz", "update": {"status": "completed"}}]},
                    {"orders": [{"key": "o1", "update": {"colour": "red"}}]},
                    {"customers": [{"email": "jane@example.com"}]}):
            status, err = self.seed(bad)
            self.assertEqual(status, 400, bad)
            self.assertIn("error", err)
        self.c.control("POST", "reset")
        st = self.c.control("GET", "state")
        self.assertEqual((st["orders"], st["customers"], st["refunds"]), ([], [], []))


class WooOrdersOAuthTest(unittest.TestCase):
    """--https-mode oauth: an OAuth 1.0a signed incremental pull."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wc-orders-")
        cls.proc, port = base.start_server(cls.tmp, "--oauth-clock", "real")
        cls.c = base.Client(port, "oauth")

    @classmethod
    def tearDownClass(cls):
        base.stop_server(cls.proc)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_signed_pull(self):
        self.c.control("POST", "reset")
        self.c.control("POST", "seed", {"orders": [{"created_at": "2024-05-01T10:00:00Z",
                                                    "lines": [{"sku": "A", "price": "2.50", "qty": 2}]}]})
        q = {"status": "completed", "modified_after": "2024-05-01T00:00:00", "dates_are_gmt": "true",
             "orderby": "modified", "order": "asc", "per_page": "100", "page": "1"}
        status, hdrs, body = self.c.api("GET", "/orders", query=q)
        self.assertEqual((status, hdrs["x-wp-total"], body[0]["total"]), (200, "1", "5.00"))
        status, _, err = self.c.api("GET", "/orders", query=q, auth="basic")
        self.assertEqual((status, err["code"]), (401, "woocommerce_rest_cannot_view"))


if __name__ == "__main__":
    unittest.main()
