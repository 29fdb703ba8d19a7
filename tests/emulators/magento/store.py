"""The in-memory Magento catalog: EAV attributes and options, products (global values plus
store-view overrides), configurable options and links, MSI sources and source items, bulks.

Facts are from shared/reference/platforms-woocommerce-magento.md part B (cited §Bn) and the
example bodies in shared/reference/platforms/magento/. Messages are Magento's own phrases
(magento/magento2 source) where the note or the code gives them.
"""

import datetime as _dt
import json
import re

DEFAULT_ATTRIBUTE_SET = 4   # "Default" on a standard install (§B4)
WEBSITE_ID = 1
STORE_VIEWS = {"default": 1}   # store code -> store id; "all" = admin scope (store 0)

# Attribute scopes (§B1: a write through /rest/default/V1 saves store-scoped values for that store
# view only). Everything else is global.
STORE_SCOPED = {"name", "description", "short_description", "status", "visibility", "url_key", "meta_title",
                "meta_keyword", "meta_description"}
TOP_FIELDS = ("name", "price", "status", "visibility", "weight")
# EAV attributes every default attribute set has; unknown custom attribute codes are dropped on
# save ("Custom attributes not in the product's attribute set are silently ignored", §B15).
TEXT_ATTRIBUTES = ("description", "short_description", "url_key", "meta_title", "meta_keyword",
                   "meta_description", "tax_class_id", "cost", "special_price", "special_from_date",
                   "special_to_date", "news_from_date", "news_to_date", "country_of_manufacture",
                   "options_container", "required_options", "has_options", "gift_message_available",
                   "category_ids", "msrp", "image", "small_image", "thumbnail", "swatch_image")

NOT_FOUND_PRODUCT = "The product that was requested doesn't exist. Verify the product and try again."


class MagentoError(Exception):
    def __init__(self, status, message, parameters=None, errors=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameters = parameters
        self.errors = errors

    def body(self):
        out = {"message": self.message}
        if self.errors:
            out["errors"] = self.errors
        if self.parameters is not None:
            out["parameters"] = self.parameters
        return out

    def rendered(self):
        """The message with its parameters substituted (as bulk result_message shows it)."""
        msg = self.message
        p = self.parameters
        if isinstance(p, list):
            for i, v in enumerate(p, 1):
                msg = msg.replace("%%%d" % i, str(v))
        elif isinstance(p, dict):
            for k, v in p.items():
                msg = msg.replace("%" + k, str(v))
        return msg


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")


def num(v):
    """A JSON value Magento would take as a number."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return v
    try:
        f = float(str(v).strip())
    except ValueError:
        return None
    return int(f) if f == int(f) and "." not in str(v) else f


def jnum(v):
    """A number as Magento's JSON prints it: 25, 0.5."""
    if v is None:
        return None
    f = float(v)
    return int(f) if f == int(f) else f


class Store:
    def __init__(self, clock):
        self.clock = clock
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self):
        self.seq = {"product": 0, "option": 48, "attribute": 200, "config_option": 0, "operation": 0}
        self.attributes = {}      # code -> attribute dict (with "options": [{"label","value"}])
        self.products = {}        # sku -> product
        self.sources = {}         # code -> source
        self.source_items = {}    # "sku\x00source" -> {"sku","source_code","quantity","status"}
        self.bulks = {}           # uuid -> bulk
        self.orders = {}          # entity_id -> order (orders.py renders it)
        self.creditmemos = {}
        self.invoices = {}        # orders.py: invoices, shipments, customers and their id sequences
        self.shipments = {}
        self.customers = {}
        self.sales_seq = {}
        self.admin_tokens = {}    # token -> expiry epoch
        self.counters = {"requests": 0, "writes": 0, "rejected": 0, "byOperation": {}}
        self._reindex()
        self._seed_defaults()

    # ------------------------------------------------------------------ indexes
    # Lookups by product id, URL key, SKU search key, parent link and source item, and the
    # bulk operations still open, so a catalog of 10,000 products answers as fast as a small
    # one. Entries are added wherever a product, link or source item is stored; the URL key,
    # search, link and source-item entries are checked against the live records when read,
    # so a stale one is harmless.
    def _reindex(self):
        self._sku_by_id = {}       # product id -> sku
        self._by_url_key = {}      # url_key (any scope) -> {sku}
        self._by_search_key = {}   # _cmp_value(sku) -> {sku}; str(sku).lower() -> {sku}
        self._odd_skus = set()     # SKUs _cmp_value cannot read (always searched the slow way)
        self._parents = {}         # child product id -> {parent sku}
        self._si_by_sku = {}       # sku -> {source_items key}
        self._options = {}         # attribute code -> (options list, its length, {value: label}, {label: value})
        for p in self.products.values():
            self._index_product(p)
        for key, si in self.source_items.items():
            self._si_by_sku.setdefault(si["sku"], set()).add(key)
        self.pending_ops = [op for b in self.bulks.values() for op in b["operations"] if op["status"] == 4]

    def _index_product(self, p):
        sku = p["sku"]
        self._sku_by_id[p["id"]] = sku
        for vals in [p["attrs"]] + list(p["overrides"].values()):
            if vals.get("url_key"):
                self._by_url_key.setdefault(vals["url_key"], set()).add(sku)
        try:
            key = _cmp_value(sku)
            hash(key)
        except (ValueError, OverflowError, TypeError):
            self._odd_skus.add(sku)
        else:
            self._by_search_key.setdefault(key, set()).add(sku)
        self._by_search_key.setdefault(str(sku).lower(), set()).add(sku)
        for cid in p["configurable_links"]:
            self._parents.setdefault(cid, set()).add(sku)

    def search_candidates(self, sc):
        """Products that can match the search, or None when it is not narrowed by SKU: the
        first filter group whose filters are all sku eq / in gives the union of those SKUs'
        entries (a superset: apply_search still decides)."""
        for _, g in sorted(sc["filter_groups"].items()):
            filters = [f for _, f in sorted(g.items())]
            if not filters or any(f.get("field") != "sku" or (f.get("condition_type") or "eq").lower() not in ("eq", "in")
                                  for f in filters):
                continue
            skus = set(self._odd_skus)
            for f in filters:
                want = f.get("value")
                cond = (f.get("condition_type") or "eq").lower()
                wants = [x.strip() for x in str(want).split(",")] if cond == "in" else [want]
                for w in wants:
                    try:
                        keys = [_cmp_value(w), str(w).lower()]
                        for k in keys:
                            hash(k)
                    except (ValueError, OverflowError, TypeError):
                        return None
                    for k in keys:
                        skus |= self._by_search_key.get(k, set())
            return [self.products[s] for s in skus if s in self.products]
        return None

    def _option_index(self, code):
        attr = self.attributes.get(code)
        if attr is None:
            return None
        opts = attr["options"]
        idx = self._options.get(code)
        if idx is None or idx[0] is not opts or idx[1] != len(opts):
            by_value, by_label, by_any_label = {}, {}, {}
            for o in opts:
                by_any_label.setdefault(o["label"].lower(), o["value"])
                if o["value"] != "":
                    by_value.setdefault(o["value"], o["label"])
                    by_label.setdefault(o["label"].lower(), o["value"])
            idx = (opts, len(opts), by_value, by_label, by_any_label)
            self._options[code] = idx
        return idx

    def option_by_label(self, code, label, any_option=False):
        """The id of the first option labelled label (case-insensitive), or None; any_option
        counts the empty option (" ", value "") too."""
        idx = self._option_index(code)
        return None if idx is None else idx[4 if any_option else 3].get((label or "").lower())

    def _seed_defaults(self):
        # attribute ids 93 (color) and 141 (size) as in the Luma examples (§B5; SOURCES.md says they
        # are sample values, not constants)
        self.add_attribute("color", "Color", ["Black", "White", "Blue", "Red", "Green", "Gray"], attribute_id=93)
        self.add_attribute("size", "Size", ["S", "M", "L", "XL"], attribute_id=141)
        self.add_attribute("manufacturer", "Manufacturer", [], attribute_id=83)
        for code, name in (("default", "Default Source"), ("store1", "Store 1"), ("store2", "Store 2")):
            self.add_source(code, name)

    def dump(self):
        return {"seq": self.seq, "attributes": self.attributes, "products": self.products, "sources": self.sources,
                "source_items": list(self.source_items.values()), "bulks": self.bulks, "orders": self.orders,
                "creditmemos": self.creditmemos, "admin_tokens": self.admin_tokens, "counters": self.counters,
                "invoices": self.invoices, "shipments": self.shipments, "customers": self.customers,
                "sales_seq": self.sales_seq}

    def load(self, data):
        self.seq = data["seq"]
        self.attributes = data["attributes"]
        self.products = data["products"]
        self.sources = data["sources"]
        self.source_items = {si["sku"] + "\x00" + si["source_code"]: si for si in data["source_items"]}
        self.bulks = data.get("bulks", {})
        self.orders = data.get("orders", {})
        self.creditmemos = data.get("creditmemos", {})
        self.invoices = data.get("invoices", {})
        self.shipments = data.get("shipments", {})
        self.customers = data.get("customers", {})
        self.sales_seq = data.get("sales_seq", {})
        self.admin_tokens = data.get("admin_tokens", {})
        self.counters = data.get("counters", self.counters)
        self._reindex()

    def view(self):
        """GET /__emulator/state."""
        out = self.dump()
        out["products"] = {sku: dict(p, effective={"all": self.values(p, "all"), "default": self.values(p, "default")})
                           for sku, p in self.products.items()}
        return out

    def now_text(self, t=None):
        """Magento dates: UTC "YYYY-MM-DD HH:MM:SS" (§B1)."""
        t = self.clock.now() if t is None else t
        return _dt.datetime.fromtimestamp(int(t), _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

    # ------------------------------------------------------------------ attributes
    def add_attribute(self, code, label, options=(), attribute_id=None, frontend_input="select"):
        if attribute_id is None:
            self.seq["attribute"] += 1
            attribute_id = self.seq["attribute"]
        attr = {"attribute_id": attribute_id, "attribute_code": code, "frontend_input": frontend_input,
                "entity_type_id": "4", "is_required": False, "options": [{"label": " ", "value": ""}],
                "is_user_defined": True, "default_frontend_label": label, "frontend_labels": [],
                "backend_type": "int" if frontend_input in ("select", "multiselect") else "varchar",
                "source_model": "Magento\\Eav\\Model\\Entity\\Attribute\\Source\\Table",
                "default_value": "", "is_unique": "0", "validation_rules": [], "scope": "global",
                "is_global": "1"}
        self.attributes[code] = attr
        for o in options:
            self.add_option(code, o)
        return attr

    def attribute(self, code):
        attr = self.attributes.get(code)
        if attr is None:
            # Magento\Eav\Model\AttributeRepository::get
            raise MagentoError(404, 'The attribute with a "%1" attributeCode doesn\'t exist. Verify the attribute '
                                    'and try again.', [code])
        return attr

    def attribute_by_id(self, attribute_id):
        for a in self.attributes.values():
            if str(a["attribute_id"]) == str(attribute_id):
                return a
        return None

    def add_option(self, code, label, sort_order=None):
        """POST /V1/products/attributes/{code}/options -> the new option id as a string (§B6)."""
        attr = self.attribute(code)
        label = (label or "").strip()
        if self.option_by_label(code, label) is not None:
            # OptionManagement: duplicate admin label, case-insensitive (§B6)
            raise MagentoError(400, 'Admin store attribute option label "%1" already exists.', [label])
        self.seq["option"] += 1
        value = str(self.seq["option"])
        attr["options"].append({"label": label, "value": value})
        return value

    def option_label(self, code, value):
        idx = self._option_index(code)
        return None if idx is None else idx[2].get(str(value))

    # ------------------------------------------------------------------ products
    def product(self, sku):
        p = self.products.get(sku)
        if p is None:
            raise MagentoError(404, NOT_FOUND_PRODUCT)
        return p

    def product_by_id(self, pid):
        try:
            sku = self._sku_by_id.get(pid)
        except TypeError:   # an unhashable id matches no product
            return None
        p = self.products.get(sku) if sku is not None else None
        return p if p is not None and p["id"] == pid else None

    def values(self, p, scope):
        """Attribute values seen from a store code: overrides of that store view, else global."""
        vals = dict(p["attrs"])
        if scope != "all":
            vals.update(p["overrides"].get(scope, {}))
        return vals

    def save_product(self, data, scope, path_sku=None, check_only=False):
        """ProductRepository::save for POST /V1/products and PUT /V1/products/{sku}.

        Both are upserts: save() looks the SKU up and creates when it does not exist (§B4). A PUT
        keeps the path SKU (a different body SKU is ignored, issue #30143)."""
        if not isinstance(data, dict):
            data = {}
        sku = path_sku if path_sku is not None else data.get("sku")
        if sku is None or str(sku).strip() == "":
            raise MagentoError(400, '"%fieldName" is required. Enter and try again.', {"fieldName": "sku"})
        sku = str(sku)
        if len(sku) > 64:
            raise MagentoError(400, 'SKU length should be %1 characters maximum.', [64])
        existing = self.products.get(sku)
        now = self.now_text()
        if existing is None:
            p = {"id": None, "sku": sku, "type_id": data.get("type_id") or "simple",
                 "attribute_set_id": num(data.get("attribute_set_id")) or DEFAULT_ATTRIBUTE_SET,
                 "created_at": now, "updated_at": now, "attrs": {"status": 1, "visibility": 4},
                 "overrides": {}, "website_ids": [WEBSITE_ID], "category_links": [], "stock_item": None,
                 "configurable_options": [], "configurable_links": []}
            target = p["attrs"]
            override = None
        else:
            p = json.loads(json.dumps(existing))
            if data.get("type_id"):
                p["type_id"] = data["type_id"]
            if data.get("attribute_set_id") is not None:
                p["attribute_set_id"] = num(data["attribute_set_id"])
            target = p["attrs"]
            override = None if scope == "all" else p["overrides"].setdefault(scope, {})
        if p["attribute_set_id"] not in (DEFAULT_ATTRIBUTE_SET, 9, 10, 11, 12, 13, 14, 15, 16):
            # the reference's own example error (error__invalid_product_data_400.json)
            raise MagentoError(400, "Invalid product data: %1", ["Invalid attribute set entity type"])

        def put(code, value):
            if override is not None and code in STORE_SCOPED:
                override[code] = value
            else:
                target[code] = value
                if override is not None:
                    override.pop(code, None)

        for f in TOP_FIELDS:
            if f in data and data[f] is not None:
                put(f, data[f] if f == "name" else num(data[f]))
        invalid = []
        ca = data.get("custom_attributes")
        if isinstance(ca, dict):
            ca = [{"attribute_code": k, "value": v} for k, v in ca.items()]
        for entry in ca or []:
            code = entry.get("attribute_code") or entry.get("attributeCode")
            value = entry.get("value")
            attr = self.attributes.get(code)
            if attr is not None and attr["frontend_input"] == "select":
                if value not in (None, "") and self.option_label(code, value) is None:
                    invalid.append(code)
                    continue
                put(code, "" if value is None else str(value))
            elif attr is not None or code in TEXT_ATTRIBUTES:
                put(code, value if isinstance(value, list) else ("" if value is None else str(value)))
        if invalid:
            # A select value that is not an option id of the attribute (e.g. the label "Red"):
            # ProductRepository::save wraps the EAV validator's message in "Invalid product data: %1"
            # (magento/magento2 Eav Validator\Attribute\Backend: 'The value of attribute "%1" is
            # invalid.'). DESIGN.md §7 lists this trap; a client must create the option first (§B6).
            raise MagentoError(400, "Invalid product data: %1",
                               [",".join('The value of attribute "%s" is invalid.' % c for c in invalid)])
        ext = data.get("extension_attributes") or {}
        if isinstance(ext, dict):
            if ext.get("website_ids") is not None:
                p["website_ids"] = [int(num(w)) for w in ext["website_ids"] if num(w) is not None]
            if ext.get("category_links") is not None:
                p["category_links"] = [{"position": num(c.get("position")) or 0, "category_id": str(c.get("category_id"))}
                                       for c in ext["category_links"] if isinstance(c, dict)]
            if isinstance(ext.get("stock_item"), dict):
                si = ext["stock_item"]
                cur = p["stock_item"] or {"qty": 0, "is_in_stock": False}
                if si.get("qty") is not None:
                    cur["qty"] = jnum(num(si["qty"]))
                if si.get("is_in_stock") is not None:
                    cur["is_in_stock"] = bool(si["is_in_stock"]) if not isinstance(si["is_in_stock"], str) \
                        else si["is_in_stock"].lower() in ("1", "true")
                for k in ("manage_stock", "use_config_manage_stock", "backorders", "min_sale_qty"):
                    if si.get(k) is not None:
                        cur[k] = si[k]
                p["stock_item"] = cur
            if ext.get("configurable_product_options") is not None:
                p["configurable_options"] = [self._config_option(p, o) for o in ext["configurable_product_options"]]
            if ext.get("configurable_product_links") is not None:
                p["configurable_links"] = [int(num(x)) for x in ext["configurable_product_links"] if num(x) is not None]
        if p["configurable_links"] or p["configurable_options"]:
            self._validate_links(p)
        vals = self.values(p, scope if existing is not None else "all")
        if not vals.get("url_key") and vals.get("name"):
            put("url_key", slug(vals["name"]))
            if existing is None:
                p["attrs"]["url_key"] = slug(vals["name"])
        self._check_url_key(p)
        if check_only:
            return p
        if p["id"] is None:
            self.seq["product"] += 1
            p["id"] = self.seq["product"]
        p["updated_at"] = now
        self.products[sku] = p
        self._index_product(p)
        if p["stock_item"] is not None and p["type_id"] != "configurable":
            # single-source mode: the legacy stock item writes the "default" source (§B7)
            self.set_source_item(sku, "default", p["stock_item"]["qty"], 1 if p["stock_item"].get("is_in_stock") else 0,
                                 from_stock_item=True)
        return p

    def _config_option(self, p, o):
        attr = self.attribute_by_id(o.get("attribute_id"))
        if attr is None:
            raise MagentoError(400, 'Invalid value of "%value" provided for the %fieldName field.',
                               {"fieldName": "attribute_id", "value": o.get("attribute_id")})
        self.seq["config_option"] += 1
        return {"id": o.get("id") or self.seq["config_option"], "attribute_id": str(attr["attribute_id"]),
                "label": o.get("label") or attr["default_frontend_label"], "position": num(o.get("position")) or 0,
                "values": [{"value_index": int(num(v.get("value_index")))} for v in (o.get("values") or [])
                           if isinstance(v, dict) and num(v.get("value_index")) is not None],
                "product_id": p["id"]}

    def _validate_links(self, p):
        """ConfigurableProduct Plugin\\ProductRepositorySave::validateProductLinks (messages from there)."""
        codes = [self.attribute_by_id(o["attribute_id"])["attribute_code"] for o in p["configurable_options"]]
        seen = {}
        for cid in p["configurable_links"]:
            child = self.product_by_id(cid)
            key = ""
            for code in codes:
                v = self.values(child, "all").get(code) if child else None
                if not v:
                    raise MagentoError(400, 'Product with id "%1" does not contain required attribute "%2".',
                                       [cid, code])
                key += "%s:%s;" % (code, v)
            if key in seen:
                raise MagentoError(400, 'Products "%1" and "%2" have the same set of attribute values.',
                                   [cid, seen[key]])
            seen[key] = cid

    def _check_url_key(self, p):
        """URL rewrites exist for visible products only; two with one URL key in a store fail (§B15)."""
        for scope in ["all"] + list(STORE_VIEWS):
            vals = self.values(p, scope)
            if int(vals.get("visibility") or 1) == 1 or not vals.get("url_key"):
                continue
            for sku in self._by_url_key.get(vals["url_key"], ()):
                other = self.products.get(sku)
                if other is None or other["sku"] == p["sku"]:
                    continue
                ov = self.values(other, scope)
                if int(ov.get("visibility") or 1) != 1 and ov.get("url_key") == vals["url_key"]:
                    raise MagentoError(400, "URL key for specified store already exists.")

    def delete_product(self, sku):
        p = self.product(sku)
        del self.products[sku]
        if self._sku_by_id.get(p["id"]) == sku:
            del self._sku_by_id[p["id"]]
        for key in self._si_by_sku.pop(sku, ()):
            si = self.source_items.get(key)
            if si is not None and si["sku"] == sku:
                del self.source_items[key]
        for psku in self._parents.pop(p["id"], ()):
            other = self.products.get(psku)
            if other is not None and p["id"] in other["configurable_links"]:
                other["configurable_links"].remove(p["id"])
        return True

    def represent(self, p, scope):
        """The product as GET /V1/products/{sku} prints it (products__create_*__response.json)."""
        vals = self.values(p, scope)
        out = {"id": p["id"], "sku": p["sku"]}
        if vals.get("name") is not None:
            out["name"] = vals["name"]
        out["attribute_set_id"] = p["attribute_set_id"]
        out["price"] = jnum(vals.get("price")) if vals.get("price") is not None else 0
        out["status"] = int(vals.get("status") or 1)
        out["visibility"] = int(vals.get("visibility") or 4)
        out["type_id"] = p["type_id"]
        out["created_at"] = p["created_at"]
        out["updated_at"] = p["updated_at"]
        if vals.get("weight") is not None:
            out["weight"] = jnum(vals["weight"])
        ext = {"website_ids": list(p["website_ids"])}
        if p["category_links"]:
            ext["category_links"] = p["category_links"]
        qty, in_stock = self.legacy_stock(p)
        ext["stock_item"] = {"item_id": p["id"], "product_id": p["id"], "stock_id": 1, "qty": qty,
                             "is_in_stock": in_stock, "is_qty_decimal": False,
                             "show_default_notification_message": False, "use_config_min_qty": True, "min_qty": 0,
                             "use_config_min_sale_qty": 1, "min_sale_qty": 1, "use_config_max_sale_qty": True,
                             "max_sale_qty": 10000, "use_config_backorders": True, "backorders": 0,
                             "use_config_notify_stock_qty": True, "notify_stock_qty": 1,
                             "use_config_qty_increments": True, "qty_increments": 0,
                             "use_config_enable_qty_inc": True, "enable_qty_increments": False,
                             "use_config_manage_stock": True, "manage_stock": True, "low_stock_date": None,
                             "is_decimal_divided": False, "stock_status_changed_auto": 0}
        if p["type_id"] == "configurable":
            ext["configurable_product_options"] = [dict(o, product_id=p["id"]) for o in p["configurable_options"]]
            ext["configurable_product_links"] = list(p["configurable_links"])
        out["extension_attributes"] = ext
        out["product_links"] = []
        out["options"] = []
        out["media_gallery_entries"] = []
        out["tier_prices"] = []
        ca = []
        skip = set(TOP_FIELDS)
        for code, v in vals.items():
            if code in skip or v is None:
                continue
            ca.append({"attribute_code": code, "value": v if isinstance(v, list) else str(v)})
        if p["category_links"] and "category_ids" not in vals:
            ca.append({"attribute_code": "category_ids", "value": [c["category_id"] for c in p["category_links"]]})
        for code, v in (("options_container", "container2"), ("required_options", "0"), ("has_options", "0"),
                        ("tax_class_id", "2")):
            if code not in vals:
                ca.append({"attribute_code": code, "value": v})
        out["custom_attributes"] = ca
        return out

    def legacy_stock(self, p):
        si = self.source_items.get(p["sku"] + "\x00default")
        if si is not None:
            return jnum(si["quantity"]), bool(si["status"])
        if p["stock_item"]:
            return p["stock_item"]["qty"], bool(p["stock_item"].get("is_in_stock"))
        return 0, False

    # ------------------------------------------------------------------ configurable
    def add_configurable_option(self, sku, option):
        p = self.product(sku)
        if p["type_id"] != "configurable":
            raise MagentoError(400, 'This is implemented for the "%1" configurable product only.', [sku])
        if not isinstance(option, dict):
            option = {}
        attr = self.attribute_by_id(option.get("attribute_id"))
        if attr is None:
            raise MagentoError(400, 'Invalid value of "%value" provided for the %fieldName field.',
                               {"fieldName": "attribute_id", "value": option.get("attribute_id")})
        if any(o["attribute_id"] == str(attr["attribute_id"]) for o in p["configurable_options"]):
            # OptionRepository::save on an attribute the product already uses
            raise MagentoError(400, "Something went wrong while saving option.")
        o = self._config_option(p, option)
        p["configurable_options"].append(o)
        p["updated_at"] = self.now_text()
        return o["id"]

    def add_child(self, sku, child_sku):
        """LinkManagement::addChild (messages from there) -> true."""
        p = self.product(sku)
        child = self.product(child_sku)
        if child["id"] in p["configurable_links"]:
            raise MagentoError(400, "The product is already attached.")
        if not p["configurable_options"]:
            raise MagentoError(400, "The parent product doesn't have configurable product options.")
        for o in p["configurable_options"]:
            code = self.attribute_by_id(o["attribute_id"])["attribute_code"]
            if not self.values(child, "all").get(code):
                raise MagentoError(400, 'The child product doesn\'t have the "%1" attribute value. Verify the value '
                                        'and try again.', [code])
        trial = json.loads(json.dumps(p))
        trial["configurable_links"].append(child["id"])
        self._validate_links(trial)
        p["configurable_links"].append(child["id"])
        self._parents.setdefault(child["id"], set()).add(p["sku"])
        p["updated_at"] = self.now_text()
        return True

    def remove_child(self, sku, child_sku):
        p = self.product(sku)
        child = self.product(child_sku)
        if child["id"] not in p["configurable_links"]:
            raise MagentoError(404, "The option that was requested doesn't exist. Verify the entity and try again.")
        p["configurable_links"].remove(child["id"])
        return True

    # ------------------------------------------------------------------ MSI
    def add_source(self, code, name, **extra):
        src = {"source_code": code, "name": name, "enabled": True, "description": extra.get("description", ""),
               "latitude": 0, "longitude": 0, "country_id": extra.get("country_id", "US"),
               "postcode": extra.get("postcode", "00000"), "use_default_carrier_config": True, "carrier_links": []}
        self.sources[code] = src
        return src

    def set_source_item(self, sku, source_code, quantity, status, from_stock_item=False):
        key = sku + "\x00" + source_code
        self.source_items[key] = {"sku": sku, "source_code": source_code, "quantity": jnum(quantity),
                                  "status": int(status)}
        self._si_by_sku.setdefault(sku, set()).add(key)
        if source_code == "default" and not from_stock_item and sku in self.products:
            p = self.products[sku]
            p["stock_item"] = {"qty": jnum(quantity), "is_in_stock": bool(int(status))}

    def save_source_items(self, items):
        """SourceItemsSave (InventoryApi ValidationTest messages)."""
        if not items:
            raise MagentoError(400, "Input data is empty")
        errors = []
        for si in items:
            si = si if isinstance(si, dict) else {}
            sku = si.get("sku")
            if sku is None or str(sku).strip() == "":
                errors.append({"message": '"%field" can not be empty.', "parameters": {"field": "sku"}})
            code = si.get("source_code")
            if code is None or str(code).strip() == "":
                errors.append({"message": '"%field" can not be empty.', "parameters": {"field": "source_code"}})
            elif re.search(r"\s", str(code)):
                errors.append({"message": '"%field" can not contain whitespaces.', "parameters": {"field": "source_code"}})
            if num(si.get("quantity")) is None:
                errors.append({"message": '"%field" should be numeric.', "parameters": {"field": "quantity"}})
            if num(si.get("status")) is None:
                errors.append({"message": '"%field" should be numeric.', "parameters": {"field": "status"}})
            elif int(num(si["status"])) not in (0, 1):
                errors.append({"message": '"%field" should a known status.', "parameters": {"field": "status"}})
        if errors:
            raise MagentoError(400, "Validation Failed", errors=errors)
        for si in items:
            if str(si["source_code"]) not in self.sources:
                raise MagentoError(400, "Could not save Source Item")
        for si in items:
            self.set_source_item(str(si["sku"]), str(si["source_code"]), num(si["quantity"]), int(num(si["status"])))
        return []

    def delete_source_items(self, items):
        if not items:
            raise MagentoError(400, "Input data is empty")
        for si in items:
            self.source_items.pop(str(si.get("sku")) + "\x00" + str(si.get("source_code")), None)
        return []


# ---------------------------------------------------------------------- searchCriteria


def parse_search_criteria(query):
    """searchCriteria[...] query parameters (snake_case or camelCase, §B3) -> dict."""
    sc = {"filter_groups": {}, "sort_orders": {}, "page_size": None, "current_page": None}
    for key, values in query.items():
        m = re.match(r"^searchCriteria\[(\w+)\](.*)$", key)
        if not m:
            continue
        head, rest = m.group(1), m.group(2)
        value = values[-1]
        parts = re.findall(r"\[([^\]]*)\]", rest)
        if head in ("filter_groups", "filterGroups") and len(parts) == 4 and parts[1] == "filters":
            g = sc["filter_groups"].setdefault(int(parts[0]), {})
            f = g.setdefault(int(parts[2]), {})
            name = {"conditionType": "condition_type"}.get(parts[3], parts[3])
            f[name] = value
        elif head in ("sort_orders", "sortOrders") and len(parts) == 2:
            sc["sort_orders"].setdefault(int(parts[0]), {})[parts[1]] = value
        elif head in ("page_size", "pageSize"):
            sc["page_size"] = value
        elif head in ("current_page", "currentPage"):
            sc["current_page"] = value
    return sc


def _cmp_value(v):
    n = num(v) if not isinstance(v, list) else None
    return n if n is not None else str(v if v is not None else "").lower()


def filter_matches(value, cond, want):
    cond = (cond or "eq").lower()
    if cond in ("null", "notnull"):
        empty = value is None or value == ""
        return empty if cond == "null" else not empty
    if value is None:
        return cond in ("neq", "nin", "nlike", "nfinset")
    if cond in ("like", "nlike"):
        rx = "^" + ".*".join(re.escape(p) for p in str(want).lower().split("%")) + "$"
        hit = re.match(rx, str(value).lower(), re.S) is not None
        return hit if cond == "like" else not hit
    if cond in ("in", "nin"):
        options = [_cmp_value(x.strip()) for x in str(want).split(",")]
        hit = _cmp_value(value) in options
        return hit if cond == "in" else not hit
    if cond in ("finset", "nfinset"):
        hit = str(want) in str(value).split(",")
        return hit if cond == "finset" else not hit
    a, b = _cmp_value(value), _cmp_value(want)
    if type(a) is not type(b):
        a, b = str(value).lower(), str(want).lower()
    return {"eq": a == b, "neq": a != b, "gt": a > b, "gteq": a >= b, "lt": a < b, "lteq": a <= b,
            "moreq": a >= b, "from": a >= b, "to": a <= b}.get(cond, a == b)


def apply_search(records, sc, getter, past_end="last", default_page_size=None, max_page_size=None):
    """Filter groups AND, filters in a group OR (§B3); sort; page. -> (page items, total, echo)."""
    groups = [sc["filter_groups"][k] for k in sorted(sc["filter_groups"])]
    out = []
    for r in records:
        ok = True
        for g in groups:
            filters = [g[k] for k in sorted(g)]
            if not any(filter_matches(getter(r, f.get("field")), f.get("condition_type"), f.get("value"))
                       for f in filters):
                ok = False
                break
        if ok:
            out.append(r)
    for k in sorted(sc["sort_orders"], reverse=True):
        so = sc["sort_orders"][k]
        field = so.get("field")
        rev = str(so.get("direction", "ASC")).upper() == "DESC"
        out.sort(key=lambda r: (getter(r, field) is None, _sortable(getter(r, field))), reverse=rev)
    total = len(out)
    page_size = sc["page_size"]
    page_size = int(num(page_size)) if page_size not in (None, "") and num(page_size) is not None else None
    if page_size is None and default_page_size:
        page_size = default_page_size
    if max_page_size and page_size and page_size > max_page_size:
        # Framework\Webapi\Validator\SearchCriteriaValidator (input limiting on)
        raise MagentoError(400, "Maximum SearchCriteria pageSize is %max", {"max": max_page_size})
    cur = sc["current_page"]
    cur = int(num(cur)) if cur not in (None, "") and num(cur) is not None else 1
    cur = max(cur, 1)
    echo = {"filter_groups": [{"filters": [{"field": f.get("field"), "value": f.get("value"),
                                            "condition_type": f.get("condition_type", "eq")}
                                           for _, f in sorted(g.items())]} for g in groups]}
    if sc["sort_orders"]:
        echo["sort_orders"] = [{"field": so.get("field"), "direction": str(so.get("direction", "ASC")).upper()}
                               for _, so in sorted(sc["sort_orders"].items())]
    if page_size:
        echo["page_size"] = page_size
        echo["current_page"] = cur
        pages = max(1, -(-total // page_size))
        if cur > pages:
            # Out-of-range currentPage: Magento answers the LAST page again (issues #3787, #8099;
            # §B3 trap: stop by total_count, never wait for an empty page). "empty" = the 2.4 fix.
            if past_end == "last":
                cur = pages
            else:
                return [], total, echo
        out = out[(cur - 1) * page_size: cur * page_size]
    return out, total, echo


def _sortable(v):
    n = num(v) if not isinstance(v, list) else None
    return (0, n, "") if n is not None else (1, 0, str(v or "").lower())
