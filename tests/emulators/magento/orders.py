"""Orders, invoices, shipments, credit memos and customers: the download side of the Magento emulator.

Facts: shared/reference/platforms-woocommerce-magento.md §B3 (searchCriteria), §B9 (orders), §B10
(shipments), §B11 (credit memos), §B12 (customers), §B13 (errors); shapes and field names from the
definitions of admin-schema-2.4.8.json (sales-data-order-interface, -order-item-, -order-address-,
-order-payment-, -shipping-assignment-, -invoice-, -shipment-, -creditmemo-, customer-data-customer-
interface); example bodies invoices__get__response.json, customers__create__response.json,
orders__list_with_fields_filter__response.json.

Traps reproduced (each is something a client gets wrong if it reads Magento naively):
* a configurable line appears twice in items[]: the PARENT row (product_type "configurable",
  product_id = the configurable, sku = the chosen child's SKU) carries price, row_total,
  tax_amount and discount_amount; the CHILD row (product_type "simple", parent_item_id = the
  parent's item_id, same sku, product_id = the simple) has price 0 and a nested full copy of its
  parent in parent_item (issue #21231). Invoice and credit memo items repeat the pair (the child
  row with price 0, as in invoices__get__response.json); shipments carry the parent row only.
* order-level discount_amount, discount_invoiced, discount_refunded and a credit memo's
  discount_amount are negative; item-level discount_amount is positive (a row total).
* dates are UTC "YYYY-MM-DD HH:MM:SS"; filter orders by updated_at and state (not status, which
  a merchant may rename); increment_id is a string ("000000003"); entity_id is what other routes
  take.
* street is an array of lines in every address; the shipping address lives in
  extension_attributes.shipping_assignments[0].shipping.address (the order has no
  shipping_address field), its method there and its label in shipping_description.
* a null value is left out of the JSON (DataObjectProcessor) unless the interface requires it:
  payment always has account_status, cc_last4 (null), status histories always carry comment
  (null for a plain status change).
* a credit memo moves its order's updated_at, adds "We refunded $X offline." to the order's
  status history, and a full refund turns state complete into closed (Order\\Handler\\State), so
  a state=complete filter no longer sees that order.
* a credit memo refunds the shipping not yet refunded unless its creation said otherwise
  (Creditmemo\\Total\\Shipping); whether items went back to stock is NOT in the memo (it is a
  creation argument, §B11): the emulator applies it to the catalog's "default" source and keeps
  it under _emulator in the state only.
* searchCriteria is required ('"%fieldName" is required. Enter and try again.'); pageSize and
  currentPage are ints (type error otherwise); an unknown searchCriteria key is a LogicException
  (500 masked in production mode); a filter or sort on a column the table does not have is an
  SQL error (500 masked); a customer filter on an unknown attribute is 400 "Invalid attribute
  name: %1". Past the last page the last page is answered again (--page-past-end), --input-limit
  caps pageSize at 300 and defaults it to 20.
* fields= partial responses (`fields=items[entity_id,increment_id],total_count`): what is not
  named is left out, total_count included.
"""

import datetime as _dt
import re
import uuid

import common
from .store import MagentoError, jnum, num

NOT_FOUND_ENTITY = "The entity that was requested doesn't exist. Verify the entity and try again."
STORE_NAME = "Main Website\nMain Website Store\nDefault Store View"
INTERNAL = "Internal Error. Details are available in Magento log file. Report ID: webapi-%s"

# (method, route template, handler name, ACL resource): Magento/Sales/etc/webapi.xml and
# Magento/Customer/etc/webapi.xml. More specific templates first (orders/items before orders/{id}).
ROUTES = [
    ("GET", "/V1/orders", "search_orders", "Magento_Sales::actions_view"),
    ("GET", "/V1/orders/items", "search_order_items", "Magento_Sales::actions_view"),
    ("GET", "/V1/orders/items/{id}", "get_order_item", "Magento_Sales::actions_view"),
    ("GET", "/V1/orders/{id}", "get_order", "Magento_Sales::actions_view"),
    ("GET", "/V1/orders/{id}/comments", "order_comments", "Magento_Sales::actions_view"),
    ("GET", "/V1/invoices", "search_invoices", "Magento_Sales::sales_invoice"),
    ("GET", "/V1/invoices/{id}", "get_invoice", "Magento_Sales::sales_invoice"),
    ("GET", "/V1/shipments", "search_shipments", "Magento_Sales::shipment"),
    ("GET", "/V1/shipment/{id}", "get_shipment", "Magento_Sales::shipment"),
    ("GET", "/V1/creditmemos", "search_creditmemos", "Magento_Sales::sales_creditmemo"),
    ("GET", "/V1/creditmemo/{id}", "get_creditmemo", "Magento_Sales::sales_creditmemo"),
    ("GET", "/V1/creditmemo/{id}/comments", "creditmemo_comments", "Magento_Sales::sales_creditmemo"),
    ("GET", "/V1/customers/search", "search_customers", "Magento_Customer::customer"),
    ("GET", "/V1/customers/{customerId}", "get_customer", "Magento_Customer::customer"),
]

# state -> the default status of that state (sales_order_status_state, is_default = 1)
DEFAULT_STATUS = {"new": "pending", "pending_payment": "pending_payment", "processing": "processing",
                  "complete": "complete", "closed": "closed", "canceled": "canceled", "holded": "holded",
                  "payment_review": "payment_review"}
PAYMENT_TITLES = {"checkmo": "Check / Money order", "banktransfer": "Bank Transfer Payment",
                  "cashondelivery": "Cash On Delivery", "free": "No Payment Information Required",
                  "purchaseorder": "Purchase Order", "braintree": "Credit Card",
                  "braintree_paypal": "PayPal", "paypal_express": "PayPal Express Checkout",
                  "authorizenet_acceptjs": "Credit Card (Authorize.Net)", "stripe_payments": "Pay by Card"}
CURRENCY_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "\u20ac", "GBP": "\u00a3", "JPY": "\u00a5"}
# directory_country_region ids of the US (New York = 43 as in customers__create__response.json)
US_REGIONS = ["AL Alabama", "AK Alaska", "AS American Samoa", "AZ Arizona", "AR Arkansas", "AE Armed Forces Africa",
              "AA Armed Forces Americas", "AE Armed Forces Canada", "AE Armed Forces Europe",
              "AE Armed Forces Middle East", "AP Armed Forces Pacific", "CA California", "CO Colorado",
              "CT Connecticut", "DE Delaware", "DC District of Columbia", "FM Federated States Of Micronesia",
              "FL Florida", "GA Georgia", "GU Guam", "HI Hawaii", "ID Idaho", "IL Illinois", "IN Indiana", "IA Iowa",
              "KS Kansas", "KY Kentucky", "LA Louisiana", "ME Maine", "MH Marshall Islands", "MD Maryland",
              "MA Massachusetts", "MI Michigan", "MN Minnesota", "MS Mississippi", "MO Missouri", "MT Montana",
              "NE Nebraska", "NV Nevada", "NH New Hampshire", "NJ New Jersey", "NM New Mexico", "NY New York",
              "NC North Carolina", "ND North Dakota", "MP Northern Mariana Islands", "OH Ohio", "OK Oklahoma",
              "OR Oregon", "PW Palau", "PA Pennsylvania", "PR Puerto Rico", "RI Rhode Island", "SC South Carolina",
              "SD South Dakota", "TN Tennessee", "TX Texas", "UT Utah", "VT Vermont", "VI Virgin Islands",
              "VA Virginia", "WA Washington", "WV West Virginia", "WI Wisconsin", "WY Wyoming"]
US_REGION_IDS = {}
for _i, _r in enumerate(US_REGIONS, 1):
    _code, _name = _r.split(" ", 1)
    US_REGION_IDS.setdefault(_code.lower(), (_i, _code, _name))
    US_REGION_IDS[_name.lower()] = (_i, _code, _name)


# ---------------------------------------------------------------------- small helpers


def money(x):
    """A decimal(20,4) column as Magento's JSON prints it: 25, 19.99."""
    return jnum(round(float(x or 0) + 0.0, 4))


def r2(x):
    return round(float(x) + 1e-9, 2) if x >= 0 else -round(-float(x) + 1e-9, 2)


def clean(d, required=()):
    """Drop null values, as DataObjectProcessor does unless the getter is required."""
    return {k: v for k, v in d.items() if v is not None or k in required}


def mdate(value, default=None):
    """A seed date (Magento "YYYY-MM-DD HH:MM:SS" UTC, ISO-8601, or epoch) -> Magento text."""
    if value is None or value == "":
        return default
    if isinstance(value, (int, float)):
        t = float(value)
    else:
        s = str(value).strip()
        if re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", s):
            return s
        t = common.parse_iso(s)
    return _dt.datetime.fromtimestamp(int(t), _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def price_text(amount, currency):
    sym = CURRENCY_SYMBOLS.get(currency)
    return ("%s%.2f" % (sym, amount)) if sym else ("%s %.2f" % (currency, amount))


def scalar_fields(schema, definition):
    props = schema.doc["definitions"][definition]["properties"]
    return {k for k, v in props.items() if v.get("type") not in ("array", None)}


def with_names(spec, first, last):
    """An address without names takes the customer's."""
    spec = {k: v for k, v in (spec or {}).items() if v not in (None, "")}
    if pick(spec, "firstname", "first_name") is None:
        spec["firstname"] = first or ""
    if pick(spec, "lastname", "last_name") is None:
        spec["lastname"] = last or ""
    return spec


def pick(d, *names, default=None):
    for n in names:
        if isinstance(d, dict) and d.get(n) is not None:
            return d[n]
    return default


# ---------------------------------------------------------------------- fields= partial responses


def parse_fields(text):
    """'items[entity_id,increment_id],total_count' -> {"items": {...}, "total_count": {}}."""
    tree, stack, name = {}, [], ""
    cur = tree
    for ch in text + ",":
        if ch == "[":
            node = cur.setdefault(name.strip(), {})
            stack.append(cur)
            cur, name = node, ""
        elif ch in ",]":
            if name.strip():
                cur.setdefault(name.strip(), {})
            name = ""
            if ch == "]" and stack:
                cur = stack.pop()
        else:
            name += ch
    return tree


def apply_fields(value, tree):
    """Magento Webapi\\Controller\\Rest\\ResponseFieldsFilter: keep the named keys, recursively."""
    if not tree:
        return value
    if isinstance(value, list):
        return [apply_fields(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: apply_fields(v, tree[k]) for k, v in value.items() if k in tree}


# ---------------------------------------------------------------------- addresses


def order_address(spec, kind, entity_id, order_id, customer_id=None, email=None):
    """A seed address -> sales-data-order-address-interface."""
    spec = spec or {}
    street = pick(spec, "street", "address1", default=[])
    street = list(street) if isinstance(street, list) else [str(street)] if street else []
    extra = pick(spec, "street2", "address2")
    if extra:
        street.append(str(extra))
    country = pick(spec, "country_id", "country", default="US")
    region, region_code, region_id = region_of(spec, country)
    return clean({
        "address_type": kind, "city": pick(spec, "city", default=""), "company": pick(spec, "company"),
        "country_id": country, "customer_address_id": spec.get("customer_address_id"), "customer_id": customer_id,
        "email": pick(spec, "email", default=email), "entity_id": entity_id,
        "firstname": pick(spec, "firstname", "first_name", default=""),
        "lastname": pick(spec, "lastname", "last_name", default=""), "parent_id": order_id,
        "postcode": str(pick(spec, "postcode", "postal_code", "zip", default="")), "region": region,
        "region_code": region_code, "region_id": region_id, "street": street,
        "telephone": str(pick(spec, "telephone", "phone", default=""))},
        required=("address_type", "city", "country_id", "firstname", "lastname", "postcode", "telephone"))


def region_of(spec, country):
    name = pick(spec, "region", "state", "province")
    code = pick(spec, "region_code", "state_code")
    rid = spec.get("region_id")
    if isinstance(name, dict):   # customer-style {"region_code","region","region_id"}
        code, rid, name = name.get("region_code"), name.get("region_id"), name.get("region")
    if country == "US":
        hit = US_REGION_IDS.get(str(code or name or "").lower())
        if hit:
            rid = rid or hit[0]
            code = code or hit[1]
            name = hit[2] if name is None or len(str(name)) == 2 else name
    return name, code or name, (int(rid) if rid is not None else None)


# ---------------------------------------------------------------------- the mixin


class SalesMixin:
    """Handlers and seeding for the sales entities; mixed into MagentoPlatform (server.py)."""

    # ------------------------------------------------------------------ ids
    def _next(self, kind, explicit=None):
        seq = self.store.sales_seq
        if explicit is not None:
            n = int(explicit)
            seq[kind] = max(seq.get(kind, 0), n)
            return n
        seq[kind] = seq.get(kind, 0) + 1
        return seq[kind]

    def _now(self):
        return self.store.now_text()

    # ------------------------------------------------------------------ seed
    def seed_sales(self, data):
        """{"customers": [...], "orders": [...]}: see the README (Magento emulator, orders)."""
        out = {}
        if data.get("customers"):
            out["customers"] = [self._seed_customer(c) for c in data["customers"]]
        if data.get("orders"):
            out["orders"] = [self._seed_order(o) for o in data["orders"]]
        return out

    # customers -------------------------------------------------------
    def _seed_customer(self, spec):
        st = self.store
        if "update" in spec:
            c = self._customer_record(spec)
            upd = spec["update"] or {}
            for k in ("email", "firstname", "lastname", "middlename", "prefix", "suffix", "dob", "gender", "taxvat",
                      "group_id"):
                alias = {"firstname": "first_name", "lastname": "last_name"}.get(k)
                v = pick(upd, k, alias) if alias else upd.get(k)
                if v is not None:
                    c[k] = v
            if upd.get("addresses") is not None:
                c["addresses"] = [self._customer_address(with_names(a, c["firstname"], c["lastname"]), c["id"], i == 0)
                                  for i, a in enumerate(upd["addresses"])]
            c["updated_at"] = mdate(upd.get("updated_at"), self._now())
            return {"id": c["id"], "email": c["email"], "updated_at": c["updated_at"]}
        email = spec.get("email")
        if not email:
            raise ValueError("seed customer: email is required")
        for c in st.customers.values():
            if c["email"].lower() == str(email).lower():
                raise ValueError("seed customer %s: a customer with the same email address already exists in an "
                                 "associated website" % email)
        cid = self._next("customer", spec.get("id"))
        created = mdate(spec.get("created_at"), self._now())
        c = {"id": cid, "group_id": int(spec.get("group_id", 1)), "created_at": created,
             "updated_at": mdate(spec.get("updated_at"), created), "created_in": "Default Store View",
             "email": email, "firstname": pick(spec, "firstname", "first_name", default=""),
             "lastname": pick(spec, "lastname", "last_name", default=""), "middlename": spec.get("middlename"),
             "prefix": spec.get("prefix"), "suffix": spec.get("suffix"), "dob": spec.get("dob"),
             "gender": spec.get("gender"), "taxvat": spec.get("taxvat"), "store_id": 1, "website_id": 1,
             "is_subscribed": bool(spec.get("is_subscribed", False))}
        addrs = spec.get("addresses")
        if addrs is None and spec.get("address"):
            addrs = [spec["address"]]
        c["addresses"] = [self._customer_address(with_names(a, c["firstname"], c["lastname"]),
                                                 cid, i == 0) for i, a in enumerate(addrs or [])]
        st.customers[str(cid)] = c
        return {"id": cid, "email": email}

    def _customer_address(self, spec, cid, first):
        aid = self._next("customer_address", spec.get("id"))
        country = pick(spec, "country_id", "country", default="US")
        region, code, rid = region_of(spec, country)
        street = pick(spec, "street", "address1", default=[])
        street = list(street) if isinstance(street, list) else [str(street)]
        if pick(spec, "street2", "address2"):
            street.append(str(pick(spec, "street2", "address2")))
        return {"id": aid, "customer_id": cid,
                "region": {"region_code": code, "region": region, "region_id": rid or 0},
                "region_id": rid or 0, "country_id": country, "street": street,
                "company": spec.get("company"), "telephone": str(pick(spec, "telephone", "phone", default="")),
                "postcode": str(pick(spec, "postcode", "postal_code", "zip", default="")),
                "city": spec.get("city", ""), "firstname": pick(spec, "firstname", "first_name", default=""),
                "lastname": pick(spec, "lastname", "last_name", default=""),
                "default_shipping": bool(spec.get("default_shipping", first)),
                "default_billing": bool(spec.get("default_billing", first))}

    def _customer_record(self, spec):
        st = self.store
        if spec.get("id") is not None and str(spec["id"]) in st.customers:
            return st.customers[str(spec["id"])]
        for c in st.customers.values():
            if spec.get("email") and c["email"].lower() == str(spec["email"]).lower():
                return c
        raise ValueError("seed customer update: no customer %s" % (spec.get("id") or spec.get("email")))

    def _find_customer(self, ref):
        st = self.store
        if ref is None:
            return None
        if isinstance(ref, dict):
            ref = ref.get("id") or ref.get("email")
        if str(ref) in st.customers:
            return st.customers[str(ref)]
        for c in st.customers.values():
            if c["email"].lower() == str(ref).lower():
                return c
        return None

    # orders ----------------------------------------------------------
    def _order_record(self, spec):
        st = self.store
        if spec.get("id") is not None and str(spec["id"]) in st.orders:
            return st.orders[str(spec["id"])]
        inc = spec.get("increment_id")
        for o in st.orders.values():
            if inc is not None and o["increment_id"] == str(inc):
                return o
        raise ValueError("seed order update: no order %s" % (spec.get("id") or inc))

    def _seed_order(self, spec):
        if "update" in spec:
            o = self._order_record(spec)
            self._update_order(o, spec.get("update") or {})
            return {"entity_id": o["entity_id"], "increment_id": o["increment_id"], "state": o["state"],
                    "updated_at": o["updated_at"]}
        st = self.store
        if not spec.get("lines") and not spec.get("items"):
            raise ValueError("seed order: lines are required")
        oid = self._next("order", spec.get("id"))
        if str(oid) in st.orders:
            raise ValueError("seed order: entity_id %s exists" % oid)
        created = mdate(spec.get("created_at"), self._now())
        currency = spec.get("currency", "USD")
        rate = float(spec.get("base_to_order_rate", 1))
        cust = self._find_customer(pick(spec, "customer_id", "customer"))
        if pick(spec, "customer_id", "customer") is not None and cust is None and not isinstance(spec.get("customer"),
                                                                                                   dict):
            raise ValueError("seed order: no customer %s" % pick(spec, "customer_id", "customer"))
        guest = spec.get("customer") if isinstance(spec.get("customer"), dict) and cust is None else {}
        billing_spec = pick(spec, "billing_address", "billing", default={}) or {}
        email = (cust or {}).get("email") or pick(spec, "customer_email", "email") or guest.get("email") \
            or billing_spec.get("email") or "guest@example.com"
        o = {"entity_id": oid, "increment_id": str(spec.get("increment_id") or "%09d" % oid),
             "state": "new", "status": "pending", "created_at": created, "updated_at": created,
             "currency": currency, "base_currency": spec.get("base_currency", currency), "rate": rate,
             "customer_id": cust["id"] if cust else None, "customer_email": email,
             "customer_firstname": (cust or {}).get("firstname") or pick(guest, "firstname", "first_name")
             or pick(billing_spec, "firstname", "first_name"),
             "customer_lastname": (cust or {}).get("lastname") or pick(guest, "lastname", "last_name")
             or pick(billing_spec, "lastname", "last_name"),
             "customer_group_id": (cust or {}).get("group_id", 0) if cust else 0,
             "quote_id": self._next("quote"), "remote_ip": spec.get("remote_ip", "127.0.0.1"),
             "items": [], "histories": [], "invoice_ids": [], "shipment_ids": [], "creditmemo_ids": [],
             "coupon_code": pick(spec.get("discount") or {}, "coupon_code", "code") or spec.get("coupon_code"),
             "discount_description": pick(spec.get("discount") or {}, "description")
             or spec.get("discount_description"),
             "customer_note": spec.get("customer_note"), "is_virtual": 0}
        cust_addr = None
        if cust and cust["addresses"]:
            cust_addr = next((a for a in cust["addresses"] if a["default_billing"]), cust["addresses"][0])
        if not billing_spec and cust_addr:
            billing_spec = dict(cust_addr, region=cust_addr["region"], customer_address_id=cust_addr["id"])
        billing_spec = with_names(billing_spec, o["customer_firstname"], o["customer_lastname"])
        if pick(spec, "shipping_address"):
            spec = dict(spec, shipping_address=with_names(spec["shipping_address"], o["customer_firstname"],
                                                          o["customer_lastname"]))
        o["billing_address"] = order_address(billing_spec, "billing", self._next("order_address"), oid,
                                             o["customer_id"], email)
        ship_spec = pick(spec, "shipping_address") or None   # {} = the billing address
        shipping = spec.get("shipping") or {}
        if isinstance(shipping, (int, float, str)):
            shipping = {"amount": shipping}
        virtual = bool(spec.get("is_virtual"))
        if ship_spec is None and not virtual:
            ship_spec = billing_spec
        o["shipping_address"] = None if virtual else order_address(ship_spec, "shipping", self._next("order_address"),
                                                                   oid, o["customer_id"], email)
        o["is_virtual"] = 1 if virtual else 0
        o["shipping"] = {"amount": float(shipping.get("amount", 0) or 0), "tax": float(shipping.get("tax", 0) or 0),
                         "discount": float(shipping.get("discount", 0) or 0),
                         "method": None if virtual else shipping.get("method", "flatrate_flatrate"),
                         "description": None if virtual else shipping.get("description", "Flat Rate - Fixed")}
        pay = spec.get("payment") or {}
        if isinstance(pay, str):
            pay = {"method": pay}
        method = pay.get("method") or pay.get("gateway") or "checkmo"
        o["payment"] = {"entity_id": self._next("payment"), "method": method,
                        "title": pay.get("title") or PAYMENT_TITLES.get(method, method),
                        "last_trans_id": pay.get("last_trans_id") or pay.get("transaction_id"),
                        "cc_last4": pay.get("cc_last4"), "cc_type": pay.get("cc_type"),
                        "cc_exp_month": pay.get("cc_exp_month"), "cc_exp_year": pay.get("cc_exp_year"),
                        "online": bool(pay.get("online", method not in ("checkmo", "banktransfer", "cashondelivery",
                                                                          "free", "purchaseorder")))}
        self._build_items(o, spec.get("lines") or spec.get("items"), created)
        self._apply_order_discount(o, spec.get("discount"))
        for it in o["items"]:
            # Magento's default tax/calculation/apply_after_discount = 1: tax on the discounted row
            if it.pop("tax_later", False):
                it["tax"] = r2((r2(it["price"] * it["qty"]) - it["discount"]) * it["tax_percent"] / 100.0)
        o["taxes"] = spec.get("taxes")
        o["tax_title"] = spec.get("tax_title", "Tax")
        st.orders[str(oid)] = o
        self._history(o, created, None, "pending")
        state = spec.get("state", "complete")
        if state not in DEFAULT_STATUS:
            raise ValueError("seed order: unknown state %s" % state)
        explicit_updated = mdate(spec.get("updated_at"))
        event_time = explicit_updated or created
        if state in ("processing", "complete", "closed") and spec.get("invoiced", True):
            self._invoice(o, mdate(spec.get("invoiced_at"), created))
            o["state"], o["status"] = "processing", "processing"
        if state == "canceled":
            for it in o["items"]:
                it["qty_canceled"] = it["qty"]
        shipments = spec.get("shipments")
        if shipments is None and state in ("complete", "closed") and not virtual:
            shipments = [{}]
        for sh in shipments or []:
            self._ship(o, sh, mdate(sh.get("created_at"), mdate(spec.get("shipped_at"), event_time)))
        refunds = spec.get("refunds") or []
        if state == "closed" and not refunds:
            refunds = [{}]
        o["state"], o["status"] = state, DEFAULT_STATUS[state]
        if state == "closed":
            o["state"], o["status"] = "complete", "complete"
        for rf in refunds:
            self._refund(o, rf, mdate(rf.get("created_at"), event_time))
        if spec.get("status"):
            o["status"] = spec["status"]
        if o["status"] != "pending":
            self._history(o, event_time, None, o["status"])
        for text in spec.get("comments") or []:
            self._history(o, event_time, text, o["status"])
        o["updated_at"] = max([o["updated_at"], explicit_updated or created])
        return {"entity_id": oid, "increment_id": o["increment_id"], "state": o["state"],
                "items": [{"item_id": i["item_id"], "sku": i["sku"], "product_type": i["product_type"],
                           "parent_item_id": i.get("parent_item_id")} for i in o["items"]],
                "invoice_ids": list(o["invoice_ids"]), "shipment_ids": list(o["shipment_ids"]),
                "creditmemo_ids": list(o["creditmemo_ids"])}

    def _build_items(self, o, lines, created):
        st = self.store
        for line in lines:
            sku = str(line.get("sku") or "")
            qty = float(line.get("qty", line.get("quantity", 1)))
            prod = st.products.get(sku)
            parent = None
            psku = line.get("parent_sku", "auto")
            if psku == "auto":
                if prod is not None:
                    parent = next((p for p in st.products.values() if p["type_id"] == "configurable"
                                   and prod["id"] in p["configurable_links"]), None)
            elif psku:
                parent = st.products.get(str(psku)) or {"id": None, "sku": str(psku), "type_id": "configurable",
                                                          "attrs": {"name": line.get("parent_name", psku)},
                                                          "configurable_options": [], "standalone": True}
            vals = st.values(prod, "all") if prod else {}
            price = line.get("price")
            if price is None:
                price = vals.get("price", 0)
            price = float(price)
            tax = line.get("tax", line.get("tax_amount"))
            pct = line.get("tax_percent", line.get("tax_rate"))
            discount = float(line.get("discount", line.get("discount_amount", 0)) or 0)
            row = r2(price * qty)
            tax_later = tax is None and pct is not None   # computed on the discounted row (_finish_tax)
            tax = float(tax or 0)
            if pct is None:
                pct = round(tax / (row - discount) * 100, 4) if tax and row - discount else 0
            name = line.get("name") or vals.get("name") or sku
            base = {"qty": qty, "sku": sku, "created_at": created, "qty_canceled": 0.0,
                    "weight": line.get("weight", vals.get("weight")), "cost": line.get("cost"),
                    "is_virtual": 1 if line.get("is_virtual") else 0, "tax_title": line.get("tax_title")}
            item_id = self._next("order_item", line.get("item_id"))
            top = dict(base, item_id=item_id, price=price, original_price=float(line.get("original_price", price)),
                       discount=discount, tax=tax, tax_percent=float(pct), tax_later=tax_later,
                       discount_percent=float(line.get("discount_percent", 0) or 0),
                       applied_rule_ids=line.get("applied_rule_ids", "1" if discount else None))
            if parent is not None:
                pvals = st.values(parent, "all") if not parent.get("standalone") else parent["attrs"]
                options = []
                for opt in parent.get("configurable_options") or []:
                    attr = st.attribute_by_id(opt["attribute_id"])
                    v = vals.get(attr["attribute_code"]) if attr else None
                    if v not in (None, ""):
                        options.append({"option_id": str(opt["attribute_id"]), "option_value": int(v)})
                top.update(product_id=line.get("parent_product_id", parent.get("id")), product_type="configurable",
                           name=line.get("parent_name") or pvals.get("name") or parent["sku"],
                           options=options)
                o["items"].append(top)
                child = dict(base, item_id=self._next("order_item"), parent_item_id=item_id, price=0.0,
                             original_price=price if prod else 0.0, discount=0.0, tax=0.0, tax_percent=0.0,
                             product_id=line.get("product_id", prod["id"] if prod else None), product_type="simple",
                             name=name)
                o["items"].append(child)
            else:
                top.update(product_id=line.get("product_id", prod["id"] if prod else None),
                           product_type=line.get("product_type") or (prod["type_id"] if prod else "simple"), name=name)
                o["items"].append(top)

    def _apply_order_discount(self, o, discount):
        """A cart rule on the subtotal: Magento spreads it over the rows (item discount_amount)."""
        if discount in (None, 0, {}):
            return
        if not isinstance(discount, dict):
            discount = {"amount": discount}
        amount = float(discount.get("amount", 0) or 0)
        rows = [i for i in o["items"] if not i.get("parent_item_id")]
        base = sum(r2(i["price"] * i["qty"]) - i["discount"] for i in rows)
        left = r2(amount)
        for n, i in enumerate(rows):
            share = left if n == len(rows) - 1 else r2(amount * (r2(i["price"] * i["qty"]) - i["discount"]) / base)
            left = r2(left - share)
            i["discount"] = r2(i["discount"] + share)
            i["applied_rule_ids"] = str(discount.get("rule_id", i.get("applied_rule_ids") or "1"))
            if discount.get("percent") is not None:
                i["discount_percent"] = float(discount["percent"])

    def _history(self, o, when, comment, status, notified=None, entity_name="order"):
        o["histories"].append({"entity_id": self._next("history"), "comment": comment, "created_at": when,
                               "status": status, "is_customer_notified": notified, "entity_name": entity_name})

    def _invoice(self, o, when):
        iid = self._next("invoice")
        self.store.invoices[str(iid)] = {"entity_id": iid, "increment_id": "%09d" % iid, "order_id": o["entity_id"],
                                         "created_at": when, "updated_at": when,
                                         "item_ids": {str(i["item_id"]): self._next("invoice_item")
                                                      for i in o["items"]}}
        o["invoice_ids"].append(iid)
        o["updated_at"] = max(o["updated_at"], when)

    def _find_item(self, o, ref):
        rows = [i for i in o["items"] if not i.get("parent_item_id")]
        if ref.get("item_id") is not None:
            hit = [i for i in rows if i["item_id"] == int(ref["item_id"])]
        else:
            hit = [i for i in rows if i["sku"] == str(ref.get("sku"))]
        if not hit:
            raise ValueError("order %s has no line %s" % (o["entity_id"], ref.get("item_id") or ref.get("sku")))
        return hit[0]

    def _ship(self, o, spec, when):
        if o["is_virtual"]:
            raise ValueError("order %s is virtual: nothing to ship" % o["entity_id"])
        shipped = self._shipped(o)
        lines = []
        if spec.get("lines"):
            for ref in spec["lines"]:
                it = self._find_item(o, ref)
                lines.append((it, float(ref.get("qty", it["qty"] - shipped.get(it["item_id"], 0)))))
        else:
            lines = [(i, i["qty"] - shipped.get(i["item_id"], 0)) for i in o["items"] if not i.get("parent_item_id")]
            lines = [(i, q) for i, q in lines if q > 0]
        if not lines:
            raise ValueError("order %s: nothing left to ship" % o["entity_id"])
        sid = self._next("shipment")
        tracks = []
        for t in spec.get("tracks") or []:
            tracks.append({"entity_id": self._next("track"), "track_number": str(pick(t, "track_number", "number")),
                           "title": t.get("title", t.get("carrier_code", "Custom Value")),
                           "carrier_code": t.get("carrier_code", "custom"), "created_at": when})
        self.store.shipments[str(sid)] = {
            "entity_id": sid, "increment_id": "%09d" % sid, "order_id": o["entity_id"], "created_at": when,
            "updated_at": when, "tracks": tracks,
            "items": [{"entity_id": self._next("shipment_item"), "order_item_id": i["item_id"], "qty": q}
                      for i, q in lines]}
        o["shipment_ids"].append(sid)
        o["updated_at"] = max(o["updated_at"], when)
        if o["invoice_ids"] and all(self._shipped(o).get(i["item_id"], 0) >= i["qty"]
                                    for i in o["items"] if not i.get("parent_item_id")):
            if o["state"] == "processing":
                o["state"], o["status"] = "complete", "complete"

    def _shipped(self, o):
        out = {}
        for sid in o["shipment_ids"]:
            for si in self.store.shipments[str(sid)]["items"]:
                out[si["order_item_id"]] = out.get(si["order_item_id"], 0) + si["qty"]
        return out

    def _refunded(self, o):
        """order_item_id -> refunded qty; shipping refunded."""
        out, ship = {}, 0.0
        for mid in o["creditmemo_ids"]:
            m = self.store.creditmemos[str(mid)]
            ship += m["shipping_amount"]
            for mi in m["items"]:
                out[mi["order_item_id"]] = out.get(mi["order_item_id"], 0) + mi["qty"]
        return out, ship

    def _refund(self, o, spec, when):
        """Order\\Creditmemo created by POST /V1/order/{id}/refund (or /V1/invoice/{id}/refund, online)."""
        if not o["invoice_ids"]:
            raise ValueError("order %s: a credit memo needs an invoice" % o["entity_id"])
        done, ship_done = self._refunded(o)
        rows = [i for i in o["items"] if not i.get("parent_item_id")]
        if spec.get("lines") is not None:
            picked = []
            for ref in spec["lines"]:
                it = self._find_item(o, ref)
                q = float(ref.get("qty", it["qty"] - done.get(it["item_id"], 0)))
                if q > it["qty"] - done.get(it["item_id"], 0) + 1e-9:
                    raise ValueError("order %s line %s: refund qty %s is more than is left" % (
                        o["entity_id"], it["sku"], q))
                picked.append((it, q, bool(ref.get("restock", ref.get("back_to_stock", False)))))
        else:
            picked = [(i, i["qty"] - done.get(i["item_id"], 0), bool(spec.get("restock", False))) for i in rows]
            picked = [p for p in picked if p[1] > 0]
        ship_left = r2(o["shipping"]["amount"] - ship_done)
        shipping = float(spec["shipping"]) if spec.get("shipping") is not None else ship_left
        if shipping > ship_left + 1e-9:
            raise ValueError("order %s: the shipping refund %s is more than %s left" % (o["entity_id"], shipping,
                                                                                       ship_left))
        if not picked and not shipping and not spec.get("adjustment_positive"):
            # Order::canCreditmemo() is false: nothing invoiced is left to refund
            raise ValueError("order %s: We can't create creditmemo for the order." % o["entity_id"])
        mid = self._next("creditmemo", spec.get("id"))
        items, restocked = [], []
        for it, q, restock in picked:
            items.append({"entity_id": self._next("creditmemo_item"), "order_item_id": it["item_id"], "qty": q})
            for ch in o["items"]:
                if ch.get("parent_item_id") == it["item_id"]:
                    items.append({"entity_id": self._next("creditmemo_item"), "order_item_id": ch["item_id"],
                                  "qty": q})
            if restock:
                restocked.append(it["item_id"])
                self._restock(it["sku"], q)
        stax = spec.get("shipping_tax")
        if stax is None:
            stax = r2(o["shipping"]["tax"] * shipping / o["shipping"]["amount"]) if o["shipping"]["amount"] else 0.0
        m = {"entity_id": mid, "increment_id": str(spec.get("increment_id") or "%09d" % mid),
             "order_id": o["entity_id"], "invoice_id": o["invoice_ids"][-1], "created_at": when, "updated_at": when,
             "items": items, "shipping_amount": shipping, "shipping_tax_amount": float(stax),
             "adjustment_positive": float(spec.get("adjustment_positive", 0) or 0),
             "adjustment_negative": float(spec.get("adjustment_negative", 0) or 0),
             "online": bool(spec.get("online", o["payment"]["online"])), "transaction_id": spec.get("transaction_id"),
             "comment": spec.get("comment"), "_emulator": {"return_to_stock_items": restocked}}
        self.store.creditmemos[str(mid)] = m
        o["creditmemo_ids"].append(mid)
        o["updated_at"] = max(o["updated_at"], when)
        total = self.render_creditmemo(m)["grand_total"]
        self._history(o, when, "We refunded %s %s." % (price_text(total, o["currency"]),
                                                       "online" if m["online"] else "offline"), None, notified=0,
                      entity_name="creditmemo")
        paid = self._order_totals(o)
        if o["state"] in ("processing", "complete") and paid["total_refunded"] >= paid["total_paid"] - 0.0001:
            o["state"], o["status"] = "closed", "closed"
        o["histories"][-1]["status"] = o["status"]
        return m

    def _restock(self, sku, qty):
        st = self.store
        if sku not in st.products:
            return
        si = st.source_items.get(sku + "\x00default")
        cur = si["quantity"] if si else (st.products[sku]["stock_item"] or {}).get("qty", 0)
        st.set_source_item(sku, "default", float(cur or 0) + qty, 1)

    def _update_order(self, o, upd):
        when = mdate(upd.get("updated_at"), self._now())
        before = (o["state"], o["status"])
        for key in ("customer_email", "customer_firstname", "customer_lastname", "customer_note"):
            if upd.get(key) is not None:
                o[key] = upd[key]
        if upd.get("billing_address") is not None:
            o["billing_address"] = order_address(upd["billing_address"], "billing", o["billing_address"]["entity_id"],
                                                 o["entity_id"], o["customer_id"], o["customer_email"])
        if upd.get("shipping_address") is not None and o["shipping_address"]:
            o["shipping_address"] = order_address(upd["shipping_address"], "shipping",
                                                  o["shipping_address"]["entity_id"], o["entity_id"],
                                                  o["customer_id"], o["customer_email"])
        if upd.get("invoice") and not o["invoice_ids"]:
            self._invoice(o, when)
            if o["state"] in ("new", "pending_payment", "payment_review"):
                o["state"], o["status"] = "processing", "processing"
        for sh in upd.get("shipments") or ([{}] if upd.get("ship") else []):
            self._ship(o, sh, mdate(sh.get("created_at"), when))
        state = upd.get("state")
        if state:
            if state not in DEFAULT_STATUS:
                raise ValueError("order update: unknown state %s" % state)
            if state in ("processing", "complete", "closed") and not o["invoice_ids"]:
                self._invoice(o, when)
            if state in ("complete", "closed") and not o["is_virtual"] and any(
                    self._shipped(o).get(i["item_id"], 0) < i["qty"] for i in o["items"]
                    if not i.get("parent_item_id")):
                self._ship(o, {}, when)
            if state == "canceled":
                for it in o["items"]:
                    it["qty_canceled"] = it["qty"] - self._shipped(o).get(it["item_id"], 0)
            o["state"], o["status"] = ("complete" if state == "closed" else state), DEFAULT_STATUS[state]
            if state == "closed" and not upd.get("refunds"):
                upd = dict(upd, refunds=[{}])
        for rf in upd.get("refunds") or []:
            self._refund(o, rf, mdate(rf.get("created_at"), when))
        if upd.get("status"):
            o["status"] = upd["status"]
        if state or upd.get("status") or (o["state"], o["status"]) != before:
            self._history(o, when, None, o["status"])
        if upd.get("comment"):
            self._history(o, when, upd["comment"], o["status"])
        o["updated_at"] = max(o["updated_at"], when) if not upd.get("updated_at") else when

    # ------------------------------------------------------------------ rendering
    def _item_money(self, o, it):
        """Invoiced, shipped, refunded figures of one order row."""
        invoiced = it["qty"] - it.get("qty_canceled", 0) if o["invoice_ids"] else 0.0
        shipped = self._shipped(o)
        refunded, _ = self._refunded(o)
        ref_id = it.get("parent_item_id") or it["item_id"]
        qr = refunded.get(it["item_id"], 0)
        share = (qr / it["qty"]) if it["qty"] else 0
        return {"qty_invoiced": invoiced, "qty_shipped": shipped.get(ref_id, 0), "qty_refunded": qr,
                "amount_refunded": r2(it["price"] * qr), "tax_refunded": r2(it["tax"] * share),
                "discount_refunded": r2(it["discount"] * share)}

    def render_item(self, o, it, with_parent=True):
        rate = o["rate"]
        row = r2(it["price"] * it["qty"])
        f = self._item_money(o, it)
        inv = bool(o["invoice_ids"])
        unit_tax = it["tax"] / it["qty"] if it["qty"] else 0
        out = {
            "amount_refunded": money(f["amount_refunded"]), "applied_rule_ids": it.get("applied_rule_ids"),
            "base_amount_refunded": money(f["amount_refunded"] / rate), "base_cost": it.get("cost"),
            "base_discount_amount": money(it["discount"] / rate),
            "base_discount_invoiced": money(it["discount"] / rate if inv else 0),
            "base_discount_refunded": money(f["discount_refunded"] / rate) if f["qty_refunded"] else None,
            "base_discount_tax_compensation_amount": 0, "base_original_price": money(it["original_price"] / rate),
            "base_price": money(it["price"] / rate), "base_price_incl_tax": money(r2((it["price"] + unit_tax) / rate)),
            "base_row_invoiced": money(row / rate if inv else 0), "base_row_total": money(row / rate),
            "base_row_total_incl_tax": money((row + it["tax"]) / rate), "base_tax_amount": money(it["tax"] / rate),
            "base_tax_invoiced": money(it["tax"] / rate if inv else 0),
            "base_tax_refunded": money(f["tax_refunded"] / rate) if f["qty_refunded"] else None,
            "created_at": it["created_at"], "discount_amount": money(it["discount"]),
            "discount_invoiced": money(it["discount"] if inv else 0),
            "discount_percent": money(it.get("discount_percent", 0)),
            "discount_refunded": money(f["discount_refunded"]) if f["qty_refunded"] else None,
            "free_shipping": 0, "discount_tax_compensation_amount": 0,
            "discount_tax_compensation_invoiced": 0 if inv else None,
            "is_qty_decimal": 0 if float(it["qty"]).is_integer() else 1, "is_virtual": it.get("is_virtual", 0),
            "item_id": it["item_id"], "name": it["name"], "no_discount": 0, "order_id": o["entity_id"],
            "original_price": money(it["original_price"]), "parent_item_id": it.get("parent_item_id"),
            "price": money(it["price"]), "price_incl_tax": money(r2(it["price"] + unit_tax)),
            "product_id": it.get("product_id"), "product_type": it["product_type"],
            "qty_canceled": money(it.get("qty_canceled", 0)), "qty_invoiced": money(f["qty_invoiced"]),
            "qty_ordered": money(it["qty"]), "qty_refunded": money(f["qty_refunded"]), "qty_returned": 0,
            "qty_shipped": money(f["qty_shipped"]), "quote_item_id": it["item_id"] + 1000,
            "row_invoiced": money(row if inv else 0), "row_total": money(row), "row_total_incl_tax": money(row + it["tax"]),
            "row_weight": money(float(it["weight"]) * it["qty"]) if it.get("weight") is not None else 0,
            "sku": it["sku"], "store_id": 1, "tax_amount": money(it["tax"]),
            "tax_invoiced": money(it["tax"] if inv else 0), "tax_percent": money(it["tax_percent"]),
            "tax_refunded": money(f["tax_refunded"]) if f["qty_refunded"] else None,
            "updated_at": o["updated_at"], "weight": money(it["weight"]) if it.get("weight") is not None else None}
        if it["product_type"] == "configurable":
            out["product_option"] = {"extension_attributes": {"configurable_item_options": it.get("options") or []}}
        if with_parent and it.get("parent_item_id"):
            parent = next(p for p in o["items"] if p["item_id"] == it["parent_item_id"])
            out["parent_item"] = self.render_item(o, parent, with_parent=False)
        return clean(out, required=("sku",))

    def _order_totals(self, o):
        rows = [i for i in o["items"] if not i.get("parent_item_id")]
        subtotal = r2(sum(r2(i["price"] * i["qty"]) for i in rows))
        item_tax = r2(sum(i["tax"] for i in rows))
        item_disc = r2(sum(i["discount"] for i in rows))
        sh = o["shipping"]
        tax = r2(item_tax + sh["tax"])
        discount = -r2(item_disc + sh["discount"])
        grand = r2(subtotal + sh["amount"] + tax + discount)
        inv = bool(o["invoice_ids"])
        memos = [self.render_creditmemo(self.store.creditmemos[str(m)]) for m in o["creditmemo_ids"]]
        t = {"subtotal": subtotal, "item_tax": item_tax, "tax": tax, "discount": discount, "grand": grand,
             "total_paid": grand if inv else 0.0,
             "total_refunded": r2(sum(m["grand_total"] for m in memos)),
             "online_refunded": r2(sum(m["grand_total"] for m in memos
                                       if self.store.creditmemos[str(m["entity_id"])]["online"])),
             "subtotal_refunded": r2(sum(m["subtotal"] for m in memos)),
             "tax_refunded": r2(sum(m["tax_amount"] for m in memos)),
             "shipping_refunded": r2(sum(m["shipping_amount"] for m in memos)),
             "shipping_tax_refunded": r2(sum(m["shipping_tax_amount"] for m in memos)),
             "discount_refunded": r2(sum(m["discount_amount"] for m in memos)),
             "adjustment_positive": r2(sum(m["adjustment_positive"] for m in memos)),
             "adjustment_negative": r2(sum(m["adjustment_negative"] for m in memos)),
             "qty": sum(i["qty"] for i in rows), "count": len(rows), "memos": bool(memos)}
        return t

    def _applied_taxes(self, o, t):
        rate = o["rate"]
        if o.get("taxes"):
            applied = [{"code": x.get("code") or x.get("title"), "title": x.get("title") or x.get("code"),
                        "percent": money(x.get("percent", x.get("rate", 0))), "amount": money(x["amount"]),
                        "base_amount": money(float(x["amount"]) / rate)} for x in o["taxes"]]
        else:
            by_pct = {}
            for i in o["items"]:
                if i["tax"]:
                    key = (i.get("tax_title") or o["tax_title"], round(i["tax_percent"], 4))
                    by_pct[key] = by_pct.get(key, 0) + i["tax"]
            if o["shipping"]["tax"]:
                pct = round(o["shipping"]["tax"] / o["shipping"]["amount"] * 100, 4) if o["shipping"]["amount"] else 0
                key = next((k for k in by_pct if abs(k[1] - pct) < 0.01), (o["tax_title"], pct))
                by_pct[key] = by_pct.get(key, 0) + o["shipping"]["tax"]
            applied = [{"code": title if len(by_pct) == 1 else "%s %g%%" % (title, pct),
                        "title": title if len(by_pct) == 1 else "%s %g%%" % (title, pct), "percent": money(pct),
                        "amount": money(r2(amt)), "base_amount": money(r2(amt) / rate)}
                       for (title, pct), amt in by_pct.items()]
        item_taxes = []
        for i in o["items"]:
            if i["tax"]:
                a = next((x for x in applied if abs(float(x["percent"]) - i["tax_percent"]) < 0.01),
                         applied[0] if applied else None)
                item_taxes.append({"type": "product", "item_id": i["item_id"], "applied_taxes": [
                    dict(a, amount=money(i["tax"]), base_amount=money(i["tax"] / rate))] if a else []})
        if o["shipping"]["tax"] and applied:
            item_taxes.append({"type": "shipping", "applied_taxes": [
                dict(applied[-1], amount=money(o["shipping"]["tax"]), base_amount=money(o["shipping"]["tax"] / rate))]})
        return applied, item_taxes

    def render_order(self, o):
        rate = o["rate"]
        t = self._order_totals(o)
        sh = o["shipping"]
        inv = bool(o["invoice_ids"])
        b = lambda x: money(x / rate)   # noqa: E731
        items = [self.render_item(o, i) for i in o["items"]]
        paid = t["total_paid"]
        offline = r2(t["total_refunded"] - t["online_refunded"])
        memo = t["memos"]
        out = {
            "adjustment_negative": money(t["adjustment_negative"]) if memo else None,
            "adjustment_positive": money(t["adjustment_positive"]) if memo else None,
            "applied_rule_ids": ",".join(sorted({i["applied_rule_ids"] for i in o["items"]
                                                 if i.get("applied_rule_ids")})) or None,
            "base_adjustment_negative": b(t["adjustment_negative"]) if memo else None,
            "base_adjustment_positive": b(t["adjustment_positive"]) if memo else None,
            "base_currency_code": o["base_currency"], "base_discount_amount": b(t["discount"]),
            "base_discount_invoiced": b(t["discount"]) if inv else None,
            "base_discount_refunded": b(t["discount_refunded"]) if memo else None,
            "base_grand_total": b(t["grand"]), "base_discount_tax_compensation_amount": 0,
            "base_discount_tax_compensation_invoiced": 0 if inv else None,
            "base_shipping_amount": b(sh["amount"]), "base_shipping_discount_amount": b(sh["discount"]),
            "base_shipping_discount_tax_compensation_amnt": 0, "base_shipping_incl_tax": b(sh["amount"] + sh["tax"]),
            "base_shipping_invoiced": b(sh["amount"]) if inv else None,
            "base_shipping_refunded": b(t["shipping_refunded"]) if memo else None,
            "base_shipping_tax_amount": b(sh["tax"]),
            "base_shipping_tax_refunded": b(t["shipping_tax_refunded"]) if memo else None,
            "base_subtotal": b(t["subtotal"]), "base_subtotal_incl_tax": b(t["subtotal"] + t["item_tax"]),
            "base_subtotal_invoiced": b(t["subtotal"]) if inv else None,
            "base_subtotal_refunded": b(t["subtotal_refunded"]) if memo else None,
            "base_tax_amount": b(t["tax"]), "base_tax_invoiced": b(t["tax"]) if inv else None,
            "base_tax_refunded": b(t["tax_refunded"]) if memo else None,
            "base_total_due": b(t["grand"] - paid), "base_total_invoiced": b(t["grand"]) if inv else None,
            "base_total_offline_refunded": b(offline) if memo else None,
            "base_total_online_refunded": b(t["online_refunded"]) if memo else None,
            "base_total_paid": b(paid) if inv else None, "base_total_qty_ordered": None,
            "base_total_refunded": b(t["total_refunded"]) if memo else None,
            "base_to_global_rate": 1, "base_to_order_rate": money(rate), "billing_address_id":
                o["billing_address"]["entity_id"], "can_ship_partially": None,
            "coupon_code": o.get("coupon_code"), "created_at": o["created_at"],
            "customer_email": o["customer_email"], "customer_firstname": o.get("customer_firstname"),
            "customer_group_id": o["customer_group_id"], "customer_id": o.get("customer_id"),
            "customer_is_guest": 0 if o.get("customer_id") else 1, "customer_lastname": o.get("customer_lastname"),
            "customer_note": o.get("customer_note"), "customer_note_notify": 1,
            "discount_amount": money(t["discount"]), "discount_description": o.get("discount_description")
            if t["discount"] else None,
            "discount_invoiced": money(t["discount"]) if inv else None,
            "discount_refunded": money(t["discount_refunded"]) if memo else None,
            "email_sent": 1, "entity_id": o["entity_id"], "global_currency_code": o["base_currency"],
            "grand_total": money(t["grand"]), "discount_tax_compensation_amount": 0,
            "discount_tax_compensation_invoiced": 0 if inv else None,
            "increment_id": o["increment_id"], "is_virtual": o["is_virtual"],
            "order_currency_code": o["currency"], "protect_code": "%012x" % (o["entity_id"] * 7919),
            "quote_id": o["quote_id"], "remote_ip": o.get("remote_ip"),
            "shipping_amount": money(sh["amount"]), "shipping_description": sh["description"],
            "shipping_discount_amount": money(sh["discount"]), "shipping_discount_tax_compensation_amount": 0,
            "shipping_incl_tax": money(sh["amount"] + sh["tax"]),
            "shipping_invoiced": money(sh["amount"]) if inv else None,
            "shipping_refunded": money(t["shipping_refunded"]) if memo else None,
            "shipping_tax_amount": money(sh["tax"]),
            "shipping_tax_refunded": money(t["shipping_tax_refunded"]) if memo else None,
            "state": o["state"], "status": o["status"], "store_currency_code": o["base_currency"], "store_id": 1,
            "store_name": STORE_NAME, "store_to_base_rate": 0, "store_to_order_rate": 0,
            "subtotal": money(t["subtotal"]), "subtotal_incl_tax": money(t["subtotal"] + t["item_tax"]),
            "subtotal_invoiced": money(t["subtotal"]) if inv else None,
            "subtotal_refunded": money(t["subtotal_refunded"]) if memo else None,
            "tax_amount": money(t["tax"]), "tax_invoiced": money(t["tax"]) if inv else None,
            "tax_refunded": money(t["tax_refunded"]) if memo else None,
            "total_due": money(t["grand"] - paid), "total_invoiced": money(t["grand"]) if inv else None,
            "total_item_count": t["count"],
            "total_offline_refunded": money(offline) if memo else None,
            "total_online_refunded": money(t["online_refunded"]) if memo else None,
            "total_paid": money(paid) if inv else None, "total_qty_ordered": money(t["qty"]),
            "total_refunded": money(t["total_refunded"]) if memo else None,
            "updated_at": o["updated_at"],
            "weight": money(sum(float(i["weight"]) * i["qty"] for i in o["items"]
                                if i.get("weight") is not None and not i.get("parent_item_id"))),
            "x_forwarded_for": None, "items": items, "billing_address": o["billing_address"]}
        p = o["payment"]
        out["payment"] = clean({
            "account_status": None, "additional_information": [p["title"]],
            "amount_ordered": money(t["grand"]), "amount_paid": money(paid) if inv else None,
            "amount_refunded": money(t["total_refunded"]) if memo else None,
            "base_amount_ordered": b(t["grand"]), "base_amount_paid": b(paid) if inv else None,
            "base_amount_refunded": b(t["total_refunded"]) if memo else None,
            "base_shipping_amount": b(sh["amount"]), "base_shipping_captured": b(sh["amount"]) if inv else None,
            "base_shipping_refunded": b(t["shipping_refunded"]) if memo else None,
            "cc_exp_month": p.get("cc_exp_month"), "cc_exp_year": p.get("cc_exp_year"), "cc_last4": p.get("cc_last4"),
            "cc_type": p.get("cc_type"), "entity_id": p["entity_id"], "last_trans_id": p.get("last_trans_id"),
            "method": p["method"], "parent_id": o["entity_id"], "shipping_amount": money(sh["amount"]),
            "shipping_captured": money(sh["amount"]) if inv else None,
            "shipping_refunded": money(t["shipping_refunded"]) if memo else None},
            required=("account_status", "additional_information", "cc_last4", "method"))
        out["status_histories"] = [
            clean({"comment": h["comment"], "created_at": h["created_at"], "entity_id": h["entity_id"],
                   "entity_name": h.get("entity_name", "order"), "is_customer_notified": h["is_customer_notified"],
                   "is_visible_on_front": 0, "parent_id": o["entity_id"], "status": h["status"]},
                  required=("comment", "is_customer_notified", "is_visible_on_front", "parent_id"))
            for h in sorted(o["histories"], key=lambda h: (h["created_at"], h["entity_id"]), reverse=True)]
        applied, item_taxes = self._applied_taxes(o, t)
        ext = {}
        if o["shipping_address"] is not None:
            total = clean({
                "base_shipping_amount": b(sh["amount"]), "base_shipping_discount_amount": b(sh["discount"]),
                "base_shipping_discount_tax_compensation_amnt": 0, "base_shipping_incl_tax": b(sh["amount"] + sh["tax"]),
                "base_shipping_invoiced": b(sh["amount"]) if inv else None,
                "base_shipping_refunded": b(t["shipping_refunded"]) if memo else None,
                "base_shipping_tax_amount": b(sh["tax"]),
                "base_shipping_tax_refunded": b(t["shipping_tax_refunded"]) if memo else None,
                "shipping_amount": money(sh["amount"]), "shipping_discount_amount": money(sh["discount"]),
                "shipping_discount_tax_compensation_amount": 0, "shipping_incl_tax": money(sh["amount"] + sh["tax"]),
                "shipping_invoiced": money(sh["amount"]) if inv else None,
                "shipping_refunded": money(t["shipping_refunded"]) if memo else None,
                "shipping_tax_amount": money(sh["tax"]),
                "shipping_tax_refunded": money(t["shipping_tax_refunded"]) if memo else None})
            ext["shipping_assignments"] = [{"shipping": {"address": o["shipping_address"], "method": sh["method"],
                                                         "total": total}, "items": items}]
        ext["payment_additional_info"] = [{"key": "method_title", "value": p["title"]}]
        ext["applied_taxes"] = applied
        ext["item_applied_taxes"] = item_taxes
        ext["converting_from_quote"] = False
        out["extension_attributes"] = ext
        return clean(out, required=("base_grand_total", "customer_email", "grand_total", "items"))

    def _memo_row(self, o, m, mi):
        it = next(i for i in o["items"] if i["item_id"] == mi["order_item_id"])
        rate = o["rate"]
        q = mi["qty"]
        share = q / it["qty"] if it["qty"] else 0
        row = r2(it["price"] * q)
        tax = r2(it["tax"] * share)
        disc = r2(it["discount"] * share)
        unit_tax = it["tax"] / it["qty"] if it["qty"] else 0
        return {"row": row, "tax": tax, "discount": disc, "item": it, "out": clean({
            "base_cost": money((float(it["cost"]) if it.get("cost") is not None else 0) * q),
            "base_discount_amount": money(disc / rate) if not it.get("parent_item_id") else None,
            "base_discount_tax_compensation_amount": 0 if not it.get("parent_item_id") else None,
            "base_price": money(it["price"] / rate),
            "base_price_incl_tax": money(r2((it["price"] + unit_tax) / rate)) if not it.get("parent_item_id") else None,
            "base_row_total": money(row / rate) if not it.get("parent_item_id") else None,
            "base_row_total_incl_tax": money((row + tax) / rate) if not it.get("parent_item_id") else None,
            "base_tax_amount": money(tax / rate) if not it.get("parent_item_id") else None,
            "discount_amount": money(disc) if not it.get("parent_item_id") else None,
            "entity_id": mi["entity_id"],
            "discount_tax_compensation_amount": 0 if not it.get("parent_item_id") else None,
            "name": it["name"], "order_item_id": it["item_id"], "parent_id": m["entity_id"],
            "price": money(it["price"]),
            "price_incl_tax": money(r2(it["price"] + unit_tax)) if not it.get("parent_item_id") else None,
            "product_id": it.get("product_id"),
            "row_total": money(row) if not it.get("parent_item_id") else None,
            "row_total_incl_tax": money(row + tax) if not it.get("parent_item_id") else None,
            "sku": it["sku"], "tax_amount": money(tax) if not it.get("parent_item_id") else None,
            "qty": money(q)}, required=("base_cost", "base_price", "entity_id", "order_item_id", "qty"))}

    def render_creditmemo(self, m):
        o = self.store.orders[str(m["order_id"])]
        rate = o["rate"]
        rows = [self._memo_row(o, m, mi) for mi in m["items"]]
        top = [r for r in rows if not r["item"].get("parent_item_id")]
        subtotal = r2(sum(r["row"] for r in top))
        item_tax = r2(sum(r["tax"] for r in top))
        disc = -r2(sum(r["discount"] for r in top))
        tax = r2(item_tax + m["shipping_tax_amount"])
        adj = r2(m["adjustment_positive"] - m["adjustment_negative"])
        grand = r2(subtotal + m["shipping_amount"] + tax + disc + adj)
        b = lambda x: money(x / rate)   # noqa: E731
        out = {"adjustment": money(adj), "adjustment_negative": money(m["adjustment_negative"]),
               "adjustment_positive": money(m["adjustment_positive"]), "base_adjustment": b(adj),
               "base_adjustment_negative": b(m["adjustment_negative"]),
               "base_adjustment_positive": b(m["adjustment_positive"]), "base_currency_code": o["base_currency"],
               "base_discount_amount": b(disc), "base_grand_total": b(grand),
               "base_discount_tax_compensation_amount": 0, "base_shipping_amount": b(m["shipping_amount"]),
               "base_shipping_incl_tax": b(m["shipping_amount"] + m["shipping_tax_amount"]),
               "base_shipping_tax_amount": b(m["shipping_tax_amount"]), "base_subtotal": b(subtotal),
               "base_subtotal_incl_tax": b(subtotal + item_tax), "base_tax_amount": b(tax),
               "base_to_global_rate": 1, "base_to_order_rate": money(rate),
               "billing_address_id": o["billing_address"]["entity_id"], "created_at": m["created_at"],
               "discount_amount": money(disc), "discount_description": o.get("discount_description") if disc else None,
               "email_sent": None, "entity_id": m["entity_id"], "global_currency_code": o["base_currency"],
               "grand_total": money(grand), "discount_tax_compensation_amount": 0,
               "increment_id": m["increment_id"], "invoice_id": m["invoice_id"],
               "order_currency_code": o["currency"], "order_id": o["entity_id"],
               "shipping_address_id": o["shipping_address"]["entity_id"] if o["shipping_address"] else None,
               "shipping_amount": money(m["shipping_amount"]), "shipping_discount_tax_compensation_amount": 0,
               "shipping_incl_tax": money(m["shipping_amount"] + m["shipping_tax_amount"]),
               "shipping_tax_amount": money(m["shipping_tax_amount"]), "state": 2,
               "store_currency_code": o["base_currency"], "store_id": 1, "store_to_base_rate": 0,
               "store_to_order_rate": 0, "subtotal": money(subtotal), "subtotal_incl_tax": money(subtotal + item_tax),
               "tax_amount": money(tax), "transaction_id": m.get("transaction_id"), "updated_at": m["updated_at"],
               "items": [r["out"] for r in rows], "comments": self._memo_comments(m)}
        return clean(out, required=("order_id", "items"))

    def _memo_comments(self, m):
        if not m.get("comment"):
            return []
        return [{"comment": m["comment"], "created_at": m["created_at"], "entity_id": m["entity_id"],
                 "is_customer_notified": 0, "is_visible_on_front": 0, "parent_id": m["entity_id"]}]

    def render_invoice(self, inv):
        o = self.store.orders[str(inv["order_id"])]
        rate = o["rate"]
        t = self._order_totals(o)
        sh = o["shipping"]
        b = lambda x: money(x / rate)   # noqa: E731
        items = []
        for it in o["items"]:
            child = bool(it.get("parent_item_id"))
            row = r2(it["price"] * it["qty"])
            unit_tax = it["tax"] / it["qty"] if it["qty"] else 0
            items.append(clean({
                "base_discount_tax_compensation_amount": None if child else 0,
                "base_discount_amount": None if child or not it["discount"] else b(it["discount"]),
                "base_price": b(it["price"]), "base_price_incl_tax": None if child else b(r2(it["price"] + unit_tax)),
                "base_row_total": None if child else b(row), "base_row_total_incl_tax": None if child else b(row + it["tax"]),
                "base_tax_amount": None if child else b(it["tax"]),
                "entity_id": inv["item_ids"].get(str(it["item_id"])),
                "discount_amount": None if child or not it["discount"] else money(it["discount"]),
                "discount_tax_compensation_amount": None if child else 0, "name": it["name"],
                "parent_id": inv["entity_id"], "price": money(it["price"]),
                "price_incl_tax": None if child else money(r2(it["price"] + unit_tax)), "product_id": it.get("product_id"),
                "row_total": None if child else money(row), "row_total_incl_tax": None if child else money(row + it["tax"]),
                "sku": it["sku"], "tax_amount": None if child else money(it["tax"]), "order_item_id": it["item_id"],
                "qty": money(it["qty"])}, required=("sku", "order_item_id", "qty")))
        return clean({
            "base_currency_code": o["base_currency"], "base_discount_amount": b(t["discount"]),
            "base_grand_total": b(t["grand"]), "base_discount_tax_compensation_amount": 0,
            "base_shipping_amount": b(sh["amount"]), "base_shipping_incl_tax": b(sh["amount"] + sh["tax"]),
            "base_shipping_tax_amount": b(sh["tax"]), "base_subtotal": b(t["subtotal"]),
            "base_subtotal_incl_tax": b(t["subtotal"] + t["item_tax"]), "base_tax_amount": b(t["tax"]),
            "base_to_global_rate": 1, "base_to_order_rate": money(rate),
            "billing_address_id": o["billing_address"]["entity_id"], "can_void_flag": 0,
            "created_at": inv["created_at"], "discount_amount": money(t["discount"]),
            "discount_description": o.get("discount_description") if t["discount"] else None, "email_sent": 1,
            "entity_id": inv["entity_id"], "global_currency_code": o["base_currency"], "grand_total": money(t["grand"]),
            "discount_tax_compensation_amount": 0, "increment_id": inv["increment_id"],
            "order_currency_code": o["currency"], "order_id": o["entity_id"],
            "shipping_address_id": o["shipping_address"]["entity_id"] if o["shipping_address"] else None,
            "shipping_amount": money(sh["amount"]), "shipping_discount_tax_compensation_amount": 0,
            "shipping_incl_tax": money(sh["amount"] + sh["tax"]), "shipping_tax_amount": money(sh["tax"]),
            "state": 2, "store_currency_code": o["base_currency"], "store_id": 1, "store_to_base_rate": 0,
            "store_to_order_rate": 0, "subtotal": money(t["subtotal"]),
            "subtotal_incl_tax": money(t["subtotal"] + t["item_tax"]), "tax_amount": money(t["tax"]),
            "total_qty": money(t["qty"]), "transaction_id": o["payment"].get("last_trans_id"),
            "updated_at": inv["updated_at"], "items": items, "comments": []},
            required=("order_id", "total_qty", "items"))

    def render_shipment(self, s):
        o = self.store.orders[str(s["order_id"])]
        items = []
        for si in s["items"]:
            it = next(i for i in o["items"] if i["item_id"] == si["order_item_id"])
            items.append(clean({"entity_id": si["entity_id"], "name": it["name"], "parent_id": s["entity_id"],
                                "price": money(it["price"]), "product_id": it.get("product_id"),
                                "sku": it["sku"], "weight": money(it["weight"]) if it.get("weight") is not None
                                else None, "order_item_id": it["item_id"], "qty": money(si["qty"])},
                               required=("order_item_id", "qty")))
        tracks = [{"order_id": o["entity_id"], "created_at": t["created_at"], "entity_id": t["entity_id"],
                   "parent_id": s["entity_id"], "updated_at": t["created_at"], "weight": None, "qty": None,
                   "description": None, "track_number": t["track_number"], "title": t["title"],
                   "carrier_code": t["carrier_code"]} for t in s["tracks"]]
        return clean({"billing_address_id": o["billing_address"]["entity_id"], "created_at": s["created_at"],
                      "customer_id": o.get("customer_id"), "email_sent": None, "entity_id": s["entity_id"],
                      "increment_id": s["increment_id"], "order_id": o["entity_id"], "packages": [],
                      "shipping_address_id": o["shipping_address"]["entity_id"] if o["shipping_address"] else None,
                      "store_id": 1, "total_qty": money(sum(si["qty"] for si in s["items"])),
                      "updated_at": s["updated_at"], "items": items, "tracks": tracks, "comments": []},
                     required=("order_id", "items", "tracks", "comments"))

    def render_customer(self, c):
        addrs = [clean(dict(a)) for a in c["addresses"]]
        dbill = next((a["id"] for a in c["addresses"] if a["default_billing"]), None)
        dship = next((a["id"] for a in c["addresses"] if a["default_shipping"]), None)
        return clean({"id": c["id"], "group_id": c["group_id"],
                      "default_billing": str(dbill) if dbill is not None else None,
                      "default_shipping": str(dship) if dship is not None else None, "created_at": c["created_at"],
                      "updated_at": c["updated_at"], "created_in": c["created_in"], "dob": c.get("dob"),
                      "email": c["email"], "firstname": c["firstname"], "lastname": c["lastname"],
                      "middlename": c.get("middlename"), "prefix": c.get("prefix"), "suffix": c.get("suffix"),
                      "gender": c.get("gender"), "store_id": c["store_id"], "taxvat": c.get("taxvat"),
                      "website_id": c["website_id"], "addresses": addrs, "disable_auto_group_change": 0,
                      "extension_attributes": {"is_subscribed": c.get("is_subscribed", False)}},
                     required=("email", "firstname", "lastname"))

    # ------------------------------------------------------------------ search plumbing
    def _sales_search(self, req, records, render, definition, unknown="sql"):
        """GET list with searchCriteria: validation, filter, sort, page, fields=."""
        self._check_search_criteria(req)
        rendered = [render(r) for r in records]
        columns = scalar_fields(self.schema, definition)
        sc_keys = [k for k in req.query if k.startswith("searchCriteria[")]
        for key in sc_keys:
            m = re.match(r"^searchCriteria\[(?:filter_groups|filterGroups)\]\[\d+\]\[filters\]\[\d+\]\[field\]$", key)
            m2 = re.match(r"^searchCriteria\[(?:sort_orders|sortOrders)\]\[\d+\]\[field\]$", key)
            if not (m or m2):
                continue
            field = req.query[key][-1]
            if field not in columns:
                if unknown == "eav":
                    # Eav\Model\Entity\Collection\AbstractCollection::_addAttributeJoin
                    raise MagentoError(400, "Invalid attribute name: %1", [field])
                # Zend_Db_Statement_Exception from the collection's SQL: masked in production mode
                raise Internal("SQLSTATE[42S22]: Column not found: 1054 Unknown column 'main_table.%s' in '%s "
                                "clause'" % (field, "where" if m else "order"))
        items, total, echo = self._search(req, rendered, lambda r, f: r.get(f))
        return self._fields(req, {"items": items, "search_criteria": echo, "total_count": total})

    def _check_search_criteria(self, req):
        keys = [k for k in req.query if k == "searchCriteria" or k.startswith("searchCriteria[")]
        if not keys:
            # ServiceInputProcessor::process: the service method's parameter is missing
            raise MagentoError(400, '"%fieldName" is required. Enter and try again.', {"fieldName": "searchCriteria"})
        for key in keys:
            m = re.match(r"^searchCriteria\[(\w+)\](.*)$", key)
            if not m:
                continue
            head, rest = m.group(1), m.group(2)
            if head not in ("filter_groups", "filterGroups", "sort_orders", "sortOrders", "page_size", "pageSize",
                            "current_page", "currentPage"):
                raise Internal('Property "%s" does not have accessor method "get%s" in class '
                                '"Magento\\Framework\\Api\\SearchCriteriaInterface".' % (
                                    _camel(head), _camel(head)))
            parts = re.findall(r"\[([^\]]*)\]", rest)
            if head in ("filter_groups", "filterGroups") and len(parts) == 4 and parts[3] not in (
                    "field", "value", "condition_type", "conditionType"):
                raise Internal('Property "%s" does not have accessor method "get%s" in class '
                                '"Magento\\Framework\\Api\\Filter".' % (_camel(parts[3]), _camel(parts[3])))
            if head in ("page_size", "pageSize", "current_page", "currentPage"):
                v = req.query[key][-1]
                if v != "" and (num(v) is None or not float(num(v)).is_integer()):
                    raise MagentoError(400, 'Error occurred during "%s" processing. The "%s" value\'s type is '
                                            'invalid. The "int" type was expected. Verify and try again.' % (head, v))

    def _fields(self, req, value):
        f = (req.query.get("fields") or [""])[-1]
        return apply_fields(value, parse_fields(f)) if f.strip() else value

    def _entity_id(self, raw):
        if num(raw) is None or not float(num(raw)).is_integer():
            raise MagentoError(400, 'The "%s" value\'s type is invalid. The "int" type was expected. Verify and try '
                                    'again.' % raw)
        return str(int(num(raw)))

    def _sales_get(self, req, table, raw, render):
        key = self._entity_id(raw)
        rec = table.get(key)
        if rec is None:
            raise MagentoError(404, NOT_FOUND_ENTITY)
        return self._fields(req, render(rec))

    # ------------------------------------------------------------------ handlers
    def h_search_orders(self, req, body, params, scope, user):
        orders = sorted(self.store.orders.values(), key=lambda o: o["entity_id"])
        return self._sales_search(req, orders, self.render_order, "sales-data-order-interface")

    def h_get_order(self, req, body, params, scope, user):
        return self._sales_get(req, self.store.orders, params["id"], self.render_order)

    def h_order_comments(self, req, body, params, scope, user):
        o = self.store.orders.get(self._entity_id(params["id"]))
        if o is None:
            raise MagentoError(404, NOT_FOUND_ENTITY)
        hist = self.render_order(o)["status_histories"]
        return {"items": hist, "search_criteria": {"filter_groups": []}, "total_count": len(hist)}

    def _all_items(self):
        out = []
        for o in sorted(self.store.orders.values(), key=lambda o: o["entity_id"]):
            out += [(o, i) for i in o["items"]]
        return out

    def h_search_order_items(self, req, body, params, scope, user):
        return self._sales_search(req, self._all_items(), lambda oi: self.render_item(*oi),
                                  "sales-data-order-item-interface")

    def h_get_order_item(self, req, body, params, scope, user):
        key = int(self._entity_id(params["id"]))
        hit = [(o, i) for o, i in self._all_items() if i["item_id"] == key]
        if not hit:
            raise MagentoError(404, NOT_FOUND_ENTITY)
        return self._fields(req, self.render_item(*hit[0]))

    def h_search_invoices(self, req, body, params, scope, user):
        recs = sorted(self.store.invoices.values(), key=lambda r: r["entity_id"])
        return self._sales_search(req, recs, self.render_invoice, "sales-data-invoice-interface")

    def h_get_invoice(self, req, body, params, scope, user):
        return self._sales_get(req, self.store.invoices, params["id"], self.render_invoice)

    def h_search_shipments(self, req, body, params, scope, user):
        recs = sorted(self.store.shipments.values(), key=lambda r: r["entity_id"])
        return self._sales_search(req, recs, self.render_shipment, "sales-data-shipment-interface")

    def h_get_shipment(self, req, body, params, scope, user):
        return self._sales_get(req, self.store.shipments, params["id"], self.render_shipment)

    def h_search_creditmemos(self, req, body, params, scope, user):
        recs = sorted(self.store.creditmemos.values(), key=lambda r: r["entity_id"])
        return self._sales_search(req, recs, self.render_creditmemo, "sales-data-creditmemo-interface")

    def h_get_creditmemo(self, req, body, params, scope, user):
        return self._sales_get(req, self.store.creditmemos, params["id"], self.render_creditmemo)

    def h_creditmemo_comments(self, req, body, params, scope, user):
        m = self.store.creditmemos.get(self._entity_id(params["id"]))
        if m is None:
            raise MagentoError(404, NOT_FOUND_ENTITY)
        c = self._memo_comments(m)
        return {"items": c, "search_criteria": {"filter_groups": []}, "total_count": len(c)}

    def h_search_customers(self, req, body, params, scope, user):
        recs = sorted(self.store.customers.values(), key=lambda r: r["id"])
        return self._sales_search(req, recs, self.render_customer, "customer-data-customer-interface", unknown="eav")

    def h_get_customer(self, req, body, params, scope, user):
        key = self._entity_id(params["customerId"])
        c = self.store.customers.get(key)
        if c is None:
            # CustomerRegistry::retrieve -> NoSuchEntityException::singleField
            raise MagentoError(404, "No such entity with %fieldName = %fieldValue",
                               {"fieldName": "customerId", "fieldValue": int(key)})
        return self._fields(req, self.render_customer(c))


class Internal(MagentoError):
    """An exception Magento does not turn into a client error: 500, masked in production mode."""

    def __init__(self, detail):
        super().__init__(500, detail)
        self.detail = detail

    def masked(self, developer):
        if developer:
            return {"message": self.detail, "trace": "#0 emulated trace"}
        return {"message": INTERNAL % uuid.uuid4().hex[:13]}


def _camel(name):
    return "".join(w[:1].upper() + w[1:] for w in name.split("_"))
