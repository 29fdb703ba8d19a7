"""Tests of the Shopify emulator's download side: orders, refunds, returns, customers.

Run from the repository root:
    python3 -m unittest tests/emulators/shopify/test_orders.py
"""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from shopify.test_server import TOKEN, V, EmulatorCase  # noqa: E402

# The download query a client should send (checked against the stored schema:
# Order.transactions and Order.refunds are lists, Refund.transactions and
# Refund.refundLineItems connections).
ORDERS = """
query Orders($first: Int!, $cursor: String, $q: String) {
  orders(first: $first, after: $cursor, sortKey: UPDATED_AT, query: $q) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name createdAt updatedAt processedAt closedAt cancelledAt currencyCode email
      displayFulfillmentStatus displayFinancialStatus paymentGatewayNames
      customer { id email firstName lastName phone }
      billingAddress { address1 address2 city provinceCode zip countryCodeV2 company phone firstName lastName }
      shippingAddress { address1 address2 city provinceCode zip countryCodeV2 company phone firstName lastName }
      shippingLines(first: 2) { nodes { title originalPriceSet { shopMoney { amount } }
        taxLines { priceSet { shopMoney { amount } } } } }
      totalShippingPriceSet { shopMoney { amount } }
      totalTaxSet { shopMoney { amount } }
      totalPriceSet { shopMoney { amount currencyCode } }
      totalDiscountsSet { shopMoney { amount } }
      cartDiscountAmountSet { shopMoney { amount } }
      currentTotalPriceSet { shopMoney { amount } }
      lineItems(first: 10) { nodes { id sku title quantity currentQuantity
        originalUnitPriceSet { shopMoney { amount } }
        totalDiscountSet { shopMoney { amount } }
        discountAllocations { allocatedAmountSet { shopMoney { amount } } }
        taxLines { title rate priceSet { shopMoney { amount } } }
        variant { id } } }
      transactions(first: 10) { gateway kind status amountSet { shopMoney { amount } } }
      refunds(first: 5) { id createdAt updatedAt totalRefundedSet { shopMoney { amount } }
        refundLineItems(first: 5) { nodes { lineItem { id sku } quantity restockType
          subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } } } }
        transactions(first: 3) { nodes { gateway kind status amountSet { shopMoney { amount } } } } }
    }
  }
}"""

# The brief's download query made to fit: as documented in ../README.md (requested cost 797).
WORKING = """
query ShippedOrders($cursor: String, $q: String!) {
  orders(first: 5, after: $cursor, sortKey: UPDATED_AT, query: $q) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name createdAt updatedAt processedAt closedAt currencyCode email displayFulfillmentStatus
      customer { id email firstName lastName phone }
      billingAddress { address1 address2 city provinceCode zip countryCodeV2 company phone firstName lastName }
      shippingAddress { address1 address2 city provinceCode zip countryCodeV2 company phone firstName lastName }
      shippingLines(first: 2) { nodes { title originalPriceSet { shopMoney { amount } } taxLines { priceSet { shopMoney { amount } } } } }
      totalShippingPriceSet { shopMoney { amount } }
      totalTaxSet { shopMoney { amount } }
      totalPriceSet { shopMoney { amount } }
      totalDiscountsSet { shopMoney { amount } }
      currentTotalPriceSet { shopMoney { amount } }
      lineItems(first: 10) {
        pageInfo { hasNextPage endCursor }
        nodes { id sku title quantity originalUnitPriceSet { shopMoney { amount } } totalDiscountSet { shopMoney { amount } } taxLines { priceSet { shopMoney { amount } } } }
      }
      transactions(first: 10) { gateway kind status amountSet { shopMoney { amount } } }
      refunds { id createdAt updatedAt totalRefundedSet { shopMoney { amount } }
        refundLineItems(first: 5) { nodes { lineItem { id sku } quantity restockType subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } } } }
        transactions(first: 3) { nodes { gateway kind status amountSet { shopMoney { amount } } } } }
    }
  }
}"""

LINES_AFTER = """
query MoreLines($id: ID!, $after: String) {
  order(id: $id) { lineItems(first: 100, after: $after) { pageInfo { hasNextPage endCursor }
    nodes { id sku quantity originalUnitPriceSet { shopMoney { amount } } } } }
}"""

CUSTOMERS = """
query Customers($cursor: String, $q: String) {
  customers(first: 2, after: $cursor, sortKey: UPDATED_AT, query: $q) {
    pageInfo { hasNextPage endCursor }
    nodes { id email firstName lastName phone createdAt updatedAt numberOfOrders tags
            defaultAddress { address1 city zip countryCodeV2 } }
  }
}"""


def order(**over):
    o = {"createdAt": "2026-11-20T10:00:00Z", "status": "shipped", "gateway": "shopify_payments",
         "customer": {"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee", "phone": "+15550100"},
         "billingAddress": {"firstName": "Ann", "lastName": "Lee", "address1": "1 Main St", "city": "Albany",
                            "provinceCode": "NY", "zip": "12207", "countryCodeV2": "US"},
         "shippingAddress": {"firstName": "Ann", "lastName": "Lee", "address1": "1 Main St", "city": "Albany",
                             "provinceCode": "NY", "zip": "12207", "countryCodeV2": "US"},
         "lines": [{"sku": "TEE-S", "price": "20.00", "quantity": 2, "discount": "2.00",
                    "tax": [{"title": "NY State Tax", "rate": 0.04, "amount": "1.52"}]},
                   {"sku": "GIFT-WRAP", "title": "Gift wrap", "price": "3.50", "quantity": 1}],
         "shipping": {"title": "Standard", "price": "5.00", "tax": [{"title": "NY State Tax", "rate": 0.04,
                                                                     "amount": "0.20"}]}}
    o.update(over)
    return o


CATALOG = [{"title": "Cotton Tee", "options": [{"name": "Size", "values": ["S"]}],
            "variants": [{"options": ["S"], "sku": "TEE-S", "price": "20.00"}]}]


class OrdersCase(EmulatorCase):
    def seed(self, body):
        status, out = self.c.control("POST", "seed", body)
        self.assertEqual(status, 200, out)
        return out

    def orders(self, q=None, first=4, cursor=None, version=V):
        return self.ok(ORDERS, {"first": first, "cursor": cursor, "q": q}, version)["orders"]

    def download(self, q, first):
        """Every page of a query -> ([names], pages)."""
        names, cursor, pages = [], None, 0
        while True:
            page = self.orders(q, first, cursor)
            pages += 1
            names += [n["name"] for n in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                return names, pages
            cursor = page["pageInfo"]["endCursor"]


class OrderShapeTest(OrdersCase):
    def test_shipped_order_every_field(self):
        out = self.seed({"products": CATALOG, "orders": [order(discount={"code": "SAVE5", "amount": "5.00"})]})
        variant_id = out["products"][0]["variants"][0]["id"]
        nodes = self.orders("fulfillment_status:shipped")["nodes"]
        self.assertEqual(len(nodes), 1)
        o = nodes[0]
        self.assertTrue(o["id"].startswith("gid://shopify/Order/"))
        self.assertEqual(o["name"], "#1001")
        self.assertEqual((o["createdAt"], o["processedAt"], o["updatedAt"], o["closedAt"]),
                         ("2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z", None))
        self.assertEqual((o["currencyCode"], o["email"], o["displayFulfillmentStatus"], o["displayFinancialStatus"]),
                         ("USD", "ann@example.com", "FULFILLED", "PAID"))
        self.assertEqual(o["paymentGatewayNames"], ["shopify_payments"])
        self.assertEqual(o["customer"]["email"], "ann@example.com")
        self.assertTrue(o["customer"]["id"].startswith("gid://shopify/Customer/"))
        self.assertEqual(o["shippingAddress"]["provinceCode"], "NY")
        self.assertEqual(o["billingAddress"]["countryCodeV2"], "US")
        # money: Decimal strings as Shopify prints them
        self.assertEqual(o["totalPriceSet"]["shopMoney"], {"amount": "43.22", "currencyCode": "USD"})
        # 40 + 3.50 - 2 (line) - 5 (code) = 36.50; + 5 shipping + 1.72 tax = 43.22
        self.assertEqual(o["totalShippingPriceSet"]["shopMoney"]["amount"], "5.0")
        self.assertEqual(o["totalTaxSet"]["shopMoney"]["amount"], "1.72")
        self.assertEqual(o["totalDiscountsSet"]["shopMoney"]["amount"], "7.0")
        self.assertEqual(o["cartDiscountAmountSet"]["shopMoney"]["amount"], "5.0")
        self.assertEqual(o["currentTotalPriceSet"]["shopMoney"]["amount"], "43.22")
        tee, wrap = o["lineItems"]["nodes"]
        self.assertEqual((tee["sku"], tee["title"], tee["quantity"], tee["variant"]),
                         ("TEE-S", "Cotton Tee", 2, {"id": variant_id}))
        self.assertEqual(tee["originalUnitPriceSet"]["shopMoney"]["amount"], "20.0")
        self.assertEqual(tee["taxLines"], [{"title": "NY State Tax", "rate": 0.04,
                                            "priceSet": {"shopMoney": {"amount": "1.52"}}}])
        self.assertEqual((wrap["sku"], wrap["variant"]), ("GIFT-WRAP", None))  # stands alone
        # the trap: totalDiscountSet is line-level only; the code discount is only in the allocations
        self.assertEqual(tee["totalDiscountSet"]["shopMoney"]["amount"], "2.0")
        self.assertEqual(wrap["totalDiscountSet"]["shopMoney"]["amount"], "0.0")
        alloc = [a["allocatedAmountSet"]["shopMoney"]["amount"] for l in (tee, wrap) for a in l["discountAllocations"]]
        self.assertEqual(alloc, ["2.0", "4.58", "0.42"])  # 5.00 split 38 : 3.50
        self.assertEqual(o["shippingLines"]["nodes"], [{"title": "Standard",
                                                        "originalPriceSet": {"shopMoney": {"amount": "5.0"}},
                                                        "taxLines": [{"priceSet": {"shopMoney": {"amount": "0.2"}}}]}])
        self.assertEqual(o["transactions"], [{"gateway": "shopify_payments", "kind": "SALE", "status": "SUCCESS",
                                              "amountSet": {"shopMoney": {"amount": "43.22"}}}])
        self.assertEqual(o["refunds"], [])

    def test_the_briefs_query_shapes_against_the_schema(self):
        self.seed({"orders": [order(lines=[{"sku": "A", "price": "1", "quantity": 1}])]})
        # Order.transactions is a list: { nodes } is a selection error
        _, _, body = self.c.gql("{ orders(first: 1) { nodes { transactions(first: 2) { nodes { id } } } } }")
        self.assertEqual(body["errors"][0]["extensions"]["code"], "undefinedField")
        # Order.refunds takes first (a list), with or without it
        self.ok("{ orders(first: 1) { nodes { refunds { id } r2: refunds(first: 1) { id } } } }")
        # Refund.transactions is a connection: a bare selection is refused
        _, _, body = self.c.gql("{ orders(first: 1) { nodes { refunds { transactions(first: 1) { id } } } } }")
        self.assertIn("errors", body)
        # lineItems(first: 250) with refundLineItems(first: 250) is over the 1000-point cap
        _, _, body = self.c.gql(ORDERS.replace("lineItems(first: 10)", "lineItems(first: 250)")
                                .replace("refundLineItems(first: 5)", "refundLineItems(first: 250)"),
                                {"first": 1})
        self.assertEqual(body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED")
        self.assertNotIn("data", body)

    def test_cost_of_the_download_query(self):
        self.seed({"orders": [order(lines=[{"sku": "A", "price": "1", "quantity": 1}])]})
        _, _, body = self.c.gql(ORDERS, {"first": 4, "q": None})
        cost = body["extensions"]["cost"]
        # one order: 1 + customer 1 + 2 addresses + shippingLines 2+2*6 + 6 MoneyBags*2
        #   + lineItems 2+10*(1+2+2+3+3+1) + transactions (a list: not multiplied) 1+2
        #   + refunds (a list) 1+2+(2+5*6)+(2+3*3) = 201; orders(first: 4): 2 + 4*201
        self.assertEqual(cost["requestedQueryCost"], 2 + 4 * 201)
        self.assertLess(cost["actualQueryCost"], 100)

    def test_documented_working_query_and_line_overflow(self):
        lines = [{"sku": "L%02d" % i, "price": "1.00", "quantity": 1} for i in range(12)]
        out = self.seed({"orders": [order(lines=lines, refunds=[{"lines": [{"sku": "L11", "quantity": 1}]}])]})
        status, _, body = self.c.gql(WORKING, {"q": "updated_at:>='2026-11-01T00:00:00Z' AND fulfillment_status:shipped"})
        self.assertEqual(status, 200)
        self.assertNotIn("errors", body)
        self.assertEqual(body["extensions"]["cost"]["requestedQueryCost"], 797)
        o = body["data"]["orders"]["nodes"][0]
        self.assertEqual(o["id"], out["orders"][0]["id"])
        li = o["lineItems"]
        self.assertEqual((len(li["nodes"]), li["pageInfo"]["hasNextPage"]), (10, True))
        more = self.ok(LINES_AFTER, {"id": o["id"], "after": li["pageInfo"]["endCursor"]})["order"]["lineItems"]
        self.assertEqual([n["sku"] for n in more["nodes"]], ["L10", "L11"])
        self.assertFalse(more["pageInfo"]["hasNextPage"])
        self.assertEqual(o["refunds"][0]["refundLineItems"]["nodes"][0]["lineItem"]["sku"], "L11")

    def test_variant_deleted_keeps_the_sku(self):
        out = self.seed({"products": CATALOG, "orders": [order()]})
        pid = out["products"][0]["id"]
        self.ok('mutation { productDelete(input: {id: "%s"}) { deletedProductId } }' % pid)
        tee = self.orders()["nodes"][0]["lineItems"]["nodes"][0]
        self.assertEqual((tee["sku"], tee["variant"]), ("TEE-S", None))

    def test_order_node_count_and_by_id(self):
        out = self.seed({"orders": [order(), order(status="unfulfilled")]})
        oid = out["orders"][0]["id"]
        d = self.ok('query($id: ID!) { order(id: $id) { name } node(id: $id) { ... on Order { name } } '
                    'ordersCount { count precision } shipped: ordersCount(query: "fulfillment_status:shipped") '
                    '{ count } }', {"id": oid})
        self.assertEqual(d["order"], {"name": "#1001"})
        self.assertEqual(d["node"], {"name": "#1001"})
        self.assertEqual(d["ordersCount"], {"count": 2, "precision": "EXACT"})
        self.assertEqual(d["shipped"], {"count": 1})

    def test_taxes_included_order(self):
        self.seed({"orders": [order(taxesIncluded=True, shipping=None,
                                    lines=[{"sku": "A", "price": "10.00", "quantity": 1, "tax": "0.91"}])]})
        o = self.orders()["nodes"][0]
        self.assertEqual(o["totalPriceSet"]["shopMoney"]["amount"], "10.0")
        self.assertEqual(o["totalTaxSet"]["shopMoney"]["amount"], "0.91")


class PagingAndFilterTest(OrdersCase):
    def setUp(self):
        super().setUp()
        orders = []
        for i in range(7):
            orders.append(order(createdAt="2026-11-%02dT12:00:00Z" % (18 + i),
                                lines=[{"sku": "SKU-%d" % i, "price": "10", "quantity": 1}]))
        orders.append(order(createdAt="2026-11-21T13:00:00Z", status="partial",
                            lines=[{"sku": "P-1", "price": "1", "quantity": 1}, {"sku": "P-2", "price": "1", "quantity": 1}]))
        orders.append(order(createdAt="2026-11-21T14:00:00Z", status="unfulfilled"))
        self.seed({"orders": orders})

    def test_paging_across_several_pages_in_updated_order(self):
        names, pages = self.download("fulfillment_status:shipped", 2)
        self.assertEqual(names, ["#%d" % n for n in range(1001, 1008)])
        self.assertEqual(pages, 4)

    def test_updated_at_window(self):
        q = "updated_at:>='2026-11-20T00:00:00Z' AND updated_at:<'2026-11-23T00:00:00Z' AND fulfillment_status:shipped"
        names, _ = self.download(q, 2)
        self.assertEqual(names, ["#1003", "#1004", "#1005"])
        # without quotes, with a space-separated AND
        names, _ = self.download("updated_at:>=2026-11-24T00:00:00Z fulfillment_status:shipped", 4)
        self.assertEqual(names, ["#1007"])

    def test_fulfillment_status_values(self):
        def names(q):
            return sorted(self.download(q, 4)[0])
        self.assertNotIn("#1008", names("fulfillment_status:shipped"))  # partial is not shipped
        self.assertEqual(names("fulfillment_status:partial"), ["#1008"])
        self.assertEqual(names("fulfillment_status:unshipped"), ["#1009"])
        self.assertEqual(names("fulfillment_status:unfulfilled"), ["#1008", "#1009"])
        self.assertEqual(len(names("fulfillment_status:fulfilled")), 7)
        self.assertEqual(names("sku:P-2"), ["#1008"])
        self.assertEqual(len(names("financial_status:paid status:open")), 9)

    def test_update_moves_updated_at_and_the_cursor(self):
        first = self.orders("fulfillment_status:shipped", 3)
        self.assertEqual([n["name"] for n in first["nodes"]], ["#1001", "#1002", "#1003"])
        status, out = self.c.control("POST", "seed", {"orders": [{"id": first["nodes"][0]["id"],
                                                                 "update": {"note": "gift"}}]})
        self.assertEqual(status, 200, out)
        now = self.c.control("GET", "clock")[1]["now"]
        self.assertEqual(out["orders"][0]["updatedAt"], now)
        rest = []
        cursor = first["pageInfo"]["endCursor"]
        while cursor:
            page = self.orders("fulfillment_status:shipped", 3, cursor)
            rest += [n["name"] for n in page["nodes"]]
            cursor = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
        # #1001 moved to the end: met again on a later page, so a client must dedupe by id
        self.assertEqual(rest, ["#1004", "#1005", "#1006", "#1007", "#1001"])
        self.assertEqual(self.state()["orders"][0]["updatedAt"], now)

    def test_search_index_lag_hides_fresh_updates(self):
        self.c.control("POST", "config", {"searchLagMs": 5000})
        self.seed({"orders": [{"name": "#1002", "update": {"tags": ["late"]}}]})
        self.assertEqual(self.orders("tag:late")["nodes"], [])
        self.assertEqual(len(self.download(None, 4)[0]), 9)  # no query: no index
        self.c.control("POST", "clock", {"advance_ms": 6000})
        self.assertEqual([n["name"] for n in self.orders("tag:late")["nodes"]], ["#1002"])
        self.c.control("POST", "config", {"searchLagMs": 0})

    def test_now_and_sort_and_reverse(self):
        d = self.ok('{ a: orders(first: 3, reverse: true, sortKey: CREATED_AT, query: "created_at:<now") '
                    '{ nodes { name } } b: orders(first: 2, sortKey: ORDER_NUMBER) { nodes { name } } }')
        self.assertEqual([n["name"] for n in d["a"]["nodes"]], ["#1007", "#1006", "#1005"])
        self.assertEqual([n["name"] for n in d["b"]["nodes"]], ["#1001", "#1002"])

    def test_first_or_last_is_required_and_cursor_checked(self):
        _, _, body = self.c.gql("{ orders { nodes { id } } }")
        self.assertEqual(body["errors"][0]["message"], "you must provide one of first or last")
        _, _, body = self.c.gql('{ orders(first: 2, after: "garbage!") { nodes { id } } }')
        self.assertEqual(body["errors"][0]["message"], "Invalid cursor for current pagination sort.")

    def test_read_all_orders_scope(self):
        self.c.control("POST", "clock", {"advance_ms": 0})
        now = self.c.control("GET", "clock")[1]["now"]
        self.seed({"orders": [order(createdAt="2020-01-01T00:00:00Z", name="#OLD")]})
        self.assertIn("#OLD", self.download(None, 4)[0])
        self.c.control("POST", "config", {"readAllOrders": False})
        visible = self.download(None, 4)[0]
        self.assertNotIn("#OLD", visible)
        self.assertTrue(now)
        self.c.control("POST", "config", {"readAllOrders": True})


class RefundTest(OrdersCase):
    def test_refund_lines_restock_amounts_and_status(self):
        out = self.seed({"products": CATALOG, "orders": [order()]})
        oid = out["orders"][0]["id"]
        status, out = self.c.control("POST", "seed", {"orders": [{"id": oid, "update": {"refunds": [
            {"lines": [{"sku": "TEE-S", "quantity": 1, "restockType": "RETURN"}],
             "shipping": {"amount": "5.00"}, "note": "damaged"}]}}]})
        self.assertEqual(status, 200, out)
        now = self.c.control("GET", "clock")[1]["now"]
        o = self.orders("financial_status:partially_refunded")["nodes"][0]
        self.assertEqual(o["updatedAt"], now)  # a refund bumps the order
        self.assertEqual(o["displayFinancialStatus"], "PARTIALLY_REFUNDED")
        self.assertEqual(o["displayFulfillmentStatus"], "FULFILLED")
        tee = o["lineItems"]["nodes"][0]
        self.assertEqual((tee["quantity"], tee["currentQuantity"]), (2, 1))
        (r,) = o["refunds"]
        (rl,) = r["refundLineItems"]["nodes"]
        self.assertEqual((rl["lineItem"], rl["quantity"], rl["restockType"]), ({"id": tee["id"], "sku": "TEE-S"}, 1, "RETURN"))
        self.assertEqual(rl["subtotalSet"]["shopMoney"]["amount"], "19.0")  # (40 - 2) / 2
        self.assertEqual(rl["totalTaxSet"]["shopMoney"]["amount"], "0.76")
        self.assertEqual(r["totalRefundedSet"]["shopMoney"]["amount"], "24.76")
        self.assertEqual(r["transactions"]["nodes"], [{"gateway": "shopify_payments", "kind": "REFUND",
                                                       "status": "SUCCESS",
                                                       "amountSet": {"shopMoney": {"amount": "24.76"}}}])
        self.assertEqual([t["kind"] for t in o["transactions"]], ["SALE", "REFUND"])
        self.assertEqual(o["totalPriceSet"]["shopMoney"]["amount"], "48.22")  # before returns
        self.assertEqual(o["currentTotalPriceSet"]["shopMoney"]["amount"], "23.46")  # 48.22 - 24.76

    def test_refund_seeded_with_the_order_and_explicit_amounts(self):
        self.seed({"orders": [order(createdAt="2026-11-20T10:00:00Z", refunds=[
            {"createdAt": "2026-11-25T09:00:00Z",
             "lines": [{"line": 1, "quantity": 1, "restock": False, "subtotal": "3.50", "tax": "0"}],
             "transactions": [{"gateway": "manual", "amount": "3.50"}]}])]})
        o = self.orders("updated_at:>=2026-11-25T00:00:00Z")["nodes"][0]
        self.assertEqual(o["updatedAt"], "2026-11-25T09:00:00Z")
        rl = o["refunds"][0]["refundLineItems"]["nodes"][0]
        self.assertEqual((rl["lineItem"]["sku"], rl["restockType"]), ("GIFT-WRAP", "NO_RESTOCK"))
        self.assertEqual(o["refunds"][0]["transactions"]["nodes"][0]["gateway"], "manual")

    def test_full_refund_and_returns(self):
        out = self.seed({"orders": [order(lines=[{"sku": "A", "price": "10", "quantity": 1}], shipping=None,
                                          returns=[{"status": "CLOSED", "lines": [{"sku": "A", "quantity": 1,
                                                                                    "reason": "DEFECTIVE"}]}],
                                          refunds=[{"lines": [{"sku": "A", "quantity": 1, "restock": True}]}])]})
        d = self.ok('query($id: ID!) { order(id: $id) { displayFinancialStatus returnStatus '
                    'returns(first: 2) { nodes { status totalQuantity returnLineItems(first: 2) { nodes { quantity '
                    'returnReason ... on ReturnLineItem { fulfillmentLineItem { lineItem { sku } } } } } } } } }',
                    {"id": out["orders"][0]["id"]})["order"]
        self.assertEqual((d["displayFinancialStatus"], d["returnStatus"]), ("REFUNDED", "RETURNED"))
        rli = d["returns"]["nodes"][0]["returnLineItems"]["nodes"][0]
        self.assertEqual((rli["quantity"], rli["returnReason"], rli["fulfillmentLineItem"]["lineItem"]["sku"]),
                         (1, "DEFECTIVE", "A"))
        self.assertEqual(len(self.orders("return_status:returned")["nodes"]), 1)

    def test_refund_more_than_bought_is_a_seed_error(self):
        out = self.seed({"orders": [order()]})
        status, body = self.c.control("POST", "seed", {"orders": [{"id": out["orders"][0]["id"], "update": {
            "refunds": [{"lines": [{"sku": "TEE-S", "quantity": 3}]}]}}]})
        self.assertEqual(status, 400)
        self.assertIn("cannot refund 3", body["error"])


class CustomerTest(OrdersCase):
    def test_customers_paging_and_updated_filter(self):
        self.seed({"customers": [
            {"email": "c%d@example.com" % i, "firstName": "C%d" % i, "createdAt": "2026-11-1%dT08:00:00Z" % i,
             "tags": ["pos"], "addresses": [{"address1": "%d Elm" % i, "city": "Troy", "countryCodeV2": "US"}]}
            for i in range(5)]})
        names, cursor = [], None
        while True:
            page = self.ok(CUSTOMERS, {"cursor": cursor, "q": "updated_at:>='2026-11-11T00:00:00Z'"})["customers"]
            names += [n["email"] for n in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            cursor = page["pageInfo"]["endCursor"]
        self.assertEqual(names, ["c1@example.com", "c2@example.com", "c3@example.com", "c4@example.com"])
        # equality on updated_at matches the whole day
        page = self.ok(CUSTOMERS, {"q": "updated_at:2026-11-12T00:00:00Z"})["customers"]
        self.assertEqual([n["email"] for n in page["nodes"]], ["c2@example.com"])
        self.assertEqual(page["nodes"][0]["defaultAddress"]["address1"], "2 Elm")
        self.assertEqual(page["nodes"][0]["numberOfOrders"], "0")

    def test_order_creates_customer_and_customer_update_moves(self):
        self.seed({"orders": [order(), order(createdAt="2026-11-21T10:00:00Z",
                                             customer="ann@example.com")]})
        st = self.state()
        self.assertEqual(len(st["customers"]), 1)
        self.assertEqual(st["customers"][0]["numberOfOrders"], 2)
        self.assertEqual(st["customers"][0]["updatedAt"], "2026-11-21T10:00:00Z")
        cid = st["customers"][0]["id"]
        status, out = self.c.control("POST", "seed", {"customers": [{"id": cid, "update": {"phone": "+15550199"}}]})
        self.assertEqual(status, 200, out)
        d = self.ok('query($id: ID!) { customer(id: $id) { phone updatedAt amountSpent { amount } '
                    'orders(first: 5) { nodes { name } } } }', {"id": cid})["customer"]
        self.assertEqual(d["phone"], "+15550199")
        self.assertEqual(d["updatedAt"], out["customers"][0]["updatedAt"])
        self.assertEqual([n["name"] for n in d["orders"]["nodes"]], ["#1001", "#1002"])

    def test_default_email_address_from_2025_04(self):
        self.seed({"customers": [{"email": "x@example.com"}]})
        q = "{ customers(first: 1) { nodes { email defaultEmailAddress { emailAddress } } } }"
        d = self.ok(q, version="2026-01")
        self.assertEqual(d["customers"]["nodes"][0]["defaultEmailAddress"], {"emailAddress": "x@example.com"})
        self.c.control("POST", "config", {"oldestVersion": "2025-01"})
        _, _, body = self.c.gql(q, version="2025-01")
        self.assertEqual(body["errors"][0]["extensions"]["code"], "undefinedField")


class HarnessForOrdersTest(OrdersCase):
    def test_auth_and_faults_on_the_orders_query(self):
        status, _, body = self.c.gql(ORDERS, {"first": 1}, token="shpat_wrong")
        self.assertEqual(status, 401)
        self.c.control("POST", "faults", {"rules": [{"match": "op:Orders", "status": 503, "count": 1}]})
        self.assertEqual(self.c.gql(ORDERS, {"first": 1})[0], 503)
        self.assertEqual(self.c.gql(ORDERS, {"first": 1})[0], 200)

    def test_throttled_download(self):
        self.c.control("POST", "config", {"bucket": 700, "restoreRate": 1})
        self.seed({"orders": [order()]})
        # requested 2 + 3*201 = 605 up front, the unused part refunded after the answer
        answers = [self.c.gql(ORDERS, {"first": 3})[2] for _ in range(3)]
        self.assertNotIn("errors", answers[0])
        self.assertNotIn("errors", answers[1])
        self.assertEqual(answers[2]["errors"][0]["extensions"]["code"], "THROTTLED")
        self.assertEqual(answers[2]["extensions"]["cost"]["requestedQueryCost"], 605)
        self.c.control("POST", "clock", {"advance_ms": 120000})
        self.assertNotIn("errors", self.c.gql(ORDERS, {"first": 3})[2])

    def test_seed_errors_are_400(self):
        for bad in ({"orders": [{"lines": []}]},
                    {"orders": [{"lines": [{"sku": "NOPE", "quantity": 1}]}]},
                    {"orders": [{"lines": [{"sku": "A", "price": "1"}], "status": "teleported"}]},
                    {"orders": [{"id": "gid://shopify/Order/1", "update": {}}]},
                    {"customers": [{"email": "a@b.c"}, {"email": "a@b.c"}]}):
            status, body = self.c.control("POST", "seed", bad)
            self.assertEqual(status, 400, bad)
            self.assertIn("seed:", body["error"])

    def test_state_persists_orders_and_customers(self):
        from shopify.store import Store
        import common
        self.seed({"orders": [order(refunds=[{"lines": [{"sku": "TEE-S", "quantity": 1}]}])]})
        dumped = json.loads(json.dumps(self.emu.platform.store.dump()))
        st = Store(common.Clock())
        st.load(dumped)
        self.assertEqual(list(st.orders), [int(self.state()["orders"][0]["id"].rsplit("/", 1)[1])])
        self.assertEqual(len(st.customers), 1)


if __name__ == "__main__":
    unittest.main()
