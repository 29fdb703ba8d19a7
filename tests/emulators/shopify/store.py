"""In-memory state of one emulated shop, and its JSON form.

Records are plain dicts shaped like the GraphQL objects they back, with a
"__typename" and the GraphQL field names where the value is stored as is;
keys starting with "_" are internal (links, raw numbers). Everything is
JSON-serialisable so --state-file can persist it.

Numeric ids start in different ranges per type (a product id is never a valid
variant id) except locations, which are 1, 2, ... as the tests expect.
"""

import copy
import re
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

ID_BASE = {
    "Product": 8000000000,
    "ProductVariant": 44000000000,
    "InventoryItem": 46000000000,
    "ProductOption": 10000000000,
    "ProductOptionValue": 20000000000,
    "InventoryAdjustmentGroup": 60000000000,
    "ProductSetOperation": 70000000000,
    "Location": 0,
    "Metafield": 30000000000,
}

QUANTITY_NAMES = ("available", "committed", "reserved", "damaged", "safety_stock", "quality_control",
                  "incoming", "on_hand")
# on_hand = available + committed + reserved + damaged + safety_stock + quality_control
ON_HAND_PARTS = ("available", "committed", "reserved", "damaged", "safety_stock", "quality_control")

GID_RE = re.compile(r"^gid://shopify/([A-Za-z]+)/([^/?]+)(\?.*)?$")


def gid(typename, n):
    return "gid://shopify/%s/%s" % (typename, n)


def parse_gid(value, expect=None):
    """'gid://shopify/Product/12' -> 12 (int) when the type matches `expect`
    (or any type when expect is None); None otherwise."""
    if not isinstance(value, str):
        return None
    m = GID_RE.match(value)
    if not m:
        return None
    if expect and m.group(1) != expect:
        return None
    try:
        return int(m.group(2))
    except ValueError:
        return None


def gid_type(value):
    m = GID_RE.match(value or "")
    return m.group(1) if m else None


# ------------------------------------------------------------------- money


def to_decimal(value):
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def money(value):
    """Money scalar output: two decimals ("19.90", "0.00")."""
    d = to_decimal(value)
    if d is None:
        return None
    return str(d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def ruby_decimal(value):
    """Decimal scalar output as Ruby's BigDecimal#to_s("F") prints it:
    "7.5", "25.0", "0.0"."""
    d = to_decimal(value)
    if d is None:
        return None
    d = d.normalize()
    s = format(d, "f")
    if "." not in s:
        s += ".0"
    return s


# ------------------------------------------------------------------ handles


def handleize(text):
    s = (text or "").strip().lower()
    s = re.sub(r"[\W_]+", "-", s, flags=re.UNICODE).strip("-")
    return s


class Store:
    def __init__(self, clock, shop_name="demo", currency="USD"):
        self.clock = clock
        self.shop_name = shop_name
        self.currency = currency
        self.search_lag = 0.0
        self.reset()

    # ------------------------------------------------------------ lifecycle
    def reset(self, default_locations=True):
        self.seq = dict(ID_BASE)
        now = self.clock.iso()
        self.shop = {
            "__typename": "Shop",
            "id": gid("Shop", 1),
            "name": self.shop_name,
            "currencyCode": self.currency,
            "myshopifyDomain": "%s.myshopify.com" % self.shop_name,
            "email": "owner@%s.example" % self.shop_name,
            "contactEmail": "owner@%s.example" % self.shop_name,
            "ianaTimezone": "UTC",
            "timezoneAbbreviation": "UTC",
            "createdAt": now,
            "updatedAt": now,
            "enabledPresentmentCurrencies": [self.currency],
            "weightUnit": "KILOGRAMS",
        }
        self.locations = {}
        self.products = {}
        self.variants = {}
        self.items = {}
        self.groups = {}
        self.operations = {}
        self.idempotency = {}
        self.orders = {}  # orders with their lines, refunds, returns (see orders.py)
        self.customers = {}
        self.counters = {
            "requests": 0,
            "requestsByOperation": {},
            "mutations": {},
            "writes": 0,
            "idempotentReplays": 0,
            "throttled": 0,
            "rejected": 0,
            "inventorySetOnUntracked": 0,
        }
        if default_locations:
            self.add_location("Main Store")
            self.add_location("Warehouse")

    def next_id(self, typename):
        self.seq[typename] += 1
        return self.seq[typename]

    def now(self):
        return self.clock.iso()

    def touch(self, rec):
        rec["updatedAt"] = self.now()
        if "_indexedAt" in rec:
            rec["_indexedAt"] = self.clock.now() + self.search_lag

    def count(self, key, name=None):
        if name is None:
            self.counters[key] = self.counters.get(key, 0) + 1
        else:
            d = self.counters.setdefault(key, {})
            d[name] = d.get(name, 0) + 1

    # ------------------------------------------------------------ locations
    def add_location(self, name, **extra):
        n = self.next_id("Location")
        now = self.now()
        rec = {
            "__typename": "Location",
            "id": gid("Location", n),
            "_n": n,
            "name": name,
            "isActive": extra.get("isActive", True),
            "fulfillsOnlineOrders": extra.get("fulfillsOnlineOrders", True),
            "shipsInventory": extra.get("shipsInventory", True),
            "createdAt": now,
            "updatedAt": now,
            "address": dict({"__typename": "LocationAddress", "address1": None, "address2": None,
                             "city": None, "country": None, "countryCode": "US", "province": None,
                             "provinceCode": None, "zip": None, "phone": None, "formatted": []},
                            **(extra.get("address") or {})),
        }
        self.locations[n] = rec
        return rec

    def primary_location(self):
        active = [l for l in self.locations.values() if l["isActive"]]
        return min(active, key=lambda l: l["_n"]) if active else None

    # ------------------------------------------------------------- products
    def handle_taken(self, handle, except_n=None):
        return any(p["handle"] == handle and p["_n"] != except_n for p in self.products.values())

    def unique_handle(self, base, except_n=None):
        if not base:
            base = "product"
        if not self.handle_taken(base, except_n):
            return base
        m = re.match(r"^(.*)-(\d+)$", base)
        if m:
            prefix, k = m.group(1), int(m.group(2)) + 1
        else:
            prefix, k = base, 1
        while self.handle_taken("%s-%d" % (prefix, k), except_n):
            k += 1
        return "%s-%d" % (prefix, k)

    def new_product(self, title, handle):
        n = self.next_id("Product")
        now = self.now()
        rec = {
            "__typename": "Product",
            "id": gid("Product", n),
            "_n": n,
            "legacyResourceId": str(n),
            "title": title,
            "handle": handle,
            "descriptionHtml": "",
            "vendor": self.shop_name,
            "productType": "",
            "tags": [],
            "status": "ACTIVE",
            "templateSuffix": None,
            "giftCardTemplateSuffix": None,
            "isGiftCard": False,
            "requiresSellingPlan": False,
            "createdAt": now,
            "updatedAt": now,
            "publishedAt": None,
            "seo": {"__typename": "SEO", "title": None, "description": None},
            "_options": [],
            "_variants": [],
            "_metafields": [],
            "_indexedAt": self.clock.now() + self.search_lag,
        }
        self.products[n] = rec
        return rec

    def new_option(self, name, position, values):
        n = self.next_id("ProductOption")
        return {
            "__typename": "ProductOption",
            "id": gid("ProductOption", n),
            "name": name,
            "position": position,
            "_values": [self.new_option_value(v) for v in values],
        }

    def new_option_value(self, name):
        n = self.next_id("ProductOptionValue")
        return {"__typename": "ProductOptionValue", "id": gid("ProductOptionValue", n), "name": name}

    def new_variant(self, product, option_values):
        n = self.next_id("ProductVariant")
        now = self.now()
        rec = {
            "__typename": "ProductVariant",
            "id": gid("ProductVariant", n),
            "_n": n,
            "legacyResourceId": str(n),
            "_product": product["_n"],
            "_options": list(option_values),
            "barcode": None,
            "price": "0.00",
            "compareAtPrice": None,
            "taxable": True,
            "taxCode": None,
            "inventoryPolicy": "DENY",
            "requiresComponents": False,
            "createdAt": now,
            "updatedAt": now,
            "_indexedAt": self.clock.now() + self.search_lag,
        }
        item = self.new_item(rec)
        rec["_item"] = item["_n"]
        self.variants[n] = rec
        product["_variants"].append(n)
        return rec

    def new_item(self, variant):
        n = self.next_id("InventoryItem")
        now = self.now()
        rec = {
            "__typename": "InventoryItem",
            "id": gid("InventoryItem", n),
            "_n": n,
            "legacyResourceId": str(n),
            "_variant": variant["_n"],
            "sku": None,
            "tracked": False,
            "_cost": None,
            "requiresShipping": True,
            "_weight": {"value": 0.0, "unit": "KILOGRAMS"},
            "countryCodeOfOrigin": None,
            "provinceCodeOfOrigin": None,
            "harmonizedSystemCode": None,
            "createdAt": now,
            "updatedAt": now,
            "_levels": {},
        }
        self.items[n] = rec
        return rec

    def delete_variant(self, vn):
        v = self.variants.pop(vn, None)
        if v is None:
            return
        self.items.pop(v["_item"], None)
        p = self.products.get(v["_product"])
        if p and vn in p["_variants"]:
            p["_variants"].remove(vn)

    def delete_product(self, pn):
        p = self.products.pop(pn, None)
        if p is None:
            return None
        for vn in list(p["_variants"]):
            self.delete_variant(vn)
        return p

    def product_variants(self, product):
        return [self.variants[vn] for vn in product["_variants"] if vn in self.variants]

    def variant_title(self, v):
        return " / ".join(v["_options"]) if v["_options"] else "Default Title"

    # ------------------------------------------------------------ inventory
    def stock(self, item, loc_n):
        key = str(loc_n)
        lv = item["_levels"].get(key)
        if lv is None:
            now = self.now()
            lv = {name: 0 for name in QUANTITY_NAMES if name != "on_hand"}
            lv.update({"createdAt": now, "updatedAt": now, "_qupd": {}})
            item["_levels"][key] = lv
        return lv

    @staticmethod
    def quantity(level, name):
        if name == "on_hand":
            return sum(level.get(k, 0) for k in ON_HAND_PARTS)
        return level.get(name, 0)

    def level_id(self, item, loc_n):
        return "gid://shopify/InventoryLevel/%d?inventory_item_id=%d" % (loc_n, item["_n"])

    def total_available(self, item):
        return sum(lv.get("available", 0) for lv in item["_levels"].values())

    # ----------------------------------------------------------- snapshots
    def dump(self):
        """Full state for --state-file."""
        return {
            "version": 1,
            "seq": self.seq,
            "shop": self.shop,
            "locations": self.locations,
            "products": self.products,
            "variants": self.variants,
            "items": self.items,
            "groups": self.groups,
            "operations": self.operations,
            "idempotency": self.idempotency,
            "orders": self.orders,
            "customers": self.customers,
            "counters": self.counters,
        }

    def load(self, data):
        def intkeys(d):
            return {int(k): v for k, v in (d or {}).items()}

        self.seq.update(data.get("seq") or {})
        self.shop.update(data.get("shop") or {})
        self.locations = intkeys(data.get("locations"))
        self.products = intkeys(data.get("products"))
        self.variants = intkeys(data.get("variants"))
        self.items = intkeys(data.get("items"))
        self.groups = intkeys(data.get("groups"))
        self.operations = intkeys(data.get("operations"))
        self.idempotency = data.get("idempotency") or {}
        self.orders = intkeys(data.get("orders"))
        self.customers = intkeys(data.get("customers"))
        self.counters.update(data.get("counters") or {})

    def view(self):
        """What GET /__emulator/state shows: flat, easy to assert on."""
        locs = sorted(self.locations.values(), key=lambda l: l["_n"])
        products, variants, levels = [], [], []
        for p in sorted(self.products.values(), key=lambda p: p["_n"]):
            pv = self.product_variants(p)
            products.append({
                "id": p["id"], "handle": p["handle"], "title": p["title"], "status": p["status"],
                "vendor": p["vendor"], "productType": p["productType"], "tags": p["tags"],
                "descriptionHtml": p["descriptionHtml"], "createdAt": p["createdAt"],
                "updatedAt": p["updatedAt"],
                "options": [{"name": o["name"], "values": [v["name"] for v in o["_values"]]}
                            for o in p["_options"]],
                "variants": [v["id"] for v in pv],
            })
            for pos, v in enumerate(pv, 1):
                item = self.items[v["_item"]]
                variants.append({
                    "id": v["id"], "productId": p["id"], "position": pos, "title": self.variant_title(v),
                    "sku": item["sku"], "barcode": v["barcode"], "price": v["price"],
                    "compareAtPrice": v["compareAtPrice"], "taxable": v["taxable"],
                    "inventoryPolicy": v["inventoryPolicy"],
                    "selectedOptions": [{"name": o["name"], "value": val}
                                        for o, val in zip(p["_options"], v["_options"])],
                    "inventoryItemId": item["id"], "tracked": item["tracked"],
                    "cost": ruby_decimal(item["_cost"]) if item["_cost"] is not None else None,
                    "weight": item["_weight"], "updatedAt": v["updatedAt"],
                })
                for ln in sorted(item["_levels"], key=int):
                    lv = item["_levels"][ln]
                    row = {"inventoryItemId": item["id"], "variantId": v["id"], "sku": item["sku"],
                           "locationId": gid("Location", int(ln))}
                    for name in QUANTITY_NAMES:
                        row[name] = self.quantity(lv, name)
                    levels.append(row)
        return {
            "shop": {k: self.shop[k] for k in ("id", "name", "currencyCode", "myshopifyDomain")},
            "locations": [{"id": l["id"], "name": l["name"], "isActive": l["isActive"]} for l in locs],
            "products": products,
            "variants": variants,
            "inventoryLevels": levels,
            "inventoryAdjustmentGroups": [self._group_view(g) for g in
                                          sorted(self.groups.values(), key=lambda g: g["_n"])],
            "idempotencyKeys": sorted(self.idempotency),
            "orders": [],
            "counters": copy.deepcopy(self.counters),
        }

    @staticmethod
    def _group_view(g):
        return {"id": g["id"], "createdAt": g["createdAt"], "reason": g["reason"],
                "referenceDocumentUri": g["referenceDocumentUri"], "mutation": g.get("_mutation"),
                "changes": [{"name": c["name"], "delta": c["delta"], "inventoryItemId": c["_item_id"],
                             "locationId": c["_location_id"]} for c in g["_changes"]]}
