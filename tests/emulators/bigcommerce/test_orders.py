"""Tests of the BigCommerce emulator's download side: v2 orders and their
sub-resources, v3 refunds and transactions, v3 customers (orders.py).

Run from the repository root:
    python3 -m unittest tests/emulators/bigcommerce/test_orders.py
One emulator subprocess serves the class, its virtual clock starting at
2026-03-01T12:00:00Z; each test starts from POST /__emulator/reset.
"""

import os
import re
import shutil
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server import DOC_TYPE, Client, start_server, stop_server, tee  # noqa: E402

START = "2026-03-01T12:00:00Z"
MONEY4 = re.compile(r"^-?\d+\.\d{4}$")
RFC2822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                     r"\d{4} \d\d:\d\d:\d\d \+0000$")


def order(**over):
    body = {"status": "Shipped", "created_at": "2026-02-01T10:00:00Z", "tax_rate": 10,
            "lines": [{"sku": "TEE-S-RED", "qty": 2, "price": 20}, {"sku": "MUG-1", "qty": 1, "price": 10,
                                                                     "name": "Mug"}],
            "shipping": {"method": "UPS Ground", "amount": 5},
            "payment": {"gateway": "stripe", "method": "Credit Card"},
            "billing_address": {"first_name": "Ann", "last_name": "Lee", "street_1": "1 Main St", "city": "Austin",
                                "state": "Texas", "zip": "78701", "country_iso2": "US", "email": "ann@example.com"}}
    body.update(over)
    return body


def q(s):
    return urllib.parse.quote(s, safe="")


class OrdersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bc-orders-")
        cls.proc, url = start_server(cls.tmp, "--start-time", START)
        cls.c = Client(url)

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.proc)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.c.control("POST", "reset")
        self.c.control("POST", "config", {"rateQuota": 0})

    def v2(self, path, **kw):
        return self.c.api("GET", path, version="v2", **kw)

    def v3(self, path, **kw):
        return self.c.api("GET", path, version="v3", **kw)

    def seed(self, body):
        return self.c.control("POST", "seed", body)

    # ------------------------------------------------------------ quirks
    def test_empty_answers_are_204_without_body(self):
        status, hdrs, body = self.v2("/orders")
        self.assertEqual((status, body), (204, None))
        self.assertIn("x-rate-limit-requests-quota", hdrs)
        self.seed({"orders": [order(lines=[{"sku": "X", "qty": 1, "price": 3}], tax_rate=0)]})
        status, _, body = self.v2("/orders?page=2")
        self.assertEqual((status, body), (204, None))  # a page past the end
        status, _, body = self.v2("/orders?status_id=5")
        self.assertEqual((status, body), (204, None))
        status, _, body = self.v2("/orders/100/coupons")
        self.assertEqual((status, body), (204, None))
        status, _, body = self.v2("/orders/100/taxes")
        self.assertEqual((status, body), (204, None))
        status, _, body = self.v2("/orders/100/products")
        self.assertEqual(status, 200)
        self.assertIsInstance(body, list)

    def test_order_shape_money_and_dates(self):
        self.seed({"products": [tee()], "orders": [order()]})
        status, hdrs, body = self.v2("/orders")
        self.assertEqual(status, 200)
        self.assertIsInstance(body, list)  # a plain array, no meta
        o = body[0]
        self.assertEqual(o["id"], 100)
        self.assertEqual((o["status_id"], o["status"]), (2, "Shipped"))
        for k in ("subtotal_ex_tax", "subtotal_inc_tax", "subtotal_tax", "shipping_cost_ex_tax", "shipping_cost_inc_tax",
                  "total_ex_tax", "total_inc_tax", "total_tax", "discount_amount", "coupon_discount",
                  "refunded_amount", "store_credit_amount", "gift_certificate_amount", "base_shipping_cost"):
            self.assertRegex(o[k], MONEY4, k)
        self.assertEqual(o["currency_exchange_rate"], "1.0000000000")
        self.assertEqual(o["date_created"], "Sun, 01 Feb 2026 10:00:00 +0000")
        self.assertRegex(o["date_modified"], RFC2822)
        self.assertRegex(o["date_shipped"], RFC2822)
        self.assertEqual(o["subtotal_ex_tax"], "50.0000")
        self.assertEqual(o["subtotal_tax"], "5.0000")
        self.assertEqual(o["shipping_cost_inc_tax"], "5.5000")
        self.assertEqual(o["total_inc_tax"], "60.5000")
        self.assertEqual(o["payment_method"], "Credit Card")
        self.assertEqual(o["billing_address"]["email"], "ann@example.com")
        self.assertEqual(o["customer_id"], 0)  # a guest
        self.assertEqual(o["shipping_addresses"]["resource"], "/orders/100/shippingaddresses")
        self.assertEqual(o["products"]["url"], "https://api.bigcommerce.com/stores/abc123/v2/orders/100/products")
        status, _, one = self.v2("/orders/100")
        self.assertEqual(one, o)
        # unshipped orders print date_shipped ""
        self.seed({"orders": [order(status="Awaiting Fulfillment")]})
        _, _, o2 = self.v2("/orders/101")
        self.assertEqual(o2["date_shipped"], "")
        self.assertEqual(o2["items_shipped"], 0)

    def test_line_items_from_catalog_and_standalone(self):
        out = self.seed({"products": [tee()], "orders": [order()]})
        vid = out["products"][0]["variants"][0]["id"]
        pid = out["products"][0]["id"]
        status, _, lines = self.v2("/orders/100/products")
        self.assertEqual(status, 200)
        tee_line, mug = lines
        self.assertEqual((tee_line["product_id"], tee_line["variant_id"]), (pid, vid))
        self.assertEqual(tee_line["name"], "Cotton Tee")
        self.assertEqual(tee_line["upc"], "012345678905")
        self.assertEqual({o["display_name"]: o["display_value"] for o in tee_line["product_options"]},
                         {"Size": "S", "Color": "Red"})
        self.assertEqual((tee_line["quantity"], tee_line["quantity_shipped"]), (2, 2))
        self.assertEqual(tee_line["price_ex_tax"], "20.0000")
        self.assertEqual(tee_line["price_inc_tax"], "22.0000")
        self.assertEqual(tee_line["total_tax"], "4.0000")
        self.assertEqual((mug["product_id"], mug["variant_id"], mug["name"]), (0, 0, "Mug"))
        self.assertEqual(out["orders"][0]["products"][0]["id"], tee_line["id"])
        status, _, one = self.v2("/orders/100/products/%d" % mug["id"])
        self.assertEqual(one["sku"], "MUG-1")

    def test_discounts_taxes_shipping_and_coupons(self):
        self.seed({"orders": [order(
            lines=[{"sku": "A", "qty": 1, "price": 30}, {"sku": "B", "qty": 2, "price": 10,
                                                          "discounts": [{"amount": 2, "name": "Promo"}]}],
            discounts=[{"code": "SAVE5", "amount": 5}], tax_rate=0, shipping={"method": "UPS Ground", "amount": 4, "tax": 0.4})]})
        _, _, o = self.v2("/orders/100")
        self.assertEqual(o["coupon_discount"], "5.0000")
        self.assertEqual(o["discount_amount"], "2.0000")
        self.assertEqual(o["subtotal_ex_tax"], "50.0000")
        self.assertEqual(o["shipping_cost_tax"], "0.4000")
        # total = subtotal inc tax + shipping inc tax - discounts
        self.assertEqual(o["total_inc_tax"], "47.4000")
        self.assertEqual(o["total_tax"], "0.4000")
        _, _, lines = self.v2("/orders/100/products")
        coupon_shares = [sum(float(d["amount"]) for d in ln["applied_discounts"] if d["code"] == "SAVE5")
                         for ln in lines]
        self.assertAlmostEqual(sum(coupon_shares), 5.0, places=4)
        self.assertAlmostEqual(coupon_shares[0], 3.0, places=4)  # in proportion to the price (30 of 50)
        promo = [d for d in lines[1]["applied_discounts"] if d["name"] == "Promo"][0]
        self.assertEqual((promo["amount"], promo["target"], promo["code"]), ("2.0000", "product", None))
        self.assertEqual(lines[1]["discounted_total_inc_tax"], "16.0000")
        _, _, coupons = self.v2("/orders/100/coupons")
        self.assertEqual(coupons, [{"id": 1, "coupon_id": 1, "order_id": 100, "code": "SAVE5", "amount": 5,
                                    "type": 2, "discount": 5}])
        _, _, taxes = self.v2("/orders/100/taxes")
        self.assertEqual([(t["line_item_type"], t["order_product_id"], t["line_amount"]) for t in taxes],
                         [("shipping", None, "0.4000")])
        _, _, addrs = self.v2("/orders/100/shipping_addresses")
        self.assertEqual((addrs[0]["shipping_method"], addrs[0]["cost_inc_tax"]), ("UPS Ground", "4.4000"))
        self.assertEqual(addrs[0]["id"], lines[0]["order_address_id"])
        _, _, same = self.v2("/orders/100/shippingaddresses")
        self.assertEqual(same, addrs)

    def test_tax_rows_per_line_and_tax_inclusive(self):
        self.seed({"orders": [order(tax_inclusive=True, tax_rate=25,
                                    lines=[{"sku": "A", "qty": 1, "price": 12.5}], shipping={"amount": 0})]})
        _, _, o = self.v2("/orders/100")
        self.assertTrue(o["is_tax_inclusive_pricing"])
        self.assertEqual((o["subtotal_inc_tax"], o["subtotal_ex_tax"], o["total_tax"]),
                         ("12.5000", "10.0000", "2.5000"))
        _, _, taxes = self.v2("/orders/100/taxes")
        _, _, lines = self.v2("/orders/100/products")
        self.assertEqual(taxes[0]["order_product_id"], str(lines[0]["id"]))  # a string (orderTaxes_Base)
        self.assertEqual((taxes[0]["rate"], taxes[0]["line_item_type"]), ("25.0000", "item"))

    def test_paging_across_several_pages(self):
        self.seed({"orders": [order(lines=[{"sku": "S%d" % i, "qty": 1, "price": i + 1}], tax_rate=0,
                                    created_at="2026-02-%02dT10:00:00Z" % (i + 1)) for i in range(7)]})
        seen = []
        page = 1
        while True:
            status, _, body = self.v2("/orders?status_id=2&sort=date_modified:asc&limit=3&page=%d" % page)
            if status == 204:
                break
            self.assertEqual(status, 200)
            self.assertLessEqual(len(body), 3)
            seen.extend(o["id"] for o in body)
            page += 1
        self.assertEqual(seen, list(range(100, 107)))
        self.assertEqual(page, 4)
        _, _, desc = self.v2("/orders?sort=date_created:desc&limit=2")
        self.assertEqual([o["id"] for o in desc], [106, 105])
        _, _, big = self.v2("/orders?limit=1000")  # clamped to 250
        self.assertEqual(len(big), 7)
        _, _, count = self.v2("/orders/count?status_id=2")
        self.assertEqual(count["count"], 7)
        self.assertEqual([s["count"] for s in count["statuses"] if s["id"] == 2], [7])

    def test_min_date_modified_rfc2822_and_iso8601(self):
        self.seed({"orders": [order(created_at="2026-02-01T10:00:00Z"), order(created_at="2026-02-10T10:00:00Z")]})
        for value in ("Tue, 10 Feb 2026 10:00:00 +0000", "Tue, 10 Feb 2026 05:00:00 -0500",
                      "2026-02-10T10:00:00+00:00", "2026-02-10T05:00:00.000-05:00", "2026-02-10T10:00:00Z"):
            status, _, body = self.v2("/orders?min_date_modified=" + q(value))
            self.assertEqual(status, 200, value)
            self.assertEqual([o["id"] for o in body], [101], value)  # inclusive
        status, _, body = self.v2("/orders?max_date_modified=" + q("2026-02-09T00:00:00Z"))
        self.assertEqual([o["id"] for o in body], [100])
        status, _, body = self.v2("/orders?min_date_created=" + q("2026-02-11T00:00:00Z"))
        self.assertEqual(status, 204)
        # an unencoded "+" arrives as a space: 400 with a v2 error array
        status, _, body = self.v2("/orders?min_date_modified=2026-02-10T10:00:00+00:00")
        self.assertEqual(status, 400)
        self.assertEqual(body[0]["status"], 400)
        self.assertEqual(body[0]["message"], "The field 'min_date_modified' is invalid.")

    def test_status_id_takes_one_value_and_params_are_checked(self):
        self.seed({"orders": [order(), order(status=3), order(status="completed")]})
        _, _, body = self.v2("/orders?status_id=3")
        self.assertEqual([o["id"] for o in body], [101])
        for bad in ("status_id=2,3", "status_id=shipped", "min_id=x", "limit=ten", "sort=total",
                    "sort=id:up", "include=products", "consignment_structure=array", "max_total=abc"):
            status, _, body = self.v2("/orders?" + bad)
            self.assertEqual(status, 400, bad)
            self.assertIsInstance(body, list, bad)
            self.assertEqual(body[0]["status"], 400)
        _, _, body = self.v2("/orders?min_id=101&max_id=102&include=fees")
        self.assertEqual([o["id"] for o in body], [101, 102])
        self.assertEqual(body[0]["fees"], [])
        _, _, body = self.v2("/orders?email=ANN@example.com&unknown_param=1")
        self.assertEqual(len(body), 3)  # unknown parameters are ignored

    def test_update_moves_date_modified(self):
        self.seed({"orders": [order(), order(created_at="2026-02-02T10:00:00Z")]})
        watermark = "2026-02-15T00:00:00Z"
        status, _, _ = self.v2("/orders?min_date_modified=" + q(watermark))
        self.assertEqual(status, 204)
        self.c.control("POST", "clock", {"advance_ms": 60000})
        out = self.seed({"orders": [{"id": 100, "update": {"staff_notes": "checked"}}]})
        self.assertEqual(out["orders"][0]["id"], 100)
        status, _, body = self.v2("/orders?sort=date_modified:asc&min_date_modified=" + q(watermark))
        self.assertEqual([o["id"] for o in body], [100])
        self.assertEqual(body[0]["staff_notes"], "checked")
        self.assertTrue(body[0]["date_modified"].startswith("Sun, 01 Mar 2026 12:0"))
        _, _, all_ = self.v2("/orders?sort=date_modified:asc")
        self.assertEqual([o["id"] for o in all_], [101, 100])
        # status change and explicit time
        self.seed({"orders": [{"id": 101, "update": {"status": "Cancelled", "updated_at": "2026-02-20T00:00:00Z"}}]})
        _, _, o = self.v2("/orders/101")
        self.assertEqual((o["status_id"], o["date_modified"]), (5, "Fri, 20 Feb 2026 00:00:00 +0000"))
        self.assertEqual(self.c.raw("POST", "/__emulator/seed", b'{"orders":[{"id":999,"update":{}}]}',
                                    {"Content-Type": "application/json"})[0], 400)

    # ------------------------------------------------------------ refunds
    def test_refunds_change_the_order_and_are_listed(self):
        out = self.seed({"products": [tee(inventory_tracking="variant")],
                         "orders": [order(), order(created_at="2026-02-05T10:00:00Z")]})
        self.assertEqual(self.c.control("GET", "state")["variants"][0]["inventory"], {})
        self.seed({"orders": [{"id": 100, "refunds": [
            {"created_at": "2026-02-20T09:30:00Z", "reason": "too small",
             "lines": [{"sku": "TEE-S-RED", "qty": 1, "restock": True}], "shipping": 5.5}]}]})
        _, _, o = self.v2("/orders/100")
        self.assertEqual((o["status_id"], o["status"]), (14, "Partially Refunded"))
        self.assertEqual(o["refunded_amount"], "27.5000")
        self.assertEqual(o["date_modified"], "Fri, 20 Feb 2026 09:30:00 +0000")
        # the refunded order left the Shipped query
        _, _, shipped = self.v2("/orders?status_id=2")
        self.assertEqual([x["id"] for x in shipped], [101])
        _, _, lines = self.v2("/orders/100/products")
        self.assertEqual((lines[0]["quantity_refunded"], lines[0]["refund_amount"], lines[0]["is_refunded"]),
                         (1, "22.0000", False))
        status, _, body = self.v3("/orders/payment_actions/refunds?created:min=" + q("2026-02-01T00:00:00+00:00"))
        self.assertEqual(status, 200)
        r = body["data"][0]
        self.assertEqual(r["created"], "2026-02-20T09:30:00+00:00")
        self.assertEqual((r["order_id"], r["total_amount"], r["total_tax"], r["reason"]), (100, 27.5, 2, "too small"))
        self.assertEqual(r["items"], [
            {"item_type": "PRODUCT", "item_id": lines[0]["id"], "reason": "", "quantity": 1, "requested_amount": None},
            {"item_type": "SHIPPING", "item_id": lines[0]["order_address_id"], "reason": "", "quantity": None,
             "requested_amount": 5.5}])
        self.assertEqual((r["payments"][0]["provider_id"], r["payments"][0]["amount"], r["payments"][0]["offline"]),
                         ("stripe", 27.5, False))
        self.assertEqual(body["meta"]["pagination"]["total"], 1)
        # the restock flag is not in the API, but the stock came back
        self.assertNotIn("restock", str(r))
        self.assertEqual(self.c.control("GET", "state")["variants"][0]["inventory"], {"1": 1})
        # the rest refunded: status 4
        self.c.control("POST", "clock", {"advance_ms": 1000})
        self.seed({"orders": [{"id": 100, "refunds": [{"lines": [{"line": 0, "qty": 1}, {"line": 1}]}]}]})
        _, _, o = self.v2("/orders/100")
        self.assertEqual((o["status_id"], o["refunded_amount"]), (4, o["total_inc_tax"]))
        _, _, per_order = self.v3("/orders/100/payment_actions/refunds")
        self.assertEqual([x["id"] for x in per_order["data"]], [1, 2])
        _, _, later = self.v3("/orders/payment_actions/refunds?created:min=" + q("2026-02-21T00:00:00Z"))
        self.assertEqual([x["id"] for x in later["data"]], [2])
        _, _, by_order = self.v3("/orders/payment_actions/refunds?order_id:in=101,102")
        self.assertEqual(by_order["data"], [])
        _, _, one = self.v3("/orders/payment_actions/refunds/2")
        self.assertEqual((one["data"]["id"], one["meta"]), (2, {}))
        # over-refunding is refused at seed time
        status, _, _ = self.c.raw("POST", "/__emulator/seed",
                                  b'{"orders":[{"id":100,"refunds":[{"amount":1}]}]}', {"Content-Type": "application/json"})
        self.assertEqual(status, 400)

    def test_refund_paging_and_filter_errors(self):
        self.seed({"orders": [order(lines=[{"sku": "A", "qty": 5, "price": 10}], tax_rate=0,
                                    refunds=[{"lines": [{"sku": "A", "qty": 1}],
                                              "created_at": "2026-02-1%dT00:00:00Z" % i} for i in range(5)])]})
        ids = []
        page = 1
        while True:
            _, _, body = self.v3("/orders/payment_actions/refunds?limit=2&page=%d" % page)
            ids.extend(r["id"] for r in body["data"])
            p = body["meta"]["pagination"]
            self.assertEqual((p["total"], p["total_pages"], p["per_page"]), (5, 3, 2))
            if p["current_page"] >= p["total_pages"]:
                self.assertNotIn("next", p["links"])
                break
            self.assertEqual(p["links"]["next"], "?page=%d&limit=2" % (page + 1))
            page += 1
        self.assertEqual(ids, [1, 2, 3, 4, 5])
        for bad in ("created:min=2026-02-10T00:00:00+00:00", "created:min=yesterday", "order_id:in=a,b"):
            status, _, body = self.v3("/orders/payment_actions/refunds?" + bad)
            self.assertEqual(status, 422, bad)
            self.assertEqual((body["status"], body["type"]), (422, DOC_TYPE))
        status, _, body = self.v3("/orders/999/payment_actions/refunds")
        self.assertEqual((status, body["status"]), (404, 404))

    def test_transactions_with_gateways(self):
        self.seed({"orders": [order(lines=[{"sku": "A", "qty": 1, "price": 100}], tax_rate=0,
                                    shipping={"amount": 0},
                                    payments=[{"gateway": "storecredit", "amount": 30},
                                              {"gateway": "square", "method": "Square"}])]})
        _, _, o = self.v2("/orders/100")
        self.assertEqual((o["store_credit_amount"], o["payment_method"]), ("30.0000", "Square"))
        status, _, body = self.v3("/orders/100/transactions")
        self.assertEqual(status, 200)
        self.assertEqual([(t["gateway"], t["method"], t["amount"], t["event"]) for t in body["data"]],
                         [("storecredit", "store_credit", 30, "purchase"), ("square", "credit_card", 70, "purchase")])
        self.assertEqual(body["data"][0]["order_id"], "100")
        self.assertRegex(body["data"][0]["date_created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        status, _, body = self.c.raw("POST", "/__emulator/seed",
                                     b'{"orders":[{"lines":[{"sku":"A","qty":1,"price":1}],"payment":{"gateway":"venmo"}}]}',
                                     {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertIn(b"gateway", body)
        status, _, _ = self.v3("/orders/999/transactions")
        self.assertEqual(status, 404)

    def test_shipments(self):
        self.seed({"orders": [order(shipment={"tracking_number": "1Z999", "carrier": "ups"}),
                              order(status="Awaiting Shipment")]})
        status, _, body = self.v2("/orders/100/shipments")
        self.assertEqual(status, 200)
        self.assertEqual((body[0]["tracking_number"], body[0]["tracking_carrier"]), ("1Z999", "ups"))
        self.assertEqual(sum(i["quantity"] for i in body[0]["items"]), 3)
        status, _, body = self.v2("/orders/101/shipments")
        self.assertEqual((status, body), (204, None))  # documented "No shipments exist"

    # ------------------------------------------------------------ customers
    def test_customers_paging_filters_and_include(self):
        self.seed({"customers": [{"email": "c%d@example.com" % i, "first_name": "C%d" % i, "last_name": "Lee",
                                  "created_at": "2026-01-%02dT00:00:00Z" % (i + 1),
                                  "addresses": [{"address1": "%d Main" % i, "city": "Austin", "country_code": "US"}]}
                                 for i in range(5)]})
        status, _, body = self.v3("/customers?limit=2")
        self.assertEqual(status, 200)
        self.assertEqual([c["id"] for c in body["data"]], [1, 2])
        self.assertNotIn("addresses", body["data"][0])
        self.assertEqual(body["data"][0]["date_created"], "2026-01-01T00:00:00Z")
        meta = body["meta"]
        self.assertEqual(meta["pagination"]["total_pages"], 3)
        self.assertIn("cursor_pagination", meta)  # first page: both
        _, _, page2 = self.v3("/customers?limit=2&page=2")
        self.assertEqual([c["id"] for c in page2["data"]], [3, 4])
        self.assertNotIn("cursor_pagination", page2["meta"])  # past the first: pagination only
        after = meta["cursor_pagination"]["end_cursor"]
        _, _, cur = self.v3("/customers?limit=2&after=" + after)
        self.assertEqual([c["id"] for c in cur["data"]], [3, 4])
        self.assertEqual(list(cur["meta"]), ["cursor_pagination"])  # with a cursor: cursor only
        _, _, cur2 = self.v3("/customers?limit=2&after=" + cur["meta"]["cursor_pagination"]["end_cursor"])
        self.assertEqual([c["id"] for c in cur2["data"]], [5])
        self.assertNotIn("next", cur2["meta"]["cursor_pagination"]["links"])
        _, _, some = self.v3("/customers?id:in=2,4&include=addresses,storecredit")
        self.assertEqual([c["id"] for c in some["data"]], [2, 4])
        self.assertEqual(some["data"][0]["addresses"][0]["address1"], "1 Main")
        self.assertEqual(some["data"][0]["addresses"][0]["first_name"], "C1")
        self.assertEqual(some["data"][0]["store_credit_amounts"], [{"amount": 0}])
        _, _, by_mail = self.v3("/customers?email:in=C3@example.com")
        self.assertEqual([c["id"] for c in by_mail["data"]], [4])
        for bad in ("include=orders", "sort=email:asc", "id:in=x", "date_modified:min=soon"):
            status, _, body = self.v3("/customers?" + bad)
            self.assertEqual(status, 422, bad)

    def test_customers_modified_filter_and_update(self):
        self.seed({"customers": [{"email": "a@example.com", "first_name": "A", "last_name": "One",
                                  "created_at": "2026-01-01T00:00:00Z"},
                                 {"email": "b@example.com", "first_name": "B", "last_name": "Two",
                                  "created_at": "2026-01-02T00:00:00Z"}]})
        _, _, body = self.v3("/customers?date_modified:min=2026-01-02T00:00:00")
        self.assertEqual([c["id"] for c in body["data"]], [2])
        _, _, body = self.v3("/customers?date_modified:min=2026-01-03")
        self.assertEqual(body["data"], [])
        self.seed({"customers": [{"id": 1, "update": {"phone": "555-0100"}}]})
        _, _, body = self.v3("/customers?date_modified:min=2026-01-03&sort=date_modified:desc")
        self.assertEqual([(c["id"], c["phone"]) for c in body["data"]], [(1, "555-0100")])
        self.assertRegex(body["data"][0]["date_modified"], r"^2026-03-01T12:0\d:\d\dZ$")  # the virtual now

    def test_orders_link_customers(self):
        self.seed({"customers": [{"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee",
                                  "addresses": [{"address1": "9 Elm", "city": "Austin", "country_code": "US"}]}],
                   "orders": [order(billing_address=None, customer_email="ann@example.com"),
                              order(customer={"email": "new@example.com", "first_name": "New", "last_name": "Buyer"})]})
        _, _, o = self.v2("/orders/100")
        self.assertEqual((o["customer_id"], o["billing_address"]["street_1"], o["billing_address"]["email"]),
                         (1, "9 Elm", "ann@example.com"))
        _, _, o = self.v2("/orders/101")
        self.assertEqual(o["customer_id"], 2)
        _, _, body = self.v2("/orders?customer_id=2")
        self.assertEqual([x["id"] for x in body], [101])
        _, _, body = self.v3("/customers")
        self.assertEqual([c["email"] for c in body["data"]], ["ann@example.com", "new@example.com"])

    # ------------------------------------------------------------ auth, faults, rate limit, misc
    def test_auth(self):
        status, hdrs, body = self.v2("/orders", token="wrong")
        self.assertEqual((status, body), (401, [{"status": 401, "message": "Unauthorized"}]))
        status, _, body = self.v3("/customers", token=None)
        self.assertEqual((status, body["status"], body["type"]), (401, 401, DOC_TYPE))
        status, _, body = self.v3("/orders/payment_actions/refunds", store="other")
        self.assertEqual(status, 403)

    def test_faults_and_rate_limit(self):
        self.seed({"orders": [order()]})
        self.c.control("POST", "faults", {"rules": [{"match": "op:getOrders", "status": 500}]})
        status, hdrs, body = self.v2("/orders")
        self.assertEqual((status, body), (500, [{"status": 500, "message": "Internal Server Error"}]))
        status, _, _ = self.v2("/orders")
        self.assertEqual(status, 200)
        self.c.control("POST", "faults", {"rules": [{"match": "op:getOrdersRefunds", "status": 429}]})
        status, hdrs, body = self.v3("/orders/payment_actions/refunds")
        self.assertEqual((status, body["status"]), (429, 429))
        self.assertNotIn("x-rate-limit-requests-left", hdrs)  # platform load, no quota headers
        self.c.control("POST", "faults", {"rules": [{"match": "op:getCustomers", "status": 503}]})
        status, hdrs, body = self.v3("/customers")
        self.assertEqual((status, body["title"]), (503, "Service Unavailable"))
        self.c.control("POST", "config", {"rateQuota": 2, "rateWindowMs": 30000})
        self.assertEqual(self.v2("/orders/100/products")[0], 200)
        self.assertEqual(self.v2("/orders/100/taxes")[0], 200)
        status, hdrs, body = self.v2("/orders/100/coupons")
        self.assertEqual(status, 429)
        self.assertIn("x-retry-after", hdrs)
        log = self.c.control("GET", "requests")["requests"]
        self.assertIn("getOrderTaxes", [e.get("operation") for e in log])

    def test_not_found_and_method(self):
        status, _, body = self.v2("/orders/12345")
        self.assertEqual((status, body), (404, [{"status": 404, "message": "The requested resource was not found."}]))
        status, _, body = self.v2("/orders/12345/products")
        self.assertEqual(status, 404)
        status, _, body = self.c.api("POST", "/orders", {"x": 1}, version="v2")
        self.assertEqual(status, 405)
        self.assertIsInstance(body, list)

    def test_time_statuses_and_state(self):
        _, _, body = self.v2("/time")
        self.assertAlmostEqual(body["time"], 1772366400, delta=120)
        _, _, statuses = self.v2("/order_statuses")
        self.assertEqual({s["id"]: s["name"] for s in statuses}[14], "Partially Refunded")
        self.seed({"orders": [order(refunds=[{"lines": [{"sku": "MUG-1"}]}])]})
        st = self.c.control("GET", "state")
        self.assertEqual(st["orders"][0]["id"], 100)
        self.assertEqual(st["orders"][0]["refund_ids"], [1])
        self.assertEqual(len(st["orders"][0]["products"]), 2)
        self.assertEqual(st["refunds"][0]["order_id"], 100)
        self.assertEqual(st["customers"], [])
        self.c.control("POST", "reset")
        self.assertEqual(self.c.control("GET", "state")["orders"], [])


class OrdersStateFileTest(unittest.TestCase):
    def test_orders_survive_restart(self):
        tmp = tempfile.mkdtemp(prefix="bc-orders-")
        try:
            proc, url = start_server(tmp)
            try:
                Client(url).control("POST", "seed", {"customers": [{"email": "a@example.com"}], "orders": [order()]})
            finally:
                stop_server(proc)
            proc, url = start_server(tmp)
            try:
                c = Client(url)
                status, _, body = c.api("GET", "/orders", version="v2")
                self.assertEqual([o["id"] for o in body], [100])
                status, _, body = c.api("GET", "/customers")
                self.assertEqual(len(body["data"]), 1)
                out = c.control("POST", "seed", {"orders": [order()]})
                self.assertEqual(out["orders"][0]["id"], 101)  # ids go on
            finally:
                stop_server(proc)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
