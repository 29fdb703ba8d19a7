"""Orders (v2), refunds and transactions (v3) and customers (v3) of the
BigCommerce emulator: the download side.

server.py routes every /stores/{hash}/v2/... request and every /v3/orders...
and /v3/customers... request here first (handle_v2 / handle_v3); None means
"not mine" and the server answers 404. Auth, the store hash, the rate limit
and injected faults are the server's and apply here unchanged.

Behaviour follows shared/reference/platforms-shopify-bigcommerce.md §B5-§B7
and the OpenAPI files orders.v2.oas2.yml, orders.v3.yml, customers.v3.yml and
store_information.v2.yml in shared/reference/platforms/bigcommerce/. Where
neither says what BigCommerce answers, the answer is marked *(constructed)*.

Traps reproduced:
- `GET /v2/orders` answers **204 No Content with an empty body** (not `[]`)
  when no order matches, a page past the end included (§B5, aligent PR #177);
  `GET /v2/orders/{id}/shipments` too (documented 204 "No shipments exist");
  the other v2 sub-resource lists (products, shipping_addresses, taxes,
  coupons) answer 204 when empty as well *(assumption: same v2 collection
  behaviour)*. v2 lists are plain arrays, no meta.
- v2 money is a string with 4 decimals ("336.3200"), exchange rates 10
  decimals, v2 dates RFC-2822 in UTC ("Wed, 10 Jan 2018 21:05:30 +0000"),
  `date_shipped` "" while unshipped. Coupon `amount`/`discount` are numbers
  (orderCoupons_Base example); taxes' `order_product_id` is a string
  (orderTaxes_Base: `type: string`).
- v2 errors are arrays: [{"status": 400, "message": "..."}].
- `status_id` takes one integer ("2,3" is a 400); `min_date_modified` &c.
  accept RFC-2822 or ISO-8601. An unencoded `+` in an offset arrives as a
  space and the date does not parse: 400 (§B6 "URL-encode `+`").
- A refund moves the order to status 4 Refunded (full) or 14 Partially
  Refunded and moves its date_modified (§B6): it drops out of a
  `status_id=2` query.
- Refunds carry no restock flag ("you cannot return items to inventory that
  you refunded via API"): a seeded refund line with "restock": true puts the
  quantity back into the catalog stock at the default location, as a
  control-panel return would, and nothing in the API says so.
- Customers answer both `meta.pagination` and `meta.cursor_pagination` on the
  first page, only `pagination` past it, only `cursor_pagination` with
  `before`/`after` (customers.v3.yml _metaCollectionWithCursorPagination).
"""

import base64
import copy
import datetime as _dt
import email.utils
import json
import math
import re
import urllib.parse
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import common

STATUS_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
API_BASE = "https://api.bigcommerce.com/stores/%s/v2"

V2_PAGE_DEFAULT = 50
V2_PAGE_MAX = 250      # §B5 "v2 ... (default 50, max 250)"
V3_PAGE_DEFAULT = 50
V3_PAGE_MAX = 250      # *(assumption: as the catalog's LimitParam)*

# /order_statuses table (orders.v2.oas2.yml ordersCount_Resp example, §B6)
STATUSES = {
    0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded", 5: "Cancelled",
    6: "Declined", 7: "Awaiting Payment", 8: "Awaiting Pickup", 9: "Awaiting Shipment", 10: "Completed",
    11: "Awaiting Fulfillment", 12: "Manual Verification Required", 13: "Disputed", 14: "Partially Refunded",
}
STATUS_SORT = [0, 1, 7, 11, 9, 8, 3, 10, 2, 5, 6, 4, 13, 12, 14]
SHIPPED_STATUSES = {2, 3, 10}

# Transaction enums (orders.v3.yml Transaction)
GATEWAYS = {"2checkout", "adyen", "amazon", "authorizenet", "bankdeposit", "braintree", "cheque", "cod", "custom",
            "firstdatagge4", "giftcertificate", "hps", "instore", "klarna", "migs", "moneyorder", "nmi",
            "paypalexpress", "paypalpaymentsprous", "paypalpaymentsprouk", "plugnpay", "qbmsv2", "securenet",
            "square", "storecredit", "stripe", "testgateway", "usaepay"}
METHODS = {"credit_card", "electronic_wallet", "gift_certificate", "store_credit", "apple_pay_card", "bigpay_token",
           "apple_pay_token", "token", "custom", "offsite", "offline", "nonce"}
OFFLINE_GATEWAYS = {"bankdeposit", "cheque", "cod", "custom", "instore", "moneyorder"}
GATEWAY_METHOD = {"giftcertificate": "gift_certificate", "storecredit": "store_credit", "cheque": "offline",
                  "cod": "offline", "bankdeposit": "offline", "moneyorder": "offline", "instore": "offline",
                  "custom": "custom"}
GATEWAY_DISPLAY = {"giftcertificate": "Gift Certificate", "storecredit": "Store Credit", "cheque": "Cheque",
                   "cod": "Cash on Delivery", "bankdeposit": "Bank Deposit", "moneyorder": "Money Order",
                   "instore": "Pay in Store", "custom": "Manual", "testgateway": "Test Payment Gateway"}

# Coupon discount types (orderCoupons_Base.type)
COUPON_TYPES = {"per_item_discount": 0, "percentage_discount": 1, "per_total_discount": 2,
                "shipping_discount": 3, "free_shipping": 4, "promotions": 5}

V2_ORDER_SORT = {"id", "customer_id", "date_created", "date_modified", "status_id", "channel_id", "external_id"}
V2_INCLUDES = {"consignments", "consignments.line_items", "fees"}
CUSTOMER_SORTS = {"date_created:asc", "date_created:desc", "last_name:asc", "last_name:desc",
                  "date_modified:asc", "date_modified:desc"}
CUSTOMER_INCLUDES = {"addresses", "storecredit", "attributes", "formfields", "shopper_profile_id", "segment_ids"}

Q4 = Decimal("0.0001")
Q2 = Decimal("0.01")


# ---------------------------------------------------------------- money, dates
def dec(x, what="amount"):
    if x is None or x == "":
        return Decimal(0)
    try:
        return Decimal(str(x))
    except InvalidOperation:
        raise ValueError("seed: %s %r is not a number" % (what, x))


def r2(x):
    return Decimal(x).quantize(Q2, ROUND_HALF_UP)


def r4(x):
    return Decimal(x).quantize(Q4, ROUND_HALF_UP)


def m4(x):
    """v2 money: a string with 4 decimals ("336.3200")."""
    return "%s" % r4(x)


def num(x):
    """v3 money: a JSON number rounded to 2 decimals."""
    v = r2(x)
    return int(v) if v == v.to_integral_value() else float(v)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc2822(t):
    """v2 dates: RFC-2822, always UTC ("Wed, 10 Jan 2018 21:05:30 +0000")."""
    if t is None:
        return ""
    d = _dt.datetime.fromtimestamp(int(t), _dt.timezone.utc)
    return "%s, %02d %s %04d %02d:%02d:%02d +0000" % (_DAYS[d.weekday()], d.day, _MONTHS[d.month - 1], d.year,
                                                      d.hour, d.minute, d.second)


def iso_offset(t):
    """v3 refund `created`: "2022-06-16T16:44:15+00:00" (RefundID_Get example)."""
    return _dt.datetime.fromtimestamp(int(t), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def iso_z(t):
    """v3 customers/transactions: "2018-11-13T21:42:06Z" (customers.v3.yml examples)."""
    return _dt.datetime.fromtimestamp(int(t), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_ISO_RE = re.compile(r"^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?(Z|z|[+-]\d\d:?\d\d)?$")
_RFC3339_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|z|[+-]\d\d:\d\d)$")


def parse_iso8601(s):
    s = s.strip()
    if not _ISO_RE.match(s):
        raise ValueError(s)
    return common.parse_iso(s)  # no offset: UTC *(assumption)*


def parse_v2_date(s):
    """RFC-2822 or ISO-8601 (orders.v2.oas2.yml min_date_modified &c.), or a
    Unix timestamp *(assumption)*. -> epoch seconds; ValueError if neither."""
    s = (s or "").strip()
    if re.fullmatch(r"\d{9,11}", s):
        return float(s)
    if s[:1].isalpha() or re.match(r"^\d{1,2} [A-Za-z]{3} ", s):
        try:
            d = email.utils.parsedate_to_datetime(s)
        except (TypeError, ValueError, IndexError):
            raise ValueError(s)
        if d is None:
            raise ValueError(s)
        if d.tzinfo is None:
            d = d.replace(tzinfo=_dt.timezone.utc)
        return d.timestamp()
    return parse_iso8601(s)


def seed_time(v, default):
    if v is None:
        return default
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    try:
        return parse_v2_date(str(v))
    except ValueError:
        raise ValueError("seed: bad time %r (ISO-8601, RFC-2822 or epoch seconds)" % (v,))


# ---------------------------------------------------------------- errors
class V2Error(Exception):
    def __init__(self, status, message, details=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details

    def response(self):
        item = {"status": self.status, "message": self.message}
        if self.details:
            item["details"] = self.details
        return common.Response(self.status, [item])


class V3Error(Exception):
    def __init__(self, status, title, errors=None):
        super().__init__(title)
        self.status = status
        self.title = title
        self.errors = errors if errors is not None else {}

    def response(self):
        return common.Response(self.status, {"status": self.status, "title": self.title, "type": STATUS_TYPE,
                                             "errors": self.errors})


def v2_invalid(field, reason):
    # v2 error array (§B7: [{"status":400,"message":"The field 'type' is invalid."}],
    # "Sometimes details{invalid_reason}")
    return V2Error(400, "The field '%s' is invalid." % field, {"invalid_reason": reason})


def v3_invalid(field, reason):
    # *(constructed)*: v3 error shape (§B7) for a filter that does not parse
    return V3Error(422, "The filter(s) are invalid", {field: reason})


# ---------------------------------------------------------------- the book
class OrderBook:
    """Orders, refunds and customers of one emulated store. Everything here is
    JSON-able (money as Decimal strings, times as epoch seconds) so that the
    state file can hold it."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.seq = {"order": 99, "order_product": 0, "address": 0, "refund": 0, "refund_payment": 0,
                    "customer": 0, "customer_address": 0, "transaction": 0, "tax": 0, "coupon": 0,
                    "shipment": 0, "option": 0}
        self.orders = {}
        self.refunds = {}
        self.customers = {}

    def next_id(self, kind, at_least=None):
        if at_least is not None:
            self.seq[kind] = max(self.seq[kind], int(at_least))
            return int(at_least)
        self.seq[kind] += 1
        return self.seq[kind]

    def dump(self):
        return {"seq": self.seq, "orders": list(self.orders.values()), "refunds": list(self.refunds.values()),
                "customers": list(self.customers.values())}

    def load(self, d):
        self.reset()
        if not d:
            return
        self.seq.update(d.get("seq") or {})
        self.orders = {o["id"]: o for o in d.get("orders") or []}
        self.refunds = {r["id"]: r for r in d.get("refunds") or []}
        self.customers = {c["id"]: c for c in d.get("customers") or []}


def book(platform):
    b = getattr(platform, "orderbook", None)
    if b is None:
        b = platform.orderbook = OrderBook()
    return b


# ---------------------------------------------------------------- seeding
def _status_id(v):
    if v is None:
        return 2
    if isinstance(v, int) and not isinstance(v, bool):
        if v not in STATUSES:
            raise ValueError("seed: unknown status_id %r" % v)
        return v
    key = re.sub(r"[\s_-]+", " ", str(v)).strip().casefold()
    if key.isdigit() and int(key) in STATUSES:
        return int(key)
    for sid, name in STATUSES.items():
        if name.casefold() == key:
            return sid
    raise ValueError("seed: unknown status %r (a status_id or a name such as Shipped)" % (v,))


ADDRESS_ALIASES = {"address1": "street_1", "address2": "street_2", "postal_code": "zip",
                   "state_or_province": "state", "country_code": "country_iso2", "province": "state"}


def _v2_address(a, fallback=None):
    a = dict(a or {})
    for k, v in list(a.items()):
        if k in ADDRESS_ALIASES:
            a.setdefault(ADDRESS_ALIASES[k], v)
    f = fallback or {}
    out = {}
    for k in ("first_name", "last_name", "company", "street_1", "street_2", "city", "state", "zip", "country",
              "country_iso2", "phone", "email"):
        v = a.get(k, f.get(k, ""))
        out[k] = "" if v is None else str(v)
    if out["country_iso2"] and not out["country"]:
        out["country"] = {"US": "United States", "CA": "Canada", "GB": "United Kingdom",
                          "AU": "Australia"}.get(out["country_iso2"].upper(), out["country_iso2"])
    out["form_fields"] = list(a.get("form_fields") or [])
    return out


def seed_customer(b, clock, spec):
    if "update" in spec:
        c = b.customers.get(spec.get("id"))
        if c is None:
            raise ValueError("seed: no customer %r to update" % spec.get("id"))
        up = spec["update"]
        for k in ("email", "first_name", "last_name", "company", "phone", "notes", "customer_group_id",
                  "tax_exempt_category", "store_credit"):
            if k in up:
                c[k] = up[k] if k != "store_credit" else str(dec(up[k]))
        if "addresses" in up:
            c["addresses"] = [_customer_address(b, c["id"], a) for a in up["addresses"]]
        c["modified"] = seed_time(up.get("updated_at"), clock.now())
        return c
    if not spec.get("email"):
        raise ValueError("seed: a customer needs an email")
    if any(c["email"].casefold() == spec["email"].casefold() for c in b.customers.values()):
        # emails are unique per store *(as BigCommerce's customer create rejects a duplicate)*
        raise ValueError("seed: customer email %s exists" % spec["email"])
    cid = b.next_id("customer", spec.get("id"))
    if cid in b.customers:
        raise ValueError("seed: customer id %d exists" % cid)
    now = clock.now()
    created = seed_time(spec.get("created_at"), now)
    c = {"id": cid, "email": spec["email"], "first_name": spec.get("first_name", ""),
         "last_name": spec.get("last_name", ""), "company": spec.get("company", ""), "phone": spec.get("phone", ""),
         "notes": spec.get("notes", ""), "tax_exempt_category": spec.get("tax_exempt_category", ""),
         "customer_group_id": int(spec.get("customer_group_id", 0)),
         "store_credit": str(dec(spec.get("store_credit", 0))),
         "created": created, "modified": seed_time(spec.get("updated_at"), created)}
    c["addresses"] = [_customer_address(b, cid, dict({"first_name": c["first_name"], "last_name": c["last_name"]}, **a))
                      for a in spec.get("addresses") or []]
    b.customers[cid] = c
    return c


def _customer_address(b, cid, a):
    v2 = _v2_address(a)
    return {"id": b.next_id("customer_address"), "customer_id": cid, "first_name": v2["first_name"],
            "last_name": v2["last_name"], "company": v2["company"], "address1": v2["street_1"],
            "address2": v2["street_2"], "city": v2["city"], "state_or_province": v2["state"],
            "postal_code": v2["zip"], "country_code": v2["country_iso2"], "country": v2["country"],
            "phone": v2["phone"], "address_type": a.get("address_type", "residential")}


def _find_customer(b, email_):
    for c in b.customers.values():
        if c["email"].casefold() == (email_ or "").casefold():
            return c
    return None


def _catalog_line(platform, sku):
    """SKU -> (product_id, variant_id, name, upc, weight, options) from the
    catalog, or None for a line that stands alone (custom product, ids 0)."""
    st = platform.store
    owner = st.sku_owner(sku)
    if owner is None:
        return None
    kind, obj = owner
    if kind == "variant":
        v = obj
        p = st.products[v["product_id"]]
        vv = st.variant_view(v)
        opts = [{"display_name": o["option_display_name"], "display_value": o["label"],
                 "option_id": o["option_id"], "value": str(o["id"])} for o in vv["option_values"]]
        upc = v.get("upc") or p.get("upc") or ""
        weight = vv["calculated_weight"] or 0
        return p["id"], v["id"], p["name"], upc, weight, opts
    p = obj
    return p["id"], p["_base_variant"] or 0, p["name"], p.get("upc") or "", p.get("weight") or 0, []


def seed_order(platform, b, spec):
    clock = platform.clock
    if "update" in spec or ("id" in spec and spec["id"] in b.orders):
        return update_order(platform, b, spec)
    oid = b.next_id("order", spec.get("id"))
    if oid in b.orders:
        raise ValueError("seed: order id %d exists" % oid)
    now = clock.now()
    created = seed_time(spec.get("created_at"), now)
    status_id = _status_id(spec.get("status_id", spec.get("status")))
    shipped_at = spec.get("shipped_at")
    shipped = seed_time(shipped_at, None) if shipped_at is not None else None
    modified = seed_time(spec.get("updated_at"), max(created, shipped or created))
    if shipped is None and status_id in SHIPPED_STATUSES and status_id != 10:
        shipped = modified if status_id == 2 else None
    tax_inclusive = bool(spec.get("tax_inclusive", False))
    rate = dec(spec.get("tax_rate", 0), "tax_rate")

    # customer
    cust = spec.get("customer")
    customer = None
    if isinstance(cust, dict):
        customer = _find_customer(b, cust.get("email")) or seed_customer(b, clock, cust)
    elif spec.get("customer_id"):
        customer = b.customers.get(int(spec["customer_id"]))
        if customer is None:
            raise ValueError("seed: order %d: no customer %r" % (oid, spec["customer_id"]))
    elif spec.get("customer_email"):
        customer = _find_customer(b, spec["customer_email"])
        if customer is None:
            raise ValueError("seed: order %d: no customer with email %s" % (oid, spec["customer_email"]))
    cfall = {}
    if customer:
        cfall = {"first_name": customer["first_name"], "last_name": customer["last_name"],
                 "company": customer["company"], "phone": customer["phone"], "email": customer["email"]}
        if customer["addresses"]:
            a = customer["addresses"][0]
            cfall.update({"street_1": a["address1"], "street_2": a["address2"], "city": a["city"],
                          "state": a["state_or_province"], "zip": a["postal_code"], "country": a["country"],
                          "country_iso2": a["country_code"]})
    billing = _v2_address(spec.get("billing_address"), cfall)
    if spec.get("email"):
        billing["email"] = spec["email"]
    ship_to = _v2_address(spec.get("shipping_address"), billing) if spec.get("shipping_address") is not None \
        else _v2_address(billing)
    address_id = b.next_id("address")

    lines_in = spec.get("lines") or spec.get("items") or []
    if not lines_in:
        raise ValueError("seed: order %d has no lines" % oid)
    # base lines
    lines = []
    for i, li in enumerate(lines_in):
        sku = li.get("sku", "")
        qty = int(li.get("qty", li.get("quantity", 1)))
        if qty <= 0:
            raise ValueError("seed: order %d line %d: qty must be positive" % (oid, i))
        cat = _catalog_line(platform, sku) if sku and not li.get("standalone") else None
        price = dec(li.get("price"), "price")
        lines.append({"in": li, "sku": sku, "qty": qty, "price": price, "base_total": price * qty, "cat": cat,
                      "discounts": [], "disc_total": Decimal(0)})
    # line-level discounts (target product unless told)
    discount_amount = Decimal(0)
    coupon_discount = Decimal(0)
    coupons = []
    for ln in lines:
        for d in ln["in"].get("discounts") or []:
            amt = r4(dec(d.get("amount"), "discount amount"))
            is_coupon = bool(d.get("code")) and d.get("kind", "coupon") == "coupon"
            ln["discounts"].append({"id": d.get("id") or ("coupon" if is_coupon else "discount"),
                                    "amount": m4(amt), "name": d.get("name", "Discount"),
                                    "code": d.get("code"), "target": d.get("target", "product")})
            ln["disc_total"] += amt
            if is_coupon:
                coupon_discount += amt
            else:
                discount_amount += amt
    # order-level discounts: spread over the lines in proportion to their
    # price (orderProductAppliedDiscounts: (total_manual_discount*price_ex_tax)/subtotal_ex_tax)
    base_sum = sum(ln["base_total"] for ln in lines)
    for d in spec.get("discounts") or []:
        amt = r2(dec(d.get("amount"), "discount amount"))
        if d.get("percent") is not None:
            amt = r2(base_sum * dec(d["percent"]) / 100)
        is_coupon = bool(d.get("code")) and d.get("kind", "coupon") == "coupon"
        if is_coupon:
            coupon_discount += amt
            ctype = d.get("type", "percentage_discount" if d.get("percent") is not None else "per_total_discount")
            coupons.append({"id": b.next_id("coupon"), "coupon_id": int(d.get("coupon_id", len(coupons) + 1)),
                            "order_id": oid, "code": d["code"],
                            "amount": num(dec(d["percent"]) if d.get("percent") is not None else amt),
                            "type": COUPON_TYPES.get(ctype, ctype) if isinstance(ctype, str) else int(ctype),
                            "discount": num(amt)})
        else:
            discount_amount += amt
        left = amt
        for k, ln in enumerate(lines):
            share = left if k == len(lines) - 1 else (r4(amt * ln["base_total"] / base_sum) if base_sum else 0)
            left -= share
            ln["discounts"].append({"id": d.get("id") or ("total-coupon" if is_coupon else "manual-discount"),
                                    "amount": m4(share),
                                    "name": d.get("name", "Manual Discount" if not is_coupon else d["code"]),
                                    "code": d.get("code") if is_coupon else None, "target": "order"})
            ln["disc_total"] += share

    # tax and money per line
    tax_name = spec.get("tax_name", "Tax")
    tax_class = spec.get("tax_class", "Default Tax Class")
    out_lines = []
    subtotal_ex = subtotal_inc = subtotal_tax = Decimal(0)
    items_total = items_shipped = 0
    for ln in lines:
        li = ln["in"]
        qty = ln["qty"]
        taxable = ln["base_total"] - ln["disc_total"]
        lrate = dec(li.get("tax_rate", rate))
        if "tax" in li:
            tax = r2(dec(li["tax"], "tax"))
        elif tax_inclusive:
            tax = r2(taxable * lrate / (100 + lrate))
        else:
            tax = r2(taxable * lrate / 100)
        if tax_inclusive:
            price_inc = ln["price"]
            price_ex = ln["price"] - tax / qty
            total_inc = ln["base_total"]
            total_ex = ln["base_total"] - tax
        else:
            price_ex = ln["price"]
            price_inc = ln["price"] + tax / qty
            total_ex = ln["base_total"]
            total_inc = ln["base_total"] + tax
        shipped_q = li.get("shipped")
        if shipped_q is None:
            shipped_q = qty if status_id in (2, 10) else 0
        cat = ln["cat"]
        pid, vid, cname, upc, weight, opts = cat if cat else (0, 0, None, "", 0, [])
        name = li.get("name") or cname or ln["sku"] or "Custom item"
        opid = b.next_id("order_product")
        product_options = []
        for o in opts:
            optid = b.next_id("option")
            product_options.append({"id": optid, "option_id": o["option_id"], "order_product_id": opid,
                                    "product_option_id": o["option_id"], "display_name": o["display_name"],
                                    "display_name_customer": o["display_name"],
                                    "display_name_merchant": o["display_name"],
                                    "display_value": o["display_value"], "display_value_customer": o["display_value"],
                                    "display_value_merchant": o["display_value"], "value": o["value"],
                                    "type": "Multiple choice", "name": o["display_name"],
                                    "display_style": "Rectangle"})
        out_lines.append({
            "id": opid, "order_id": oid, "product_id": pid, "variant_id": vid, "order_pickup_method_id": 0,
            "order_address_id": address_id, "name": name, "name_customer": name, "name_merchant": name,
            "sku": ln["sku"], "upc": li.get("upc", upc), "type": li.get("type", "physical"),
            "base_price": m4(ln["price"]), "price_ex_tax": m4(price_ex), "price_inc_tax": m4(price_inc),
            "price_tax": m4(tax / qty), "base_total": m4(ln["base_total"]), "total_ex_tax": m4(total_ex),
            "total_inc_tax": m4(total_inc), "total_tax": m4(tax),
            "weight": m4(dec(li.get("weight", weight))), "width": "0.0000", "height": "0.0000", "depth": "0.0000",
            "quantity": qty, "base_cost_price": m4(dec(li.get("cost", 0))),
            "cost_price_inc_tax": m4(dec(li.get("cost", 0))), "cost_price_ex_tax": m4(dec(li.get("cost", 0))),
            "cost_price_tax": "0.0000", "is_refunded": False, "quantity_refunded": 0, "refund_amount": "0.0000",
            "return_id": 0, "wrapping_id": 0, "wrapping_name": "", "base_wrapping_cost": "0.0000",
            "wrapping_cost_ex_tax": "0.0000", "wrapping_cost_inc_tax": "0.0000", "wrapping_cost_tax": "0.0000",
            "wrapping_message": "", "quantity_shipped": int(shipped_q), "event_name": None, "event_date": None,
            "fixed_shipping_cost": "0.0000", "ebay_item_id": "", "ebay_transaction_id": "", "option_set_id": None,
            "parent_order_product_id": None, "is_bundled_product": False, "bin_picking_number": "",
            "external_id": None, "brand": li.get("brand", ""), "applied_discounts": ln["discounts"],
            "product_options": product_options, "configurable_fields": [], "gift_certificate_id": None,
            "discounted_total_inc_tax": m4(total_inc - ln["disc_total"]),
            "_tax": str(tax), "_rate": str(lrate), "_restock": {}})
        subtotal_ex += total_ex
        subtotal_inc += total_inc
        subtotal_tax += tax
        items_total += qty
        items_shipped += int(shipped_q)

    # shipping
    sh = spec.get("shipping") or {}
    if not isinstance(sh, dict):
        sh = {"amount": sh}
    ship_amt = dec(sh.get("amount", sh.get("cost", 0)), "shipping amount")
    srate = dec(sh.get("tax_rate", rate))
    if "tax" in sh:
        ship_tax = r2(dec(sh["tax"]))
    elif tax_inclusive:
        ship_tax = r2(ship_amt * srate / (100 + srate))
    else:
        ship_tax = r2(ship_amt * srate / 100)
    ship_ex = ship_amt - ship_tax if tax_inclusive else ship_amt
    ship_inc = ship_amt if tax_inclusive else ship_amt + ship_tax
    address = dict(ship_to, id=address_id, order_id=oid, items_total=items_total, items_shipped=items_shipped,
                   shipping_method=sh.get("method", "Flat Rate"), base_cost=m4(ship_amt), cost_ex_tax=m4(ship_ex),
                   cost_inc_tax=m4(ship_inc), cost_tax=m4(ship_tax), cost_tax_class_id=2,
                   base_handling_cost="0.0000", handling_cost_ex_tax="0.0000", handling_cost_inc_tax="0.0000",
                   handling_cost_tax="0.0000", handling_cost_tax_class_id=2, shipping_zone_id=1,
                   shipping_zone_name=sh.get("zone", "United States"))

    # taxes rows (one per taxed line, one for shipping)
    taxes = []
    for ol in out_lines:
        if dec(ol["_tax"]) != 0:
            taxes.append({"id": b.next_id("tax"), "order_id": oid, "order_address_id": address_id, "tax_rate_id": 1,
                          "sales_tax_id": "1", "tax_class_id": 0, "name": tax_name, "class": tax_class,
                          "rate": m4(dec(ol["_rate"])), "priority": 0, "priority_amount": m4(dec(ol["_tax"])),
                          "line_amount": m4(dec(ol["_tax"])), "order_pickup_method_id": 0,
                          "order_product_id": str(ol["id"]), "line_item_type": "item"})
    if ship_tax != 0:
        taxes.append({"id": b.next_id("tax"), "order_id": oid, "order_address_id": address_id, "tax_rate_id": 1,
                      "sales_tax_id": "1", "tax_class_id": 2, "name": tax_name, "class": "Shipping",
                      "rate": m4(srate), "priority": 0, "priority_amount": m4(ship_tax), "line_amount": m4(ship_tax),
                      "order_pickup_method_id": 0, "order_product_id": None, "line_item_type": "shipping"})

    total_tax = subtotal_tax + ship_tax
    total_inc = subtotal_inc + ship_inc - discount_amount - coupon_discount
    total_ex = total_inc - total_tax

    # payments
    pays = spec.get("payments")
    if pays is None:
        pays = [spec["payment"]] if spec.get("payment") else [{"gateway": "testgateway"}]
    payments = []
    remaining = total_inc
    for k, p in enumerate(pays):
        gw = p.get("gateway", "testgateway")
        if gw not in GATEWAYS:
            raise ValueError("seed: order %d: gateway %r is not one of Transaction.gateway's values: %s"
                             % (oid, gw, ", ".join(sorted(GATEWAYS))))
        method = p.get("method_type", GATEWAY_METHOD.get(gw, "credit_card"))
        if method not in METHODS:
            raise ValueError("seed: order %d: method_type %r is not one of %s" % (oid, method, sorted(METHODS)))
        amt = r2(dec(p["amount"])) if p.get("amount") is not None else (remaining if k == len(pays) - 1 else None)
        if amt is None:
            raise ValueError("seed: order %d: every payment but the last needs an amount" % oid)
        remaining -= amt
        payments.append({"gateway": gw, "method_type": method,
                         "method": p.get("method") or GATEWAY_DISPLAY.get(gw, "Credit Card"),
                         "amount": str(amt), "transaction_id": p.get("transaction_id") or "%s_%d_%d" % (gw, oid, k + 1),
                         "provider_id": p.get("provider_id", gw), "status": p.get("status", "captured"),
                         "card": p.get("card")})
    store_credit = sum((dec(p["amount"]) for p in payments if p["gateway"] == "storecredit"), Decimal(0))
    gift_cert = sum((dec(p["amount"]) for p in payments if p["gateway"] == "giftcertificate"), Decimal(0))
    main_pay = next((p for p in payments if p["gateway"] not in ("storecredit", "giftcertificate")), payments[0])

    currency = spec.get("currency", "USD")
    fields = {
        "id": oid, "customer_id": customer["id"] if customer else 0, "status_id": status_id,
        "status": STATUSES[status_id], "custom_status": STATUSES[status_id],
        "subtotal_ex_tax": m4(subtotal_ex), "subtotal_inc_tax": m4(subtotal_inc), "subtotal_tax": m4(subtotal_tax),
        "base_shipping_cost": m4(ship_amt), "shipping_cost_ex_tax": m4(ship_ex),
        "shipping_cost_inc_tax": m4(ship_inc), "shipping_cost_tax": m4(ship_tax), "shipping_cost_tax_class_id": 2,
        "base_handling_cost": "0.0000", "handling_cost_ex_tax": "0.0000", "handling_cost_inc_tax": "0.0000",
        "handling_cost_tax": "0.0000", "handling_cost_tax_class_id": 2, "base_wrapping_cost": "0.0000",
        "wrapping_cost_ex_tax": "0.0000", "wrapping_cost_inc_tax": "0.0000", "wrapping_cost_tax": "0.0000",
        "wrapping_cost_tax_class_id": 3, "total_ex_tax": m4(total_ex), "total_inc_tax": m4(total_inc),
        "total_tax": m4(total_tax), "is_tax_inclusive_pricing": tax_inclusive, "items_total": items_total,
        "items_shipped": items_shipped, "payment_method": main_pay["method"],
        "payment_provider_id": main_pay["provider_id"] if main_pay["gateway"] not in OFFLINE_GATEWAYS else "",
        "payment_status": main_pay["status"], "refunded_amount": "0.0000", "order_is_digital": False,
        "store_credit_amount": m4(store_credit), "gift_certificate_amount": m4(gift_cert),
        "ip_address": "", "ip_address_v6": "", "geoip_country": "", "geoip_country_iso2": "",
        "currency_id": 1, "currency_code": currency, "currency_exchange_rate": "1.0000000000",
        "default_currency_id": 1, "default_currency_code": currency, "staff_notes": spec.get("staff_notes", ""),
        "customer_message": spec.get("customer_message", ""), "discount_amount": m4(discount_amount),
        "coupon_discount": m4(coupon_discount), "shipping_address_count": 1, "is_deleted": False,
        "ebay_order_id": "0", "cart_id": spec.get("cart_id", "cart-%d" % oid), "billing_address": billing,
        "is_email_opt_in": False, "credit_card_type": None, "order_source": spec.get("order_source", "www"),
        "channel_id": int(spec.get("channel_id", 1)), "external_source": spec.get("external_source"),
        "external_id": None, "external_merchant_id": None, "tax_provider_id": "BasicTaxProvider",
        "store_default_currency_code": currency, "store_default_to_transactional_exchange_rate": "1.0000000000",
        "customer_locale": "en", "external_order_id": spec.get("external_order_id", ""),
    }
    o = {"id": oid, "created": created, "modified": modified, "shipped": shipped, "fields": fields,
         "lines": out_lines, "address": address, "taxes": taxes, "coupons": coupons, "payments": payments,
         "transactions": [], "refund_ids": [], "shipment": spec.get("shipment") or {}}
    for p in payments:
        o["transactions"].append(_transaction(b, o, "purchase", p, dec(p["amount"]), created))
    b.orders[oid] = o
    for r in spec.get("refunds") or []:
        add_refund(platform, b, o, r)
    return o


def _transaction(b, o, event, p, amount, t):
    card = p.get("card") or {}
    cc = None
    if p["method_type"] == "credit_card":
        cc = {"card_type": card.get("type", "visa"), "card_iin": card.get("iin", "411111"),
              "card_last4": card.get("last4", "1111"), "card_expiry_month": int(card.get("expiry_month", 12)),
              "card_expiry_year": int(card.get("expiry_year", 2030))}
    return {"id": b.next_id("transaction"), "order_id": str(o["id"]), "event": event, "method": p["method_type"],
            "amount": num(amount), "currency": o["fields"]["currency_code"], "gateway": p["gateway"],
            "gateway_transaction_id": p["transaction_id"] if event == "purchase" else "%s-r%d" % (
                p["transaction_id"], len(o["transactions"])),
            "date_created": iso_z(t), "test": p["gateway"] == "testgateway", "status": "ok", "fraud_review": False,
            "reference_transaction_id": None,
            "offline": {"display_name": p["method"]} if p["method_type"] == "offline" else None,
            "custom": {"payment_method": p["method"]} if p["method_type"] == "custom" else None,
            "payment_method_id": "%s.card" % p["gateway"] if cc else p["gateway"],
            "payment_instrument_token": None, "provider_instrument_token": None, "provider_customer_id": None,
            "avs_result": {"code": "", "message": "", "street_match": "", "postal_match": ""},
            "cvv_result": {"code": "", "message": ""}, "credit_card": cc, "gift_certificate": None,
            "store_credit": None, "custom_provider_field_result": None}


def add_refund(platform, b, o, spec):
    """A refund as BigCommerce records it (orders.v3.yml Refund), with its
    effects on the order (§B6): refunded_amount, order product
    quantity_refunded/refund_amount/is_refunded, status 4 or 14, date_modified."""
    now = platform.clock.now()
    created = seed_time(spec.get("created_at"), max(now, o["created"]))
    items = []
    total = Decimal(0)
    tax = Decimal(0)
    by_sku = {}
    for ln in o["lines"]:
        by_sku.setdefault(ln["sku"].casefold(), ln)
    restocks = []
    for i, rl in enumerate(spec.get("lines") or []):
        if "line" in rl:
            idx = int(rl["line"])
            if not 0 <= idx < len(o["lines"]):
                raise ValueError("seed: order %d refund line %d: no line %d" % (o["id"], i, idx))
            ln = o["lines"][idx]
        else:
            ln = by_sku.get((rl.get("sku") or "").casefold())
            if ln is None:
                raise ValueError("seed: order %d refund line %d: no line with SKU %r" % (o["id"], i, rl.get("sku")))
        qty = int(rl.get("qty", rl.get("quantity", ln["quantity"])))
        if qty <= 0 or ln["quantity_refunded"] + qty > ln["quantity"]:
            raise ValueError("seed: order %d refund: %d of SKU %s, %d left to refund"
                             % (o["id"], qty, ln["sku"], ln["quantity"] - ln["quantity_refunded"]))
        unit = dec(ln["discounted_total_inc_tax"]) / ln["quantity"]
        amt = r2(dec(rl["amount"])) if rl.get("amount") is not None else r2(unit * qty)
        ltax = r2(dec(ln["_tax"]) * qty / ln["quantity"])
        items.append({"item_type": "PRODUCT", "item_id": ln["id"], "reason": rl.get("reason", ""), "quantity": qty,
                      "requested_amount": None})
        ln["quantity_refunded"] += qty
        ln["refund_amount"] = m4(dec(ln["refund_amount"]) + amt)
        ln["is_refunded"] = ln["quantity_refunded"] >= ln["quantity"]
        total += amt
        tax += ltax
        if rl.get("restock"):
            restocks.append((ln, qty))
    if spec.get("shipping") is not None:
        amt = r2(dec(spec["shipping"]))
        items.append({"item_type": "SHIPPING", "item_id": o["address"]["id"], "reason": "", "quantity": None,
                      "requested_amount": num(amt)})
        total += amt
    if spec.get("order_amount") is not None:
        amt = r2(dec(spec["order_amount"]))
        items.append({"item_type": "ORDER", "item_id": o["id"], "reason": "", "quantity": None,
                      "requested_amount": num(amt)})
        total += amt
    if spec.get("amount") is not None:
        total = r2(dec(spec["amount"]))
    if spec.get("tax") is not None:
        tax = r2(dec(spec["tax"]))
    if not items and spec.get("amount") is None:
        raise ValueError("seed: order %d: a refund needs lines, shipping, order_amount or amount" % o["id"])
    if dec(o["fields"]["refunded_amount"]) + total > dec(o["fields"]["total_inc_tax"]):
        raise ValueError("seed: order %d: refunds would exceed the order total" % o["id"])
    rid = b.next_id("refund", spec.get("id"))
    gw = spec.get("gateway") or o["payments"][0]["gateway"]
    pay = next((p for p in o["payments"] if p["gateway"] == gw), None) or dict(
        o["payments"][0], gateway=gw, provider_id=gw, method_type=GATEWAY_METHOD.get(gw, "credit_card"),
        method=GATEWAY_DISPLAY.get(gw, gw))
    refund = {"id": rid, "order_id": o["id"], "user_id": int(spec.get("user_id", 0)), "created": created,
              "reason": spec.get("reason", ""), "total_amount": str(total), "total_tax": str(tax),
              "uses_merchant_override_values": spec.get("amount") is not None,
              "items": items,
              "payments": [{"id": b.next_id("refund_payment"), "provider_id": pay["provider_id"],
                            "amount": str(total), "offline": bool(spec.get("offline", gw in OFFLINE_GATEWAYS)),
                            "is_declined": False, "declined_message": "",
                            "transaction_id": pay["transaction_id"]}]}
    b.refunds[rid] = refund
    o["refund_ids"].append(rid)
    o["transactions"].append(_transaction(b, o, "refund", pay, total, created))
    f = o["fields"]
    f["refunded_amount"] = m4(dec(f["refunded_amount"]) + total)
    sid = 4 if dec(f["refunded_amount"]) >= dec(f["total_inc_tax"]) else 14
    f["status_id"], f["status"], f["custom_status"] = sid, STATUSES[sid], STATUSES[sid]
    f["payment_status"] = "refunded" if sid == 4 else "partially refunded"
    o["modified"] = max(o["modified"], created)
    for ln, qty in restocks:
        _restock(platform, ln, qty)
    return refund


def _restock(platform, ln, qty):
    """Put refunded units back at the default location (location 1), as a
    control-panel refund with "return to stock" would; the API shows no flag."""
    st = platform.store
    if not ln["sku"]:
        return
    key, msg, _ = st.resolve_item({"sku": ln["sku"]})
    if key is None:
        return
    st.apply_due()
    st.stock[(key, 1)] = st.stock.get((key, 1), 0) + qty
    st.absolute_seen.add((key, 1))
    ln["_restock"][str(len(ln["_restock"]))] = qty


ORDER_UPDATABLE = {"staff_notes", "customer_message", "payment_status", "external_order_id", "channel_id",
                   "order_source", "external_source"}


def update_order(platform, b, spec):
    """{"id": N, "update": {...}, "refunds": [...]}: change an order after a
    download; date_modified moves to now (virtual clock) unless
    update.updated_at is given."""
    o = b.orders.get(spec.get("id"))
    if o is None:
        raise ValueError("seed: no order %r to update" % spec.get("id"))
    up = spec.get("update") or {}
    f = o["fields"]
    now = platform.clock.now()
    for k, v in up.items():
        if k in ORDER_UPDATABLE:
            f[k] = v
        elif k in ("status", "status_id"):
            sid = _status_id(v)
            f["status_id"], f["status"], f["custom_status"] = sid, STATUSES[sid], STATUSES[sid]
            if sid in (2, 3) or (sid == 10):
                for ln in o["lines"]:
                    if sid != 3:
                        ln["quantity_shipped"] = ln["quantity"]
                f["items_shipped"] = sum(ln["quantity_shipped"] for ln in o["lines"])
                o["address"]["items_shipped"] = f["items_shipped"]
                if sid == 2 and o["shipped"] is None:
                    o["shipped"] = seed_time(up.get("shipped_at"), now)
        elif k == "billing_address":
            f["billing_address"] = _v2_address(v, f["billing_address"])
        elif k == "shipping_address":
            a = _v2_address(v, o["address"])
            a.pop("form_fields", None)
            o["address"].update(a)
        elif k in ("updated_at", "shipped_at", "touch"):
            pass
        else:
            raise ValueError("seed: order update: %r cannot be changed (%s, status, billing_address, "
                             "shipping_address, shipped_at, updated_at, touch)" % (k, ", ".join(sorted(ORDER_UPDATABLE))))
    if "shipped_at" in up:
        o["shipped"] = seed_time(up["shipped_at"], now)
    if "update" in spec:  # an entry with only "refunds" moves the time through them
        o["modified"] = seed_time(up.get("updated_at"), max(now, o["modified"]))
    for r in spec.get("refunds") or []:
        add_refund(platform, b, o, r)
    return o


def seed(platform, data):
    """POST /__emulator/seed {"orders": [...], "customers": [...]} (see README)."""
    b = book(platform)
    out = {}
    if "customers" in data:
        cs = [seed_customer(b, platform.clock, c) for c in data.get("customers") or []]
        out["customers"] = [{"id": c["id"], "email": c["email"]} for c in cs]
    if "orders" in data:
        os_ = [seed_order(platform, b, o) for o in data.get("orders") or []]
        out["orders"] = [{"id": o["id"], "status_id": o["fields"]["status_id"],
                          "customer_id": o["fields"]["customer_id"], "date_modified": rfc2822(o["modified"]),
                          "total_inc_tax": o["fields"]["total_inc_tax"],
                          "order_address_id": o["address"]["id"],
                          "products": [{"id": ln["id"], "sku": ln["sku"], "product_id": ln["product_id"],
                                        "variant_id": ln["variant_id"]} for ln in o["lines"]],
                          "refunds": list(o["refund_ids"])} for o in os_]
    return out


def reset(platform):
    book(platform).reset()


def state(platform):
    b = book(platform)
    return {"orders": [dict(order_view(platform, o), products=[line_view(ln) for ln in o["lines"]],
                            refund_ids=list(o["refund_ids"]))
                       for o in (b.orders[k] for k in sorted(b.orders))],
            "refunds": [refund_view(b.refunds[k]) for k in sorted(b.refunds)],
            "customers": [customer_view(b.customers[k], CUSTOMER_INCLUDES) for k in sorted(b.customers)]}


def dump(platform):
    return book(platform).dump()


def load(platform, data):
    book(platform).load(data)


# ---------------------------------------------------------------- views
def order_view(platform, o):
    base = API_BASE % platform.store_hash
    out = dict(copy.deepcopy(o["fields"]))
    out["date_created"] = rfc2822(o["created"])
    out["date_modified"] = rfc2822(o["modified"])
    out["date_shipped"] = rfc2822(o["shipped"])
    oid = o["id"]
    # the resource links spell it "shippingaddresses" (orderCollection_Resp example)
    out["products"] = {"url": "%s/orders/%d/products" % (base, oid), "resource": "/orders/%d/products" % oid}
    out["shipping_addresses"] = {"url": "%s/orders/%d/shippingaddresses" % (base, oid),
                                 "resource": "/orders/%d/shippingaddresses" % oid}
    out["coupons"] = {"url": "%s/orders/%d/coupons" % (base, oid), "resource": "/orders/%d/coupons" % oid}
    return out


def line_view(ln):
    return {k: copy.deepcopy(v) for k, v in ln.items() if not k.startswith("_")}


def address_view(platform, o):
    a = dict(copy.deepcopy(o["address"]))
    base = API_BASE % platform.store_hash
    a["shipping_quotes"] = {"url": "%s/orders/%d/shippingaddresses/%d/shippingquotes" % (base, o["id"], a["id"]),
                            "resource": "/orders/%d/shippingaddresses/%d/shippingquotes" % (o["id"], a["id"])}
    return a


def shipment_view(o, b_cust_id):
    sh = o["shipment"]
    a = o["address"]
    addr = {k: a[k] for k in ("first_name", "last_name", "company", "street_1", "street_2", "city", "state", "zip",
                              "country", "country_iso2", "phone", "email")}
    return {"id": o["id"] * 10 + 1, "order_id": o["id"], "customer_id": b_cust_id, "order_address_id": a["id"],
            "date_created": rfc2822(o["shipped"]), "tracking_number": sh.get("tracking_number", ""),
            "merchant_shipping_cost": "0.0000", "shipping_method": a["shipping_method"],
            "shipping_provider": sh.get("provider", ""), "tracking_carrier": sh.get("carrier", ""),
            "tracking_link": sh.get("tracking_link", ""), "comments": sh.get("comments", ""),
            "billing_address": {k: v for k, v in o["fields"]["billing_address"].items() if k != "form_fields"},
            "shipping_address": addr,
            "items": [{"order_product_id": ln["id"], "product_id": ln["product_id"], "quantity": ln["quantity_shipped"]}
                      for ln in o["lines"] if ln["quantity_shipped"]],
            "shipping_provider_display_name": sh.get("provider", ""), "generated_tracking_link": ""}


def refund_view(r):
    return {"id": r["id"], "order_id": r["order_id"], "user_id": r["user_id"], "created": iso_offset(r["created"]),
            "reason": r["reason"], "total_amount": num(dec(r["total_amount"])), "total_tax": num(dec(r["total_tax"])),
            "uses_merchant_override_values": r["uses_merchant_override_values"],
            "items": copy.deepcopy(r["items"]),
            "payments": [dict(p, amount=num(dec(p["amount"]))) for p in r["payments"]]}


def customer_view(c, include=()):
    out = {"id": c["id"], "email": c["email"], "first_name": c["first_name"], "last_name": c["last_name"],
           "company": c["company"], "phone": c["phone"], "registration_ip_address": "", "notes": c["notes"],
           "tax_exempt_category": c["tax_exempt_category"], "customer_group_id": c["customer_group_id"],
           "date_modified": iso_z(c["modified"]), "date_created": iso_z(c["created"]),
           "address_count": len(c["addresses"]), "attribute_count": 0,
           "authentication": {"force_password_reset": False},
           "accepts_product_review_abandoned_cart_emails": False, "origin_channel_id": 1, "channel_ids": None}
    if "addresses" in include:
        out["addresses"] = copy.deepcopy(c["addresses"])
    if "storecredit" in include:
        out["store_credit_amounts"] = [{"amount": num(dec(c["store_credit"]))}]
    if "attributes" in include:
        out["attributes"] = []
    if "formfields" in include:
        out["form_fields"] = []
    return out


# ---------------------------------------------------------------- query helpers
def _q(req, name):
    v = req.query.get(name)
    return v[-1] if v else None


def _int_param(req, name, v2=True):
    v = _q(req, name)
    if v is None:
        return None
    if not re.fullmatch(r"\s*-?\d+\s*", v):
        raise (v2_invalid(name, "must be an integer") if v2 else v3_invalid(name, "must be an integer"))
    return int(v)


def _num_param(req, name):
    v = _q(req, name)
    if v is None:
        return None
    try:
        x = float(v)
        if math.isnan(x) or math.isinf(x):
            raise ValueError
        return x
    except ValueError:
        raise v2_invalid(name, "must be a number")


def _int_list(req, name):
    v = _q(req, name)
    if v is None:
        return None
    parts = [p.strip() for p in v.split(",") if p.strip() != ""]
    if not all(re.fullmatch(r"-?\d+", p) for p in parts):
        raise v3_invalid(name, "must be a comma-separated list of integers")
    return {int(p) for p in parts}


def _page_limit(req, default, maximum, v2=True):
    """page/limit; limit over the maximum is clamped *(assumption, as the catalog)*."""
    if v2:
        page = _num_param(req, "page")
        limit = _num_param(req, "limit")
    else:
        page = _int_param(req, "page", v2=False)
        lv = _q(req, "limit")
        try:
            limit = float(lv) if lv is not None else None
        except ValueError:
            raise v3_invalid("limit", "must be a number")
    page = max(1, int(page)) if page is not None else 1
    limit = int(limit) if limit is not None else default
    limit = max(1, min(limit, maximum))
    return page, limit


def _v2_list(req, items, view=None):
    """A v2 list: plain array, page/limit, 204 with an empty body when empty."""
    page, limit = _page_limit(req, V2_PAGE_DEFAULT, V2_PAGE_MAX)
    chunk = items[(page - 1) * limit: page * limit]
    if not chunk:
        return common.Response(204, b"", content_type=None)
    return common.Response(200, [view(x) for x in chunk] if view else chunk)


def _v3_page(req, items, default=V3_PAGE_DEFAULT, maximum=V3_PAGE_MAX):
    page, limit = _page_limit(req, default, maximum, v2=False)
    total = len(items)
    total_pages = int(math.ceil(total / float(limit))) if total else 0
    chunk = items[(page - 1) * limit: page * limit]
    others = [(k, v) for k, vs in req.query.items() if k not in ("page", "limit", "before", "after") for v in vs]
    prefix = "?" + (urllib.parse.urlencode(others, safe=",:") + "&" if others else "")

    def link(n):
        return "%spage=%d&limit=%d" % (prefix, n, limit)

    links = {"current": link(page)}
    if page > 1:
        links["previous"] = link(page - 1)
    if page < total_pages:
        links["next"] = link(page + 1)
    return chunk, {"total": total, "count": len(chunk), "per_page": limit, "current_page": page,
                   "total_pages": total_pages, "links": links}, limit


# ---------------------------------------------------------------- op labels
V2_OPS = [
    ("GET", r"/orders", "getOrders"),
    ("GET", r"/orders/count", "getOrdersCount"),
    ("GET", r"/orders/(\d+)", "getOrder"),
    ("GET", r"/orders/(\d+)/products", "getOrderProducts"),
    ("GET", r"/orders/(\d+)/products/(\d+)", "getOrderProduct"),
    ("GET", r"/orders/(\d+)/(?:shipping_addresses|shippingaddresses)", "getOrderShippingAddresses"),
    ("GET", r"/orders/(\d+)/(?:shipping_addresses|shippingaddresses)/(\d+)", "getOrderShippingAddress"),
    ("GET", r"/orders/(\d+)/taxes", "getOrderTaxes"),
    ("GET", r"/orders/(\d+)/coupons", "getOrderCoupons"),
    ("GET", r"/orders/(\d+)/shipments", "getOrderShipments"),
    ("GET", r"/order_statuses", "getOrderStatuses"),
    ("GET", r"/time", "getSystemTimestamp"),
]
V3_OPS = [
    ("GET", r"/orders/payment_actions/refunds", "getOrdersRefunds"),
    ("GET", r"/orders/payment_actions/refunds/(\d+)", "getOrderRefund"),
    ("GET", r"/orders/(\d+)/payment_actions/refunds", "getOrderRefunds"),
    ("GET", r"/orders/(\d+)/transactions", "getOrderTransactions"),
    ("GET", r"/customers", "getCustomers"),
]
V2_OPS = [(m, re.compile("^" + rx + "/?$"), op) for m, rx, op in V2_OPS]
V3_OPS = [(m, re.compile("^" + rx + "/?$"), op) for m, rx, op in V3_OPS]


def _match(table, method, path):
    known = False
    for m, rx, op in table:
        mm = rx.match(path)
        if mm:
            known = True
            if m == method:
                return op, [int(g) for g in mm.groups()], True
    return None, None, known


def op_label(method, version, path):
    op, _, _ = _match(V2_OPS if version == "v2" else V3_OPS, method, path)
    return op


def _count(platform, op):
    with platform.lock:
        platform.store.count("requestsByOperation", op)


# ---------------------------------------------------------------- v2
def handle_v2(platform, req, path):
    """path is what follows /stores/{hash}/v2 (e.g. "/orders")."""
    op, args, known = _match(V2_OPS, req.method, path)
    if op is None:
        if known:
            # *(constructed)*: the write side of v2 orders is not emulated
            return common.Response(405, [{"status": 405, "message": "The requested method is not supported."}])
        return None
    _count(platform, op)
    try:
        with platform.lock:
            resp = V2_HANDLERS[op](platform, req, *args)
    except V2Error as e:
        with platform.lock:
            platform.store.count("rejected")
        resp = e.response()
    resp.op_label = op
    return resp


DATE_FILTERS = (("min_date_created", "created", 1), ("max_date_created", "created", -1),
                ("min_date_modified", "modified", 1), ("max_date_modified", "modified", -1))


def _filter_orders(platform, req):
    b = book(platform)
    items = [b.orders[k] for k in sorted(b.orders)]
    for name, field in (("min_id", None), ("max_id", None), ("customer_id", None), ("status_id", None),
                        ("channel_id", None)):
        v = _int_param(req, name)
        if v is None:
            continue
        if name == "min_id":
            items = [o for o in items if o["id"] >= v]
        elif name == "max_id":
            items = [o for o in items if o["id"] <= v]
        else:
            items = [o for o in items if o["fields"][name] == v]
    for name, sign in (("min_total", 1), ("max_total", -1)):
        v = _num_param(req, name)
        if v is not None:
            items = [o for o in items if (float(o["fields"]["total_inc_tax"]) - v) * sign >= 0]
    for name, field, sign in DATE_FILTERS:
        v = _q(req, name)
        if v is None:
            continue
        try:
            t = parse_v2_date(v)
        except ValueError:
            raise v2_invalid(name, "expected RFC-2822 or ISO-8601, got %r (an unencoded '+' arrives as a space)"
                             % v)
        items = [o for o in items if (int(o[field]) - int(t)) * sign >= 0]
    for name, key in (("email", None), ("cart_id", "cart_id"), ("payment_method", "payment_method"),
                      ("external_order_id", "external_order_id")):
        v = _q(req, name)
        if v is None:
            continue
        if name == "email":
            items = [o for o in items if o["fields"]["billing_address"]["email"].casefold() == v.casefold()]
        else:
            items = [o for o in items if str(o["fields"].get(key) or "").casefold() == v.casefold()]
    return items


def _sorted_orders(req, items):
    v = _q(req, "sort")
    if v is None:
        return items
    field, _, direction = v.partition(":")
    if field not in V2_ORDER_SORT or direction not in ("", "asc", "desc"):
        raise v2_invalid("sort", "one of %s, with :asc or :desc" % ", ".join(sorted(V2_ORDER_SORT)))

    def key(o):
        if field == "date_created":
            return (o["created"], o["id"])
        if field == "date_modified":
            return (o["modified"], o["id"])
        if field == "id":
            return (o["id"],)
        return (o["fields"].get(field) or 0, o["id"])
    return sorted(items, key=key, reverse=direction == "desc")


def _includes(req):
    v = _q(req, "include")
    incs = set()
    if v:
        incs = {x.strip() for x in v.split(",") if x.strip()}
        bad = incs - V2_INCLUDES
        if bad:
            raise v2_invalid("include", "one of %s" % ", ".join(sorted(V2_INCLUDES)))
    cs = _q(req, "consignment_structure")
    if cs is not None and cs != "object":
        raise v2_invalid("consignment_structure", "must be object")
    return incs


def _with_includes(view, incs):
    if "fees" in incs:
        view["fees"] = []
    return view


def v2_get_orders(platform, req):
    incs = _includes(req)
    items = _sorted_orders(req, _filter_orders(platform, req))
    return _v2_list(req, items, lambda o: _with_includes(order_view(platform, o), incs))


def v2_get_orders_count(platform, req):
    items = _filter_orders(platform, req)
    statuses = []
    for n, sid in enumerate(STATUS_SORT):
        statuses.append({"id": sid, "name": STATUSES[sid], "system_label": STATUSES[sid],
                         "custom_label": STATUSES[sid], "system_description": "",
                         "count": sum(1 for o in items if o["fields"]["status_id"] == sid), "sort_order": n})
    return common.Response(200, {"statuses": statuses, "count": len(items)})


def _order(platform, oid):
    o = book(platform).orders.get(oid)
    if o is None:
        raise V2Error(404, "The requested resource was not found.")
    return o


def v2_get_order(platform, req, oid):
    incs = _includes(req)
    return common.Response(200, _with_includes(order_view(platform, _order(platform, oid)), incs))


def v2_get_order_products(platform, req, oid):
    return _v2_list(req, [line_view(ln) for ln in _order(platform, oid)["lines"]])


def v2_get_order_product(platform, req, oid, opid):
    for ln in _order(platform, oid)["lines"]:
        if ln["id"] == opid:
            return common.Response(200, line_view(ln))
    raise V2Error(404, "The requested resource was not found.")


def v2_get_shipping_addresses(platform, req, oid):
    return _v2_list(req, [address_view(platform, _order(platform, oid))])


def v2_get_shipping_address(platform, req, oid, aid):
    o = _order(platform, oid)
    if o["address"]["id"] != aid:
        raise V2Error(404, "The requested resource was not found.")
    return common.Response(200, address_view(platform, o))


def v2_get_taxes(platform, req, oid):
    return _v2_list(req, copy.deepcopy(_order(platform, oid)["taxes"]))


def v2_get_coupons(platform, req, oid):
    return _v2_list(req, copy.deepcopy(_order(platform, oid)["coupons"]))


def v2_get_shipments(platform, req, oid):
    o = _order(platform, oid)
    items = []
    if o["shipped"] is not None and any(ln["quantity_shipped"] for ln in o["lines"]):
        items.append(shipment_view(o, o["fields"]["customer_id"]))
    return _v2_list(req, items)


def v2_get_order_statuses(platform, req):
    return common.Response(200, [{"id": sid, "name": STATUSES[sid], "system_label": STATUSES[sid],
                                  "custom_label": STATUSES[sid], "system_description": "", "order": n}
                                 for n, sid in enumerate(STATUS_SORT)])


def v2_get_time(platform, req):
    # store_information.v2.yml getSystemTimestamp: {"time": 1529512970}
    return common.Response(200, {"time": int(platform.clock.now())})


V2_HANDLERS = {
    "getOrders": v2_get_orders, "getOrdersCount": v2_get_orders_count, "getOrder": v2_get_order,
    "getOrderProducts": v2_get_order_products, "getOrderProduct": v2_get_order_product,
    "getOrderShippingAddresses": v2_get_shipping_addresses, "getOrderShippingAddress": v2_get_shipping_address,
    "getOrderTaxes": v2_get_taxes, "getOrderCoupons": v2_get_coupons, "getOrderShipments": v2_get_shipments,
    "getOrderStatuses": v2_get_order_statuses, "getSystemTimestamp": v2_get_time,
}


# ---------------------------------------------------------------- v3
def handle_v3(platform, req, path):
    """path is what follows /stores/{hash}/v3, for /orders... and /customers..."""
    op, args, known = _match(V3_OPS, req.method, path)
    if op is None:
        if known:
            return common.Response(405, {"status": 405, "title": "Method Not Allowed", "type": STATUS_TYPE,
                                         "errors": {}})
        return None
    _count(platform, op)
    try:
        with platform.lock:
            resp = V3_HANDLERS[op](platform, req, *args)
    except V3Error as e:
        with platform.lock:
            platform.store.count("rejected")
        resp = e.response()
    resp.op_label = op
    return resp


def _rfc3339_param(req, name):
    v = _q(req, name)
    if v is None:
        return None
    if not _RFC3339_RE.match(v.strip()):
        # "Must be in url-encoded RFC 3339 format" (getOrdersRefunds created:min)
        raise v3_invalid(name, "must be an RFC 3339 date-time such as 2020-01-15T01:02:34-01:00 "
                               "(url-encode the '+')")
    return common.parse_iso(v.strip())


def v3_get_refunds(platform, req):
    b = book(platform)
    items = [b.refunds[k] for k in sorted(b.refunds)]
    oids = _int_list(req, "order_id:in")
    if oids is not None:
        items = [r for r in items if r["order_id"] in oids]
    ids = _int_list(req, "id:in")
    if ids is not None:
        items = [r for r in items if r["id"] in ids]
    lo = _rfc3339_param(req, "created:min")
    if lo is not None:
        items = [r for r in items if int(r["created"]) >= int(lo)]
    hi = _rfc3339_param(req, "created:max")
    if hi is not None:
        items = [r for r in items if int(r["created"]) <= int(hi)]
    tx = _q(req, "transaction_id")
    if tx is not None:
        items = [r for r in items if any(p.get("transaction_id") == tx for p in r["payments"])]
    chunk, pagination, _ = _v3_page(req, items)
    return common.Response(200, {"data": [refund_view(r) for r in chunk], "meta": {"pagination": pagination}})


def _v3_order(platform, oid):
    o = book(platform).orders.get(oid)
    if o is None:
        # 404 with the v3 error shape (orders.v3.yml NotFound) *(title constructed)*
        raise V3Error(404, "Order not found")
    return o


def v3_get_order_refunds(platform, req, oid):
    o = _v3_order(platform, oid)
    b = book(platform)
    items = [b.refunds[r] for r in o["refund_ids"]]
    tx = _q(req, "transaction_id")
    if tx is not None:
        items = [r for r in items if any(p.get("transaction_id") == tx for p in r["payments"])]
    chunk, pagination, _ = _v3_page(req, items)
    return common.Response(200, {"data": [refund_view(r) for r in chunk], "meta": {"pagination": pagination}})


def v3_get_refund(platform, req, rid):
    r = book(platform).refunds.get(rid)
    if r is None:
        raise V3Error(404, "Refund not found")  # *(title constructed)*
    return common.Response(200, {"data": refund_view(r), "meta": {}})


def v3_get_transactions(platform, req, oid):
    o = _v3_order(platform, oid)
    if not o["transactions"]:
        return common.Response(204, b"", content_type=None)  # documented 204 "No content found"
    chunk, pagination, _ = _v3_page(req, o["transactions"])
    return common.Response(200, {"data": copy.deepcopy(chunk), "meta": {"pagination": pagination}})


def _cursor(cid):
    # the documented example cursors decode to {"id":204} ("eyJpZCI6MjA0fQ")
    return base64.urlsafe_b64encode(json.dumps({"id": cid}, separators=(",", ":")).encode()).decode().rstrip("=")


def _uncursor(name, s):
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
        return int(json.loads(raw)["id"])
    except (ValueError, KeyError, TypeError):
        raise v3_invalid(name, "invalid cursor")


def _customer_date(req, name):
    v = _q(req, name)
    if v is None:
        return None
    try:
        return parse_iso8601(v)
    except ValueError:
        raise v3_invalid(name, "expected a date such as 2024-05-14T09:34:00 or 2024-05-14")


def v3_get_customers(platform, req):
    b = book(platform)
    items = [b.customers[k] for k in sorted(b.customers)]
    ids = _int_list(req, "id:in")
    if ids is not None:
        items = [c for c in items if c["id"] in ids]
    v = _q(req, "email:in")
    if v is not None:
        emails = {e.strip().casefold() for e in v.split(",") if e.strip()}
        items = [c for c in items if c["email"].casefold() in emails]
    v = _q(req, "company:in")
    if v is not None:
        cos = {e.strip().casefold() for e in v.split(",")}
        items = [c for c in items if c["company"].casefold() in cos]
    v = _q(req, "customer_group_id:in")
    if v is not None:
        gs = {e.strip() for e in v.split(",")}
        items = [c for c in items if str(c["customer_group_id"]) in gs]
    v = _q(req, "name:like")
    if v is not None:
        subs = [s.strip().casefold() for s in v.split(",") if s.strip()]
        items = [c for c in items if any(s in ("%s %s" % (c["first_name"], c["last_name"])).casefold()
                                         for s in subs)]
    for name, field, sign in (("date_created:min", "created", 1), ("date_created:max", "created", -1),
                              ("date_modified:min", "modified", 1), ("date_modified:max", "modified", -1)):
        t = _customer_date(req, name)
        if t is not None:
            items = [c for c in items if (int(c[field]) - int(t)) * sign >= 0]
    for name, field in (("date_created", "created"), ("date_modified", "modified")):
        t = _customer_date(req, name)
        if t is not None:
            items = [c for c in items if int(c[field]) == int(t)]
    inc = set()
    v = _q(req, "include")
    if v:
        inc = {x.strip() for x in v.split(",") if x.strip()}
        if inc - CUSTOMER_INCLUDES:
            raise v3_invalid("include", "one of %s" % ", ".join(sorted(CUSTOMER_INCLUDES)))
    v = _q(req, "sort")
    if v is not None:
        if v not in CUSTOMER_SORTS:
            raise v3_invalid("sort", "one of %s" % ", ".join(sorted(CUSTOMER_SORTS)))
        field, direction = v.split(":")
        keyf = {"date_created": lambda c: (c["created"], c["id"]), "date_modified": lambda c: (c["modified"], c["id"]),
                "last_name": lambda c: (c["last_name"].casefold(), c["id"])}[field]
        items = sorted(items, key=keyf, reverse=direction == "desc")
    after, before = _q(req, "after"), _q(req, "before")
    if after is not None or before is not None:
        # cursor paging: only meta.cursor_pagination (customers.v3.yml)
        _, limit = _page_limit(req, V3_PAGE_DEFAULT, V3_PAGE_MAX, v2=False)
        pos = [c["id"] for c in items]
        if after is not None:
            cid = _uncursor("after", after)
            start = pos.index(cid) + 1 if cid in pos else len(pos)
            chunk = items[start:start + limit]
        else:
            cid = _uncursor("before", before)
            end = pos.index(cid) if cid in pos else 0
            chunk = items[max(0, end - limit):end]
        cp = _cursor_meta(req, items, chunk, limit)
        return common.Response(200, {"data": [customer_view(c, inc) for c in chunk], "meta": {"cursor_pagination": cp}})
    chunk, pagination, limit = _v3_page(req, items)
    meta = {"pagination": pagination}
    if pagination["current_page"] == 1:
        meta["cursor_pagination"] = _cursor_meta(req, items, chunk, limit)
    return common.Response(200, {"data": [customer_view(c, inc) for c in chunk], "meta": meta})


def _cursor_meta(req, items, chunk, limit):
    others = [(k, v) for k, vs in req.query.items() if k not in ("page", "limit", "before", "after") for v in vs]
    prefix = "?" + (urllib.parse.urlencode(others, safe=",:") + "&" if others else "")
    cp = {"count": len(chunk), "per_page": limit}
    links = {}
    if chunk:
        cp["start_cursor"] = _cursor(chunk[0]["id"])
        cp["end_cursor"] = _cursor(chunk[-1]["id"])
        ids = [c["id"] for c in items]
        first, last = ids.index(chunk[0]["id"]), ids.index(chunk[-1]["id"])
        if first > 0:
            links["previous"] = "%slimit=%d&before=%s" % (prefix, limit, urllib.parse.quote(cp["start_cursor"]))
        if last < len(ids) - 1:
            links["next"] = "%slimit=%d&after=%s" % (prefix, limit, urllib.parse.quote(cp["end_cursor"]))
    cp["links"] = links
    return cp


V3_HANDLERS = {
    "getOrdersRefunds": v3_get_refunds, "getOrderRefund": v3_get_refund, "getOrderRefunds": v3_get_order_refunds,
    "getOrderTransactions": v3_get_transactions, "getCustomers": v3_get_customers,
}
