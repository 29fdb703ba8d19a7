"""In-memory WooCommerce catalog: products, variations, global attributes and
their terms, with WooCommerce's data rules.

Sources: shared/reference/platforms-woocommerce-magento.md part A ("§A3" etc.)
and the example bodies in shared/reference/platforms/woocommerce/; where the
reference quotes WooCommerce's source, the behaviour follows that source
(named inline: WC_Product::set_sku, wc_format_decimal, ...).

Handlers receive params already checked against the route index (single
endpoints) or raw (batch items, which WooCommerce does not schema-check:
WC_REST_Controller::batch_items calls create_item/update_item directly), so
every setter here coerces the way WooCommerce's setters do.
"""

import copy
import datetime as _dt
import re

VALID_STATUSES = ("draft", "pending", "private", "publish", "future")
PRODUCT_TYPES = ("simple", "grouped", "external", "variable")


class WooError(Exception):
    """A WP_Error: {"code", "message", "data": {"status", ...}}."""

    def __init__(self, code, message, status=400, **data):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = dict(status=status, **data)
        self.status = status

    def body(self):
        return {"code": self.code, "message": self.message, "data": self.data}


# ------------------------------------------------------------------ PHP-ish coercion

def php_string(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else ""
    if isinstance(v, float):
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, (list, dict)):
        return "Array"
    return str(v)


def wc_format_decimal(v):
    """wc_format_decimal: locale decimal point -> '.', then everything but
    digits, '.' and '-' is removed and only the last dot kept ("21,99" becomes
    "2199" when the store's decimal separator is '.')."""
    if v is None:
        return ""
    if isinstance(v, float):
        return php_string(v)
    s = php_string(v).strip()
    return re.sub(r"\.(?![^.]+$)|[^0-9.\-]", "", s)


def wc_stock_amount(v):
    """wc_stock_amount -> intval."""
    if v is None or v == "":
        return 0
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return int(v)
    m = re.match(r"^\s*[+-]?\d+", str(v))
    return int(m.group(0)) if m else 0


def wc_string_to_bool(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        return v.lower() in ("yes", "true", "1")
    return v == 1


def sanitize_title(s):
    s = (s or "").strip().lower()
    s = re.sub(r"<[^>]*>", "", s)
    s = re.sub(r"[^\w\s-]", "", s, flags=re.UNICODE)
    s = re.sub(r"[\s_]+", "-", s)
    return re.sub(r"-+", "-", s).strip("-")


class Store:
    def __init__(self, clock, utc_offset_hours=0.0, sku_case_sensitive=False):
        self.clock = clock
        self.utc_offset = float(utc_offset_hours)
        self.sku_case_sensitive = sku_case_sensitive
        self.reset()

    def reset(self):
        self.seq = {"post": 0, "attribute": 0, "term": 0, "meta": 0}
        self.products = {}     # id -> product (post_type product)
        self.variations = {}   # id -> variation (post_type product_variation)
        self.attributes = {}   # id -> global attribute (with "terms": {id: term})
        self.counters = {"requests": 0, "requestsByOperation": {}, "writes": 0, "rejected": 0, "throttled": 0,
                         "authFailures": 0, "batchRequests": 0, "batchItems": 0, "batchItemErrors": 0,
                         "batchItemsCoerced": 0}
        self._reindex()

    # ------------------------------------------------------------ indexes
    # Lookups by SKU, variations by parent, slugs and attribute terms in use, so a store of
    # 10,000 products answers as fast as a small one. Entries are added where a product or
    # variation is stored and checked against the live records when read, so a stale one is
    # harmless (a rename, a delete, a trashed parent).
    def _reindex(self):
        self._by_sku = {}        # casefolded SKU -> {("p"|"v", id)}
        self._by_parent = {}     # product id -> {variation id}
        self._by_slug = {}       # product slug -> {product id}
        self._by_term = {}       # (attribute id, term name) -> {product id}
        for p in self.products.values():
            self._index_product(p)
        for v in self.variations.values():
            self._index_variation(v)

    def _index_sku(self, kind, obj):
        if obj["sku"]:
            # casefolded whatever the collation: equal SKUs casefold equal, so this also
            # serves --sku-case-sensitive (the candidates are compared with _fold)
            self._by_sku.setdefault(obj["sku"].casefold(), set()).add((kind, obj["id"]))

    def _index_product(self, p):
        self._index_sku("p", p)
        self._by_slug.setdefault(p["slug"], set()).add(p["id"])
        for pa in p["attributes"]:
            for name in pa["options"]:
                self._by_term.setdefault((pa["id"], name), set()).add(p["id"])

    def _index_variation(self, v):
        self._index_sku("v", v)
        self._by_parent.setdefault(v["parent_id"], set()).add(v["id"])

    def _live(self, kind, obj):
        if kind == "p":
            return obj["status"] != "trash"
        parent = self.products.get(obj["parent_id"])
        return parent is None or parent["status"] != "trash"

    def sku_matches(self, f):
        """Live products, then live variations, whose folded SKU is f (each in id order, the
        order _live_objects walks them)."""
        out = []
        for kind, i in sorted(self._by_sku.get(f.casefold(), ())):
            obj = (self.products if kind == "p" else self.variations).get(i)
            if obj is not None and obj["id"] == i and self._fold(obj["sku"]) == f and self._live(kind, obj):
                out.append(obj)
        return out

    def count(self, name, key=None, n=1):
        if key is None:
            self.counters[name] = self.counters.get(name, 0) + n
        else:
            d = self.counters.setdefault(name, {})
            d[key] = d.get(key, 0) + n

    def next_post_id(self):
        # products and variations share the posts table's id sequence
        self.seq["post"] += 1
        return self.seq["post"]

    # ------------------------------------------------------------ dates
    def now(self):
        return self.clock.now()

    def local_iso(self, t):
        if t is None:
            return None
        return _dt.datetime.fromtimestamp(int(t) + int(self.utc_offset * 3600), _dt.timezone.utc) \
            .strftime("%Y-%m-%dT%H:%M:%S")

    @staticmethod
    def gmt_iso(t):
        if t is None:
            return None
        return _dt.datetime.fromtimestamp(int(t), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")

    # ------------------------------------------------------------ SKUs
    def _fold(self, sku):
        # The SKU lookup compares with the database collation; WordPress's
        # default (utf8mb4_unicode_ci) is case-insensitive. --sku-case-sensitive
        # models a binary collation.
        s = sku or ""
        return s if self.sku_case_sensitive else s.casefold()

    def _live_objects(self):
        for p in self.products.values():
            if p["status"] != "trash":
                yield p
        for v in self.variations.values():
            parent = self.products.get(v["parent_id"])
            if parent is None or parent["status"] != "trash":
                yield v

    def find_by_sku(self, sku):
        """wc_get_product_id_by_sku: products and variations, not trashed."""
        f = self._fold(sku)
        if not f:
            return None
        hits = self.sku_matches(f)
        return hits[0] if hits else None

    def sku_unique(self, own_id, sku):
        f = self._fold(sku)
        if not f:
            return not any(self._fold(o["sku"]) == f and o["id"] != own_id for o in self._live_objects())
        return not any(o["id"] != own_id for o in self.sku_matches(f))

    def unique_sku(self, own_id, sku):
        """wc_product_generate_unique_sku: sku, sku-1, sku-2, ..."""
        i = 0
        while True:
            cand = sku if i == 0 else "%s-%d" % (sku, i)
            if self.sku_unique(own_id, cand):
                return cand
            i += 1

    def set_sku(self, obj, value):
        """WC_Product::set_sku: a non-empty SKU already used by another
        product or variation -> WC_Data_Exception product_invalid_sku, 400,
        with resource_id (the owner) and unique_sku (§A3)."""
        sku = php_string(value).strip()
        if sku and not self.sku_unique(obj.get("id", 0), sku):
            owner = self.find_by_sku(sku)
            raise WooError("product_invalid_sku", "Invalid or duplicated SKU.", 400,
                           resource_id=owner["id"] if owner else 0,
                           unique_sku=self.unique_sku(obj.get("id", 0), sku))
        obj["sku"] = sku

    # ------------------------------------------------------------ attributes
    def attribute_by_id(self, aid):
        return self.attributes.get(aid)

    def create_attribute(self, params):
        name = php_string(params.get("name")).strip()
        slug = sanitize_title(php_string(params.get("slug") or "")) or sanitize_title(name)
        if slug.startswith("pa_") or slug.startswith("pa-"):
            slug = slug[3:]
        self._check_attribute_slug(slug, None)
        aid = self.seq["attribute"] = self.seq["attribute"] + 1
        a = {"id": aid, "name": name, "slug": slug,
             "type": params.get("type") or "select",
             "order_by": params.get("order_by") or "menu_order",
             "has_archives": params.get("has_archives") is True, "terms": {}}
        self.attributes[aid] = a
        return a

    def _check_attribute_slug(self, slug, own_id):
        # wc_create_attribute / wc_update_attribute slug rules
        if len(slug) > 28:
            raise WooError("invalid_product_attribute_slug_too_long",
                           'Slug "%s" is too long (28 characters max). Shorten it, please.' % slug, 400)
        if slug in ("type", "product", "attribute", "category", "tag", "page", "post", "order", "name", "term"):
            raise WooError("invalid_product_attribute_slug_reserved_name",
                           'Slug "%s" is not allowed because it is a reserved term. Change it, please.' % slug, 400)
        for a in self.attributes.values():
            if a["slug"] == slug and a["id"] != own_id:
                raise WooError("invalid_product_attribute_slug_already_exists",
                               'Slug "%s" is already in use. Change it, please.' % slug, 400)

    def update_attribute(self, a, params):
        if "slug" in params and params["slug"]:
            slug = sanitize_title(php_string(params["slug"]))
            if slug.startswith("pa_"):
                slug = slug[3:]
            self._check_attribute_slug(slug, a["id"])
            a["slug"] = slug
        for k in ("name", "type", "order_by"):
            if params.get(k):
                a[k] = php_string(params[k])
        if "has_archives" in params:
            a["has_archives"] = params["has_archives"] is True

    def attribute_view(self, a):
        return {"id": a["id"], "name": a["name"], "slug": "pa_" + a["slug"], "type": a["type"],
                "order_by": a["order_by"], "has_archives": a["has_archives"]}

    def find_term(self, a, name):
        f = (name or "").strip().casefold()
        for t in a["terms"].values():
            if t["name"].casefold() == f:
                return t
        return None

    def find_term_by_slug(self, a, slug):
        for t in a["terms"].values():
            if t["slug"] == slug:
                return t
        return None

    def create_term(self, a, params):
        """wp_insert_term; a name already used in the taxonomy -> term_exists,
        which WooCommerce answers 400 with resource_id (terms controller)."""
        name = php_string(params.get("name")).strip()
        if not name:
            raise WooError("empty_term_name", "A name is required for this term.", 400)
        existing = self.find_term(a, name)
        if existing:
            raise WooError("term_exists", "A term with the name provided already exists in this taxonomy.", 400,
                           resource_id=existing["id"])
        base = sanitize_title(php_string(params.get("slug") or "")) or sanitize_title(name) or "term"
        slug, i = base, 2
        while self.find_term_by_slug(a, slug):
            slug, i = "%s-%d" % (base, i), i + 1
        tid = self.seq["term"] = self.seq["term"] + 1
        t = {"id": tid, "name": name, "slug": slug, "description": php_string(params.get("description")),
             "menu_order": wc_stock_amount(params.get("menu_order", 0))}
        a["terms"][tid] = t
        return t

    def update_term(self, a, t, params):
        if params.get("name"):
            other = self.find_term(a, params["name"])
            if other and other["id"] != t["id"]:
                raise WooError("duplicate_term_slug", "A term with the name provided already exists in this "
                               "taxonomy.", 400, resource_id=other["id"])
            t["name"] = php_string(params["name"]).strip()
        if params.get("slug"):
            t["slug"] = sanitize_title(php_string(params["slug"]))
        if "description" in params:
            t["description"] = php_string(params["description"])
        if "menu_order" in params:
            t["menu_order"] = wc_stock_amount(params["menu_order"])

    def term_view(self, a, t):
        count = 0
        for pid in self._by_term.get((a["id"], t["name"]), ()):
            p = self.products.get(pid)
            for pa in (p["attributes"] if p is not None else ()):
                if pa["id"] == a["id"] and t["name"] in pa["options"]:
                    count += 1
        return {"id": t["id"], "name": t["name"], "slug": t["slug"], "description": t["description"],
                "menu_order": t["menu_order"], "count": count}

    def delete_attribute(self, a):
        del self.attributes[a["id"]]
        for p in self.products.values():
            p["attributes"] = [x for x in p["attributes"] if x["id"] != a["id"]]

    # ------------------------------------------------------------ products
    def new_product(self):
        now = self.now()
        return {"id": 0, "name": "", "slug": "", "type": "simple", "status": "publish", "featured": False,
                "catalog_visibility": "visible", "description": "", "short_description": "", "sku": "",
                "global_unique_id": "", "regular_price": "", "sale_price": "", "date_on_sale_from": None,
                "date_on_sale_to": None, "virtual": False, "downloadable": False, "downloads": [],
                "download_limit": -1, "download_expiry": -1, "external_url": "", "button_text": "",
                "tax_status": "taxable", "tax_class": "", "manage_stock": False, "stock_quantity": None,
                "stock_status": "instock", "backorders": "no", "low_stock_amount": None,
                "sold_individually": False, "weight": "", "dimensions": {"length": "", "width": "", "height": ""},
                "shipping_class": "", "reviews_allowed": True, "upsell_ids": [], "cross_sell_ids": [],
                "parent_id": 0, "purchase_note": "", "categories": [], "tags": [], "images": [],
                "attributes": [], "default_attributes": [], "menu_order": 0, "meta_data": [],
                "date_created": now, "date_modified": now}

    def unique_slug(self, base, own_id):
        base = base or "product"
        slug, i = base, 2
        while self._slug_taken(slug, own_id):
            slug, i = "%s-%d" % (base, i), i + 1
        return slug

    def _slug_taken(self, slug, own_id):
        for pid in self._by_slug.get(slug, ()):
            p = self.products.get(pid)
            if p is not None and p["slug"] == slug and p["id"] != own_id:
                return True
        return False

    def save_product(self, params, existing=None):
        """create_item / update_item of the products controller
        (prepare_object_for_database + save). Raises WooError; nothing is
        stored when it does (the exception happens before save())."""
        creating = existing is None
        p = copy.deepcopy(existing) if existing else self.new_product()
        if creating and params.get("id"):
            raise WooError("woocommerce_rest_product_exists", "Cannot create existing product.", 400)
        if "type" in params and params["type"] is not None:
            p["type"] = params["type"] if params["type"] in PRODUCT_TYPES else "simple"
        if "name" in params and params["name"] is not None:
            p["name"] = php_string(params["name"])
        if "slug" in params and params["slug"]:
            p["slug"] = sanitize_title(php_string(params["slug"]))
        if "status" in params and params["status"] is not None:
            p["status"] = params["status"] if params["status"] in VALID_STATUSES else "draft"
        for k in ("description", "short_description", "purchase_note", "external_url", "button_text", "weight",
                  "tax_class", "shipping_class", "global_unique_id"):
            if k in params and params[k] is not None:
                p[k] = php_string(params[k])
        for k in ("featured", "virtual", "downloadable", "sold_individually", "reviews_allowed"):
            if k in params and params[k] is not None:
                p[k] = wc_string_to_bool(params[k])
        if params.get("catalog_visibility") is not None:
            if params["catalog_visibility"] not in ("visible", "catalog", "search", "hidden"):
                raise WooError("product_invalid_catalog_visibility", "Invalid catalog visibility option.", 400)
            p["catalog_visibility"] = params["catalog_visibility"]
        if params.get("tax_status") is not None:
            ts = php_string(params["tax_status"]).lower() or "taxable"
            if ts not in ("taxable", "shipping", "none"):
                raise WooError("product_invalid_tax_status", "Invalid product tax status.", 400)
            p["tax_status"] = ts
        for k in ("menu_order", "parent_id"):
            if k in params and params[k] is not None:
                p[k] = wc_stock_amount(params[k])
        for k in ("upsell_ids", "cross_sell_ids"):
            if isinstance(params.get(k), list):
                p[k] = [wc_stock_amount(x) for x in params[k]]
        if isinstance(params.get("dimensions"), dict):
            for k in ("length", "width", "height"):
                if k in params["dimensions"]:
                    p["dimensions"][k] = php_string(params["dimensions"][k])
        for k in ("categories", "tags"):
            if isinstance(params.get(k), list):
                p[k] = [{"id": wc_stock_amount(x.get("id")), "name": "", "slug": ""}
                        for x in params[k] if isinstance(x, dict)]
        if isinstance(params.get("images"), list):
            p["images"] = [{"id": 1000 + i, "src": php_string(x.get("src", "")), "name": php_string(x.get("name")),
                            "alt": php_string(x.get("alt"))} for i, x in enumerate(params["images"])
                           if isinstance(x, dict)]
        if isinstance(params.get("meta_data"), list):
            self._set_meta(p, params["meta_data"])
        if "sku" in params and params["sku"] is not None:
            self.set_sku(p, params["sku"])
        # Prices: only for products that have their own price (§A3 "price is
        # read-only"; variable/grouped parents derive it)
        if p["type"] not in ("variable", "grouped"):
            if "regular_price" in params and params["regular_price"] is not None:
                p["regular_price"] = wc_format_decimal(params["regular_price"])
            if "sale_price" in params and params["sale_price"] is not None:
                p["sale_price"] = wc_format_decimal(params["sale_price"])
        for k in ("date_on_sale_from", "date_on_sale_to"):
            if k in params:
                p[k] = params[k] or None
        if isinstance(params.get("attributes"), list):
            p["attributes"] = self._product_attributes(params["attributes"])
        if isinstance(params.get("default_attributes"), list):
            p["default_attributes"] = self._default_attributes(p, params["default_attributes"])
        self._stock(p, params)
        if creating:
            p["id"] = self.next_post_id()
        if not p["slug"]:
            p["slug"] = sanitize_title(p["name"]) or "product"
        p["slug"] = self.unique_slug(p["slug"], p["id"])
        p["date_modified"] = self.now()
        self._stock_status(p)
        self.products[p["id"]] = p
        self._index_product(p)
        return p

    def _set_meta(self, obj, metas):
        for m in metas:
            if not isinstance(m, dict) or "key" not in m:
                continue
            for x in obj["meta_data"]:
                if x["key"] == m["key"]:
                    x["value"] = m.get("value")
                    break
            else:
                self.seq["meta"] += 1
                obj["meta_data"].append({"id": self.seq["meta"], "key": m["key"], "value": m.get("value")})

    def _stock(self, p, params):
        """Products controller, stock data (store option woocommerce_manage_stock
        = yes): stock_quantity is applied only when the product manages stock;
        without it the quantity is cleared (§A3)."""
        if params.get("manage_stock") is not None:
            p["manage_stock"] = wc_string_to_bool(params["manage_stock"])
        if params.get("backorders") is not None:
            p["backorders"] = params["backorders"] if params["backorders"] in ("no", "notify", "yes") else "no"
        status = p["stock_status"]
        if params.get("in_stock") is not None:
            status = "instock" if wc_string_to_bool(params["in_stock"]) else "outofstock"
        if params.get("stock_status") in ("instock", "outofstock", "onbackorder"):
            status = params["stock_status"]
        if p["type"] == "grouped":
            p["manage_stock"], p["backorders"], p["stock_quantity"] = False, "no", None
            p["stock_status"] = status
        elif p["type"] == "external":
            p["manage_stock"], p["backorders"], p["stock_quantity"] = False, "no", None
            p["stock_status"] = "instock"
        elif p["manage_stock"]:
            if p["type"] != "variable":
                p["stock_status"] = status
            if params.get("stock_quantity") is not None:
                p["stock_quantity"] = wc_stock_amount(params["stock_quantity"])
            elif params.get("inventory_delta") is not None:
                p["stock_quantity"] = wc_stock_amount(p["stock_quantity"]) + wc_stock_amount(params["inventory_delta"])
            elif p["stock_quantity"] is None:
                p["stock_quantity"] = 0
            if "low_stock_amount" in params:
                p["low_stock_amount"] = None if params["low_stock_amount"] is None else \
                    wc_stock_amount(params["low_stock_amount"])
        else:
            p["stock_quantity"] = None
            p["stock_status"] = status

    @staticmethod
    def _stock_status(obj):
        """validate_props: a product managing stock is in stock when its
        quantity is above 0 (woocommerce_notify_no_stock_amount), else out of
        stock or on backorder."""
        if obj.get("manage_stock") and obj.get("stock_quantity") is not None:
            if obj["stock_quantity"] > 0:
                obj["stock_status"] = "instock"
            else:
                obj["stock_status"] = "onbackorder" if obj.get("backorders", "no") != "no" else "outofstock"

    def _product_attributes(self, items):
        """prepare_attributes: global attributes by id (options are term names,
        missing terms are created: WC_Product_Attribute::get_terms), custom
        ones by name."""
        out = []
        for it in items:
            if not isinstance(it, dict):
                continue
            aid = wc_stock_amount(it.get("id")) if it.get("id") else 0
            opts = it.get("options")
            if isinstance(opts, str):
                opts = [o.strip() for o in opts.split("|")]  # WC_DELIMITER
            opts = [php_string(o).strip() for o in (opts or []) if php_string(o).strip() != ""]
            common = {"position": wc_stock_amount(it.get("position", 0)),
                      "visible": wc_string_to_bool(it.get("visible", False)),
                      "variation": wc_string_to_bool(it.get("variation", False))}
            if aid:
                a = self.attributes.get(aid)
                if a is None or not opts:
                    continue
                names = []
                for o in opts:
                    t = self.find_term(a, o) or self.create_term(a, {"name": o})
                    names.append(t["name"])
                out.append(dict(common, id=aid, name=a["name"], options=names))
            elif it.get("name") and "options" in it:
                out.append(dict(common, id=0, name=php_string(it["name"]), options=opts))
        return out

    def _default_attributes(self, p, items):
        out = []
        for it in items:
            if not isinstance(it, dict):
                continue
            aid = wc_stock_amount(it.get("id")) if it.get("id") else 0
            if aid and aid in self.attributes:
                out.append({"id": aid, "name": self.attributes[aid]["name"], "option": php_string(it.get("option"))})
            elif it.get("name"):
                out.append({"id": 0, "name": php_string(it["name"]), "option": php_string(it.get("option"))})
        return out

    def delete_product(self, p, force):
        if not force:
            if p["status"] == "trash":
                raise WooError("woocommerce_rest_already_trashed", "The product has already been deleted.", 410)
            p["status"] = "trash"
            p["date_modified"] = self.now()
            return p
        for vid in sorted(self._by_parent.pop(p["id"], ())):
            if vid in self.variations and self.variations[vid]["parent_id"] == p["id"]:
                del self.variations[vid]
        del self.products[p["id"]]
        return p

    # ------------------------------------------------------------ variations
    def new_variation(self, parent_id):
        now = self.now()
        return {"id": 0, "parent_id": parent_id, "sku": "", "global_unique_id": "", "description": "",
                "regular_price": "", "sale_price": "", "date_on_sale_from": None, "date_on_sale_to": None,
                "status": "publish", "virtual": False, "downloadable": False, "tax_status": "taxable",
                "tax_class": "", "manage_stock": False, "stock_quantity": None, "stock_status": "instock",
                "backorders": "no", "low_stock_amount": None, "weight": "",
                "dimensions": {"length": "", "width": "", "height": ""}, "shipping_class": "",
                "image": None, "attributes": {}, "menu_order": 0, "meta_data": [],
                "date_created": now, "date_modified": now}

    def variations_of(self, pid):
        """The variations whose parent is pid, in id order."""
        out = []
        for vid in sorted(self._by_parent.get(pid, ())):
            v = self.variations.get(vid)
            if v is not None and v["parent_id"] == pid:
                out.append(v)
        return out

    def children(self, p):
        return sorted(self.variations_of(p["id"]), key=lambda v: (v["menu_order"], v["id"]))

    def save_variation(self, parent, params, existing=None):
        """Variations controller prepare_object_for_database (V3)."""
        creating = existing is None
        if creating and params.get("id"):
            raise WooError("woocommerce_rest_product_variation_exists", "Cannot create existing product_variation.",
                           400)
        v = copy.deepcopy(existing) if existing else self.new_variation(parent["id"] if parent else 0)
        if params.get("status") is not None:
            v["status"] = params["status"] if params["status"] in VALID_STATUSES else "draft"
        if params.get("sku") is not None:
            self.set_sku(v, params["sku"])
        for k in ("virtual", "downloadable"):
            if params.get(k) is not None:
                v[k] = wc_string_to_bool(params[k])
        for k in ("weight", "shipping_class", "tax_class", "global_unique_id"):
            if params.get(k) is not None:
                v[k] = php_string(params[k])
        if isinstance(params.get("dimensions"), dict):
            for k in ("length", "width", "height"):
                if k in params["dimensions"]:
                    v["dimensions"][k] = php_string(params["dimensions"][k])
        if params.get("manage_stock") is not None:
            v["manage_stock"] = params["manage_stock"] != "parent" and wc_string_to_bool(params["manage_stock"])
        if params.get("stock_status") in ("instock", "outofstock", "onbackorder"):
            v["stock_status"] = params["stock_status"]
        if params.get("backorders") is not None:
            v["backorders"] = params["backorders"] if params["backorders"] in ("no", "notify", "yes") else "no"
        if v["manage_stock"]:
            if params.get("stock_quantity") is not None:
                v["stock_quantity"] = wc_stock_amount(params["stock_quantity"])
            elif params.get("inventory_delta") is not None:
                v["stock_quantity"] = wc_stock_amount(v["stock_quantity"]) + wc_stock_amount(params["inventory_delta"])
            elif v["stock_quantity"] is None:
                v["stock_quantity"] = 0
            if "low_stock_amount" in params:
                v["low_stock_amount"] = None if params["low_stock_amount"] is None else \
                    wc_stock_amount(params["low_stock_amount"])
        else:
            # "with manage_stock false the server clears stock quantity" (§A3)
            v["backorders"] = "no"
            v["stock_quantity"] = None
            v["low_stock_amount"] = None
        if params.get("regular_price") is not None:
            v["regular_price"] = wc_format_decimal(params["regular_price"])
        if params.get("sale_price") is not None:
            v["sale_price"] = wc_format_decimal(params["sale_price"])
        for k in ("date_on_sale_from", "date_on_sale_to"):
            if k in params:
                v[k] = params[k] or None
        if params.get("description") is not None:
            v["description"] = php_string(params["description"])
        if isinstance(params.get("attributes"), list):
            if parent is None:
                raise WooError("woocommerce_rest_product_variation_invalid_parent",
                               "Cannot set attributes due to invalid parent product.", 404)
            v["attributes"] = self._variation_attributes(parent, params["attributes"])
        if params.get("menu_order"):
            v["menu_order"] = wc_stock_amount(params["menu_order"])
        if isinstance(params.get("meta_data"), list):
            self._set_meta(v, params["meta_data"])
        if isinstance(params.get("image"), dict):
            v["image"] = {"id": wc_stock_amount(params["image"].get("id")) or 1,
                          "src": php_string(params["image"].get("src", "")), "name": "", "alt": ""}
        if creating:
            v["id"] = self.next_post_id()
        v["date_modified"] = self.now()
        self._stock_status(v)
        self.variations[v["id"]] = v
        self._index_variation(v)
        if parent is not None:
            parent["date_modified"] = self.now()
        return v

    def _variation_attributes(self, parent, items):
        """Attributes not on the parent with variation:true are silently
        ignored; a taxonomy option is stored as the term's slug (§A3 step 3)."""
        out = {}
        for it in items:
            if not isinstance(it, dict):
                continue
            pa = None
            if it.get("id"):
                aid = wc_stock_amount(it["id"])
                pa = next((x for x in parent["attributes"] if x["id"] == aid and aid), None)
            elif it.get("name"):
                n = sanitize_title(php_string(it["name"]))
                pa = next((x for x in parent["attributes"] if not x["id"] and sanitize_title(x["name"]) == n), None)
            if pa is None or not pa["variation"]:
                continue
            value = php_string(it.get("option", "")).strip()
            if pa["id"]:
                a = self.attributes.get(pa["id"])
                t = self.find_term(a, value) if a else None
                out["pa_" + a["slug"] if a else str(pa["id"])] = t["slug"] if t else sanitize_title(value)
            else:
                out[sanitize_title(pa["name"])] = value
        return out

    def delete_variation(self, v, force):
        if not force:
            raise WooError("woocommerce_rest_trash_not_supported", "The product_variation does not support trashing.",
                           501)
        del self.variations[v["id"]]
        return v

    # ------------------------------------------------------------ views
    @staticmethod
    def _on_sale(o):
        sale, reg = o.get("sale_price", ""), o.get("regular_price", "")
        if sale == "":
            return False
        try:
            return reg == "" or float(sale) < float(reg)
        except ValueError:
            return False

    def price_of(self, o):
        return o["sale_price"] if self._on_sale(o) else o["regular_price"]

    @staticmethod
    def price_html(price):
        if price == "":
            return ""
        return ('<span class="woocommerce-Price-amount amount"><span class="woocommerce-Price-currencySymbol">'
                '&#36;</span>%s</span>' % price)

    def permalink(self, home, slug):
        return "%s/product/%s/" % (home, slug)

    def product_view(self, p, home):
        if p["type"] == "variable":
            prices = [self.price_of(v) for v in self.children(p) if v["status"] == "publish"
                      and self.price_of(v) != ""]
            price = min(prices, key=float) if prices else ""
        else:
            price = self.price_of(p)
        out = {
            "id": p["id"], "name": p["name"], "slug": p["slug"], "permalink": self.permalink(home, p["slug"]),
            "date_created": self.local_iso(p["date_created"]), "date_created_gmt": self.gmt_iso(p["date_created"]),
            "date_modified": self.local_iso(p["date_modified"]),
            "date_modified_gmt": self.gmt_iso(p["date_modified"]),
            "type": p["type"], "status": p["status"], "featured": p["featured"],
            "catalog_visibility": p["catalog_visibility"], "description": p["description"],
            "short_description": p["short_description"], "sku": p["sku"], "global_unique_id": p["global_unique_id"],
            "price": price, "regular_price": p["regular_price"], "sale_price": p["sale_price"],
            "date_on_sale_from": p["date_on_sale_from"], "date_on_sale_from_gmt": p["date_on_sale_from"],
            "date_on_sale_to": p["date_on_sale_to"], "date_on_sale_to_gmt": p["date_on_sale_to"],
            "price_html": self.price_html(price), "on_sale": self._on_sale(p), "purchasable": price != "",
            "total_sales": 0, "virtual": p["virtual"], "downloadable": p["downloadable"], "downloads": p["downloads"],
            "download_limit": p["download_limit"], "download_expiry": p["download_expiry"],
            "external_url": p["external_url"], "button_text": p["button_text"], "tax_status": p["tax_status"],
            "tax_class": p["tax_class"], "manage_stock": p["manage_stock"], "stock_quantity": p["stock_quantity"],
            "stock_status": p["stock_status"], "backorders": p["backorders"],
            "backorders_allowed": p["backorders"] != "no",
            "backordered": p["manage_stock"] and (p["stock_quantity"] or 0) <= 0 and p["backorders"] != "no",
            "low_stock_amount": p["low_stock_amount"], "sold_individually": p["sold_individually"],
            "weight": p["weight"], "dimensions": dict(p["dimensions"]), "shipping_required": not p["virtual"],
            "shipping_taxable": p["tax_status"] in ("taxable", "shipping"), "shipping_class": p["shipping_class"],
            "shipping_class_id": 0, "reviews_allowed": p["reviews_allowed"], "average_rating": "0.00",
            "rating_count": 0, "related_ids": [], "upsell_ids": p["upsell_ids"], "cross_sell_ids": p["cross_sell_ids"],
            "parent_id": p["parent_id"], "purchase_note": p["purchase_note"], "categories": p["categories"],
            "tags": p["tags"], "images": p["images"],
            "attributes": [{"id": a["id"], "name": a["name"],
                            "slug": ("pa_" + self.attributes[a["id"]]["slug"]) if a["id"] in self.attributes
                            else sanitize_title(a["name"]),
                            "position": a["position"], "visible": a["visible"], "variation": a["variation"],
                            "options": list(a["options"])} for a in p["attributes"]],
            "default_attributes": p["default_attributes"],
            "variations": [v["id"] for v in self.children(p)] if p["type"] == "variable" else [],
            "grouped_products": [], "menu_order": p["menu_order"], "meta_data": copy.deepcopy(p["meta_data"]),
        }
        return out

    def variation_attributes_view(self, parent, v):
        out = []
        for key, value in v["attributes"].items():
            if key.startswith("pa_"):
                a = next((x for x in self.attributes.values() if "pa_" + x["slug"] == key), None)
                t = self.find_term_by_slug(a, value) if a else None
                out.append({"id": a["id"] if a else 0, "name": a["name"] if a else key,
                            "option": t["name"] if t else value})
            else:
                pa = next((x for x in (parent or {}).get("attributes", [])
                           if not x["id"] and sanitize_title(x["name"]) == key), None)
                out.append({"id": 0, "name": pa["name"] if pa else key, "option": value})
        return out

    def variation_view(self, v, home):
        parent = self.products.get(v["parent_id"])
        managing = v["manage_stock"] or bool(parent and parent["manage_stock"])
        if v["manage_stock"]:
            qty = v["stock_quantity"]
        elif parent and parent["manage_stock"]:
            qty = parent["stock_quantity"]  # stock managed at parent level
        else:
            qty = None
        price = self.price_of(v)
        attrs = self.variation_attributes_view(parent, v)
        name = (parent["name"] if parent else "") + ((" - " + ", ".join(a["option"] for a in attrs)) if attrs else "")
        return {
            "id": v["id"], "type": "variation", "name": name, "parent_id": v["parent_id"],
            "date_created": self.local_iso(v["date_created"]), "date_created_gmt": self.gmt_iso(v["date_created"]),
            "date_modified": self.local_iso(v["date_modified"]),
            "date_modified_gmt": self.gmt_iso(v["date_modified"]),
            "description": v["description"],
            "permalink": self.permalink(home, parent["slug"] if parent else "product"),
            "sku": v["sku"], "global_unique_id": v["global_unique_id"], "price": price,
            "regular_price": v["regular_price"], "sale_price": v["sale_price"],
            "date_on_sale_from": v["date_on_sale_from"], "date_on_sale_from_gmt": v["date_on_sale_from"],
            "date_on_sale_to": v["date_on_sale_to"], "date_on_sale_to_gmt": v["date_on_sale_to"],
            "on_sale": self._on_sale(v), "status": v["status"], "purchasable": price != "",
            "virtual": v["virtual"], "downloadable": v["downloadable"], "downloads": [], "download_limit": -1,
            "download_expiry": -1, "tax_status": v["tax_status"], "tax_class": v["tax_class"],
            "manage_stock": managing, "stock_quantity": qty, "stock_status": v["stock_status"],
            "backorders": v["backorders"], "backorders_allowed": v["backorders"] != "no", "backordered": False,
            "low_stock_amount": v["low_stock_amount"], "weight": v["weight"], "dimensions": dict(v["dimensions"]),
            "shipping_class": v["shipping_class"], "shipping_class_id": 0, "image": v["image"],
            "attributes": attrs, "menu_order": v["menu_order"], "meta_data": copy.deepcopy(v["meta_data"]),
        }

    def variation_as_product_view(self, v, home):
        """A variation found by GET /products?sku= is rendered by the products
        controller: a product object with "type":"variation" and parent_id
        (§A3 "Lookup by SKU")."""
        out = self.variation_view(v, home)
        parent = self.products.get(v["parent_id"])
        base = self.product_view(dict(self.new_product(), id=v["id"], name=out["name"], slug=(parent or {}).get(
            "slug", ""), sku=v["sku"], regular_price=v["regular_price"], sale_price=v["sale_price"],
            status=v["status"], manage_stock=v["manage_stock"], stock_quantity=v["stock_quantity"],
            stock_status=v["stock_status"], parent_id=v["parent_id"], date_created=v["date_created"],
            date_modified=v["date_modified"]), home)
        base["type"] = "variation"
        base["attributes"] = out["attributes"]
        base["manage_stock"] = out["manage_stock"]
        base["stock_quantity"] = out["stock_quantity"]
        return base

    # ------------------------------------------------------------ state
    def view(self):
        return {
            "products": [{"id": p["id"], "name": p["name"], "type": p["type"], "status": p["status"],
                          "sku": p["sku"], "regular_price": p["regular_price"], "sale_price": p["sale_price"],
                          "price": self.price_of(p), "manage_stock": p["manage_stock"],
                          "stock_quantity": p["stock_quantity"], "stock_status": p["stock_status"],
                          "catalog_visibility": p["catalog_visibility"],
                          "attributes": copy.deepcopy(p["attributes"]),
                          "variations": [v["id"] for v in self.children(p)],
                          "date_modified_gmt": self.gmt_iso(p["date_modified"])}
                         for p in sorted(self.products.values(), key=lambda x: x["id"])],
            "variations": [{"id": v["id"], "parent_id": v["parent_id"], "sku": v["sku"],
                            "regular_price": v["regular_price"], "sale_price": v["sale_price"],
                            "price": self.price_of(v), "status": v["status"], "manage_stock": v["manage_stock"],
                            "stock_quantity": v["stock_quantity"], "stock_status": v["stock_status"],
                            "attributes": dict(v["attributes"])}
                           for v in sorted(self.variations.values(), key=lambda x: x["id"])],
            "attributes": [dict(self.attribute_view(a), terms=[{"id": t["id"], "name": t["name"], "slug": t["slug"]}
                                                              for t in a["terms"].values()])
                           for a in sorted(self.attributes.values(), key=lambda x: x["id"])],
            "counters": copy.deepcopy(self.counters),
        }

    def dump(self):
        return {"seq": self.seq, "products": list(self.products.values()),
                "variations": list(self.variations.values()),
                "attributes": [dict(a, terms=list(a["terms"].values())) for a in self.attributes.values()],
                "counters": self.counters}

    def load(self, d):
        self.reset()
        self.seq.update(d.get("seq") or {})
        self.products = {p["id"]: p for p in d.get("products", [])}
        self.variations = {v["id"]: v for v in d.get("variations", [])}
        self.attributes = {}
        for a in d.get("attributes", []):
            a = dict(a)
            a["terms"] = {t["id"]: t for t in a.get("terms", [])}
            self.attributes[a["id"]] = a
        self.counters.update(d.get("counters") or {})
        self._reindex()
