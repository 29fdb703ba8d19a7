"""Orders, refunds and customers of the WooCommerce emulator (the download
side): GET /orders, /orders/{id}, /orders/{id}/refunds[/{rid}], /refunds
(WooCommerce >= 9.0), /customers, /customers/{id}; seeding and changing them
through POST /__emulator/seed.

Shapes and rules follow shared/reference/platforms-woocommerce-magento.md
§A4-§A7 ("§A5" below), the docs' example bodies in
shared/reference/platforms/woocommerce/ (orders__retrieve__response.json,
order_refunds__list__response.json, customers__retrieve__response.json) and
WooCommerce's REST controllers where the reference quotes them ([src]:
WC_REST_Orders_V2_Controller::get_formatted_item_data / get_order_item_data,
WC_REST_Orders_Controller::get_collection_params, WC_REST_CRUD_Controller::
prepare_objects_query / get_collection_params / get_items,
WC_REST_Order_Refunds_V2_Controller, WC_REST_Refunds_Controller (9.0)).

Traps reproduced (each has a test in test_orders.py):
- order money fields are strings with `dp` decimals ("21.99"); line_items[].
  price is a JSON NUMBER (= total / quantity, 12 or 3.3333333333333335);
  taxes[].total / subtotal are the stored, unrounded values ("0.9",
  "0.4455"), not formatted with dp;
- refunds[] on the order: {"id", "reason", "total": "-10.00"} (negative);
  refund objects carry a positive "amount" and line items with negative
  quantity / subtotal / total / taxes (price = total / quantity, so it is
  positive; 0 for an amount-only line with quantity 0); restocking is not
  visible on the refund;
- line_items[].sku is the product's CURRENT SKU (get_product()->get_sku()),
  null when the product was deleted, "" when it has none;
- dates: date_* in the site timezone without offset, *_gmt in UTC;
  modified_after / after / before / modified_before are checked as RFC 3339
  dates (400 rest_invalid_param "Invalid date."), compared strictly
  (WP_Date_Query "after" is exclusive) against post_modified, or
  post_modified_gmt with dates_are_gmt=true; a value WITH an offset is
  converted to the SITE timezone first (WP_Date_Query::build_mysql_datetime),
  so "...Z" together with dates_are_gmt=true is shifted by the site offset;
- status is a list (status=completed,refunded or status[]=...), default any
  (everything but trash); a full refund added after the sale turns the order
  "refunded", so status=completed alone no longer returns it;
- adding a refund or changing an order moves date_modified;
- paging: X-WP-Total / X-WP-TotalPages / Link prev,next; per_page 1..100; a
  page past the end is [] with the totals; orderby date|modified adds ID;
- GET /orders/{id}/refunds of an unknown order is 200 [] (the query just
  filters on post_parent); GET /orders/{oid}/refunds/{rid} with a refund of
  another order answers HTTP 500 with "data": 404 (the controller builds that
  WP_Error with a bare status instead of array('status' => 404));
- GET /refunds exists only from WooCommerce 9.0 (config refundsEndpoint);
- customers: role defaults to "customer" (role=all also lists the shop's
  administrator, user 1), orderby default name, order default asc; no
  modified filter; guests (customer_id 0) exist only on orders.
"""

import copy
import datetime as _dt
import decimal
import hashlib
import re

import common  # noqa: E402  (tests/emulators is on the path)

from . import wpschema
from .auth import wp_error
from .store import WooError, php_string, sanitize_title

ROUTE_PREFIXES = ("/orders", "/refunds", "/customers")

D = decimal.Decimal
PRICE_DECIMALS = 2  # wc_get_price_decimals()
JSON_CT = "application/json; charset=UTF-8"

ORDER_STATUSES = ["pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed",
                  "checkout-draft"]
PAID_STATUSES = ("processing", "completed", "refunded")
ADDRESS_FIELDS = ("first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode",
                  "country")
GATEWAY_TITLES = {"bacs": "Direct bank transfer", "cheque": "Check payments", "cod": "Cash on delivery",
                  "paypal": "PayPal", "stripe": "Credit Card (Stripe)", "woocommerce_payments": "WooPayments"}
SHIPPING_TITLES = {"flat_rate": "Flat rate", "free_shipping": "Free shipping", "local_pickup": "Local pickup"}

# rest_parse_date's pattern (WordPress, rest-api.php)
RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?([Zz]|[+-]\d{2}(?::?\d{2})?)?$")

R_ORDERS = "/wc/v3/orders"
R_ORDER = "/wc/v3/orders/(?P<id>[\\d]+)"
R_ORDER_REFUNDS = "/wc/v3/orders/(?P<order_id>[\\d]+)/refunds"
R_ORDER_REFUND = "/wc/v3/orders/(?P<order_id>[\\d]+)/refunds/(?P<id>[\\d]+)"
R_REFUNDS = "/wc/v3/refunds"
R_CUSTOMERS = "/wc/v3/customers"
R_CUSTOMER = "/wc/v3/customers/(?P<id>[\\d]+)"

# (route, handler, op label, methods WooCommerce has that are not emulated)
ROUTES = [
    (R_ORDERS, "orders_list", "orders.list", ("POST",)),
    (R_ORDER_REFUNDS, "order_refunds_list", "refunds.list", ("POST",)),
    (R_ORDER_REFUND, "order_refunds_get", "refunds.get", ("DELETE",)),
    (R_ORDER, "orders_get", "orders.get", ("POST", "PUT", "PATCH", "DELETE")),
    (R_REFUNDS, "refunds_all", "refunds.all", ()),
    (R_CUSTOMERS, "customers_list", "customers.list", ("POST",)),
    (R_CUSTOMER, "customers_get", "customers.get", ("POST", "PUT", "PATCH", "DELETE")),
]
ROUTES = [(key, re.compile("^" + key + "/?$", re.I), h, op, other) for key, h, op, other in ROUTES]

# Current-source collection params the (older) documented route index lacks.
DATE_ARGS = ("after", "before", "modified_after", "modified_before")
CRUD_OVERLAY = {
    "modified_after": {"required": False, "type": "string"},
    "modified_before": {"required": False, "type": "string"},
    "dates_are_gmt": {"required": False, "type": "boolean", "default": False},
    "orderby": {"required": False, "default": "date", "type": "string",
                "enum": ["date", "id", "include", "title", "slug", "modified"]},
}
ORDER_OVERLAY = {
    # WC_REST_Orders_Controller::get_collection_params (v3): a list of statuses
    "status": {"required": False, "default": "any", "type": "array",
               "items": {"type": "string", "enum": ["any", "trash"] + ORDER_STATUSES}},
    "created_via": {"required": False, "type": "array", "items": {"type": "string"}},
    "order_item_display_meta": {"required": False, "type": "boolean", "default": False},
    "include_meta": {"required": False, "type": "array", "items": {"type": "string"}},
    "exclude_meta": {"required": False, "type": "array", "items": {"type": "string"}},
}


# ------------------------------------------------------------------ money

def dec(v):
    if v is None or v == "":
        return D(0)
    if isinstance(v, float):
        return D(repr(v))
    try:
        return D(str(v).strip())
    except decimal.InvalidOperation:
        raise ValueError("not a number: %r" % (v,))


def fmt(v, dp=PRICE_DECIMALS):
    """wc_format_decimal($v, $dp): rounded half away from zero, dp decimals."""
    d = dec(v).quantize(D(1).scaleb(-dp), rounding=decimal.ROUND_HALF_UP)
    if d == 0:
        d = abs(d)
    return "{:f}".format(d)


def raw(v):
    """A stored float as PHP prints it: no trailing zeros ("0.9", "2")."""
    d = dec(v)
    if d == 0:
        return "0"
    s = "{:f}".format(d.normalize())
    return s


def price_number(total, qty):
    """get_order_item_data: $item->get_total() / $item->get_quantity() (a PHP
    number: an int when both are integral and divide, else a float)."""
    if not qty:
        return 0
    t = dec(total)
    if t == t.to_integral_value() and int(t) % int(qty) == 0:
        return int(t) // int(qty)
    return float(t) / int(qty)


# ------------------------------------------------------------------ the book

class OrderBook:
    """Orders, refunds, customers and tax rates; ids of orders and refunds
    come from the posts sequence the catalog uses (shop_order and
    shop_order_refund are posts), item ids from their own table."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.orders = {}
        self.refunds = {}
        self.customers = {}
        self.rates = {}
        self.seq = {"item": 0, "meta": 1000, "user": 1, "rate": 0}
        self.config = {"refundsEndpoint": True}
        self.counters = {}

    def next(self, name):
        self.seq[name] += 1
        return self.seq[name]

    def dump(self):
        return {"orders": list(self.orders.values()), "refunds": list(self.refunds.values()),
                "customers": list(self.customers.values()), "rates": list(self.rates.values()),
                "seq": self.seq, "config": self.config, "counters": self.counters}

    def load(self, d):
        self.reset()
        self.orders = {o["id"]: o for o in d.get("orders", [])}
        self.refunds = {r["id"]: r for r in d.get("refunds", [])}
        self.customers = {c["id"]: c for c in d.get("customers", [])}
        self.rates = {r["id"]: r for r in d.get("rates", [])}
        self.seq.update(d.get("seq") or {})
        self.config.update(d.get("config") or {})
        self.counters.update(d.get("counters") or {})


def book(platform):
    b = getattr(platform, "order_book", None)
    if b is None:
        b = platform.order_book = OrderBook()
    return b


# ------------------------------------------------------------------ harness hooks (called by server.py)

def reset(platform):
    book(platform).reset()


def state(platform):
    b = book(platform)
    st = platform.store
    return {
        "orders": [{"id": o["id"], "number": o["number"], "key": o.get("key"), "status": o["status"],
                    "currency": o["currency"], "total": o["totals"]["total"], "customer_id": o["customer_id"],
                    "date_created_gmt": st.gmt_iso(o["created"]), "date_modified_gmt": st.gmt_iso(o["modified"]),
                    "line_items": [{"id": i["id"], "product_id": i["product_id"], "variation_id": i["variation_id"],
                                    "sku": _item_sku(st, i), "quantity": i["quantity"]} for i in o["lines"]],
                    "refunds": list(o["refund_ids"])}
                   for o in sorted(b.orders.values(), key=lambda x: x["id"])],
        "refunds": [{"id": r["id"], "parent_id": r["parent_id"], "amount": r["amount"], "restock": r["restock"],
                     "refunded_payment": r["refunded_payment"], "date_created_gmt": st.gmt_iso(r["created"]),
                     "line_items": [{"id": i["id"], "refunded_item_id": i.get("refunded_item_id"),
                                     "quantity": i["quantity"], "total": i["total"]} for i in r["lines"]]}
                    for r in sorted(b.refunds.values(), key=lambda x: x["id"])],
        "customers": [{"id": c["id"], "email": c["email"], "username": c["username"], "role": c["role"],
                       "date_modified_gmt": st.gmt_iso(c["modified"])}
                      for c in sorted(b.customers.values(), key=lambda x: x["id"])],
        "ordersConfig": dict(b.config),
        "ordersCounters": copy.deepcopy(b.counters),
    }


def persist_dump(platform):
    return book(platform).dump()


def persist_load(platform, data):
    book(platform).load(data or {})


CONFIG_KEYS = ("refundsEndpoint",)


def configure(platform, data):
    """Takes the keys it knows out of data; returns what it took."""
    b = book(platform)
    took = {}
    for k in CONFIG_KEYS:
        if k in data:
            b.config[k] = bool(data.pop(k))
            took[k] = b.config[k]
    return took


def op_label(route, method):
    for key, rx, handler, op, other in ROUTES:
        if rx.match(route) and (method == "GET" or method in other):
            return op if method == "GET" else op.split(".")[0] + "." + method.lower()
    return None


# ------------------------------------------------------------------ seeding

def _when(v, default):
    if v is None or v == "":
        return default
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return int(v)
    return int(common.parse_iso(str(v)))


def _address(src, with_email):
    src = src or {}
    out = {k: php_string(src.get(k, "")) for k in ADDRESS_FIELDS}
    if with_email:
        out["email"] = php_string(src.get("email", ""))
    out["phone"] = php_string(src.get("phone", ""))
    return out


def _meta(b, items):
    out = []
    for m in items or []:
        if not isinstance(m, dict) or "key" not in m:
            raise ValueError("meta_data items need a key")
        out.append({"id": b.next("meta"), "key": str(m["key"]), "value": m.get("value", "")})
    return out


def _rate(b, spec):
    """A tax rate by rate_id or code; created on first use."""
    if isinstance(spec, dict) and spec.get("rate_id"):
        rid = int(spec["rate_id"])
        r = b.rates.get(rid)
        if r is None:
            b.seq["rate"] = max(b.seq["rate"], rid)
            r = b.rates[rid] = {"id": rid, "rate_code": spec.get("code") or "TAX-%d" % rid,
                                "label": spec.get("label") or "Tax", "compound": bool(spec.get("compound")),
                                "rate_percent": float(spec.get("rate", 0) or 0)}
        return r
    code = (spec or {}).get("code") if isinstance(spec, dict) else None
    code = code or "US-TAX-1"
    for r in b.rates.values():
        if r["rate_code"] == code:
            return r
    rid = b.next("rate")
    r = b.rates[rid] = {"id": rid, "rate_code": code, "label": (spec or {}).get("label") if isinstance(spec, dict)
                        and spec.get("label") else "Tax", "compound": bool(isinstance(spec, dict)
                                                                            and spec.get("compound")),
                        "rate_percent": float(spec.get("rate", 0) or 0) if isinstance(spec, dict) else 0.0}
    return r


def _taxes(b, spec, base_total, base_subtotal):
    """Seed "tax": an amount (one default rate) or a list of {rate_id|code,
    label, rate, amount, subtotal}. -> [{"id", "total", "subtotal"}] with
    the stored (raw) values."""
    if spec is None or spec == "" or spec == []:
        return []
    items = spec if isinstance(spec, list) else [{"amount": spec}]
    out = []
    for t in items:
        if not isinstance(t, dict):
            t = {"amount": t}
        r = _rate(b, t)
        amount = dec(t.get("amount", t.get("total", 0)))
        if "subtotal" in t:
            sub = dec(t["subtotal"])
        elif base_total and base_total != base_subtotal:
            sub = (amount * base_subtotal / base_total).quantize(D("0.0001"), rounding=decimal.ROUND_HALF_UP)
        else:
            sub = amount
        out.append({"id": r["id"], "total": raw(amount), "subtotal": raw(sub)})
    return out


def _find_customer(b, ref):
    if ref is None or ref == "":
        return None
    if isinstance(ref, int):
        return b.customers.get(ref)
    s = str(ref)
    for c in b.customers.values():
        if c.get("key") == s or c["email"].lower() == s.lower() or c["username"] == s:
            return c
    return None


def _find_order(b, spec):
    if spec.get("id") is not None:
        return b.orders.get(int(spec["id"]))
    if spec.get("key") is not None:
        for o in b.orders.values():
            if o.get("key") == spec["key"]:
                return o
    return None


def _product_line(platform, b, spec, now):
    """A line item from the seed: linked to the catalog by sku / product_id /
    variation_id when the product exists there, else stand-alone."""
    st = platform.store
    qty = int(spec.get("qty", spec.get("quantity", 1)))
    obj = None
    if spec.get("variation_id") and int(spec["variation_id"]) in st.variations:
        obj = st.variations[int(spec["variation_id"])]
    elif spec.get("product_id") and int(spec["product_id"]) in st.products:
        obj = st.products[int(spec["product_id"])]
    elif spec.get("sku") and not spec.get("standalone"):
        obj = st.find_by_sku(str(spec["sku"]))
    meta = []
    parent_name = None
    if obj is not None:
        is_var = obj["id"] in st.variations and obj["id"] not in st.products
        parent = st.products.get(obj["parent_id"]) if is_var else None
        product_id = parent["id"] if is_var and parent else obj["id"]
        variation_id = obj["id"] if is_var else 0
        if is_var:
            view = st.variation_view(obj, "")
            name = view["name"]
            parent_name = parent["name"] if parent else None
            for key, value in obj["attributes"].items():
                label = key
                display = value
                if key.startswith("pa_"):
                    a = next((x for x in st.attributes.values() if "pa_" + x["slug"] == key), None)
                    if a:
                        label = a["name"]
                        t = st.find_term_by_slug(a, value)
                        display = t["name"] if t else value
                meta.append({"id": b.next("meta"), "key": key, "value": value, "display_key": label,
                             "display_value": display})
        else:
            name = obj["name"]
        unit = spec.get("price", st.price_of(obj) or 0)
        linked, sku = True, None
        seed_sku = obj["sku"]
        tax_class = obj.get("tax_class", "")
    else:
        if spec.get("product_id"):
            product_id = int(spec["product_id"])
        else:
            # a product of the shop that the emulated catalog does not hold
            product_id = st.next_post_id()
        variation_id = int(spec.get("variation_id") or 0)
        name = spec.get("name") or spec.get("sku") or "Product %d" % product_id
        parent_name = spec.get("parent_name") if variation_id else None
        unit = spec.get("price", 0)
        linked, sku = False, php_string(spec.get("sku", ""))
        seed_sku = sku
        tax_class = ""
    if spec.get("name"):
        name = str(spec["name"])
    subtotal = dec(unit) * qty
    if spec.get("subtotal") is not None:
        subtotal = dec(spec["subtotal"])
    total = subtotal - dec(spec.get("discount", 0))
    if spec.get("total") is not None:
        total = dec(spec["total"])
    for m in spec.get("meta_data") or []:
        meta.append({"id": b.next("meta"), "key": str(m["key"]), "value": m.get("value", ""),
                     "display_key": m.get("display_key", m["key"]), "display_value": m.get("display_value",
                                                                                         m.get("value", ""))})
    return {"id": b.next("item"), "name": name, "product_id": product_id, "variation_id": variation_id,
            "linked": linked, "sku": sku, "seed_sku": seed_sku, "deleted": bool(spec.get("deleted")), "quantity": qty,
            "tax_class": spec.get("tax_class", tax_class) or "", "subtotal": raw(subtotal), "total": raw(total),
            "taxes": _taxes(b, spec.get("tax"), total, subtotal), "meta_data": meta, "parent_name": parent_name}


def _shipping_line(b, spec):
    method = spec.get("method_id", "flat_rate")
    total = dec(spec.get("total", 0))
    return {"id": b.next("item"), "method_title": spec.get("method_title") or spec.get("title")
            or SHIPPING_TITLES.get(method, method), "method_id": method,
            "instance_id": str(spec.get("instance_id", "1")), "total": raw(total),
            "taxes": _taxes(b, spec.get("tax"), total, total),
            "meta_data": _meta(b, spec.get("meta_data"))}


def _fee_line(b, spec):
    total = dec(spec.get("total", 0))
    return {"id": b.next("item"), "name": spec.get("name", "Fee"), "tax_class": spec.get("tax_class", ""),
            "tax_status": spec.get("tax_status", "taxable" if spec.get("tax") else "none"), "amount": raw(total),
            "total": raw(total), "taxes": _taxes(b, spec.get("tax"), total, total),
            "meta_data": _meta(b, spec.get("meta_data"))}


def _coupon_line(b, spec):
    return {"id": b.next("item"), "code": str(spec.get("code", "")).lower(),
            "discount": raw(spec.get("discount", 0)), "discount_tax": raw(spec.get("discount_tax", 0)),
            "discount_type": spec.get("discount_type", "fixed_cart"),
            "nominal_amount": float(dec(spec.get("nominal_amount", spec.get("discount", 0)))),
            "free_shipping": bool(spec.get("free_shipping", False)), "meta_data": _meta(b, spec.get("meta_data"))}


def _tax_sum(items, key="total"):
    return sum((dec(t[key]) for i in items for t in i["taxes"]), D(0))


def _tax_lines(b, order_or_refund, sign=1):
    """Per rate: tax_total (items and fees) and shipping_tax_total, rounded
    (wc_round_tax_total); item ids kept from the previous computation."""
    per = {}
    for i in order_or_refund["lines"] + order_or_refund["fee_lines"]:
        for t in i["taxes"]:
            per.setdefault(t["id"], [D(0), D(0)])[0] += dec(t["total"])
    for i in order_or_refund["shipping_lines"]:
        for t in i["taxes"]:
            per.setdefault(t["id"], [D(0), D(0)])[1] += dec(t["total"])
    old = {t["rate_id"]: t["id"] for t in order_or_refund.get("tax_lines", [])}
    out = []
    for rid in sorted(per):
        r = b.rates[rid]
        out.append({"id": old.get(rid) or b.next("item"), "rate_code": r["rate_code"], "rate_id": rid,
                    "label": r["label"], "compound": r["compound"], "tax_total": fmt(per[rid][0]),
                    "shipping_tax_total": fmt(per[rid][1]), "rate_percent": r["rate_percent"]})
    return out


def recalc(b, o):
    """WC_Order::calculate_totals for what the seed gave."""
    o["tax_lines"] = _tax_lines(b, o)
    items_sub = sum((dec(i["subtotal"]) for i in o["lines"]), D(0))
    items_total = sum((dec(i["total"]) for i in o["lines"]), D(0))
    sub_tax = _tax_sum(o["lines"], "subtotal")
    tot_tax = _tax_sum(o["lines"], "total")
    fees = sum((dec(i["total"]) for i in o["fee_lines"]), D(0))
    ship = sum((dec(i["total"]) for i in o["shipping_lines"]), D(0))
    cart_tax = sum((dec(t["tax_total"]) for t in o["tax_lines"]), D(0))
    ship_tax = sum((dec(t["shipping_tax_total"]) for t in o["tax_lines"]), D(0))
    o["totals"] = {"discount_total": fmt(items_sub - items_total), "discount_tax": fmt(sub_tax - tot_tax),
                   "shipping_total": fmt(ship), "shipping_tax": fmt(ship_tax), "cart_tax": fmt(cart_tax),
                   "total": fmt(items_total + fees + ship + cart_tax + ship_tax),
                   "total_tax": fmt(cart_tax + ship_tax)}
    if o.get("total_override") is not None:
        o["totals"]["total"] = fmt(o["total_override"])


def _order_key(oid):
    return "wc_order_" + hashlib.sha1(("order-%d" % oid).encode()).hexdigest()[:13]


def create_order(platform, b, spec):
    st = platform.store
    now = int(st.now())
    cust = None
    if spec.get("customer_id"):
        cust = b.customers.get(int(spec["customer_id"]))
        if cust is None:
            raise ValueError("order customer_id %s is not a seeded customer" % spec["customer_id"])
    elif spec.get("customer") not in (None, ""):
        cust = _find_customer(b, spec["customer"])
        if cust is None:
            raise ValueError("order customer %r is not a seeded customer (key, e-mail or username)"
                             % spec["customer"])
    status = spec.get("status", "completed")
    if status.startswith("wc-"):
        status = status[3:]
    if status not in ORDER_STATUSES + ["trash"]:
        raise ValueError("order status %r is not one of %s" % (status, ", ".join(ORDER_STATUSES)))
    created = _when(spec.get("created_at"), now)
    oid = int(spec["id"]) if spec.get("id") else st.next_post_id()
    if oid in b.orders or oid in b.refunds or oid in st.products or oid in st.variations:
        raise ValueError("id %d is already used" % oid)
    if spec.get("id"):
        st.seq["post"] = max(st.seq["post"], oid)
    billing = dict((cust or {}).get("billing") or {})
    billing.update(spec.get("billing") or {})
    billing = _address(billing, True)
    if not billing["email"] and cust:
        billing["email"] = cust["email"]
    if spec.get("shipping"):
        shipping = _address(spec["shipping"], False)
    elif cust and any(cust["shipping"].values()):
        shipping = _address(cust["shipping"], False)
    else:
        # checkout without "ship to a different address": shipping = billing
        shipping = _address(billing, False)
    gateway = spec.get("payment_gateway", spec.get("payment_method", "bacs"))
    o = {"id": oid, "key": spec.get("key"), "number": str(spec.get("number") or oid), "order_key": _order_key(oid),
         "parent_id": int(spec.get("parent_id", 0)), "created_via": spec.get("created_via", "checkout"),
         "version": "9.4.0", "status": status, "currency": spec.get("currency", "USD"),
         "prices_include_tax": bool(spec.get("prices_include_tax", False)),
         "customer_id": cust["id"] if cust else 0, "customer_ip_address": spec.get("customer_ip_address", ""),
         "customer_user_agent": spec.get("customer_user_agent", ""), "customer_note": spec.get("customer_note", ""),
         "billing": billing, "shipping": shipping, "payment_method": gateway or "",
         "payment_method_title": spec.get("payment_method_title", GATEWAY_TITLES.get(gateway, gateway or "")),
         "transaction_id": php_string(spec.get("transaction_id", "")),
         "created": created, "modified": created, "paid": None, "completed": None,
         "meta_data": _meta(b, spec.get("meta_data")), "refund_ids": [], "tax_lines": [],
         "total_override": spec.get("total")}
    o["paid"] = _when(spec.get("paid_at"), created if status in PAID_STATUSES else None)
    o["completed"] = _when(spec.get("completed_at"), created if status in ("completed", "refunded") else None)
    o["lines"] = [_product_line(platform, b, line, now) for line in spec.get("lines") or spec.get("line_items") or []]
    o["shipping_lines"] = [_shipping_line(b, s) for s in spec.get("shipping_lines") or []]
    o["fee_lines"] = [_fee_line(b, f) for f in spec.get("fees") or spec.get("fee_lines") or []]
    o["coupon_lines"] = [_coupon_line(b, c) for c in spec.get("coupons") or spec.get("coupon_lines") or []]
    recalc(b, o)
    b.orders[oid] = o
    last = max([created] + [t for t in (o["paid"], o["completed"]) if t])
    for r in spec.get("refunds") or []:
        ref = create_refund(platform, b, o, r, default_time=last, from_seed=True)
        last = max(last, ref["created"])
    o["modified"] = _when(spec.get("updated_at"), last)
    return o


def _order_line(o, spec):
    if spec.get("item_id") is not None:
        line = next((i for i in o["lines"] if i["id"] == int(spec["item_id"])), None)
    elif spec.get("line") is not None:
        idx = int(spec["line"])
        line = o["lines"][idx] if 0 <= idx < len(o["lines"]) else None
    elif spec.get("sku") is not None:
        # the SKU the line was sold with
        line = next((i for i in o["lines"] if i.get("seed_sku") == spec["sku"]), None)
    else:
        line = o["lines"][0] if len(o["lines"]) == 1 else None
    if line is None:
        raise ValueError("refund line %r matches no line of order %d" % (spec, o["id"]))
    return line


def create_refund(platform, b, o, spec, default_time=None, from_seed=False):
    """wc_create_refund for a seed refund: items refunded by quantity and/or
    amount, taxes negative, amount positive; the order's date_modified moves
    (and, outside the seed, a full refund turns the order "refunded")."""
    st = platform.store
    now = int(st.now())
    created = _when(spec.get("created_at"), default_time if default_time is not None else now)
    rid = st.next_post_id()
    lines = []
    restock = bool(spec.get("restock", spec.get("api_restock", False)))
    for ls in spec.get("lines") or spec.get("line_items") or []:
        src = _order_line(o, ls)
        qty = int(ls.get("qty", ls.get("quantity", 0)))
        if ls.get("total") is not None:
            total = dec(ls["total"])
        elif src["quantity"]:
            total = (dec(src["total"]) / src["quantity"] * qty).quantize(D("0.01"), rounding=decimal.ROUND_HALF_UP)
        else:
            total = D(0)
        if ls.get("subtotal") is not None:
            subtotal = dec(ls["subtotal"])
        elif src["quantity"]:
            subtotal = (dec(src["subtotal"]) / src["quantity"] * qty).quantize(D("0.01"),
                                                                               rounding=decimal.ROUND_HALF_UP)
        else:
            subtotal = total
        taxes = []
        if ls.get("tax") is not None:
            for t in _taxes(b, ls["tax"], total, subtotal):
                taxes.append({"id": t["id"], "total": raw(-dec(t["total"])), "subtotal": raw(-dec(t["subtotal"]))})
        else:
            base = dec(src["total"])
            for t in src["taxes"]:
                part = (dec(t["total"]) * total / base).quantize(D("0.0001"), rounding=decimal.ROUND_HALF_UP) \
                    if base else D(0)
                taxes.append({"id": t["id"], "total": raw(-part), "subtotal": raw(-part)})
        lines.append({"id": b.next("item"), "name": src["name"], "product_id": src["product_id"],
                      "variation_id": src["variation_id"], "linked": src["linked"], "sku": src["sku"],
                      "deleted": src["deleted"], "quantity": -qty, "tax_class": src["tax_class"],
                      "subtotal": raw(-subtotal), "total": raw(-total), "taxes": taxes,
                      "meta_data": [{"id": b.next("meta"), "key": "_refunded_item_id", "value": str(src["id"]),
                                     "display_key": "_refunded_item_id", "display_value": str(src["id"])}],
                      "parent_name": src["parent_name"], "refunded_item_id": src["id"]})
        if restock and qty and src["linked"]:
            _restock(platform, b, src, qty)
    ship_lines = []
    if spec.get("shipping") not in (None, "", 0, "0"):
        src = o["shipping_lines"][0] if o["shipping_lines"] else {"method_title": "Shipping", "method_id": "",
                                                                  "instance_id": "0", "taxes": []}
        amount = dec(spec["shipping"])
        taxes = []
        if spec.get("shipping_tax") not in (None, ""):
            for t in _taxes(b, spec["shipping_tax"], amount, amount):
                taxes.append({"id": t["id"], "total": raw(-dec(t["total"])), "subtotal": ""})
        ship_lines.append({"id": b.next("item"), "method_title": src["method_title"], "method_id": src["method_id"],
                           "instance_id": src["instance_id"], "total": raw(-amount), "taxes": taxes,
                           "meta_data": []})
    r = {"id": rid, "parent_id": o["id"], "created": created, "reason": php_string(spec.get("reason", "")),
         "refunded_by": int(spec.get("refunded_by", 1)),
         "refunded_payment": bool(spec.get("refunded_payment", spec.get("api_refund", False))),
         "restock": restock, "meta_data": _meta(b, spec.get("meta_data")), "lines": lines,
         "shipping_lines": ship_lines, "fee_lines": [], "tax_lines": []}
    r["tax_lines"] = _tax_lines(b, r)
    if spec.get("amount") not in (None, ""):
        amount = dec(spec["amount"])
    else:
        amount = -(sum((dec(i["total"]) for i in lines + ship_lines), D(0)) + _tax_sum(lines + ship_lines))
    if amount <= 0:
        raise ValueError("refund amount must be greater than zero (order %d)" % o["id"])
    refunded = sum((dec(b.refunds[x]["amount"]) for x in o["refund_ids"]), D(0))
    if refunded + amount > dec(o["totals"]["total"]):
        # wc_create_refund: "Invalid refund amount."
        raise ValueError("refund of %s exceeds what is left of order %d (%s)"
                         % (fmt(amount), o["id"], fmt(dec(o["totals"]["total"]) - refunded)))
    r["amount"] = fmt(amount)
    b.refunds[rid] = r
    o["refund_ids"].insert(0, rid)  # WC_Order::get_refunds: newest first
    o["modified"] = max(o["modified"], created)
    if not from_seed and refunded + amount == dec(o["totals"]["total"]) and o["status"] != "refunded":
        # wc_order_fully_refunded: the order's status becomes "refunded"
        o["status"] = "refunded"
    return r


def _restock(platform, b, line, qty):
    st = platform.store
    obj = st.variations.get(line["variation_id"]) if line["variation_id"] else st.products.get(line["product_id"])
    if obj is None:
        return
    if obj.get("manage_stock"):
        obj["stock_quantity"] = int(obj.get("stock_quantity") or 0) + qty
        st._stock_status(obj)
    elif line["variation_id"]:
        parent = st.products.get(obj["parent_id"])
        if parent and parent.get("manage_stock"):
            parent["stock_quantity"] = int(parent.get("stock_quantity") or 0) + qty
            st._stock_status(parent)
    b.counters["restockedUnits"] = b.counters.get("restockedUnits", 0) + qty


def update_order(platform, b, o, upd):
    """Change an order after a download: status, addresses, payment fields,
    customer_note, meta_data, refunds (added), completed_at, updated_at.
    date_modified moves to updated_at, else to now."""
    st = platform.store
    now = int(st.now())
    known = {"status", "billing", "shipping", "customer_note", "transaction_id", "payment_method",
             "payment_gateway", "payment_method_title", "meta_data", "refunds", "completed_at", "paid_at",
             "updated_at", "number"}
    unknown = set(upd) - known
    if unknown:
        raise ValueError("unknown order update keys: %s" % ", ".join(sorted(unknown)))
    if "status" in upd:
        status = upd["status"][3:] if upd["status"].startswith("wc-") else upd["status"]
        if status not in ORDER_STATUSES + ["trash"]:
            raise ValueError("order status %r is not one of %s" % (status, ", ".join(ORDER_STATUSES)))
        o["status"] = status
        if status in PAID_STATUSES and not o["paid"]:
            o["paid"] = now
        if status == "completed" and not o["completed"]:
            o["completed"] = now
    for k in ("billing", "shipping"):
        if isinstance(upd.get(k), dict):
            for f, v in upd[k].items():
                if f in o[k]:
                    o[k][f] = php_string(v)
    for k in ("customer_note", "transaction_id", "payment_method_title", "number"):
        if k in upd:
            o[k] = php_string(upd[k])
    if "payment_method" in upd or "payment_gateway" in upd:
        o["payment_method"] = php_string(upd.get("payment_method", upd.get("payment_gateway")))
    for m in upd.get("meta_data") or []:
        old = next((x for x in o["meta_data"] if x["key"] == m.get("key")), None)
        if old:
            old["value"] = m.get("value", "")
        else:
            o["meta_data"] += _meta(b, [m])
    if "completed_at" in upd:
        o["completed"] = _when(upd["completed_at"], None)
    if "paid_at" in upd:
        o["paid"] = _when(upd["paid_at"], None)
    for r in upd.get("refunds") or []:
        create_refund(platform, b, o, r)
    o["modified"] = _when(upd.get("updated_at"), max(now, o["modified"]))
    return o


def create_customer(platform, b, spec):
    st = platform.store
    now = int(st.now())
    email = php_string(spec.get("email", "")).strip()
    if not email:
        raise ValueError("a customer needs an email")
    for c in b.customers.values():
        if c["email"].lower() == email.lower():
            # WC_Customer_Data_Store::create -> registration-error-email-exists
            raise ValueError("customer email %s is already registered" % email)
    cid = int(spec["id"]) if spec.get("id") else b.next("user")
    if cid in b.customers or cid == 1:
        raise ValueError("customer id %d is already used" % cid)
    b.seq["user"] = max(b.seq["user"], cid)
    created = _when(spec.get("created_at"), now)
    billing = _address(spec.get("billing"), True)
    if not billing["email"]:
        billing["email"] = email
    for k in ("first_name", "last_name"):
        if not billing[k]:
            billing[k] = php_string(spec.get(k, ""))
    c = {"id": cid, "key": spec.get("key"), "email": email, "first_name": php_string(spec.get("first_name", "")),
         "last_name": php_string(spec.get("last_name", "")), "role": spec.get("role", "customer"),
         "username": php_string(spec.get("username") or sanitize_title(email.split("@")[0]) or "user%d" % cid),
         "billing": billing, "shipping": _address(spec.get("shipping"), False), "created": created,
         "modified": _when(spec.get("updated_at"), created), "meta_data": _meta(b, spec.get("meta_data"))}
    b.customers[cid] = c
    return c


def update_customer(platform, b, c, upd):
    now = int(platform.store.now())
    for k in ("email", "first_name", "last_name", "role", "username"):
        if k in upd:
            c[k] = php_string(upd[k])
    for k in ("billing", "shipping"):
        if isinstance(upd.get(k), dict):
            for f, v in upd[k].items():
                if f in c[k]:
                    c[k][f] = php_string(v)
    c["modified"] = _when(upd.get("updated_at"), max(now, c["modified"]))
    return c


def seed(platform, data, out):
    """{"reset", "customers": [...], "orders": [...]} (see README); adds
    "customers" and "orders" to the seed answer `out`."""
    b = book(platform)
    if data.get("reset"):
        b.reset()
    if "customers" not in data and "orders" not in data:
        return out
    try:
        res_c = []
        for spec in data.get("customers") or []:
            if "update" in spec:
                c = b.customers.get(int(spec["id"])) if spec.get("id") else _find_customer(
                    b, spec.get("email") or spec.get("key"))
                if c is None:
                    raise ValueError("customer to update not found: %r" % {k: v for k, v in spec.items()
                                                                           if k != "update"})
                update_customer(platform, b, c, spec["update"] or {})
            else:
                c = create_customer(platform, b, spec)
            res_c.append({"id": c["id"], "key": c.get("key"), "email": c["email"]})
        res_o = []
        for spec in data.get("orders") or []:
            if "update" in spec:
                o = _find_order(b, spec)
                if o is None:
                    raise ValueError("order to update not found: %r" % {k: v for k, v in spec.items()
                                                                        if k != "update"})
                update_order(platform, b, o, spec["update"] or {})
            else:
                o = create_order(platform, b, spec)
            res_o.append({"id": o["id"], "key": o.get("key"), "number": o["number"], "status": o["status"],
                          "total": o["totals"]["total"], "line_items": [i["id"] for i in o["lines"]],
                          "refunds": list(o["refund_ids"]),
                          "date_modified_gmt": platform.store.gmt_iso(o["modified"])})
    except (KeyError, TypeError, decimal.InvalidOperation, WooError) as e:
        raise ValueError("seed: %s" % (e.message if isinstance(e, WooError) else repr(e)))
    out["customers"] = res_c
    out["orders"] = res_o
    return out


# ------------------------------------------------------------------ views

def _item_sku(st, i):
    """get_product() ? get_product()->get_sku() : null - the CURRENT SKU."""
    if i["deleted"]:
        return None
    if not i["linked"]:
        return i["sku"]
    if i["variation_id"]:
        v = st.variations.get(i["variation_id"])
        return v["sku"] if v else None
    p = st.products.get(i["product_id"])
    return p["sku"] if p else None


def _item_image(st, i):
    if not i["linked"] or i["deleted"]:
        return {"id": 0, "src": ""}
    obj = st.variations.get(i["variation_id"]) if i["variation_id"] else st.products.get(i["product_id"])
    if obj is None:
        return {"id": 0, "src": ""}
    img = obj.get("image") if i["variation_id"] else (obj.get("images") or [None])[0]
    if isinstance(img, dict) and img.get("id"):
        return {"id": img["id"], "src": img.get("src", "")}
    return {"id": 0, "src": ""}


def _taxes_view(taxes):
    return [{"id": t["id"], "total": t["total"], "subtotal": t["subtotal"]} for t in taxes]


def _meta_view(items):
    return [{"id": m["id"], "key": m["key"], "value": m["value"], "display_key": m.get("display_key", m["key"]),
             "display_value": m.get("display_value", m["value"])} for m in items]


def line_view(st, i, dp):
    tax_total = sum((dec(t["total"]) for t in i["taxes"]), D(0))
    tax_sub = sum((dec(t["subtotal"] or 0) for t in i["taxes"]), D(0))
    return {"id": i["id"], "name": i["name"], "product_id": i["product_id"], "variation_id": i["variation_id"],
            "quantity": i["quantity"], "tax_class": i["tax_class"], "subtotal": fmt(i["subtotal"], dp),
            "subtotal_tax": fmt(tax_sub, dp), "total": fmt(i["total"], dp), "total_tax": fmt(tax_total, dp),
            "taxes": _taxes_view(i["taxes"]), "meta_data": _meta_view(i["meta_data"]), "sku": _item_sku(st, i),
            "price": price_number(i["total"], i["quantity"]), "image": _item_image(st, i),
            "parent_name": i["parent_name"]}


def shipping_view(i, dp):
    return {"id": i["id"], "method_title": i["method_title"], "method_id": i["method_id"],
            "instance_id": i["instance_id"], "total": fmt(i["total"], dp),
            "total_tax": fmt(sum((dec(t["total"]) for t in i["taxes"]), D(0)), dp),
            "taxes": _taxes_view(i["taxes"]), "meta_data": _meta_view(i["meta_data"])}


def fee_view(i, dp):
    return {"id": i["id"], "name": i["name"], "tax_class": i["tax_class"], "tax_status": i["tax_status"],
            "amount": i["amount"], "total": fmt(i["total"], dp),
            "total_tax": fmt(sum((dec(t["total"]) for t in i["taxes"]), D(0)), dp),
            "taxes": _taxes_view(i["taxes"]), "meta_data": _meta_view(i["meta_data"])}


def coupon_view(i, dp):
    return {"id": i["id"], "code": i["code"], "discount": fmt(i["discount"], dp),
            "discount_tax": fmt(i["discount_tax"], dp), "discount_type": i["discount_type"],
            "nominal_amount": i["nominal_amount"], "free_shipping": i["free_shipping"],
            "meta_data": _meta_view(i["meta_data"])}


def tax_line_view(t, dp):
    return {"id": t["id"], "rate_code": t["rate_code"], "rate_id": t["rate_id"], "label": t["label"],
            "compound": t["compound"], "tax_total": fmt(t["tax_total"], dp),
            "shipping_tax_total": fmt(t["shipping_tax_total"], dp), "rate_percent": t["rate_percent"],
            "meta_data": []}


def order_view(platform, b, o, home, dp):
    st = platform.store
    t = o["totals"]
    out = {"id": o["id"], "parent_id": o["parent_id"], "status": o["status"], "currency": o["currency"],
           "version": o["version"], "prices_include_tax": o["prices_include_tax"],
           "date_created": st.local_iso(o["created"]), "date_modified": st.local_iso(o["modified"]),
           "discount_total": fmt(t["discount_total"], dp), "discount_tax": fmt(t["discount_tax"], dp),
           "shipping_total": fmt(t["shipping_total"], dp), "shipping_tax": fmt(t["shipping_tax"], dp),
           "cart_tax": fmt(t["cart_tax"], dp), "total": fmt(t["total"], dp), "total_tax": fmt(t["total_tax"], dp),
           "customer_id": o["customer_id"], "order_key": o["order_key"], "billing": dict(o["billing"]),
           "shipping": dict(o["shipping"]), "payment_method": o["payment_method"],
           "payment_method_title": o["payment_method_title"], "transaction_id": o["transaction_id"],
           "customer_ip_address": o["customer_ip_address"], "customer_user_agent": o["customer_user_agent"],
           "created_via": o["created_via"], "customer_note": o["customer_note"],
           "date_completed": st.local_iso(o["completed"]), "date_paid": st.local_iso(o["paid"]), "cart_hash": "",
           "number": o["number"], "meta_data": [{"id": m["id"], "key": m["key"], "value": m["value"]}
                                                for m in o["meta_data"]],
           "line_items": [line_view(st, i, dp) for i in o["lines"]],
           "tax_lines": [tax_line_view(x, dp) for x in o["tax_lines"]],
           "shipping_lines": [shipping_view(i, dp) for i in o["shipping_lines"]],
           "fee_lines": [fee_view(i, dp) for i in o["fee_lines"]],
           "coupon_lines": [coupon_view(i, dp) for i in o["coupon_lines"]],
           "refunds": [{"id": rid, "reason": b.refunds[rid]["reason"] or "",
                        "total": "-" + fmt(b.refunds[rid]["amount"], dp)} for rid in o["refund_ids"]],
           "payment_url": "%s/checkout/order-pay/%d/?pay_for_order=true&key=%s" % (home, o["id"], o["order_key"]),
           "is_editable": o["status"] in ("pending", "on-hold", "checkout-draft"),
           "needs_payment": o["status"] in ("pending", "failed") and dec(t["total"]) > 0,
           "needs_processing": bool(o["lines"]),
           "date_created_gmt": st.gmt_iso(o["created"]), "date_modified_gmt": st.gmt_iso(o["modified"]),
           "date_completed_gmt": st.gmt_iso(o["completed"]), "date_paid_gmt": st.gmt_iso(o["paid"]),
           "currency_symbol": {"USD": "$", "CAD": "$", "EUR": "\u20ac", "GBP": "\u00a3"}.get(o["currency"], "")}
    links = {"self": [{"href": "%s/wp-json/wc/v3/orders/%d" % (home, o["id"])}],
             "collection": [{"href": "%s/wp-json/wc/v3/orders" % home}]}
    if o["customer_id"]:
        links["customer"] = [{"href": "%s/wp-json/wc/v3/customers/%d" % (home, o["customer_id"])}]
    out["_links"] = links
    return out


def refund_view(platform, r, home, dp, context, with_parent=False):
    st = platform.store
    out = {"id": r["id"]}
    if with_parent:
        out["parent_id"] = r["parent_id"]
    out.update({"date_created": st.local_iso(r["created"]), "date_created_gmt": st.gmt_iso(r["created"]),
                "amount": fmt(r["amount"], dp), "reason": r["reason"], "refunded_by": r["refunded_by"],
                "refunded_payment": r["refunded_payment"],
                "meta_data": [{"id": m["id"], "key": m["key"], "value": m["value"]} for m in r["meta_data"]],
                "line_items": [line_view(st, i, dp) for i in r["lines"]],
                "shipping_lines": [shipping_view(i, dp) for i in r["shipping_lines"]],
                "tax_lines": [tax_line_view(x, dp) for x in r["tax_lines"]],
                "fee_lines": [fee_view(i, dp) for i in r["fee_lines"]]})
    if context == "edit":
        out.pop("refunded_payment")  # 'context' => array( 'view' )
    base = "%s/wp-json/wc/v3/orders/%d/refunds" % (home, r["parent_id"])
    out["_links"] = {"self": [{"href": "%s/%d" % (base, r["id"])}], "collection": [{"href": base}],
                     "up": [{"href": "%s/wp-json/wc/v3/orders/%d" % (home, r["parent_id"])}]}
    if with_parent:
        out["_links"]["refunded_by"] = [{"href": "%s/wp-json/wp/v2/users/%d" % (home, r["refunded_by"]),
                                         "embeddable": True}]
    return out


ADMIN = {"id": 1, "email": "admin@example.com", "first_name": "", "last_name": "", "role": "administrator",
         "username": "admin", "created": 1577836800, "modified": 1577836800, "meta_data": []}


def customer_view(platform, b, c, home):
    st = platform.store
    email = c["email"]
    billing = c.get("billing") or _address({}, True)
    shipping = c.get("shipping") or _address({}, False)
    paying = any(o["customer_id"] == c["id"] and o["paid"] for o in b.orders.values())
    return {"id": c["id"], "date_created": st.local_iso(c["created"]), "date_created_gmt": st.gmt_iso(c["created"]),
            "date_modified": st.local_iso(c["modified"]), "date_modified_gmt": st.gmt_iso(c["modified"]),
            "email": email, "first_name": c["first_name"], "last_name": c["last_name"], "role": c["role"],
            "username": c["username"], "billing": dict(billing), "shipping": dict(shipping),
            "is_paying_customer": paying,
            "avatar_url": "https://secure.gravatar.com/avatar/%s?s=96&d=mm&r=g"
                          % hashlib.md5(email.strip().lower().encode()).hexdigest(),
            "meta_data": [{"id": m["id"], "key": m["key"], "value": m["value"]} for m in c["meta_data"]],
            "_links": {"self": [{"href": "%s/wp-json/wc/v3/customers/%d" % (home, c["id"])}],
                       "collection": [{"href": "%s/wp-json/wc/v3/customers" % home}]}}


# ------------------------------------------------------------------ request handling

def _numeric_lists(params):
    """PHP: status[]=a&status[]=b arrives as {"0": "a", "1": "b"}, which WordPress
    treats as a list (wp_is_numeric_array)."""
    out = {}
    for k, v in params.items():
        if isinstance(v, dict) and v and all(str(x).isdigit() for x in v):
            v = [v[x] for x in sorted(v, key=int)]
        out[k] = v
    return out


def _args(platform, key):
    ra = platform.route_args
    if key == R_REFUNDS:
        args = dict(ra.args(R_ORDER_REFUNDS, "GET"))
        args.pop("order_id", None)
    else:
        args = dict(ra.args(key, "GET"))
    args = {k: dict(v) for k, v in args.items()}
    if key in (R_ORDERS, R_ORDER_REFUNDS, R_REFUNDS):
        for k, v in CRUD_OVERLAY.items():
            args[k] = dict(v)
        if key == R_ORDERS:
            for k, v in ORDER_OVERLAY.items():
                args[k] = dict(v)
        else:
            for k in ("status", "customer", "product"):
                args.pop(k, None)
    for k, over in wpschema.COLLECTION_OVERLAY.items():
        if k in args:
            args[k].update(over)
    return args


def _check(args, params):
    """wpschema.check plus the 'date-time' format of the date arguments
    (rest_validate_value_from_schema -> rest_parse_date: "Invalid date.")."""
    bad = {}
    for k in DATE_ARGS:
        if k in args and params.get(k) is not None:
            if not isinstance(params[k], str) or not RFC3339.match(params[k]):
                bad[k] = params[k]
    rest = {k: v for k, v in params.items() if k not in bad}
    checked, err = wpschema.check(args, rest)
    if not bad:
        return checked, err
    invalid = dict((err or {}).get("data", {}).get("params", {}))
    details = dict((err or {}).get("data", {}).get("details", {}))
    for k in bad:
        invalid[k] = "Invalid date."
        details[k] = {"code": "rest_invalid_date", "message": "Invalid date.", "data": {"param": k}}
    order = [k for k in args if k in invalid]
    return None, {"code": "rest_invalid_param", "message": "Invalid parameter(s): %s" % ", ".join(order),
                  "data": {"status": 400, "params": {k: invalid[k] for k in order},
                           "details": {k: details[k] for k in order}}}


def wp_date_bound(text, utc_offset_hours):
    """WP_Date_Query::build_mysql_datetime for a full date-time: no offset ->
    read as site-local wall time; with an offset -> converted to the site
    timezone. Returns that wall time as epoch-like seconds."""
    m = RFC3339.match(text)
    y, mo, d, h, mi, s, tz = m.groups()
    wall = _dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=_dt.timezone.utc).timestamp()
    if tz:
        if tz in ("Z", "z"):
            off = 0
        else:
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            off = sign * (int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) > 2 else 0))
        epoch = wall - off
        wall = epoch + utc_offset_hours * 3600
    return wall


def _date_filter(platform, items, params, created_key, modified_key):
    off = platform.store.utc_offset
    use_gmt = bool(params.get("dates_are_gmt"))
    for name, key, after in (("after", created_key, True), ("before", created_key, False),
                             ("modified_after", modified_key, True), ("modified_before", modified_key, False)):
        if params.get(name) is None or not modified_key and name.startswith("modified"):
            continue
        bound = wp_date_bound(params[name], off)

        def col(x, key=key):
            # post_date(_gmt) / post_modified(_gmt), whole seconds
            return int(x[key]) + (0 if use_gmt else int(off * 3600))

        items = [x for x in items if (col(x) > bound if after else col(x) < bound)]
    return items


def _fields_filter(obj, fields):
    """WordPress _fields (rest_filter_response_fields): top-level keys and
    dotted paths (line_items.sku), applied through lists."""
    if not fields:
        return obj
    wanted = [f.strip() for f in (fields if isinstance(fields, list) else str(fields).split(",")) if f.strip()]
    tree = {}
    for f in wanted:
        node = tree
        parts = f.split(".")
        for i, p in enumerate(parts):
            if node is True:
                break
            if i == len(parts) - 1:
                node[p] = True
            else:
                node = node.setdefault(p, {})

    def pick(value, spec):
        if spec is True:
            return value
        if isinstance(value, list):
            return [pick(v, spec) for v in value]
        if isinstance(value, dict):
            return {k: pick(value[k], sub) for k, sub in spec.items() if k in value}
        return value

    return pick(obj, tree)


def handle(platform, req, route, params, user=None, method=None, home=None):
    """route is the part after /wc/v3 (e.g. "/orders/12/refunds"). Called
    by server.py after authentication (user None = no credentials)."""
    method = method or platform._method(req)
    home = home or platform._home(req)
    full = "/wc/v3" + route
    for key, rx, handler, op, other in ROUTES:
        m = rx.match(full)
        if not m:
            continue
        if key == R_REFUNDS and not book(platform).config.get("refundsEndpoint", True):
            return None  # WooCommerce < 9.0: rest_no_route
        if method not in ("GET", "HEAD"):
            if method in other:
                resp = platform._error(wp_error(
                    "emulator_not_implemented", "The emulator serves the download side only: %s %s is a real "
                    "WooCommerce route that it does not implement." % (method, full), 501))
                resp.op_label = op.split(".")[0] + "." + method.lower()
                return resp
            continue
        with platform.lock:
            platform.store.count("requestsByOperation", op)
        args = _args(platform, key)
        merged = dict(_numeric_lists(params))
        merged.update(m.groupdict())
        checked, err = _check(args, merged)
        if err:
            with platform.lock:
                platform.store.count("rejected")
            resp = platform._error(err)
        elif not user:
            perm = "list" if handler.endswith(("list", "all")) else "view"
            msg = "Sorry, you cannot list resources." if perm == "list" else "Sorry, you cannot view this resource."
            with platform.lock:
                platform.store.count("authFailures")
            resp = platform._error(wp_error("woocommerce_rest_cannot_view", msg, 401))
        else:
            for k, a in args.items():
                if "default" in a and checked.get(k) is None:
                    checked[k] = copy.deepcopy(a["default"])
            try:
                with platform.lock:
                    resp = globals()["h_" + handler](platform, req, checked, home)
            except WooError as e:
                with platform.lock:
                    platform.store.count("rejected")
                resp = platform._error(e)
        resp.headers.setdefault("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link")
        resp.op_label = op
        return resp
    return None


def _dp(params):
    dp = params.get("dp")
    return abs(int(dp)) if dp is not None else PRICE_DECIMALS


def _render(params, render):
    fields = params.get("_fields")

    def r(x):
        obj = render(x)
        if fields:
            obj = _fields_filter(obj, fields)
        return obj
    return r


def h_orders_list(platform, req, params, home):
    b = book(platform)
    items = list(b.orders.values())
    statuses = params.get("status") or ["any"]
    if "any" in statuses:
        items = [o for o in items if o["status"] not in ("trash", "checkout-draft")]
    else:
        items = [o for o in items if o["status"] in statuses]
    if params.get("customer") is not None:
        items = [o for o in items if o["customer_id"] == int(params["customer"])]
    if params.get("product"):
        pid = int(params["product"])
        items = [o for o in items if any(i["product_id"] == pid for i in o["lines"])]
    if params.get("include"):
        inc = {int(x) for x in params["include"]}
        items = [o for o in items if o["id"] in inc]
    if params.get("exclude"):
        exc = {int(x) for x in params["exclude"]}
        items = [o for o in items if o["id"] not in exc]
    if params.get("parent"):
        par = {int(x) for x in params["parent"]}
        items = [o for o in items if o["parent_id"] in par]
    if params.get("parent_exclude"):
        par = {int(x) for x in params["parent_exclude"]}
        items = [o for o in items if o["parent_id"] not in par]
    if params.get("created_via"):
        items = [o for o in items if o["created_via"] in params["created_via"]]
    if params.get("search"):
        s = str(params["search"]).casefold()
        items = [o for o in items if s in " ".join([str(o["id"]), o["number"]] + list(o["billing"].values())
                                                    + list(o["shipping"].values())
                                                    + [i["name"] for i in o["lines"]]).casefold()]
    items = _date_filter(platform, items, params, "created", "modified")
    items = platform._sort(items, params, {"date": lambda o: o["created"], "modified": lambda o: o["modified"],
                                           "id": lambda o: o["id"], "title": lambda o: o["created"],
                                           "slug": lambda o: o["id"]})
    dp = _dp(params)
    return platform._paged(req, params, items, home, R_ORDERS,
                           _render(params, lambda o: order_view(platform, b, o, home, dp)))


def _order(b, oid):
    o = b.orders.get(int(oid))
    if o is None:
        # WC_REST_CRUD_Controller::get_item: "woocommerce_rest_{post_type}_invalid_id"
        raise WooError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
    return o


def h_orders_get(platform, req, params, home):
    b = book(platform)
    o = _order(b, params["id"])
    return platform._json(_render(params, lambda x: order_view(platform, b, x, home, _dp(params)))(o))


def _refund_list(platform, req, params, home, refunds, route, with_parent):
    refunds = _date_filter(platform, refunds, params, "created", "created")
    if params.get("include"):
        inc = {int(x) for x in params["include"]}
        refunds = [r for r in refunds if r["id"] in inc]
    if params.get("exclude"):
        exc = {int(x) for x in params["exclude"]}
        refunds = [r for r in refunds if r["id"] not in exc]
    if with_parent and params.get("parent"):
        par = {int(x) for x in params["parent"]}
        refunds = [r for r in refunds if r["parent_id"] in par]
    if with_parent and params.get("parent_exclude"):
        par = {int(x) for x in params["parent_exclude"]}
        refunds = [r for r in refunds if r["parent_id"] not in par]
    if params.get("search"):
        s = str(params["search"]).casefold()
        refunds = [r for r in refunds if s in r["reason"].casefold()]
    refunds = platform._sort(refunds, params, {"date": lambda r: r["created"], "modified": lambda r: r["created"],
                                               "id": lambda r: r["id"], "title": lambda r: r["created"],
                                               "slug": lambda r: r["id"]})
    dp = _dp(params)
    ctx = params.get("context", "view")
    return platform._paged(req, params, refunds, home, route,
                           _render(params, lambda r: refund_view(platform, r, home, dp, ctx, with_parent)))


def h_order_refunds_list(platform, req, params, home):
    b = book(platform)
    oid = int(params["order_id"])
    # post_parent__in = [order_id]: an unknown order is simply an empty list
    refunds = [r for r in b.refunds.values() if r["parent_id"] == oid]
    return _refund_list(platform, req, params, home, refunds, "/wc/v3/orders/%d/refunds" % oid, False)


def h_order_refunds_get(platform, req, params, home):
    b = book(platform)
    oid, rid = int(params["order_id"]), int(params["id"])
    r = b.refunds.get(rid)
    obj_exists = r is not None or rid in b.orders
    if not obj_exists:
        raise WooError("woocommerce_rest_shop_order_refund_invalid_id", "Invalid ID.", 404)
    if oid not in b.orders:
        # new WP_Error( ..., 404 ): the status is not in an array, so WordPress answers 500
        return platform._json({"code": "woocommerce_rest_invalid_order_id", "message": "Invalid order ID.",
                               "data": 404}, 500)
    if r is None or r["parent_id"] != oid:
        return platform._json({"code": "woocommerce_rest_invalid_order_refund_id",
                               "message": "Invalid order refund ID.", "data": 404}, 500)
    return platform._json(_render(params, lambda x: refund_view(platform, x, home, _dp(params),
                                                                params.get("context", "view")))(r))


def h_refunds_all(platform, req, params, home):
    b = book(platform)
    return _refund_list(platform, req, params, home, list(b.refunds.values()), R_REFUNDS, True)


def h_customers_list(platform, req, params, home):
    b = book(platform)
    items = list(b.customers.values())
    role = params.get("role", "customer")
    if role == "all":
        items = [ADMIN] + items
    else:
        items = ([ADMIN] if role == "administrator" else []) + [c for c in items if c["role"] == role]
    if params.get("email"):
        e = str(params["email"]).lower()
        items = [c for c in items if c["email"].lower() == e]
    if params.get("search"):
        s = str(params["search"]).strip("*").casefold()
        items = [c for c in items if any(s in str(c.get(k, "")).casefold()
                                         for k in ("email", "username", "first_name", "last_name"))
                 or s == str(c["id"])]
    if params.get("include"):
        inc = {int(x) for x in params["include"]}
        items = [c for c in items if c["id"] in inc]
    if params.get("exclude"):
        exc = {int(x) for x in params["exclude"]}
        items = [c for c in items if c["id"] not in exc]
    orderby = params.get("orderby", "name")
    desc = params.get("order", "asc") == "desc"
    if orderby == "include" and params.get("include"):
        pos = {int(x): i for i, x in enumerate(params["include"])}
        items = sorted(items, key=lambda c: pos.get(c["id"], 1 << 30))
    else:
        keyf = {"id": lambda c: (c["id"],), "registered_date": lambda c: (c["created"], c["id"]),
                # display_name: WordPress sets it to the username at registration
                "name": lambda c: (c["username"].casefold(), c["id"])}.get(orderby, lambda c: (c["id"],))
        items = sorted(items, key=keyf, reverse=desc)
    return platform._paged(req, params, items, home, R_CUSTOMERS,
                           _render(params, lambda c: customer_view(platform, b, c, home)))


def h_customers_get(platform, req, params, home):
    b = book(platform)
    cid = int(params["id"])
    c = ADMIN if cid == 1 else b.customers.get(cid)
    if c is None:
        raise WooError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
    return platform._json(_render(params, lambda x: customer_view(platform, b, x, home))(c))
