"""Orders, refunds, returns and customers: the download side (reference §A8).

Records live in Store.orders and Store.customers (int id -> dict). An order
keeps its lines, shipping lines, transactions, fulfillments, refunds and
returns inside itself ("_lines", "_shipping", ...); the GraphQL views
(MoneyBag, TaxLine, ...) are built when a field is read, so totals always
follow the stored parts.

Semantics from the stored schema descriptions (2025-01), which the client
must respect:
- Money amounts are `Decimal` strings as Shopify prints them ("19.99",
  "10.0", "0.0"), never numbers.
- LineItem.totalDiscountSet is the line-level discount only ("doesn't include
  order-level discounts"); an order-level (code) discount shows up only in
  LineItem.discountAllocations, Order.cartDiscountAmountSet and
  Order.totalDiscountsSet.
- totalPriceSet / totalTaxSet / subtotalPriceSet are "before returns";
  currentTotalPriceSet / currentSubtotalPriceSet / currentTotalTaxSet are
  after refunded lines are taken out; LineItem.quantity never changes,
  LineItem.currentQuantity drops with refunds.
- LineItem.sku is the SKU at order time; LineItem.variant follows the catalog
  and is null once the variant is deleted.
- Order.transactions and Order.refunds are LISTS (`first:` truncates them);
  Refund.transactions and Refund.refundLineItems are connections.
- A refund, a fulfillment, a return, any edit bumps Order.updatedAt, and the
  search index lags writes (--search-lag-ms), so `updated_at:>=` windows need
  an overlap.
- fulfillment_status:shipped (= fulfilled) matches FULFILLED only, not
  PARTIALLY_FULFILLED (that is `partial`; `unfulfilled` is both unshipped and
  partial, `unshipped` is UNFULFILLED only, as in the REST filter).
- Without read_all_orders (config {"readAllOrders": false}) only orders
  created in the last 60 days are visible.

Seeding (Platform.seed -> seed()) and the update form are documented in
tests/emulators/README.md.
"""

import re
from decimal import Decimal, ROUND_HALF_UP

from common import parse_iso
from . import search
from .resolvers import NODE_LOOKUP, connection, field, filtered, store_of
from .store import gid, money, parse_gid, ruby_decimal, to_decimal

CENT = Decimal("0.01")
ORDER_ID_BASE = 5600000000
ID_BASES = {
    "Order": ORDER_ID_BASE,
    "LineItem": 13000000000,
    "ShippingLine": 4300000000,
    "OrderTransaction": 6700000000,
    "Refund": 900000000,
    "RefundLineItem": 490000000,
    "Fulfillment": 5100000000,
    "FulfillmentLineItem": 11000000000,
    "Return": 9000000,
    "ReturnLineItem": 19000000,
    "Customer": 7100000000,
    "MailingAddress": 8200000000,
    "OrderNumber": 1000,
}

FULFILLMENT_ALIASES = {
    "shipped": "FULFILLED", "fulfilled": "FULFILLED", "partial": "PARTIALLY_FULFILLED",
    "partially_fulfilled": "PARTIALLY_FULFILLED", "unshipped": "UNFULFILLED", "unfulfilled": "UNFULFILLED",
    "restocked": "RESTOCKED", "scheduled": "SCHEDULED", "on_hold": "ON_HOLD",
    "request_declined": "REQUEST_DECLINED", "open": "OPEN", "in_progress": "IN_PROGRESS",
    "pending_fulfillment": "PENDING_FULFILLMENT",
}
FULFILLMENT_SEARCH = {  # displayFulfillmentStatus -> values of the fulfillment_status: filter
    "FULFILLED": ["shipped", "fulfilled"],
    "PARTIALLY_FULFILLED": ["partial", "unfulfilled"],
    "UNFULFILLED": ["unshipped", "unfulfilled"],
    "SCHEDULED": ["scheduled"],
    "ON_HOLD": ["on_hold"],
    "REQUEST_DECLINED": ["request_declined"],
    "RESTOCKED": ["restocked"],
}
FINANCIAL = ("PENDING", "AUTHORIZED", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "VOIDED", "PAID", "REFUNDED",
             "EXPIRED")
RESTOCK_TYPES = ("RETURN", "CANCEL", "LEGACY_RESTOCK", "NO_RESTOCK")
TX_KINDS = ("SALE", "CAPTURE", "AUTHORIZATION", "VOID", "REFUND", "CHANGE", "EMV_AUTHORIZATION",
            "SUGGESTED_REFUND")
TX_STATUSES = ("SUCCESS", "FAILURE", "PENDING", "ERROR", "AWAITING_RESPONSE", "UNKNOWN")
RETURN_STATUSES = ("CANCELED", "CLOSED", "OPEN", "REQUESTED", "DECLINED")
SIXTY_DAYS = 60 * 86400


# ================================================================ helpers


def D(value, what="amount"):
    d = to_decimal(value if value is not None else "0")
    if d is None:
        raise ValueError("seed: %s %r is not a number" % (what, value))
    return d


def q2(d):
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def _next(st, typename):
    seq = st.seq
    if typename not in seq:
        seq[typename] = ID_BASES[typename]
    seq[typename] += 1
    return seq[typename]


def _iso(st, value, default=None):
    if value is None or value == "":
        return default if default is not None else st.now()
    try:
        return st.clock.iso(parse_iso(str(value)))
    except ValueError:
        raise ValueError("seed: bad time %r (ISO-8601 expected)" % (value,))


def bag(st, amount):
    m = {"__typename": "MoneyV2", "amount": ruby_decimal(q2(D(amount))), "currencyCode": st.currency}
    return {"__typename": "MoneyBag", "shopMoney": m, "presentmentMoney": dict(m)}


def money_v2(st, amount):
    return {"__typename": "MoneyV2", "amount": ruby_decimal(q2(D(amount))), "currencyCode": st.currency}


def tax_view(st, t):
    rate = t.get("rate")
    return {"__typename": "TaxLine", "title": t.get("title") or "Tax", "rate": rate,
            "ratePercentage": round(rate * 100, 4) if rate is not None else None,
            "priceSet": bag(st, t["price"]), "price": money(t["price"]), "channelLiable": False,
            "source": "Shopify"}


def _sum(values):
    return sum((D(v) for v in values), Decimal(0))


# ----------------------------------------------------------- computations


def line_tax(line):
    return _sum(t["price"] for t in line["_tax"])


def line_all_discount(line):
    return _sum(a["amount"] for a in line["_allocations"])


def line_own_discount(line):
    return _sum(a["amount"] for a in line["_allocations"] if a["_level"] == "line")


def refunded_qty(order, line_n):
    return sum(rl["quantity"] for r in order["_refunds"] for rl in r["_lines"] if rl["_line"] == line_n)


def shipping_discount(s):
    return D(s.get("discount") or 0)


def totals(order):
    lines = order["_lines"]
    gross = _sum(D(l["price"]) * l["quantity"] for l in lines)
    line_disc = _sum(line_all_discount(l) for l in lines)
    cart_disc = _sum(a["amount"] for l in lines for a in l["_allocations"] if a["_level"] == "order")
    ship = _sum(s["price"] for s in order["_shipping"])
    ship_disc = _sum(shipping_discount(s) for s in order["_shipping"])
    tax = _sum(line_tax(l) for l in lines) + _sum(t["price"] for s in order["_shipping"] for t in s["_tax"])
    subtotal = gross - line_disc
    total = subtotal + ship - ship_disc + (Decimal(0) if order["taxesIncluded"] else tax)
    # after returns: refunded line subtotals and their tax, refunded shipping
    r_sub = _sum(rl["subtotal"] for r in order["_refunds"] for rl in r["_lines"])
    r_tax = _sum(rl["totalTax"] for r in order["_refunds"] for rl in r["_lines"])
    r_ship = _sum(r["_shipping"]["amount"] for r in order["_refunds"] if r.get("_shipping"))
    r_ship_tax = _sum(r["_shipping"]["tax"] for r in order["_refunds"] if r.get("_shipping"))
    cur_tax = tax - r_tax - r_ship_tax
    cur_sub = subtotal - r_sub
    cur_ship = ship - ship_disc - r_ship
    cur_total = cur_sub + cur_ship + (Decimal(0) if order["taxesIncluded"] else cur_tax)
    tx = order_transactions(order)
    received = _sum(t["amount"] for t in tx if t["status"] == "SUCCESS" and t["kind"] in ("SALE", "CAPTURE"))
    authorized = _sum(t["amount"] for t in tx if t["status"] == "SUCCESS" and t["kind"] == "AUTHORIZATION")
    refunded = _sum(t["amount"] for t in tx if t["status"] == "SUCCESS" and t["kind"] == "REFUND")
    return {"gross": gross, "lineDiscounts": line_disc, "cartDiscount": cart_disc, "shipping": ship,
            "shippingDiscount": ship_disc, "tax": tax, "subtotal": subtotal, "total": total,
            "discounts": line_disc + ship_disc, "currentTax": cur_tax, "currentSubtotal": cur_sub,
            "currentShipping": cur_ship, "currentTotal": cur_total, "received": received,
            "authorized": authorized, "refunded": refunded, "currentDiscounts": line_disc + ship_disc}


def financial_status(order):
    if order.get("_financial"):
        return order["_financial"]
    t = totals(order)
    if t["received"] <= 0:
        if any(x["kind"] == "VOID" and x["status"] == "SUCCESS" for x in order_transactions(order)):
            return "VOIDED"
        return "AUTHORIZED" if t["authorized"] > 0 else "PENDING"
    if t["refunded"] >= t["received"]:
        return "REFUNDED"
    if t["refunded"] > 0:
        return "PARTIALLY_REFUNDED"
    return "PAID" if t["received"] >= t["total"] else "PARTIALLY_PAID"


def order_transactions(order):
    out = list(order["_transactions"])
    for r in order["_refunds"]:
        out.extend(r["_transactions"])
    return sorted(out, key=lambda x: (x["processedAt"] or "", x["_n"]))


def return_status(order):
    rs = [r["status"] for r in order["_returns"]]
    if not rs:
        return "NO_RETURN"
    if "OPEN" in rs:
        return "IN_PROGRESS"
    if "REQUESTED" in rs:
        return "RETURN_REQUESTED"
    if "CLOSED" in rs:
        return "RETURNED"
    return "NO_RETURN"


def order_status_words(order):
    words = []
    if order["cancelledAt"]:
        words.append("cancelled")
    if order["closedAt"]:
        words.append("closed")
    else:
        words.extend(["open", "not_closed"])
    return words


def visible(st, info, order):
    plat = info.context.get("platform")
    if plat is not None and not getattr(plat, "read_all_orders", True):
        return parse_iso(order["createdAt"]) >= info.context["clock"].now() - SIXTY_DAYS
    return True


# ================================================================= seeding


def _address(st, a):
    if not a:
        return None
    n = _next(st, "MailingAddress")
    rec = {"__typename": "MailingAddress", "id": "gid://shopify/MailingAddress/%d?model_name=Address" % n}
    keys = ("firstName", "lastName", "company", "address1", "address2", "city", "province", "provinceCode",
            "zip", "country", "countryCodeV2", "phone")
    for k in keys:
        rec[k] = a.get(k)
    if rec["countryCodeV2"] is None and a.get("countryCode"):
        rec["countryCodeV2"] = a["countryCode"]
    rec["name"] = " ".join(x for x in (rec["firstName"], rec["lastName"]) if x) or None
    rec["formatted"] = [x for x in (rec["company"], rec["address1"], rec["address2"],
                                    " ".join(y for y in (rec["city"], rec["provinceCode"], rec["zip"]) if y),
                                    rec["country"]) if x]
    rec["formattedArea"] = ", ".join(x for x in (rec["city"], rec["provinceCode"], rec["country"]) if x) or None
    rec["coordinatesValidated"] = False
    return rec


def _taxes(spec, qty_total=None):
    """tax: "1.20" | [{"title", "rate", "amount"|"price"}] -> stored tax lines."""
    if spec is None:
        return []
    if not isinstance(spec, list):
        spec = [{"title": "Tax", "amount": spec}]
    out = []
    for t in spec:
        amount = t.get("amount", t.get("price"))
        out.append({"title": t.get("title") or "Tax", "rate": t.get("rate"),
                    "price": str(q2(D(amount, "tax amount")))})
    return out


def find_customer(st, ref):
    if isinstance(ref, str):
        if ref.startswith("gid://"):
            return st.customers.get(parse_gid(ref, "Customer"))
        return next((c for c in st.customers.values() if (c["email"] or "").lower() == ref.lower()), None)
    if isinstance(ref, dict):
        if ref.get("id"):
            return find_customer(st, ref["id"])
        if ref.get("email"):
            return find_customer(st, ref["email"])
    return None


def new_customer(st, spec, when=None):
    n = _next(st, "Customer")
    when = _iso(st, spec.get("createdAt"), when)
    addresses = [_address(st, a) for a in spec.get("addresses") or []]
    rec = {
        "__typename": "Customer", "id": gid("Customer", n), "_n": n, "legacyResourceId": str(n),
        "firstName": spec.get("firstName"), "lastName": spec.get("lastName"), "email": spec.get("email"),
        "phone": spec.get("phone"), "note": spec.get("note"), "tags": list(spec.get("tags") or []),
        "taxExempt": bool(spec.get("taxExempt", False)), "state": spec.get("state", "DISABLED"),
        "verifiedEmail": bool(spec.get("verifiedEmail", True)), "locale": spec.get("locale", "en"),
        "createdAt": when, "updatedAt": _iso(st, spec.get("updatedAt"), when),
        "_addresses": addresses,
        "_indexedAt": st.clock.now() + st.search_lag,
    }
    st.customers[n] = rec
    return rec


def update_customer(st, c, upd):
    for k in ("firstName", "lastName", "email", "phone", "note", "taxExempt", "state"):
        if k in upd:
            c[k] = upd[k]
    if "tags" in upd:
        c["tags"] = list(upd["tags"])
    if "addresses" in upd:
        c["_addresses"] = [_address(st, a) for a in upd["addresses"]]
    st.touch(c)
    c["_indexedAt"] = st.clock.now() + st.search_lag
    if upd.get("updatedAt"):
        c["updatedAt"] = _iso(st, upd["updatedAt"])


def _variant_for(st, line):
    if line.get("variantId"):
        v = st.variants.get(parse_gid(line["variantId"], "ProductVariant"))
        if v is None:
            raise ValueError("seed: unknown variant %r" % line["variantId"])
        return v
    sku = line.get("sku")
    if sku and line.get("catalog", True):
        for v in st.variants.values():
            item = st.items.get(v["_item"])
            if item and item["sku"] == sku:
                return v
    return None


def _new_line(st, spec):
    qty = int(spec.get("quantity", spec.get("qty", 1)))
    if qty <= 0:
        raise ValueError("seed: line quantity must be positive")
    v = _variant_for(st, spec)
    p = st.products.get(v["_product"]) if v else None
    item = st.items.get(v["_item"]) if v else None
    price = spec.get("price", v["price"] if v else None)
    if price is None:
        raise ValueError("seed: line %r needs a price (or a catalog SKU)" % (spec.get("sku"),))
    n = _next(st, "LineItem")
    title = spec.get("title") or (p["title"] if p else spec.get("sku") or "Item")
    vt = spec.get("variantTitle")
    if vt is None and v is not None:
        vt = st.variant_title(v)
        vt = None if vt == "Default Title" else vt
    rec = {
        "__typename": "LineItem", "id": gid("LineItem", n), "_n": n,
        "sku": spec.get("sku", item["sku"] if item else None), "title": title, "variantTitle": vt,
        "name": title + (" - " + vt if vt else ""), "vendor": spec.get("vendor", p["vendor"] if p else None),
        "quantity": qty, "price": str(q2(D(price, "price"))),
        "taxable": bool(spec.get("taxable", True)), "requiresShipping": bool(spec.get("requiresShipping", True)),
        "isGiftCard": False, "_variant": v["_n"] if v else None, "_product": p["_n"] if p else None,
        "_tax": _taxes(spec.get("tax", spec.get("taxLines"))),
        "_allocations": [],
    }
    disc = spec.get("discount")
    if disc is not None and D(disc) != 0:
        rec["_allocations"].append({"amount": str(q2(D(disc, "discount"))), "_level": "line", "_app": None,
                                    "_title": spec.get("discountTitle") or "Line discount"})
    return rec


def _allocate(total, weights):
    """Split `total` over `weights` in cents, the remainder to the first lines (Shopify allocates
    ACROSS discounts proportionally)."""
    total = q2(total)
    s = sum(weights)
    if s <= 0:
        return [Decimal(0)] * len(weights)
    parts = [q2((total * w / s).quantize(CENT, rounding="ROUND_DOWN")) for w in weights]
    rest = total - sum(parts)
    i = 0
    while rest > 0 and weights:
        if weights[i % len(weights)] > 0:
            parts[i % len(weights)] += CENT
            rest -= CENT
        i += 1
    return parts


def _new_tx(st, spec, default_gateway, default_kind, default_amount, when):
    n = _next(st, "OrderTransaction")
    kind = (spec.get("kind") or default_kind).upper()
    status = (spec.get("status") or "SUCCESS").upper()
    if kind not in TX_KINDS:
        raise ValueError("seed: transaction kind %r is not one of %s" % (kind, ", ".join(TX_KINDS)))
    if status not in TX_STATUSES:
        raise ValueError("seed: transaction status %r is not one of %s" % (status, ", ".join(TX_STATUSES)))
    amount = spec.get("amount", default_amount)
    return {"__typename": "OrderTransaction", "id": gid("OrderTransaction", n), "_n": n,
            "gateway": spec.get("gateway") or default_gateway, "kind": kind, "status": status,
            "amount": str(q2(D(amount, "transaction amount"))),
            "processedAt": _iso(st, spec.get("processedAt"), when), "createdAt": _iso(st, spec.get("processedAt"), when),
            "test": bool(spec.get("test", False)), "authorizationCode": spec.get("authorizationCode"),
            "_parent": None}


def _find_line(order, ref):
    lines = order["_lines"]
    if isinstance(ref, int):
        if 0 <= ref < len(lines):
            return lines[ref]
        raise ValueError("seed: refund line index %d out of range" % ref)
    if isinstance(ref, str) and ref.startswith("gid://"):
        n = parse_gid(ref, "LineItem")
        for l in lines:
            if l["_n"] == n:
                return l
    for l in lines:
        if ref is not None and l["sku"] == ref:
            return l
    raise ValueError("seed: order %s has no line %r" % (order["name"], ref))


def _new_refund(st, order, spec):
    when = _iso(st, spec.get("createdAt"))
    n = _next(st, "Refund")
    rec = {"__typename": "Refund", "id": gid("Refund", n), "_n": n, "legacyResourceId": str(n),
           "createdAt": when, "updatedAt": _iso(st, spec.get("updatedAt"), when), "note": spec.get("note"),
           "_lines": [], "_shipping": None, "_transactions": [], "_return": None}
    for ls in spec.get("lines") or spec.get("refundLineItems") or []:
        line = _find_line(order, ls.get("line", ls.get("lineItemId", ls.get("sku"))))
        qty = int(ls.get("quantity", ls.get("qty", 1)))
        left = line["quantity"] - refunded_qty(order, line["_n"]) - sum(
            x["quantity"] for x in rec["_lines"] if x["_line"] == line["_n"])
        if qty <= 0 or qty > left:
            raise ValueError("seed: cannot refund %d of line %s (%d refundable)" % (qty, line["sku"], left))
        rt = ls.get("restockType")
        if rt is None:
            rt = "RETURN" if ls.get("restock", False) else "NO_RESTOCK"
        rt = rt.upper()
        if rt not in RESTOCK_TYPES:
            raise ValueError("seed: restockType %r is not one of %s" % (rt, ", ".join(RESTOCK_TYPES)))
        unit_net = (D(line["price"]) * line["quantity"] - line_all_discount(line)) / line["quantity"]
        subtotal = ls.get("subtotal", q2(unit_net * qty))
        tax = ls.get("totalTax", ls.get("tax", q2(line_tax(line) * qty / line["quantity"])))
        loc = ls.get("location")
        loc_n = None
        if loc is not None:
            loc_n = parse_gid(loc, "Location") if str(loc).startswith("gid://") else next(
                (l["_n"] for l in st.locations.values() if l["name"] == loc), None)
        elif rt != "NO_RESTOCK" and st.primary_location():
            loc_n = st.primary_location()["_n"]
        rn = _next(st, "RefundLineItem")
        rec["_lines"].append({"__typename": "RefundLineItem", "id": gid("RefundLineItem", rn), "_n": rn,
                              "_line": line["_n"], "quantity": qty, "restockType": rt,
                              "restocked": rt != "NO_RESTOCK", "price": line["price"],
                              "subtotal": str(q2(D(subtotal))), "totalTax": str(q2(D(tax))),
                              "_location": loc_n})
    sh = spec.get("shipping")
    if sh is not None:
        if not isinstance(sh, dict):
            sh = {"amount": sh}
        rec["_shipping"] = {"amount": str(q2(D(sh.get("amount", 0)))), "tax": str(q2(D(sh.get("tax", 0))))}
    default_amount = (_sum(x["subtotal"] for x in rec["_lines"]) + _sum(x["totalTax"] for x in rec["_lines"])
                      + (D(rec["_shipping"]["amount"]) + D(rec["_shipping"]["tax"]) if rec["_shipping"] else 0))
    gateway = (order["_transactions"][0]["gateway"] if order["_transactions"] else "manual")
    txs = spec.get("transactions")
    if txs is None:
        txs = [{"amount": spec.get("amount", default_amount), "gateway": spec.get("gateway")}]
    for t in txs:
        tx = _new_tx(st, t, gateway, "REFUND", default_amount, when)
        parent = next((p for p in order["_transactions"] if p["kind"] in ("SALE", "CAPTURE")
                       and p["gateway"] == tx["gateway"]), None)
        tx["_parent"] = parent["_n"] if parent else None
        rec["_transactions"].append(tx)
    return rec


def _new_fulfillment(st, order, spec, when):
    n = _next(st, "Fulfillment")
    spec = spec if isinstance(spec, dict) else {}
    when = _iso(st, spec.get("createdAt"), when)
    lines = []
    for l in order["_lines"]:
        fn = _next(st, "FulfillmentLineItem")
        lines.append({"_n": fn, "_line": l["_n"], "quantity": l["quantity"]})
    return {"__typename": "Fulfillment", "id": gid("Fulfillment", n), "_n": n, "legacyResourceId": str(n),
            "name": "%s-F%d" % (order["name"], len(order["_fulfillments"]) + 1), "status": "SUCCESS",
            "displayStatus": "FULFILLED", "createdAt": when, "updatedAt": when, "deliveredAt": None,
            "inTransitAt": None, "estimatedDeliveryAt": None, "requiresShipping": True,
            "_tracking": [{"__typename": "FulfillmentTrackingInfo", "company": spec.get("trackingCompany"),
                           "number": spec.get("trackingNumber"), "url": spec.get("trackingUrl")}]
            if spec.get("trackingNumber") else [],
            "_lines": lines}


def _new_return(st, order, spec):
    n = _next(st, "Return")
    status = (spec.get("status") or "OPEN").upper()
    if status not in RETURN_STATUSES:
        raise ValueError("seed: return status %r is not one of %s" % (status, ", ".join(RETURN_STATUSES)))
    lines = []
    for ls in spec.get("lines") or []:
        line = _find_line(order, ls.get("line", ls.get("sku")))
        rn = _next(st, "ReturnLineItem")
        lines.append({"__typename": "ReturnLineItem", "id": gid("ReturnLineItem", rn), "_n": rn,
                      "_line": line["_n"], "quantity": int(ls.get("quantity", 1)),
                      "returnReason": (ls.get("reason") or "UNKNOWN").upper(),
                      "returnReasonNote": ls.get("note") or "", "customerNote": None})
    return {"__typename": "Return", "id": gid("Return", n), "_n": n,
            "name": "%s-R%d" % (order["name"], len(order["_returns"]) + 1), "status": status, "_lines": lines,
            "_order": order["_n"]}


def seed_order(st, spec):
    if not spec.get("lines") and not spec.get("lineItems"):
        raise ValueError("seed: an order needs lines")
    n = _next(st, "Order")
    number = int(spec["number"]) if spec.get("number") else _next(st, "OrderNumber")
    if spec.get("number"):
        st.seq["OrderNumber"] = max(st.seq.get("OrderNumber", ID_BASES["OrderNumber"]), number)
    created = _iso(st, spec.get("createdAt"))
    processed = _iso(st, spec.get("processedAt"), created)
    cust = None
    cref = spec.get("customer")
    if cref is not None:
        cust = find_customer(st, cref)
        if cust is None:
            if not isinstance(cref, dict):
                raise ValueError("seed: unknown customer %r" % (cref,))
            cust = new_customer(st, cref, created)
    email = spec.get("email", cust["email"] if cust else None)
    order = {
        "__typename": "Order", "id": gid("Order", n), "_n": n, "legacyResourceId": str(n),
        "name": spec.get("name") or "#%d" % number, "_number": number,
        "createdAt": created, "processedAt": processed, "updatedAt": created,
        "closedAt": None, "cancelledAt": None, "cancelReason": None,
        "currencyCode": spec.get("currency") or st.currency,
        "presentmentCurrencyCode": spec.get("currency") or st.currency,
        "email": email, "phone": spec.get("phone"), "note": spec.get("note"),
        "tags": list(spec.get("tags") or []), "test": bool(spec.get("test", False)),
        "taxesIncluded": bool(spec.get("taxesIncluded", False)), "taxExempt": False,
        "sourceName": spec.get("sourceName", "web"), "poNumber": spec.get("poNumber"),
        "confirmed": True, "confirmationNumber": spec.get("confirmationNumber"),
        "_customer": cust["_n"] if cust else None,
        "billingAddress": _address(st, spec.get("billingAddress")),
        "shippingAddress": _address(st, spec.get("shippingAddress")),
        "_lines": [_new_line(st, l) for l in spec.get("lines") or spec.get("lineItems")],
        "_shipping": [], "_transactions": [], "_fulfillments": [], "_refunds": [], "_returns": [],
        "_discountApps": [], "_financial": None, "_fulfillment": "UNFULFILLED",
        "_indexedAt": st.clock.now() + st.search_lag,
    }
    shipping = spec.get("shipping")
    if isinstance(shipping, dict):
        shipping = [shipping]
    for s in shipping or []:
        sn = _next(st, "ShippingLine")
        order["_shipping"].append({
            "__typename": "ShippingLine", "id": gid("ShippingLine", sn), "_n": sn,
            "title": s.get("title") or "Shipping", "code": s.get("code", s.get("title")),
            "source": s.get("source", "shopify"), "price": str(q2(D(s.get("price", 0)))),
            "discount": str(q2(D(s.get("discount", 0)))), "_tax": _taxes(s.get("tax", s.get("taxLines"))),
            "carrierIdentifier": None, "custom": False, "isRemoved": False})
    # line-level discounts: one manual discount application each (EXPLICIT, EACH)
    for l in order["_lines"]:
        for a in l["_allocations"]:
            app = {"index": len(order["_discountApps"]), "code": None, "title": a["_title"], "type": "fixed_amount",
                   "value": a["amount"], "amount": a["amount"], "_each": True}
            order["_discountApps"].append(app)
            a["_app"] = app["index"]
    # order-level (code) discounts, allocated ACROSS the lines by their net price
    discounts = spec.get("discounts") or ([spec["discount"]] if spec.get("discount") else [])
    for i, ds in enumerate(discounts):
        if not isinstance(ds, dict):
            ds = {"amount": ds}
        amount = D(ds.get("amount", 0), "discount amount")
        app = {"index": len(order["_discountApps"]), "code": ds.get("code"), "title": ds.get("title") or ds.get("code")
               or "Order discount", "type": (ds.get("type") or "fixed_amount"), "value": ds.get("value"),
               "amount": str(q2(amount))}
        order["_discountApps"].append(app)
        weights = [D(l["price"]) * l["quantity"] - line_all_discount(l) for l in order["_lines"]]
        for l, part in zip(order["_lines"], _allocate(amount, weights)):
            if part:
                l["_allocations"].append({"amount": str(part), "_level": "order", "_app": app["index"],
                                          "_title": app["title"]})
    t = totals(order)
    txs = spec.get("transactions")
    if txs is None:
        gw = spec.get("gateway")
        txs = [{"gateway": gw, "amount": str(q2(t["total"]))}] if gw else []
    for tx in txs:
        order["_transactions"].append(_new_tx(st, tx, spec.get("gateway") or "manual", "SALE",
                                              str(q2(t["total"])), processed))
    fs = spec.get("fulfillmentStatus", spec.get("status"))
    _apply_fulfillment(st, order, fs, spec.get("fulfillment"), spec.get("fulfilledAt") or processed)
    if spec.get("financialStatus"):
        _set_financial(order, spec["financialStatus"])
    for r in spec.get("refunds") or []:
        order["_refunds"].append(_new_refund(st, order, r))
    for r in spec.get("returns") or []:
        order["_returns"].append(_new_return(st, order, r))
    if spec.get("closedAt") or spec.get("closed"):
        order["closedAt"] = _iso(st, spec.get("closedAt"), processed)
    if spec.get("cancelledAt") or spec.get("cancelled"):
        order["cancelledAt"] = _iso(st, spec.get("cancelledAt"), processed)
        order["cancelReason"] = spec.get("cancelReason", "CUSTOMER")
    stamps = [created] + [f["createdAt"] for f in order["_fulfillments"]] + \
             [r["createdAt"] for r in order["_refunds"]] + [x for x in (order["closedAt"], order["cancelledAt"]) if x]
    order["updatedAt"] = _iso(st, spec.get("updatedAt"), max(stamps, key=parse_iso))
    st.orders[n] = order
    if cust is not None and parse_iso(cust["updatedAt"]) < parse_iso(order["createdAt"]):
        cust["updatedAt"] = order["createdAt"]  # orders_count / amount_spent changed
    return order


def _apply_fulfillment(st, order, fs, fspec, when):
    if fs is None:
        return
    status = FULFILLMENT_ALIASES.get(str(fs).lower(), str(fs).upper())
    if status not in FULFILLMENT_SEARCH and status not in ("OPEN", "IN_PROGRESS", "PENDING_FULFILLMENT"):
        raise ValueError("seed: fulfillment status %r unknown" % (fs,))
    order["_fulfillment"] = status
    if status in ("FULFILLED", "PARTIALLY_FULFILLED") and not order["_fulfillments"]:
        f = _new_fulfillment(st, order, fspec, _iso(st, when))
        if status == "PARTIALLY_FULFILLED":
            f["_lines"] = f["_lines"][:1]
        order["_fulfillments"].append(f)


def _set_financial(order, value):
    v = str(value).upper()
    if v not in FINANCIAL:
        raise ValueError("seed: financial status %r is not one of %s" % (value, ", ".join(FINANCIAL)))
    order["_financial"] = v


def find_order(st, ref):
    if isinstance(ref, int):
        return st.orders.get(ref)
    if isinstance(ref, str) and ref.startswith("gid://"):
        return st.orders.get(parse_gid(ref, "Order"))
    return next((o for o in st.orders.values() if o["name"] == ref or o["name"] == "#%s" % ref), None)


def update_order(st, order, upd):
    """Change an order after the fact; every change bumps updatedAt to now (or upd.updatedAt)."""
    now = st.now()
    for k in ("email", "phone", "note", "test"):
        if k in upd:
            order[k] = upd[k]
    if "tags" in upd:
        order["tags"] = list(upd["tags"])
    for k in ("billingAddress", "shippingAddress"):
        if k in upd:
            order[k] = _address(st, upd[k])
    if "fulfillmentStatus" in upd or "status" in upd:
        _apply_fulfillment(st, order, upd.get("fulfillmentStatus", upd.get("status")), upd.get("fulfillment"), now)
    if "financialStatus" in upd:
        if upd["financialStatus"] is None:
            order["_financial"] = None
        else:
            _set_financial(order, upd["financialStatus"])
    for tx in upd.get("transactions") or []:
        order["_transactions"].append(_new_tx(st, tx, "manual", "SALE", "0", now))
    for r in upd.get("refunds") or []:
        order["_refunds"].append(_new_refund(st, order, r))
    for r in upd.get("returns") or []:
        order["_returns"].append(_new_return(st, order, r))
    if upd.get("closed") is not None or "closedAt" in upd:
        order["closedAt"] = _iso(st, upd.get("closedAt")) if (upd.get("closed") or upd.get("closedAt")) else None
    if upd.get("cancelled") or upd.get("cancelledAt"):
        order["cancelledAt"] = _iso(st, upd.get("cancelledAt"))
        order["cancelReason"] = upd.get("cancelReason", "CUSTOMER")
    st.touch(order)
    order["_indexedAt"] = st.clock.now() + st.search_lag
    if upd.get("updatedAt"):
        order["updatedAt"] = _iso(st, upd["updatedAt"])


def seed(st, data):
    """{"customers": [...], "orders": [...]} -> the ids created/changed."""
    out = {}
    if data.get("customers") is not None:
        res = []
        for c in data["customers"]:
            if "update" in c:
                cust = find_customer(st, c.get("id") or c.get("email"))
                if cust is None:
                    raise ValueError("seed: unknown customer %r" % (c.get("id") or c.get("email")))
                update_customer(st, cust, c["update"])
            else:
                if c.get("email") and find_customer(st, c["email"]):
                    raise ValueError("seed: customer email %r already in use" % c["email"])
                cust = new_customer(st, c)
            res.append({"id": cust["id"], "email": cust["email"], "updatedAt": cust["updatedAt"]})
        out["customers"] = res
    if data.get("orders") is not None:
        res = []
        for o in data["orders"]:
            if "update" in o:
                order = find_order(st, o.get("id") or o.get("name"))
                if order is None:
                    raise ValueError("seed: unknown order %r" % (o.get("id") or o.get("name")))
                update_order(st, order, o["update"])
            else:
                order = seed_order(st, o)
            res.append({"id": order["id"], "name": order["name"], "updatedAt": order["updatedAt"],
                        "lineItems": [{"id": l["id"], "sku": l["sku"]} for l in order["_lines"]],
                        "refunds": [r["id"] for r in order["_refunds"]],
                        "customerId": gid("Customer", order["_customer"]) if order["_customer"] else None})
        out["orders"] = res
    return out


# ================================================================== state


def view(st):
    orders = []
    for o in sorted(st.orders.values(), key=lambda o: o["_n"]):
        t = totals(o)
        orders.append({
            "id": o["id"], "name": o["name"], "createdAt": o["createdAt"], "updatedAt": o["updatedAt"],
            "processedAt": o["processedAt"], "closedAt": o["closedAt"], "cancelledAt": o["cancelledAt"],
            "email": o["email"], "customerId": gid("Customer", o["_customer"]) if o["_customer"] else None,
            "displayFulfillmentStatus": o["_fulfillment"], "displayFinancialStatus": financial_status(o),
            "returnStatus": return_status(o),
            "subtotal": str(q2(t["subtotal"])), "totalDiscounts": str(q2(t["discounts"])),
            "totalShipping": str(q2(t["shipping"])), "totalTax": str(q2(t["tax"])),
            "total": str(q2(t["total"])), "currentTotal": str(q2(t["currentTotal"])),
            "totalRefunded": str(q2(t["refunded"])),
            "lineItems": [{"id": l["id"], "sku": l["sku"], "quantity": l["quantity"],
                           "currentQuantity": l["quantity"] - refunded_qty(o, l["_n"]), "price": l["price"],
                           "discount": str(q2(line_all_discount(l))), "tax": str(q2(line_tax(l))),
                           "variantId": gid("ProductVariant", l["_variant"]) if l["_variant"] else None}
                          for l in o["_lines"]],
            "transactions": [{"id": x["id"], "gateway": x["gateway"], "kind": x["kind"], "status": x["status"],
                              "amount": x["amount"]} for x in order_transactions(o)],
            "refunds": [{"id": r["id"], "createdAt": r["createdAt"],
                         "lines": [{"lineItemId": gid("LineItem", rl["_line"]), "quantity": rl["quantity"],
                                    "restockType": rl["restockType"], "subtotal": rl["subtotal"],
                                    "totalTax": rl["totalTax"]} for rl in r["_lines"]],
                         "amount": str(q2(_sum(x["amount"] for x in r["_transactions"]
                                               if x["status"] == "SUCCESS")))} for r in o["_refunds"]],
            "returns": [{"id": r["id"], "status": r["status"]} for r in o["_returns"]],
        })
    customers = [{"id": c["id"], "email": c["email"], "firstName": c["firstName"], "lastName": c["lastName"],
                  "phone": c["phone"], "createdAt": c["createdAt"], "updatedAt": c["updatedAt"],
                  "numberOfOrders": sum(1 for o in st.orders.values() if o["_customer"] == c["_n"])}
                 for c in sorted(st.customers.values(), key=lambda c: c["_n"])]
    return orders, customers


# ============================================================= read side

# ---------------------------------------------------------------- Order


def _o(name):
    def deco(fn):
        return field("Order", name)(fn)
    return deco


@_o("customer")
def _order_customer(o, info):
    return store_of(info).customers.get(o["_customer"]) if o["_customer"] else None


@_o("displayFulfillmentStatus")
def _order_dfs(o, info):
    return o["_fulfillment"]


@_o("displayFinancialStatus")
def _order_dfin(o, info):
    return financial_status(o)


@_o("returnStatus")
def _order_return_status(o, info):
    return return_status(o)


@_o("closed")
def _order_closed(o, info):
    return o["closedAt"] is not None


@_o("fullyPaid")
def _order_fully_paid(o, info):
    return financial_status(o) in ("PAID", "PARTIALLY_REFUNDED", "REFUNDED")


@_o("unpaid")
def _order_unpaid(o, info):
    return financial_status(o) in ("PENDING", "AUTHORIZED", "EXPIRED")


@_o("paymentGatewayNames")
def _order_gateways(o, info):
    out = []
    for t in o["_transactions"]:
        if t["gateway"] not in out:
            out.append(t["gateway"])
    return out


@_o("discountCodes")
def _order_codes(o, info):
    return [a["code"] for a in o["_discountApps"] if a["code"]]


@_o("discountCode")
def _order_code(o, info):
    codes = _order_codes(o, info)
    return codes[0] if codes else None


@_o("subtotalLineItemsQuantity")
def _order_qty(o, info):
    return sum(l["quantity"] for l in o["_lines"])


@_o("currentSubtotalLineItemsQuantity")
def _order_cur_qty(o, info):
    return sum(l["quantity"] - refunded_qty(o, l["_n"]) for l in o["_lines"])


@_o("requiresShipping")
def _order_requires_shipping(o, info):
    return any(l["requiresShipping"] for l in o["_lines"])


def _total_field(name, key):
    @_o(name)
    def _r(o, info):
        return bag(store_of(info), totals(o)[key])
    return _r


for _name, _key in (("subtotalPriceSet", "subtotal"), ("totalPriceSet", "total"),
                    ("originalTotalPriceSet", "total"), ("totalDiscountsSet", "discounts"),
                    ("cartDiscountAmountSet", "cartDiscount"), ("totalShippingPriceSet", "shipping"),
                    ("totalTaxSet", "tax"), ("currentSubtotalPriceSet", "currentSubtotal"),
                    ("currentTotalPriceSet", "currentTotal"), ("currentTotalTaxSet", "currentTax"),
                    ("currentShippingPriceSet", "currentShipping"), ("currentTotalDiscountsSet", "currentDiscounts"),
                    ("currentCartDiscountAmountSet", "cartDiscount"), ("totalRefundedSet", "refunded"),
                    ("totalReceivedSet", "received")):
    _total_field(_name, _key)


@_o("netPaymentSet")
def _order_net(o, info):
    t = totals(o)
    return bag(store_of(info), t["received"] - t["refunded"])


@_o("totalOutstandingSet")
def _order_outstanding(o, info):
    t = totals(o)
    return bag(store_of(info), max(Decimal(0), t["currentTotal"] - (t["received"] - t["refunded"])))


@_o("totalRefundedShippingSet")
def _order_ref_ship(o, info):
    return bag(store_of(info), _sum(r["_shipping"]["amount"] for r in o["_refunds"] if r.get("_shipping")))


@_o("totalCapturableSet")
def _order_capturable(o, info):
    t = totals(o)
    return bag(store_of(info), t["authorized"] if t["received"] == 0 else 0)


@_o("totalTipReceivedSet")
def _order_tip(o, info):
    return bag(store_of(info), 0)


@_o("refundDiscrepancySet")
def _order_discrepancy(o, info):
    return bag(store_of(info), 0)


@_o("totalCashRoundingAdjustment")
def _order_rounding(o, info):
    st = store_of(info)
    return {"__typename": "CashRoundingAdjustment", "paymentSet": bag(st, 0), "refundSet": bag(st, 0)}


@_o("totalWeight")
def _order_weight(o, info):
    return "0"


def _order_tax_lines(st, o, current=False):
    agg = {}
    parts = [t for l in o["_lines"] for t in l["_tax"]] + [t for s in o["_shipping"] for t in s["_tax"]]
    for t in parts:
        k = (t["title"], t["rate"])
        agg[k] = agg.get(k, Decimal(0)) + D(t["price"])
    return [tax_view(st, {"title": k[0], "rate": k[1], "price": str(v)}) for k, v in agg.items()]


@_o("taxLines")
def _order_taxes(o, info):
    return _order_tax_lines(store_of(info), o)


@_o("currentTaxLines")
def _order_cur_taxes(o, info):
    return _order_tax_lines(store_of(info), o, True)


def _line_key(l):
    return (l["_n"],)


@_o("lineItems")
def _order_lines(o, info, **args):
    return connection("LineItemConnection", o["_lines"], _line_key, **args)


@_o("shippingLines")
def _order_shipping(o, info, includeRemovals=False, **args):
    return connection("ShippingLineConnection", o["_shipping"], _line_key, **args)


@_o("shippingLine")
def _order_shipping_line(o, info):
    return o["_shipping"][0] if o["_shipping"] else None


@_o("transactions")
def _order_transactions(o, info, first=None, capturable=None, manuallyResolvable=None):
    out = order_transactions(o)
    if capturable is not None:
        out = [t for t in out if (t["kind"] == "AUTHORIZATION" and t["status"] == "SUCCESS") == capturable]
    return out[:first] if first is not None else out


@_o("transactionsCount")
def _order_tx_count(o, info):
    return {"__typename": "Count", "count": len(order_transactions(o)), "precision": "EXACT"}


@_o("refunds")
def _order_refunds(o, info, first=None):
    out = sorted(o["_refunds"], key=lambda r: (r["createdAt"], r["_n"]))
    for r in out:
        r["_order"] = o["_n"]
    return out[:first] if first is not None else out


@_o("fulfillments")
def _order_fulfillments(o, info, first=None):
    for f in o["_fulfillments"]:
        f["_order"] = o["_n"]
    return o["_fulfillments"][:first] if first is not None else list(o["_fulfillments"])


@_o("fulfillmentsCount")
def _order_fulfillments_count(o, info):
    return {"__typename": "Count", "count": len(o["_fulfillments"]), "precision": "EXACT"}


@_o("returns")
def _order_returns(o, info, query=None, **args):
    return connection("ReturnConnection", o["_returns"], _line_key, **args)


def _discount_app_view(st, a):
    if a["type"] == "percentage" and a.get("value") is not None:
        value = {"__typename": "PricingPercentageValue", "percentage": float(a["value"])}
    else:
        value = dict(money_v2(st, a["value"] if a.get("value") is not None else a["amount"]))
    each = a.get("_each", False)
    base = {"index": a["index"], "allocationMethod": "EACH" if each else "ACROSS",
            "targetSelection": "EXPLICIT" if each else "ALL",
            "targetType": "LINE_ITEM", "value": value}
    if a["code"]:
        return dict(base, __typename="DiscountCodeApplication", code=a["code"])
    return dict(base, __typename="ManualDiscountApplication", title=a["title"], description=None)


@_o("discountApplications")
def _order_discount_apps(o, info, **args):
    st = store_of(info)
    return connection("DiscountApplicationConnection", [_discount_app_view(st, a) for a in o["_discountApps"]],
                      lambda a: (a["index"],), **args)


@_o("statusPageUrl")
def _order_status_url(o, info):
    st = store_of(info)
    return "https://%s/%d/orders/%s/authenticate" % (st.shop["myshopifyDomain"], o["_n"], o["id"][-8:])


# ------------------------------------------------------------ LineItem


@field("LineItem", "variant")
def _line_variant(l, info):
    return store_of(info).variants.get(l["_variant"]) if l["_variant"] else None


@field("LineItem", "product")
def _line_product(l, info):
    return store_of(info).products.get(l["_product"]) if l["_product"] else None


def _line_order(st, l):
    return next((o for o in st.orders.values() if any(x["_n"] == l["_n"] for x in o["_lines"])), None)


@field("LineItem", "currentQuantity")
def _line_current(l, info):
    o = _line_order(store_of(info), l)
    return l["quantity"] - (refunded_qty(o, l["_n"]) if o else 0)


@field("LineItem", "refundableQuantity")
def _line_refundable(l, info):
    return _line_current(l, info)


@field("LineItem", "unfulfilledQuantity")
def _line_unfulfilled(l, info):
    o = _line_order(store_of(info), l)
    if o is None:
        return 0
    done = sum(fl["quantity"] for f in o["_fulfillments"] for fl in f["_lines"] if fl["_line"] == l["_n"])
    return max(0, _line_current(l, info) - done)


@field("LineItem", "nonFulfillableQuantity")
def _line_nonfulfillable(l, info):
    o = _line_order(store_of(info), l)
    return refunded_qty(o, l["_n"]) if o else 0


@field("LineItem", "restockable")
def _line_restockable(l, info):
    return l["_variant"] is not None


@field("LineItem", "originalUnitPriceSet")
def _line_unit(l, info):
    return bag(store_of(info), l["price"])


@field("LineItem", "originalTotalSet")
def _line_total(l, info):
    return bag(store_of(info), D(l["price"]) * l["quantity"])


@field("LineItem", "totalDiscountSet")
def _line_discount(l, info):
    return bag(store_of(info), line_own_discount(l))


@field("LineItem", "discountedUnitPriceSet")
def _line_disc_unit(l, info):
    return bag(store_of(info), D(l["price"]) - line_own_discount(l) / l["quantity"])


@field("LineItem", "discountedUnitPriceAfterAllDiscountsSet")
def _line_disc_unit_all(l, info):
    return bag(store_of(info), D(l["price"]) - line_all_discount(l) / l["quantity"])


@field("LineItem", "discountedTotalSet")
def _line_disc_total(l, info, withCodeDiscounts=False):
    disc = line_all_discount(l) if withCodeDiscounts else line_own_discount(l)
    return bag(store_of(info), D(l["price"]) * l["quantity"] - disc)


@field("LineItem", "unfulfilledDiscountedTotalSet")
def _line_unf_disc(l, info):
    q = _line_unfulfilled(l, info)
    return bag(store_of(info), (D(l["price"]) - line_own_discount(l) / l["quantity"]) * q)


@field("LineItem", "unfulfilledOriginalTotalSet")
def _line_unf_orig(l, info):
    return bag(store_of(info), D(l["price"]) * _line_unfulfilled(l, info))


@field("LineItem", "taxLines")
def _line_taxes(l, info, first=None):
    st = store_of(info)
    out = [tax_view(st, t) for t in l["_tax"]]
    return out[:first] if first is not None else out


@field("LineItem", "discountAllocations")
def _line_allocations(l, info):
    st = store_of(info)
    o = _line_order(st, l)
    out = []
    for a in l["_allocations"]:
        if a["_app"] is not None and o is not None:
            app = _discount_app_view(st, o["_discountApps"][a["_app"]])
        else:
            app = {"__typename": "ManualDiscountApplication", "index": -1, "allocationMethod": "EACH",
                   "targetSelection": "EXPLICIT", "targetType": "LINE_ITEM", "title": a["_title"],
                   "description": None, "value": money_v2(st, a["amount"])}
        out.append({"__typename": "DiscountAllocation", "allocatedAmountSet": bag(st, a["amount"]),
                    "discountApplication": app})
    return out


# -------------------------------------------------------- ShippingLine


@field("ShippingLine", "originalPriceSet")
def _ship_orig(s, info):
    return bag(store_of(info), s["price"])


@field("ShippingLine", "discountedPriceSet")
def _ship_disc(s, info):
    return bag(store_of(info), D(s["price"]) - shipping_discount(s))


@field("ShippingLine", "currentDiscountedPriceSet")
def _ship_cur(s, info):
    return bag(store_of(info), D(s["price"]) - shipping_discount(s))


@field("ShippingLine", "taxLines")
def _ship_taxes(s, info):
    st = store_of(info)
    return [tax_view(st, t) for t in s["_tax"]]


@field("ShippingLine", "discountAllocations")
def _ship_allocs(s, info):
    st = store_of(info)
    if not shipping_discount(s):
        return []
    return [{"__typename": "DiscountAllocation", "allocatedAmountSet": bag(st, shipping_discount(s)),
             "discountApplication": {"__typename": "ManualDiscountApplication", "index": -1,
                                     "allocationMethod": "EACH", "targetSelection": "EXPLICIT",
                                     "targetType": "SHIPPING_LINE", "title": "Shipping discount",
                                     "description": None, "value": money_v2(st, shipping_discount(s))}}]


# ---------------------------------------------------- OrderTransaction


@field("OrderTransaction", "amountSet")
def _tx_amount(t, info):
    return bag(store_of(info), t["amount"])


@field("OrderTransaction", "amountV2")
def _tx_amount_v2(t, info):
    return money_v2(store_of(info), t["amount"])


@field("OrderTransaction", "amount")
def _tx_amount_money(t, info):
    return money(t["amount"])


@field("OrderTransaction", "formattedGateway")
def _tx_fgw(t, info):
    return (t["gateway"] or "").replace("_", " ").title()


@field("OrderTransaction", "manualPaymentGateway")
def _tx_manual(t, info):
    return (t["gateway"] or "") in ("manual", "cash", "Cash on Delivery (COD)", "bogus")


@field("OrderTransaction", "parentTransaction")
def _tx_parent(t, info):
    if t["_parent"] is None:
        return None
    for o in store_of(info).orders.values():
        for x in o["_transactions"]:
            if x["_n"] == t["_parent"]:
                return x
    return None


# -------------------------------------------------------------- Refund


def _refund_order(st, r):
    if r.get("_order") in st.orders:
        return st.orders[r["_order"]]
    return next((o for o in st.orders.values() if any(x["_n"] == r["_n"] for x in o["_refunds"])), None)


@field("Refund", "order")
def _refund_order_field(r, info):
    return _refund_order(store_of(info), r)


@field("Refund", "refundLineItems")
def _refund_lines(r, info, **args):
    st = store_of(info)
    o = _refund_order(st, r)
    for rl in r["_lines"]:
        rl["_order"] = o["_n"] if o else None
    return connection("RefundLineItemConnection", r["_lines"], _line_key, **args)


@field("Refund", "refundShippingLines")
def _refund_ship_lines(r, info, **args):
    st = store_of(info)
    o = _refund_order(st, r)
    recs = []
    if r.get("_shipping") and o and o["_shipping"]:
        recs.append({"__typename": "RefundShippingLine", "_n": r["_n"], "id": gid("RefundShippingLine", r["_n"]),
                     "shippingLine": o["_shipping"][0], "subtotalAmountSet": bag(st, r["_shipping"]["amount"]),
                     "taxAmountSet": bag(st, r["_shipping"]["tax"])})
    return connection("RefundShippingLineConnection", recs, _line_key, **args)


@field("Refund", "transactions")
def _refund_txs(r, info, **args):
    return connection("OrderTransactionConnection", r["_transactions"], _line_key, **args)


@field("Refund", "totalRefundedSet")
def _refund_total(r, info):
    return bag(store_of(info), _sum(t["amount"] for t in r["_transactions"] if t["status"] == "SUCCESS"))


@field("Refund", "totalRefunded")
def _refund_total_v2(r, info):
    return money_v2(store_of(info), _sum(t["amount"] for t in r["_transactions"] if t["status"] == "SUCCESS"))


@field("Refund", "return")
def _refund_return(r, info):
    o = _refund_order(store_of(info), r)
    if o is None or r.get("_return") is None:
        return None
    return next((x for x in o["_returns"] if x["_n"] == r["_return"]), None)


@field("RefundLineItem", "lineItem")
def _rli_line(rl, info):
    st = store_of(info)
    o = st.orders.get(rl.get("_order"))
    orders = [o] if o else st.orders.values()
    for o in orders:
        for l in o["_lines"]:
            if l["_n"] == rl["_line"]:
                return l
    return None


@field("RefundLineItem", "subtotalSet")
def _rli_subtotal(rl, info):
    return bag(store_of(info), rl["subtotal"])


@field("RefundLineItem", "totalTaxSet")
def _rli_tax(rl, info):
    return bag(store_of(info), rl["totalTax"])


@field("RefundLineItem", "priceSet")
def _rli_price(rl, info):
    return bag(store_of(info), rl["price"])


@field("RefundLineItem", "subtotal")
def _rli_subtotal_money(rl, info):
    return money(rl["subtotal"])


@field("RefundLineItem", "totalTax")
def _rli_tax_money(rl, info):
    return money(rl["totalTax"])


@field("RefundLineItem", "location")
def _rli_location(rl, info):
    return store_of(info).locations.get(rl["_location"]) if rl.get("_location") else None


# ---------------------------------------------- Fulfillment and Return


@field("Fulfillment", "trackingInfo")
def _f_tracking(f, info, first=None):
    return f["_tracking"][:first] if first is not None else f["_tracking"]


@field("Fulfillment", "order")
def _f_order(f, info):
    return store_of(info).orders.get(f.get("_order"))


@field("Fulfillment", "totalQuantity")
def _f_qty(f, info):
    return sum(x["quantity"] for x in f["_lines"])


def _fli_view(st, o, fl):
    line = next((l for l in o["_lines"] if l["_n"] == fl["_line"]), None) if o else None
    price = D(line["price"]) * fl["quantity"] if line else Decimal(0)
    return {"__typename": "FulfillmentLineItem", "id": gid("FulfillmentLineItem", fl["_n"]), "_n": fl["_n"],
            "lineItem": line, "quantity": fl["quantity"], "originalTotalSet": bag(st, price),
            "discountedTotalSet": bag(st, price)}


@field("Fulfillment", "fulfillmentLineItems")
def _f_lines(f, info, **args):
    st = store_of(info)
    o = st.orders.get(f.get("_order"))
    return connection("FulfillmentLineItemConnection", [_fli_view(st, o, fl) for fl in f["_lines"]],
                      _line_key, **args)


@field("Return", "order")
def _ret_order(r, info):
    return store_of(info).orders.get(r["_order"])


@field("Return", "totalQuantity")
def _ret_qty(r, info):
    return sum(x["quantity"] for x in r["_lines"])


@field("Return", "returnLineItems")
def _ret_lines(r, info, **args):
    st = store_of(info)
    o = st.orders.get(r["_order"])
    recs = []
    for rl in r["_lines"]:
        v = dict(rl)
        v["fulfillmentLineItem"] = _fli_view(st, o, {"_n": rl["_n"], "_line": rl["_line"],
                                                     "quantity": rl["quantity"]})
        refunded = sum(x["quantity"] for rf in (o["_refunds"] if o else []) if rf.get("_return") == r["_n"]
                       for x in rf["_lines"] if x["_line"] == rl["_line"])
        v["refundedQuantity"] = refunded
        v["refundableQuantity"] = max(0, rl["quantity"] - refunded)
        v["withCodeDiscountedTotalPriceSet"] = v["fulfillmentLineItem"]["discountedTotalSet"]
        recs.append(v)
    return connection("ReturnLineItemTypeConnection", recs, _line_key, **args)


@field("Return", "refunds")
def _ret_refunds(r, info, **args):
    o = store_of(info).orders.get(r["_order"])
    recs = [x for x in (o["_refunds"] if o else []) if x.get("_return") == r["_n"]]
    return connection("RefundConnection", recs, _line_key, **args)


# ------------------------------------------------------------ Customer


def customer_orders(st, c):
    return [o for o in st.orders.values() if o["_customer"] == c["_n"]]


@field("Customer", "numberOfOrders")
def _c_orders_count(c, info):
    return str(len(customer_orders(store_of(info), c)))


@field("Customer", "amountSpent")
def _c_spent(c, info):
    st = store_of(info)
    total = _sum(totals(o)["received"] - totals(o)["refunded"] for o in customer_orders(st, c))
    return money_v2(st, total)


@field("Customer", "lastOrder")
def _c_last_order(c, info):
    orders = customer_orders(store_of(info), c)
    return max(orders, key=lambda o: (o["createdAt"], o["_n"])) if orders else None


@field("Customer", "orders")
def _c_orders(c, info, sortKey="ID", query=None, **args):
    st = store_of(info)
    recs = [o for o in filtered(info, customer_orders(st, c), order_search(st, info), _now_query(info, query))
            if visible(st, info, o)]
    return connection("OrderConnection", recs, ORDER_SORT.get(sortKey, ORDER_SORT["ID"]), **args)


@field("Customer", "defaultAddress")
def _c_default_address(c, info):
    return c["_addresses"][0] if c["_addresses"] else None


@field("Customer", "addresses")
def _c_addresses(c, info, first=None):
    return c["_addresses"][:first] if first is not None else list(c["_addresses"])


@field("Customer", "addressesV2")
def _c_addresses_v2(c, info, **args):
    recs = [dict(a, _n=i) for i, a in enumerate(c["_addresses"])]
    return connection("MailingAddressConnection", recs, lambda a: (a["_n"],), **args)


@field("Customer", "displayName")
def _c_display(c, info):
    name = " ".join(x for x in (c["firstName"], c["lastName"]) if x)
    return name or c["email"] or c["phone"] or ""


@field("Customer", "validEmailAddress")
def _c_valid_email(c, info):
    return bool(c["email"] and "@" in c["email"])


@field("Customer", "defaultEmailAddress")
def _c_default_email(c, info):
    if not c["email"]:
        return None
    return {"__typename": "CustomerEmailAddress", "emailAddress": c["email"], "marketingState": "NOT_SUBSCRIBED",
            "marketingUnsubscribeUrl": "", "openTrackingLevel": "UNKNOWN", "openTrackingUrl": ""}


@field("Customer", "defaultPhoneNumber")
def _c_default_phone(c, info):
    if not c["phone"]:
        return None
    return {"__typename": "CustomerPhoneNumber", "phoneNumber": c["phone"], "marketingState": "NOT_SUBSCRIBED",
            "marketingOptInLevel": None, "marketingUpdatedAt": None, "marketingCollectedFrom": None}


@field("Customer", "lifetimeDuration")
def _c_lifetime(c, info):
    return "about 1 month"


# ============================================================ searching

_NOW_RE = re.compile(r"(\b[a-z_]+_at:(?:>=|<=|>|<)?)now\b", re.I)


def _now_query(info, query):
    """`updated_at:<now` (documented example): now is the server's clock."""
    if not query:
        return query
    return _NOW_RE.sub(lambda m: m.group(1) + info.context["clock"].iso(), query)


def order_search(st, info=None):
    def cust(o):
        return st.customers.get(o["_customer"]) or {}

    return search.Resource(
        fields={
            "id": lambda o: [o["_n"]],
            "name": lambda o: [o["name"], o["name"].lstrip("#")],
            "email": lambda o: [o["email"]],
            "customer_id": lambda o: [o["_customer"]],
            "created_at": lambda o: [o["createdAt"]],
            "updated_at": lambda o: [o["updatedAt"]],
            "processed_at": lambda o: [o["processedAt"]],
            "fulfillment_status": lambda o: FULFILLMENT_SEARCH.get(o["_fulfillment"], [o["_fulfillment"].lower()]),
            "financial_status": lambda o: [financial_status(o).lower()],
            "return_status": lambda o: [return_status(o).lower()],
            "status": order_status_words,
            "sku": lambda o: [l["sku"] for l in o["_lines"]],
            "test": lambda o: [str(o["test"]).lower()],
            "tag": lambda o: o["tags"],
            "gateway": lambda o: [t["gateway"] for t in o["_transactions"]],
            "discount_code": lambda o: [a["code"] for a in o["_discountApps"] if a["code"]],
            "source_name": lambda o: [o["sourceName"]],
            "po_number": lambda o: [o["poNumber"]],
            "confirmation_number": lambda o: [o["confirmationNumber"]],
            "subtotal_line_items_quantity": lambda o: [sum(l["quantity"] for l in o["_lines"])],
        },
        default=lambda o: [o["name"], o["email"] or "", cust(o).get("firstName") or "",
                           cust(o).get("lastName") or ""] + [l["sku"] or "" for l in o["_lines"]] + o["tags"],
        multi={"fulfillment_status", "financial_status", "status", "return_status"},
        negated={"tag_not": "tag"},
    )


ORDER_SORT = {
    "ID": lambda o: (o["_n"],),
    "CREATED_AT": lambda o: (o["createdAt"], o["_n"]),
    "UPDATED_AT": lambda o: (o["updatedAt"], o["_n"]),
    "PROCESSED_AT": lambda o: (o["processedAt"], o["_n"]),
    "ORDER_NUMBER": lambda o: (o["_number"], o["_n"]),
    "TOTAL_PRICE": lambda o: (float(totals(o)["total"]), o["_n"]),
    "FINANCIAL_STATUS": lambda o: (financial_status(o), o["_n"]),
    "FULFILLMENT_STATUS": lambda o: (o["_fulfillment"], o["_n"]),
    "PO_NUMBER": lambda o: (o["poNumber"], o["_n"]),
    "TOTAL_ITEMS_QUANTITY": lambda o: (sum(l["quantity"] for l in o["_lines"]), o["_n"]),
    "RELEVANCE": lambda o: (o["_n"],),
}


def _visible_orders(info, query):
    st = store_of(info)
    recs = [o for o in st.orders.values() if visible(st, info, o)]
    return filtered(info, recs, order_search(st, info), _now_query(info, query))


@field("QueryRoot", "orders")
def _q_orders(_, info, sortKey="PROCESSED_AT", query=None, savedSearchId=None, **args):
    st = store_of(info)
    recs = _visible_orders(info, query)
    key = ORDER_SORT.get(sortKey, ORDER_SORT["PROCESSED_AT"])
    if sortKey == "CUSTOMER_NAME":
        def key(o):  # noqa: E306
            c = st.customers.get(o["_customer"]) or {}
            return (" ".join(x for x in (c.get("firstName"), c.get("lastName")) if x), o["_n"])
    if sortKey == "DESTINATION":
        def key(o):  # noqa: E306
            a = o["shippingAddress"] or {}
            return (a.get("countryCodeV2") or "", a.get("provinceCode") or "", a.get("city") or "", o["_n"])
    return connection("OrderConnection", recs, key, **args)


@field("QueryRoot", "ordersCount")
def _q_orders_count(_, info, query=None, savedSearchId=None, limit=10000):
    n = len(_visible_orders(info, query))
    if limit is not None and n > limit:
        return {"__typename": "Count", "count": limit, "precision": "AT_LEAST"}
    return {"__typename": "Count", "count": n, "precision": "EXACT"}


@field("QueryRoot", "order")
def _q_order(_, info, id):
    st = store_of(info)
    o = st.orders.get(parse_gid(id, "Order"))
    return o if o is not None and visible(st, info, o) else None


@field("QueryRoot", "refund")
def _q_refund(_, info, id):
    n = parse_gid(id, "Refund")
    for o in store_of(info).orders.values():
        for r in o["_refunds"]:
            if r["_n"] == n:
                r["_order"] = o["_n"]
                return r
    return None


@field("QueryRoot", "return")
def _q_return(_, info, id):
    n = parse_gid(id, "Return")
    for o in store_of(info).orders.values():
        for r in o["_returns"]:
            if r["_n"] == n:
                return r
    return None


def _day_match(field_name):
    """Customer updated_at/created_at: an equality matches the whole day (2025-01 docs:
    "The date and time, matching a whole day")."""
    def get(c):
        return [c[field_name]]
    return get


def customer_search(st):
    def addr(c):
        return c["_addresses"][0] if c["_addresses"] else {}

    return search.Resource(
        fields={
            "id": lambda c: [c["_n"]],
            "email": lambda c: [c["email"]],
            "phone": lambda c: [c["phone"]],
            "first_name": lambda c: [c["firstName"]],
            "last_name": lambda c: [c["lastName"]],
            "tag": lambda c: c["tags"],
            "state": lambda c: [c["state"]],
            "country": lambda c: [addr(c).get("country"), addr(c).get("countryCodeV2")],
            "orders_count": lambda c: [len(customer_orders(st, c))],
            "updated_at": _day_match("updatedAt"),
            "created_at": _day_match("createdAt"),
        },
        default=lambda c: [c["firstName"] or "", c["lastName"] or "", c["email"] or "", c["phone"] or ""] + c["tags"],
        negated={"tag_not": "tag"},
    )


_DAY_EQ_RE = re.compile(r"\b((?:updated|created)_at):(['\"]?)(\d{4}-\d{2}-\d{2})(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\2"
                        r"(?=\s|\)|$)")


def _customer_query(info, query):
    q = _now_query(info, query)
    if not q:
        return q
    # whole-day equality: updated_at:2026-11-20T10:00:00Z -> that day
    return _DAY_EQ_RE.sub(lambda m: "(%s:>=%sT00:00:00Z %s:<=%sT23:59:59Z)"
                          % (m.group(1), m.group(3), m.group(1), m.group(3)), q)


CUSTOMER_SORT = {
    "ID": lambda c: (c["_n"],),
    "CREATED_AT": lambda c: (c["createdAt"], c["_n"]),
    "UPDATED_AT": lambda c: (c["updatedAt"], c["_n"]),
    "NAME": lambda c: (" ".join(x for x in (c["firstName"], c["lastName"]) if x), c["_n"]),
    "LOCATION": lambda c: ((c["_addresses"][0].get("country") or "") if c["_addresses"] else "", c["_n"]),
    "RELEVANCE": lambda c: (c["_n"],),
}


@field("QueryRoot", "customers")
def _q_customers(_, info, sortKey="ID", query=None, **args):
    st = store_of(info)
    recs = filtered(info, list(st.customers.values()), customer_search(st), _customer_query(info, query))
    return connection("CustomerConnection", recs, CUSTOMER_SORT.get(sortKey, CUSTOMER_SORT["ID"]), **args)


@field("QueryRoot", "customersCount")
def _q_customers_count(_, info, query=None):
    st = store_of(info)
    n = len(filtered(info, list(st.customers.values()), customer_search(st), _customer_query(info, query)))
    return {"__typename": "Count", "count": n, "precision": "EXACT"}


@field("QueryRoot", "customer")
def _q_customer(_, info, id):
    return store_of(info).customers.get(parse_gid(id, "Customer"))


def _node_refund(st, n, raw):
    for o in st.orders.values():
        for r in o["_refunds"]:
            if r["_n"] == n:
                r["_order"] = o["_n"]
                return r
    return None


NODE_LOOKUP["Order"] = lambda st, n, raw: st.orders.get(n)
NODE_LOOKUP["Customer"] = lambda st, n, raw: st.customers.get(n)
NODE_LOOKUP["Refund"] = _node_refund
