"""In-memory BigCommerce store: catalog (products, options, variants) and
inventory (locations, stock per item and location).

Behaviour follows shared/reference/platforms-shopify-bigcommerce.md part B
("§B2" etc. below) and the OpenAPI files in shared/reference/platforms/
bigcommerce/. Where neither says what BigCommerce answers, the answer is marked
*(constructed)* and keeps BigCommerce's v3 error shape.
"""

import copy
import datetime as _dt
import re
import uuid

STATUS_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
MAX_VARIANTS = 600          # "600 SKUs per product limit" (createProductVariant description)
MAX_STOCK = 2147483647      # per-location limit (§B3 "Limits")
MAX_NAME = 250              # "250 characters product name length" (createProduct description)


class ApiError(Exception):
    """A v3 error answer: {"status", "title", "type", "errors"}."""

    def __init__(self, status, title, errors=None, extra=None, problem=False):
        super().__init__(title)
        self.status = status
        self.title = title
        self.errors = errors if errors is not None else {}
        self.extra = extra or {}
        self.problem = problem  # Inventory answers use application/problem+json (§B7)

    def body(self):
        out = {"status": self.status, "title": self.title, "type": STATUS_TYPE, "errors": self.errors}
        out.update(self.extra)
        return out


def slugify(name):
    s = re.sub(r"[^a-z0-9]+", "-", (name or "").lower()).strip("-")
    return s or "product"


PRODUCT_DEFAULTS = {
    "name": "", "type": "physical", "sku": "", "description": "", "weight": 0, "width": 0, "depth": 0,
    "height": 0, "price": 0, "cost_price": 0, "retail_price": 0, "sale_price": 0, "map_price": 0,
    "tax_class_id": 0, "product_tax_code": "", "categories": [], "brand_id": 0, "option_set_id": None,
    "option_set_display": "right", "inventory_warning_level": 0, "inventory_tracking": "none",
    "reviews_rating_sum": 0, "reviews_count": 0, "total_sold": 0, "fixed_cost_shipping_price": 0,
    "is_free_shipping": False, "is_visible": True, "is_featured": False, "related_products": [],
    "warranty": "", "bin_picking_number": "", "layout_file": "", "upc": "", "mpn": "", "gtin": "",
    "date_last_imported": None, "search_keywords": "", "availability": "available",
    "availability_description": "", "gift_wrapping_options_type": "any", "gift_wrapping_options_list": [],
    "sort_order": 0, "condition": "New", "is_condition_shown": False, "order_quantity_minimum": 0,
    "order_quantity_maximum": 0, "page_title": "", "meta_keywords": [], "meta_description": "",
    "view_count": 0, "preorder_release_date": None, "preorder_message": "", "is_preorder_only": False,
    "is_price_hidden": False, "price_hidden_label": "", "custom_url": None, "open_graph_type": "product",
    "open_graph_title": "", "open_graph_description": "", "open_graph_use_meta_description": True,
    "open_graph_use_product_name": True, "open_graph_use_image": True,
}
# Read-only product fields (createProduct / updateProducts "Read-Only Fields"); ignored on write.
PRODUCT_READ_ONLY = {"id", "date_created", "date_modified", "calculated_price", "base_variant_id"}
PRODUCT_WRITABLE = set(PRODUCT_DEFAULTS) | {"inventory_level"}

VARIANT_DEFAULTS = {
    "cost_price": None, "price": None, "sale_price": None, "retail_price": None, "map_price": None,
    "weight": None, "width": None, "height": None, "depth": None, "is_free_shipping": False,
    "fixed_cost_shipping_price": None, "purchasing_disabled": False, "purchasing_disabled_message": "",
    "image_url": "", "upc": "", "mpn": "", "gtin": "", "inventory_warning_level": 0, "bin_picking_number": "",
}
VARIANT_WRITABLE = set(VARIANT_DEFAULTS) | {"sku", "inventory_level"}

LOCATION_DEFAULTS = {
    "managed_by_external_source": False, "type_id": "PHYSICAL", "enabled": True,
    "operating_hours": {}, "time_zone": "Etc/UTC", "address": {}, "storefront_visibility": True,
    "special_hours": [],
}


def _fold(sku):
    # SKUs are unique "regardless of the letter case for both products and
    # variants" (productVariant_Full.sku description; §0 finding 4).
    return (sku or "").casefold()


class Store:
    def __init__(self, clock, inventory_lag_ms=0, untracked_inventory="reject"):
        self.clock = clock
        self.inventory_lag = inventory_lag_ms / 1000.0
        self.untracked_inventory = untracked_inventory
        self.reset()

    # ------------------------------------------------------------ lifecycle
    def reset(self, default_locations=True):
        self.seq = {"product": 0, "variant": 0, "option": 0, "option_value": 0, "sku_id": 0, "location": 0}
        self.products = {}
        self.variants = {}
        self._reindex()
        self.options = {}
        self.option_values = {}
        self.locations = {}
        self.stock = {}            # (item key, location id) -> quantity
        self.absolute_seen = set()  # (item key, location id) that had an absolute adjustment
        self.pending = []          # [(apply_at, [(key, loc, qty)])] with --inventory-lag-ms
        self.transactions = []
        self.counters = {"requests": 0, "requestsByOperation": {}, "writes": 0, "rejected": 0,
                         "throttled": 0, "inventoryAdjustments": 0, "inventoryItemsWritten": 0}
        if default_locations:
            self.add_location("Main Store", code="DEFAULT")  # id 1, the default location (§B3)
            self.add_location("Warehouse", code="WAREHOUSE")

    def count(self, name, key=None):
        if key is None:
            self.counters[name] = self.counters.get(name, 0) + 1
        else:
            d = self.counters.setdefault(name, {})
            d[key] = d.get(key, 0) + 1

    def next_id(self, kind):
        self.seq[kind] += 1
        return self.seq[kind]

    def now_iso(self):
        t = self.clock.now()
        return _dt.datetime.fromtimestamp(int(t), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")

    # ------------------------------------------------------------ locations
    def add_location(self, label, code=None, **extra):
        lid = self.next_id("location")
        loc = dict(LOCATION_DEFAULTS, id=lid, code=code or "LOC-%d" % lid, label=label,
                   created_at=self.now_iso().replace("+00:00", "Z"), updated_at=self.now_iso().replace("+00:00", "Z"))
        for k, v in extra.items():
            loc[k] = v
        self.locations[lid] = loc
        return loc

    # ------------------------------------------------------------ indexes
    # Lookups by folded SKU and by product, so a store of 10,000 products answers
    # as fast as a small one. Entries are added where a SKU or a variant is set and
    # checked against the live records when read, so a stale one is harmless.
    def _reindex(self):
        self._by_sku = {}
        self._by_product = {}
        for p in getattr(self, "products", {}).values():
            self._index_sku("p", p)
        for v in getattr(self, "variants", {}).values():
            self._index_variant(v)

    def _index_sku(self, kind, obj):
        f = _fold(obj.get("sku"))
        if f:
            self._by_sku.setdefault(f, set()).add((kind, obj["id"]))

    def _index_variant(self, v):
        self._by_product.setdefault(v["product_id"], set()).add(v["id"])
        self._index_sku("v", v)

    def _sku_candidates(self, f):
        """-> (variants, products) whose SKU folds to f, in id order."""
        vs, ps = [], []
        for kind, i in sorted(self._by_sku.get(f, ())):
            obj = (self.variants if kind == "v" else self.products).get(i)
            if obj is not None and _fold(obj["sku"]) == f:
                (vs if kind == "v" else ps).append(obj)
        return vs, ps

    # ------------------------------------------------------------ SKU index
    def sku_owner(self, sku):
        """-> ("product", p) for a product SKU, ("variant", v) for a variant
        SKU (base variants included), or None."""
        f = _fold(sku)
        if not f:
            return None
        vs, ps = self._sku_candidates(f)
        if vs:
            return ("variant", vs[0])
        if ps:
            return ("product", ps[0])
        return None

    def sku_taken(self, sku, product_id=None, variant_id=None):
        """Taken by anything other than the given product / variant (a
        product and its own base variant share one SKU)."""
        f = _fold(sku)
        if not f:
            return False
        vs, ps = self._sku_candidates(f)
        for v in vs:
            if v["id"] != variant_id:
                if v["_base"] and v["product_id"] == product_id:
                    continue
                return True
        for p in ps:
            if p["id"] != product_id:
                base = p["_base_variant"]
                if base is not None and base == variant_id:
                    continue
                return True
        return False

    @staticmethod
    def sku_conflict(sku):
        # 409 = "duplicate unique values such as name or SKU" (updateProducts 409
        # description); the title text is *(constructed)*.
        return ApiError(409, "Sku '%s' is not unique." % sku, {"sku": "Sku '%s' is not unique." % sku})

    # ------------------------------------------------------------ products
    def name_taken(self, name, product_id=None):
        f = (name or "").strip().casefold()
        return any(p["name"].strip().casefold() == f and p["id"] != product_id for p in self.products.values())

    def create_product(self, body):
        name = body.get("name", "")
        if len(name) > MAX_NAME:
            raise ApiError(422, "JSON data is missing or invalid", {"name": "error.maxLength"})
        if self.name_taken(name):
            # name is unique (§B2 field table); 409 per createProduct 409 description.
            raise ApiError(409, "The product name is a duplicate", {"name": "The product name is a duplicate"})
        variants_in = body.get("variants") or []
        if len(variants_in) > MAX_VARIANTS:
            raise ApiError(422, "A product can have up to %d variants (SKUs)." % MAX_VARIANTS,
                           {"variants": "The maximum number of variants is %d" % MAX_VARIANTS})
        skus = [body.get("sku", "")] + [v.get("sku", "") for v in variants_in]
        seen = set()
        for s in skus:
            f = _fold(s)
            if not f:
                continue
            if f in seen or self.sku_taken(s):
                raise self.sku_conflict(s)
            seen.add(f)
        # option layout of the variants (created from option_display_name/label, §B2)
        option_names = None
        combos = set()
        for i, v in enumerate(variants_in):
            ovs = v.get("option_values") or []
            if not ovs:
                raise ApiError(422, "JSON data is missing or invalid",
                               {"variants.%d.option_values" % i: "error.path.missing"})
            names = []
            for j, ov in enumerate(ovs):
                if "option_display_name" not in ov or "label" not in ov:
                    # a new product has no option ids yet to point at
                    raise ApiError(422, "JSON data is missing or invalid",
                                   {"variants.%d.option_values.%d.option_display_name" % (i, j): "error.path.missing"})
                names.append(ov["option_display_name"])
            if option_names is None:
                option_names = names
            elif sorted(n.casefold() for n in names) != sorted(n.casefold() for n in option_names):
                # *(constructed)*: every variant must pick a value of each option
                raise ApiError(422, "Variant option values do not match the product's options.",
                               {"variants.%d.option_values" % i: "error.invalid"})
            combo = tuple(sorted((ov["option_display_name"].casefold(), ov["label"].casefold()) for ov in ovs))
            if combo in combos:
                raise ApiError(409, "A variant with the same option values already exists.",
                               {"variants.%d.option_values" % i: "duplicate"})
            combos.add(combo)

        pid = self.next_id("product")
        now = self.now_iso()
        p = dict(copy.deepcopy(PRODUCT_DEFAULTS), id=pid, date_created=now, date_modified=now,
                 _base_variant=None, _options=[])
        for k, v in body.items():
            if k in PRODUCT_DEFAULTS:
                p[k] = copy.deepcopy(v)
        if not p.get("custom_url"):
            p["custom_url"] = {"url": "/%s/" % slugify(name), "is_customized": False}
        self.products[pid] = p
        self._index_sku("p", p)
        if variants_in:
            for v in variants_in:
                self._add_variant(p, v, v.get("option_values") or [])
        else:
            self._ensure_base_variant(p)
        if "inventory_level" in body:
            self.catalog_inventory_write(p, None, body["inventory_level"])
        for vin, vid in zip(variants_in, [x for x in self.product_variant_ids(p)]):
            if "inventory_level" in vin:
                self.catalog_inventory_write(p, self.variants[vid], vin["inventory_level"])
        return p

    def _ensure_base_variant(self, p):
        if p["_base_variant"] is None and not self.product_variant_ids(p):
            vid = self.next_id("variant")
            v = dict(copy.deepcopy(VARIANT_DEFAULTS), id=vid, product_id=p["id"], sku=p["sku"], sku_id=None,
                     _base=True, _option_values=[])
            self.variants[vid] = v
            self._index_variant(v)
            p["_base_variant"] = vid

    def product_variant_ids(self, p):
        return sorted(vid for vid in self._by_product.get(p["id"], ())
                      if vid in self.variants and self.variants[vid]["product_id"] == p["id"]
                      and not self.variants[vid]["_base"])

    def variant_ids_all(self, p):
        ids = self.product_variant_ids(p)
        if p["_base_variant"] is not None:
            ids = [p["_base_variant"]] + ids
        return ids

    def update_product(self, p, body):
        if "name" in body:
            if len(body["name"]) > MAX_NAME:
                raise ApiError(422, "JSON data is missing or invalid", {"name": "error.maxLength"})
            if self.name_taken(body["name"], p["id"]):
                raise ApiError(409, "The product name is a duplicate", {"name": "The product name is a duplicate"})
        if "sku" in body and self.sku_taken(body["sku"], product_id=p["id"], variant_id=p["_base_variant"]):
            raise self.sku_conflict(body["sku"])
        self.apply_product(p, body)

    def check_product_update(self, p, body, batch_skus, batch_names):
        """Conflict checks of one batch element, against the store and the
        other elements of the same batch (the batch is applied all or nothing)."""
        if "name" in body:
            f = body["name"].strip().casefold()
            if self.name_taken(body["name"], p["id"]) or f in batch_names:
                raise ApiError(409, "The product name is a duplicate", {"name": "The product name is a duplicate"})
            batch_names.add(f)
        if "sku" in body and body["sku"]:
            f = _fold(body["sku"])
            if self.sku_taken(body["sku"], product_id=p["id"], variant_id=p["_base_variant"]) or f in batch_skus:
                raise self.sku_conflict(body["sku"])
            batch_skus.add(f)

    def apply_product(self, p, body):
        for k, v in body.items():
            if k in PRODUCT_DEFAULTS:
                p[k] = copy.deepcopy(v)
        if "sku" in body:
            self._index_sku("p", p)
        if "sku" in body and p["_base_variant"] is not None:
            self.variants[p["_base_variant"]]["sku"] = body["sku"]
            self._index_sku("v", self.variants[p["_base_variant"]])
        if "inventory_level" in body:
            self.catalog_inventory_write(p, None, body["inventory_level"])
        p["date_modified"] = self.now_iso()

    def delete_product(self, p):
        for vid in self.variant_ids_all(p):
            self._drop_variant(vid)
        for oid in list(p["_options"]):
            for vid in self.options[oid]["_values"]:
                self.option_values.pop(vid, None)
            self.options.pop(oid, None)
        for key in [k for k in self.stock if k[0] == ("p", p["id"])]:
            del self.stock[key]
        del self.products[p["id"]]

    # ------------------------------------------------------------ options
    def find_or_create_option(self, p, display_name, label):
        opt = None
        for oid in p["_options"]:
            o = self.options[oid]
            if o["display_name"].casefold() == display_name.casefold():
                opt = o
                break
        if opt is None:
            opt = self.create_option(p, {"display_name": display_name, "type": "rectangles", "option_values": []})
        for vid in opt["_values"]:
            val = self.option_values[vid]
            if val["label"].casefold() == label.casefold():
                return opt, val
        return opt, self.create_option_value(opt, {"label": label, "sort_order": len(opt["_values"])})

    def create_option(self, p, body):
        for oid in p["_options"]:
            if self.options[oid]["display_name"].casefold() == body["display_name"].casefold():
                # "Option was in conflict with another option ... duplicate unique fields, such as name"
                raise ApiError(409, "The option display name is a duplicate",
                               {"display_name": "The option display name is a duplicate"})
        oid = self.next_id("option")
        o = {"id": oid, "product_id": p["id"], "display_name": body["display_name"],
             "type": body.get("type", "rectangles"), "config": body.get("config") or {},
             "sort_order": body.get("sort_order", len(p["_options"])), "image_url": body.get("image_url", ""),
             "_values": []}
        self.options[oid] = o
        p["_options"].append(oid)
        for ov in body.get("option_values") or []:
            self.create_option_value(o, ov)
        return o

    def create_option_value(self, o, body):
        vid = self.next_id("option_value")
        val = {"id": vid, "label": body["label"], "sort_order": body.get("sort_order", 0),
               "value_data": body.get("value_data"), "is_default": bool(body.get("is_default", False)),
               "_option": o["id"]}
        self.option_values[vid] = val
        o["_values"].append(vid)
        return val

    def option_view(self, o):
        return {"id": o["id"], "product_id": o["product_id"], "name": o["display_name"],
                "display_name": o["display_name"], "type": o["type"], "config": o["config"],
                "sort_order": o["sort_order"], "image_url": o["image_url"],
                "option_values": [self.option_value_view(self.option_values[v]) for v in o["_values"]]}

    @staticmethod
    def option_value_view(val):
        return {"id": val["id"], "label": val["label"], "sort_order": val["sort_order"],
                "value_data": val["value_data"], "is_default": val["is_default"]}

    # ------------------------------------------------------------ variants
    def _resolve_option_values(self, p, ovs, create):
        out = []
        for j, ov in enumerate(ovs):
            if ov.get("id") is not None and ov.get("option_id") is not None:
                val = self.option_values.get(ov["id"])
                if val is None or val["_option"] != ov["option_id"] or ov["option_id"] not in p["_options"]:
                    # *(constructed)*
                    raise ApiError(422, "Option value %s of option %s does not belong to product %d."
                                   % (ov.get("id"), ov.get("option_id"), p["id"]),
                                   {"option_values.%d" % j: "error.invalid"})
                out.append(val["id"])
            elif ov.get("option_display_name") and ov.get("label"):
                if not create:
                    raise ApiError(422, "JSON data is missing or invalid",
                                   {"option_values.%d.id" % j: "error.path.missing"})
                _, val = self.find_or_create_option(p, ov["option_display_name"], ov["label"])
                out.append(val["id"])
            else:
                raise ApiError(422, "JSON data is missing or invalid",
                               {"option_values.%d.id" % j: "error.path.missing"})
        return out

    def check_new_variant(self, p, body, extra_count=0):
        if len(self.product_variant_ids(p)) + 1 + extra_count > MAX_VARIANTS:
            # "600 SKUs per product limit" (createProductVariant); title *(constructed)*.
            raise ApiError(422, "The product has reached the maximum of %d variants (SKUs)." % MAX_VARIANTS,
                           {"variants": "The maximum number of variants is %d" % MAX_VARIANTS})
        if not body.get("sku"):
            raise ApiError(422, "JSON data is missing or invalid", {"sku": "error.path.missing"})
        if not body.get("option_values"):
            raise ApiError(422, "JSON data is missing or invalid", {"option_values": "error.path.missing"})
        if self.sku_taken(body["sku"]):
            raise self.sku_conflict(body["sku"])

    def create_variant(self, p, body):
        self.check_new_variant(p, body)
        value_ids = self._resolve_option_values(p, body["option_values"], create=True)
        v = self._add_variant(p, body, None, value_ids=value_ids)
        if "inventory_level" in body:
            self.catalog_inventory_write(p, v, body["inventory_level"])
        p["date_modified"] = self.now_iso()
        return v

    def _add_variant(self, p, body, ovs, value_ids=None):
        if value_ids is None:
            value_ids = [self.find_or_create_option(p, ov["option_display_name"], ov["label"])[1]["id"]
                         for ov in ovs]
        key = tuple(sorted(value_ids))
        for vid in self.product_variant_ids(p):
            if tuple(sorted(self.variants[vid]["_option_values"])) == key:
                # *(constructed)*
                raise ApiError(409, "A variant with the same option values already exists.",
                               {"option_values": "duplicate"})
        if p["_base_variant"] is not None:
            # a product with option variants has no base variant: base_variant_id
            # "is null for complex products" (product_Full.base_variant_id)
            self._drop_variant(p["_base_variant"])
            p["_base_variant"] = None
        vid = self.next_id("variant")
        v = dict(copy.deepcopy(VARIANT_DEFAULTS), id=vid, product_id=p["id"], sku=body.get("sku", ""),
                 sku_id=self.next_id("sku_id"), _base=False, _option_values=list(value_ids))
        for k, val in body.items():
            if k in VARIANT_DEFAULTS:
                v[k] = copy.deepcopy(val)
        self.variants[vid] = v
        self._index_variant(v)
        return v

    def update_variant(self, v, body):
        p = self.products[v["product_id"]]
        if "sku" in body and self.sku_taken(body["sku"], product_id=p["id"] if v["_base"] else None,
                                            variant_id=v["id"]):
            raise self.sku_conflict(body["sku"])
        self.apply_variant(v, body)

    def apply_variant(self, v, body):
        p = self.products[v["product_id"]]
        for k, val in body.items():
            if k in VARIANT_DEFAULTS:
                v[k] = copy.deepcopy(val)
        if "sku" in body:
            v["sku"] = body["sku"]
            self._index_sku("v", v)
            if v["_base"]:
                p["sku"] = body["sku"]
                self._index_sku("p", p)
        if "inventory_level" in body:
            self.catalog_inventory_write(p, v, body["inventory_level"])
        p["date_modified"] = self.now_iso()

    def _drop_variant(self, vid):
        self.variants.pop(vid, None)
        for key in [k for k in self.stock if k[0] == ("v", vid)]:
            del self.stock[key]

    def delete_variant(self, v):
        p = self.products[v["product_id"]]
        if v["_base"]:
            raise ApiError(422, "The base variant of a product cannot be deleted.", {})  # *(constructed)*
        self._drop_variant(v["id"])
        self._ensure_base_variant(p)
        p["date_modified"] = self.now_iso()

    # ------------------------------------------------------------ views
    def product_inventory_level(self, p):
        self.apply_due()
        if p["inventory_tracking"] == "product" or p["_base_variant"] is not None:
            return self._stock_sum(self.product_key(p))
        return sum(self.variant_inventory_level(self.variants[vid]) for vid in self.product_variant_ids(p))

    def variant_inventory_level(self, v):
        self.apply_due()
        return self._stock_sum(("v", v["id"]))

    def _stock_sum(self, key):
        # stock is keyed (item, location): one look per location
        return sum(self.stock.get((key, lid), 0) for lid in self.locations)

    def product_key(self, p):
        """Stock of a product as a whole: its base variant's item when it has
        one, else a product-level item (product-tracked complex product)."""
        if p["_base_variant"] is not None:
            return ("v", p["_base_variant"])
        return ("p", p["id"])

    def product_view(self, p, include=()):
        out = {"id": p["id"]}
        for k in PRODUCT_DEFAULTS:
            out[k] = copy.deepcopy(p[k])
        out["inventory_level"] = self.product_inventory_level(p)
        out["date_created"] = p["date_created"]
        out["date_modified"] = p["date_modified"]
        out["base_variant_id"] = p["_base_variant"]
        out["calculated_price"] = p["sale_price"] if p.get("sale_price") else p["price"]
        if "variants" in include:
            out["variants"] = [self.variant_view(self.variants[vid]) for vid in self.variant_ids_all(p)]
        if "options" in include:
            out["options"] = [self.option_view(self.options[o]) for o in p["_options"]]
        for sub in ("images", "custom_fields", "bulk_pricing_rules", "modifiers", "videos"):
            if sub in include:
                out[sub] = []
        if "primary_image" in include:
            out["primary_image"] = None
        return out

    def variant_view(self, v):
        p = self.products[v["product_id"]]
        out = {"id": v["id"], "product_id": v["product_id"], "sku": v["sku"], "sku_id": v["sku_id"]}
        for k in VARIANT_DEFAULTS:
            out[k] = copy.deepcopy(v[k])
        price = v["price"] if v["price"] is not None else p["price"]
        sale = v["sale_price"] if v["sale_price"] is not None else p.get("sale_price")
        out["calculated_price"] = sale if sale else price
        out["calculated_weight"] = v["weight"] if v["weight"] is not None else p["weight"]
        out["inventory_level"] = self.variant_inventory_level(v)
        out["option_values"] = []
        for vid in v["_option_values"]:
            val = self.option_values[vid]
            o = self.options[val["_option"]]
            out["option_values"].append({"id": val["id"], "label": val["label"], "option_id": o["id"],
                                         "option_display_name": o["display_name"]})
        return out

    # ------------------------------------------------------------ inventory
    def catalog_inventory_write(self, p, v, qty):
        """inventory_level written through the Catalog API lands at the
        default location: "Catalog endpoints ... now themselves use the
        Inventory API under the hood" (§B3). Over the limit the Catalog API
        clamps (§B3 "Limits")."""
        qty = max(0, min(int(qty), MAX_STOCK))
        key = ("v", v["id"]) if v is not None else self.product_key(p)
        self.stock[(key, 1)] = qty
        self.absolute_seen.add((key, 1))

    def resolve_item(self, item):
        """Inventory identity (sku | variant_id | product_id) -> item key, or
        an error title. Tracking rules: "Products tracked `by product` take
        `product_id`. Products tracked `by variant` take `variant_id`/`sku`"
        (§B3), with the documented 422 title for the mismatch."""
        if "variant_id" in item:
            v = self.variants.get(item["variant_id"])
            if v is None:
                return None, "variant_id %s" % item["variant_id"], "missing"
            p = self.products[v["product_id"]]
            mode = p["inventory_tracking"]
            if mode == "product":
                return None, "Item with variant_id %d is tracked by product, please update stock by product id" \
                    % v["id"], "mode"
            if mode == "none":
                return self._untracked(p, ("v", v["id"]), "variant_id %d" % v["id"])
            return ("v", v["id"]), None, None
        if "product_id" in item:
            p = self.products.get(item["product_id"])
            if p is None:
                return None, "product_id %s" % item["product_id"], "missing"
            mode = p["inventory_tracking"]
            if mode == "variant":
                # mirror of the documented message *(constructed)*
                return None, "Item with product_id %d is tracked by variant, please update stock by variant id" \
                    % p["id"], "mode"
            if mode == "none":
                return self._untracked(p, self.product_key(p), "product_id %d" % p["id"])
            return self.product_key(p), None, None
        sku = item.get("sku", "")
        owner = self.sku_owner(sku)
        if owner is None:
            return None, "sku %s" % sku, "missing"
        kind, obj = owner
        if kind == "variant":
            v = obj
            p = self.products[v["product_id"]]
            mode = p["inventory_tracking"]
            if mode == "product":
                if v["_base"]:
                    return self.product_key(p), None, None
                return None, "Item with sku %s is tracked by product, please update stock by product id" % sku, \
                    "mode"
            if mode == "none":
                return self._untracked(p, ("v", v["id"]), "sku %s" % sku)
            return ("v", v["id"]), None, None
        p = obj  # a complex product's own SKU
        mode = p["inventory_tracking"]
        if mode == "variant":
            return None, "Item with sku %s is tracked by variant, please update stock by variant id" % sku, "mode"
        if mode == "none":
            return self._untracked(p, self.product_key(p), "sku %s" % sku)
        return self.product_key(p), None, None

    def _untracked(self, p, key, ident):
        if self.untracked_inventory == "accept":
            return key, None, None
        # The reference does not say what BigCommerce does with stock for a
        # product whose inventory_tracking is "none" *(constructed)*.
        return None, "Item with %s is not tracked, set inventory_tracking on product %d first" % (ident, p["id"]), \
            "mode"

    def adjust(self, items, relative=False):
        """All-or-nothing adjustment; -> transaction id. Raises ApiError 422
        (application/problem+json) like the documented examples."""
        self.apply_due()
        missing_locations = sorted({it["location_id"] for it in items if it["location_id"] not in self.locations})
        if missing_locations:
            # title seen in a real answer: "Location not found, identities: [3,2]"
            raise ApiError(422, "Location not found, identities: [%s]" % ",".join(map(str, missing_locations)),
                           problem=True)
        changes = []
        missing, wrong_mode, need_absolute, bad_qty = [], [], [], []
        for it in items:
            key, msg, why = self.resolve_item(it)
            if key is None:
                (missing if why == "missing" else wrong_mode).append(msg)
                continue
            loc = it["location_id"]
            q = it["quantity"]
            if relative:
                if (key, loc) not in self.absolute_seen:
                    need_absolute.append(self._identity_text(it))
                    continue
                q = self.stock.get((key, loc), 0) + q
            if q < 0 or q > MAX_STOCK:
                bad_qty.append(self._identity_text(it))
                continue
            changes.append((key, loc, q))
        if wrong_mode:
            # documented: "[Item with variant_id 106 is tracked by product, please update stock by product id]"
            raise ApiError(422, "[%s]" % ", ".join(wrong_mode), problem=True)
        if missing:
            raise ApiError(422, "Items not found, identities: [%s]" % ", ".join(missing), problem=True)  # *(constructed)*
        if need_absolute:
            # documented: "Items with identity: [product_id 113] requires absolute adjustment before relative"
            raise ApiError(422, "Items with identity: [%s] requires absolute adjustment before relative"
                           % ", ".join(need_absolute), problem=True)
        if bad_qty:
            # "the Inventory API rejects while the Catalog API clamps" (§B3) *(title constructed)*
            raise ApiError(422, "Inventory level must be between 0 and %d, identities: [%s]"
                           % (MAX_STOCK, ", ".join(bad_qty)), problem=True)
        txid = str(uuid.uuid4())
        self.transactions.append({"transaction_id": txid, "relative": relative, "items": len(changes),
                                  "time": self.now_iso()})
        if self.inventory_lag > 0:
            # "It applies after a short delay, so reading back straight away may
            # show old values" (§B3)
            self.pending.append((self.clock.now() + self.inventory_lag, changes))
        else:
            self._apply(changes)
        self.counters["inventoryAdjustments"] += 1
        self.counters["inventoryItemsWritten"] += len(changes)
        return txid

    @staticmethod
    def _identity_text(it):
        for k in ("product_id", "variant_id", "sku"):
            if k in it:
                return "%s %s" % (k, it[k])
        return "?"

    def _apply(self, changes):
        for key, loc, q in changes:
            self.stock[(key, loc)] = q
            self.absolute_seen.add((key, loc))
            pid = key[1] if key[0] == "p" else (self.variants[key[1]]["product_id"] if key[1] in self.variants
                                                 else None)
            if pid in self.products:
                self.products[pid]["date_modified"] = self.now_iso()

    def apply_due(self):
        if not self.pending:
            return
        now = self.clock.now()
        due = [c for t, c in self.pending if t <= now]
        self.pending = [(t, c) for t, c in self.pending if t > now]
        for changes in due:
            self._apply(changes)

    def inventory_items(self):
        """One row per inventory item: the product as a whole for a
        product-tracked product, else each variant (base variants included)."""
        self.apply_due()
        rows = []
        for pid in sorted(self.products):
            p = self.products[pid]
            if p["inventory_tracking"] == "product" or p["_base_variant"] is not None:
                key = self.product_key(p)
                rows.append((key, {"sku": p["sku"], "variant_id": p["_base_variant"], "product_id": pid,
                                   "sku_id": None}))
            if p["inventory_tracking"] != "product":
                for vid in self.product_variant_ids(p):
                    v = self.variants[vid]
                    rows.append((("v", vid), {"sku": v["sku"], "variant_id": vid, "product_id": pid,
                                              "sku_id": v["sku_id"]}))
        return rows

    def item_location_row(self, key, loc):
        q = self.stock.get((key, loc["id"]), 0)
        return {"location_id": loc["id"], "location_code": loc["code"], "location_name": loc["label"],
                "available_to_sell": q, "total_inventory_onhand": q, "location_enabled": loc["enabled"],
                "settings": {"safety_stock": 0, "is_in_stock": q > 0, "warning_level": 0,
                             "bin_picking_number": ""}}

    # ------------------------------------------------------------ dump/load
    def view(self):
        self.apply_due()
        products = []
        for pid in sorted(self.products):
            p = self.products[pid]
            products.append({"id": pid, "name": p["name"], "sku": p["sku"], "type": p["type"],
                             "price": p["price"], "sale_price": p["sale_price"], "retail_price": p["retail_price"],
                             "cost_price": p["cost_price"], "is_visible": p["is_visible"],
                             "inventory_tracking": p["inventory_tracking"], "categories": p["categories"],
                             "base_variant_id": p["_base_variant"], "variant_ids": self.variant_ids_all(p),
                             "options": [self.option_view(self.options[o]) for o in p["_options"]],
                             "inventory": self._stock_of(self.product_key(p)) if
                             (p["inventory_tracking"] == "product" or p["_base_variant"] is not None) else {},
                             "inventory_level": self.product_inventory_level(p),
                             "date_modified": p["date_modified"]})
        variants = []
        for vid in sorted(self.variants):
            v = self.variants[vid]
            vv = self.variant_view(v)
            variants.append({"id": vid, "product_id": v["product_id"], "sku": v["sku"], "base": v["_base"],
                             "price": v["price"], "calculated_price": vv["calculated_price"],
                             "sale_price": v["sale_price"], "retail_price": v["retail_price"],
                             "cost_price": v["cost_price"], "upc": v["upc"],
                             "option_values": [{"option": o["option_display_name"], "label": o["label"]}
                                               for o in vv["option_values"]],
                             "inventory": self._stock_of(("v", vid))})
        return {"locations": [dict(self.locations[k]) for k in sorted(self.locations)],
                "products": products, "variants": variants,
                "stock": [{"item": "%s%d" % (k[0], k[1]), "location_id": loc, "quantity": q}
                          for (k, loc), q in sorted(self.stock.items())],
                "pendingAdjustments": sum(len(c) for _, c in self.pending),
                "transactions": list(self.transactions[-50:]),
                "counters": copy.deepcopy(self.counters)}

    def _stock_of(self, key):
        return {str(loc): q for (k, loc), q in sorted(self.stock.items()) if k == key}

    def dump(self):
        self.apply_due()
        return {"seq": self.seq, "products": list(self.products.values()), "variants": list(self.variants.values()),
                "options": list(self.options.values()), "option_values": list(self.option_values.values()),
                "locations": list(self.locations.values()),
                "stock": [[k[0], k[1], loc, q] for (k, loc), q in self.stock.items()],
                "absolute_seen": [[k[0], k[1], loc] for (k, loc) in self.absolute_seen],
                "counters": self.counters}

    def load(self, d):
        self.reset(default_locations=False)
        self.seq.update(d.get("seq") or {})
        self.products = {p["id"]: p for p in d.get("products", [])}
        self.variants = {v["id"]: v for v in d.get("variants", [])}
        self._reindex()
        self.options = {o["id"]: o for o in d.get("options", [])}
        self.option_values = {v["id"]: v for v in d.get("option_values", [])}
        self.locations = {l["id"]: l for l in d.get("locations", [])}
        self.stock = {((a, b), loc): q for a, b, loc, q in d.get("stock", [])}
        self.absolute_seen = {((a, b), loc) for a, b, loc in d.get("absolute_seen", [])}
        self.counters.update(d.get("counters") or {})
        if not self.locations:
            self.add_location("Main Store", code="DEFAULT")
            self.add_location("Warehouse", code="WAREHOUSE")
