#!/usr/bin/env python3
"""BigCommerce REST API emulator (Catalog v3 + Inventory v3) for posbridge's tests.

    python3 tests/emulators/bigcommerce/server.py --port 0 --port-file /tmp/p \\
        --store-hash abc123 --token T [--rate-quota 150 --rate-window-ms 30000] [common flags]

Base paths /stores/{store_hash}/v3/... and /stores/{store_hash}/v2/...,
header X-Auth-Token. Request bodies are validated against the OpenAPI files in
shared/reference/platforms/bigcommerce/ (spec.py); behaviour follows
shared/reference/platforms-shopify-bigcommerce.md part B ("§B..." below).
Control endpoints, faults, the request log and the clock come from
../common.py; see ../README.md.
"""

import json
import math
import os
import re
import sys
import threading
import urllib.parse

_HERE = os.path.dirname(os.path.abspath(__file__))
if __name__ == "__main__":
    # run as a script: import this directory as the package "bigcommerce"
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
    sys.path.insert(0, os.path.dirname(_HERE))
    import bigcommerce.server as _self  # noqa: E402

    sys.exit(_self.run())

import common  # noqa: E402
from . import orders  # noqa: E402
from .spec import SPECS  # noqa: E402
from .store import STATUS_TYPE, ApiError, Store  # noqa: E402

JSON = "application/json"
PROBLEM = "application/problem+json"

# Documented 413 bodies (products_catalog.v3.yml updateProducts 413 example;
# product-variants_catalog.v3.yml updateVariantsBatch 413 example - no final
# period there). The inventory limit of 2000 items is documented without an
# answer; the same shape is used *(constructed)*.
BATCH_LIMITS = {"updateProducts": 10, "updateVariantsBatch": 50, "put-absolute-adjustment": 2000,
                "post-relative-adjustment": 2000}
TOO_LARGE_TITLES = {
    "updateProducts": "The request payload is too large. The maximum items allowed in the array is 10.",
    "updateVariantsBatch": "The request payload is too large. The maximum items allowed in the array is 50",
    "put-absolute-adjustment": "The request payload is too large. The maximum items allowed in the array is 2000.",
    "post-relative-adjustment": "The request payload is too large. The maximum items allowed in the array is 2000.",
}
TOO_LARGE_TYPE = "/api-docs/getting-started/api-status-codes"  # as in both documented examples

PAGE_DEFAULT = 50   # LimitParam default 50 (§B5)
PAGE_MAX = 250      # LimitParam maximum 250 (§B5)
INVENTORY_PAGE_MAX = 1000  # "Limit of 1000 items for payload length" (get-inventory-items)

# /stores/{hash}/{v2|v3}/rest
BASE_RE = re.compile(r"^/stores/([^/]+)/(v2|v3)(/.*)?$")

# (method, path regex, handler, operationId from the spec - the log/fault label)
ROUTES = [
    ("GET", r"/catalog/products", "get_products", "getProducts"),
    ("POST", r"/catalog/products", "create_product", "createProduct"),
    ("PUT", r"/catalog/products", "update_products", "updateProducts"),
    ("DELETE", r"/catalog/products", "delete_products", "deleteProducts"),
    ("GET", r"/catalog/products/(\d+)", "get_product", "getProduct"),
    ("PUT", r"/catalog/products/(\d+)", "update_product", "updateProduct"),
    ("DELETE", r"/catalog/products/(\d+)", "delete_product", "deleteProduct"),
    ("GET", r"/catalog/products/(\d+)/variants", "get_product_variants", "getProductVariants"),
    ("POST", r"/catalog/products/(\d+)/variants", "create_product_variant", "createProductVariant"),
    ("GET", r"/catalog/products/(\d+)/variants/(\d+)", "get_product_variant", "getProductVariant"),
    ("PUT", r"/catalog/products/(\d+)/variants/(\d+)", "update_product_variant", "updateProductVariant"),
    ("DELETE", r"/catalog/products/(\d+)/variants/(\d+)", "delete_product_variant", "deleteProductVariant"),
    ("GET", r"/catalog/variants", "get_variants", "getVariants"),
    ("PUT", r"/catalog/variants", "update_variants", "updateVariantsBatch"),
    ("GET", r"/catalog/products/(\d+)/options", "get_options", "getProductVariantOptions"),
    ("POST", r"/catalog/products/(\d+)/options", "create_option", "createProductVariantOption"),
    ("GET", r"/catalog/products/(\d+)/options/(\d+)", "get_option", "getProductVariantOption"),
    ("PUT", r"/catalog/products/(\d+)/options/(\d+)", "update_option", "updateProductVariantOption"),
    ("DELETE", r"/catalog/products/(\d+)/options/(\d+)", "delete_option", "deleteProductVariantOption"),
    ("GET", r"/catalog/products/(\d+)/options/(\d+)/values", "get_option_values", "getProductVariantOptionValues"),
    ("POST", r"/catalog/products/(\d+)/options/(\d+)/values", "create_option_value",
     "createProductVariantOptionValue"),
    ("PUT", r"/inventory/adjustments/absolute", "adjust_absolute", "put-absolute-adjustment"),
    ("POST", r"/inventory/adjustments/relative", "adjust_relative", "post-relative-adjustment"),
    ("GET", r"/inventory/items", "get_inventory_items", "get-inventory-items"),
    ("GET", r"/inventory/locations", "get_locations", "getLocations"),
    ("GET", r"/inventory/locations/(\d+)/items", "get_location_items", "get-location-inventory-items"),
]
ROUTES = [(m, re.compile("^" + rx + "/?$"), h, op) for m, rx, h, op in ROUTES]
WRITE_OPS = {op for m, _, _, op in ROUTES if m != "GET"}


def add_arguments(p):
    p.add_argument("--store-hash", default="abc123", help="store hash in /stores/{hash}/ (default abc123)")
    p.add_argument("--token", action="append", default=None,
                   help="accepted X-Auth-Token (repeatable; default bc_test_token)")
    p.add_argument("--rate-quota", type=int, default=150,
                   help="requests per window (default 150: Standard/Plus plan, §B4); 0 = unlimited")
    p.add_argument("--rate-window-ms", type=int, default=30000,
                   help="quota window in virtual ms (default 30000); --clock-scale shortens it")
    p.add_argument("--inventory-lag-ms", type=int, default=0,
                   help="inventory adjustments become visible this many virtual ms later (default 0)")
    p.add_argument("--untracked-inventory", choices=("reject", "accept"), default="reject",
                   help="inventory writes for products with inventory_tracking none: 422 (default) or accept")
    p.add_argument("--require-categories", action="store_true",
                   help='product create needs "categories" (the store uses the V2 product experience)')
    return p


class RateLimiter:
    """BigCommerce's per-store quota: N requests per fixed window, refreshed
    when the window ends (§B4: "Quota per store ... refreshed every 30 s").
    Time is virtual; the header values are real milliseconds, so a client that
    sleeps X-Rate-Limit-Time-Reset-Ms is right under --clock-scale."""

    def __init__(self, clock, quota, window_ms):
        self.clock = clock
        self.lock = threading.Lock()
        self.configure(quota, window_ms)

    def configure(self, quota, window_ms):
        with self.lock:
            self.quota = int(quota)
            self.window = float(window_ms) / 1000.0
            self.start = None
            self.used = 0

    def _roll(self, now):
        if self.start is None or now >= self.start + self.window:
            self.start = now
            self.used = 0

    def take(self):
        """-> (allowed, headers)."""
        with self.lock:
            now = self.clock.now()
            self._roll(now)
            if self.quota <= 0:
                return True, self._headers(now)
            if self.used >= self.quota:
                return False, self._headers(now)
            self.used += 1
            return True, self._headers(now)

    def peek(self):
        with self.lock:
            now = self.clock.now()
            self._roll(now)
            return self._headers(now)

    def _headers(self, now):
        scale = self.clock.scale
        left_s = max(0.0, self.start + self.window - now)
        quota = self.quota if self.quota > 0 else 1000000
        return {
            "X-Rate-Limit-Time-Window-Ms": str(int(round(self.window * 1000 / scale))),
            "X-Rate-Limit-Time-Reset-Ms": str(int(math.ceil(left_s * 1000 / scale))),
            "X-Rate-Limit-Requests-Quota": str(quota),
            "X-Rate-Limit-Requests-Left": str(max(0, quota - self.used)),
        }

    def status(self):
        with self.lock:
            return {"quota": self.quota, "windowMs": int(self.window * 1000), "used": self.used,
                    "windowStart": self.start}


def _q(req, name, default=None):
    v = req.query.get(name)
    return v[-1] if v else default


def _csv(req, name):
    v = _q(req, name)
    if v is None:
        return None
    return [x for x in (s.strip() for s in v.split(",")) if x != ""]


def _ints(values):
    out = []
    for x in values or []:
        try:
            out.append(int(x))
        except ValueError:
            pass
    return out


def _bool(v):
    return str(v).lower() in ("1", "true", "yes")


class BigCommercePlatform(common.Platform):
    name = "bigcommerce"

    def __init__(self, args, clock):
        super().__init__(args, clock)
        self.store_hash = args.store_hash
        self.tokens = args.token or ["bc_test_token"]
        self.require_categories = args.require_categories
        self.store = Store(clock, args.inventory_lag_ms, args.untracked_inventory)
        self.rate = RateLimiter(clock, args.rate_quota, args.rate_window_ms)
        SPECS.warm()  # parse the YAML before the port file appears (~0.5 s)

    # ------------------------------------------------------------ harness hooks
    def secrets(self):
        return list(self.tokens)

    def op_label(self, req):
        m = BASE_RE.match(req.path)
        if not m:
            return None
        rest = m.group(3) or "/"
        for method, rx, _, op in ROUTES:
            if method == req.method and rx.match(rest):
                return op
        return orders.op_label(req.method, m.group(2), rest)

    def fault_response(self, status, req):
        m = BASE_RE.match(req.path)
        v2 = bool(m and m.group(2) == "v2")
        titles = {429: "Too many requests", 500: "Internal Server Error", 502: "Bad Gateway",
                  503: "Service Unavailable", 504: "Gateway Timeout", 401: "Unauthorized", 404: "Not Found"}
        title = titles.get(status, "Error")
        body = [{"status": status, "message": title}] if v2 else \
            {"status": status, "title": title, "type": STATUS_TYPE, "errors": {}}
        r = common.Response(status, body)
        # An injected 429 stands for platform load: "A 429 without these headers
        # means platform load" (§B4), so it carries no X-Rate-Limit-* headers
        # (add them with the rule's "headers" if a test needs them).
        if status != 429:
            r.headers.update(self.rate.peek())
        return r

    def state_dump(self):
        out = self.store.view()
        out["storeHash"] = self.store_hash
        out["rateLimit"] = self.rate.status()
        out["config"] = self.config_view()
        out.update(orders.state(self))
        return out

    def persist_dump(self):
        out = self.store.dump()
        out["orderbook"] = orders.dump(self)
        return out

    def persist_load(self, data):
        self.store.load(data)
        orders.load(self, data.get("orderbook"))

    def reset(self):
        self.store.reset()
        orders.reset(self)
        self.rate.configure(self.rate.quota, self.rate.window * 1000)

    def config_view(self):
        return {"rateQuota": self.rate.quota, "rateWindowMs": int(self.rate.window * 1000),
                "inventoryLagMs": int(self.store.inventory_lag * 1000),
                "untrackedInventory": self.store.untracked_inventory,
                "requireCategories": self.require_categories, "clockScale": self.clock.scale}

    def configure(self, data):
        known = {"rateQuota", "rateWindowMs", "inventoryLagMs", "untrackedInventory", "requireCategories"}
        unknown = set(data) - known
        if unknown:
            raise ValueError("unknown config keys: %s" % ", ".join(sorted(unknown)))
        if "rateQuota" in data or "rateWindowMs" in data:
            self.rate.configure(data.get("rateQuota", self.rate.quota),
                                data.get("rateWindowMs", self.rate.window * 1000))
        if "inventoryLagMs" in data:
            self.store.inventory_lag = float(data["inventoryLagMs"]) / 1000.0
        if "untrackedInventory" in data:
            if data["untrackedInventory"] not in ("reject", "accept"):
                raise ValueError("untrackedInventory must be reject or accept")
            self.store.untracked_inventory = data["untrackedInventory"]
        if "requireCategories" in data:
            self.require_categories = bool(data["requireCategories"])
        return self.config_view()

    def seed(self, data):
        st = self.store
        if data.get("reset"):
            st.reset(default_locations=not data.get("locations"))
            orders.reset(self)
        for loc in data.get("locations") or []:
            st.add_location(loc.get("label") or loc.get("name"), code=loc.get("code"),
                            **{k: v for k, v in loc.items() if k not in ("label", "name", "code")})
        created = []
        for spec in data.get("products") or []:
            body = {k: v for k, v in spec.items() if k != "inventory"}
            body["variants"] = [{k: v for k, v in vs.items() if k != "inventory"} for vs in spec.get("variants") or []]
            if not body["variants"]:
                del body["variants"]
            body.setdefault("type", "physical")
            body.setdefault("weight", 0)
            body.setdefault("price", 0)
            try:
                p = st.create_product(body)
            except ApiError as e:
                raise ValueError("seed: %s %s" % (e.title, json.dumps(e.errors)))
            if spec.get("inventory"):
                self._seed_stock(st.product_key(p), spec["inventory"])
            vids = st.product_variant_ids(p)
            for vs, vid in zip(spec.get("variants") or [], vids):
                if vs.get("inventory"):
                    self._seed_stock(("v", vid), vs["inventory"])
            created.append({"id": p["id"], "sku": p["sku"], "base_variant_id": p["_base_variant"],
                            "variants": [{"id": vid, "sku": st.variants[vid]["sku"]} for vid in
                                         st.variant_ids_all(p)]})
        out = {"locations": [{"id": l["id"], "label": l["label"]} for l in st.locations.values()],
               "products": created}
        out.update(orders.seed(self, data))  # "customers", "orders" (orders.py)
        return out

    def _seed_stock(self, key, inventory):
        for loc, q in inventory.items():
            lid = int(loc) if str(loc).isdigit() else next(
                (l["id"] for l in self.store.locations.values() if l["label"] == loc), None)
            if lid is None:
                raise ValueError("seed: unknown location %r" % loc)
            self.store.stock[(key, lid)] = int(q)
            self.store.absolute_seen.add((key, lid))

    # ------------------------------------------------------------ HTTP
    def handle(self, req):
        m = BASE_RE.match(req.path)
        if not m:
            return common.Response(404, {"status": 404, "title": "Not Found", "type": STATUS_TYPE, "errors": {}})
        store_hash, version, rest = m.group(1), m.group(2), m.group(3) or "/"
        v2 = version == "v2"
        token = req.header("X-Auth-Token")
        if token not in self.tokens:
            # 401 "bad token" (§B7). The spec gives the body only as plain/text;
            # the v3 error shape is used *(constructed)*.
            body = ([{"status": 401, "message": "Unauthorized"}] if v2 else
                    {"status": 401, "title": "Unauthorized", "type": STATUS_TYPE, "errors": {}})
            with self.lock:
                self.store.count("rejected")
            return common.Response(401, body, self.rate.peek())
        if store_hash != self.store_hash:
            # A wrong store hash with a valid token: 403 with this body was
            # reported for a malformed hash (openillumi.com, "BigCommerce API
            # 403 Scope Error Fix").
            return common.Response(403, {"status": 403, "title": "You don't have a required scope to access the "
                                                                 "endpoint", "type": STATUS_TYPE, "errors": {}},
                                   self.rate.peek())
        allowed, rate_headers = self.rate.take()
        if not allowed:
            with self.lock:
                self.store.count("throttled")
            h = dict(rate_headers)
            # "X-Retry-After: 15 (seconds; on a 429)" (§B4)
            h["X-Retry-After"] = str(max(1, int(math.ceil(int(h["X-Rate-Limit-Time-Reset-Ms"]) / 1000.0))))
            return common.Response(429, {"status": 429, "title": "Too many requests", "type": STATUS_TYPE,
                                         "errors": {}}, h)
        resp = self._route(req, v2, rest)
        resp.headers.update(rate_headers)
        return resp

    def _route(self, req, v2, rest):
        with self.lock:
            self.store.count("requests")
        if v2:
            r = orders.handle_v2(self, req, rest)
            if r is not None:
                return r
            return common.Response(404, [{"status": 404, "message": "The requested resource was not found."}])
        if rest.startswith("/orders") or rest.startswith("/customers"):
            r = orders.handle_v3(self, req, rest)
            if r is not None:
                return r
        path_known = False
        for method, rx, handler, op in ROUTES:
            mm = rx.match(rest)
            if not mm:
                continue
            path_known = True
            if method != req.method:
                continue
            with self.lock:
                self.store.count("requestsByOperation", op)
            try:
                body = None
                if method in ("POST", "PUT"):
                    body = self._body(req)
                with self.lock:
                    resp = getattr(self, "h_" + handler)(req, body, *[int(g) for g in mm.groups()])
            except ApiError as e:
                with self.lock:
                    self.store.count("rejected")
                resp = common.Response(e.status, e.body(), content_type=PROBLEM if e.problem else JSON)
            resp.op_label = op
            if op in WRITE_OPS and 200 <= resp.status < 300:
                with self.lock:
                    self.store.count("writes")
                resp.state_changed = True
            return resp
        if path_known:
            return common.Response(405, {"status": 405, "title": "Method Not Allowed", "type": STATUS_TYPE,
                                         "errors": {}})
        return common.Response(404, {"status": 404, "title": "The requested resource was not found.",
                                     "type": STATUS_TYPE, "errors": {}})

    def _body(self, req):
        ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != JSON and not ctype.endswith("+json"):
            # "415 wrong Content-Type" (§B7; spec UnsupportedMediaTypeError is text/html)
            raise ApiError(415, "Unsupported Media Type", {})
        try:
            return json.loads(req.body.decode("utf-8")) if req.body else None
        except (ValueError, UnicodeDecodeError):
            # *(constructed)*: the body is not JSON at all
            raise ApiError(400, "The request body is not valid JSON.", {})

    # ------------------------------------------------------------ helpers
    def _validate(self, op, body):
        if body is None:
            raise ApiError(422, "JSON data is missing or invalid", {"obj": "error.expected.jsobject"})
        errs = SPECS.errors(op, body)
        if errs:
            raise ApiError(422, "JSON data is missing or invalid", errs,
                           problem=op in ("put-absolute-adjustment", "post-relative-adjustment"))

    @staticmethod
    def _too_large(op, n):
        if n > BATCH_LIMITS[op]:
            return common.Response(413, {"errors": {}, "status": 413, "title": TOO_LARGE_TITLES[op],
                                         "type": TOO_LARGE_TYPE})
        return None

    def _product(self, pid):
        p = self.store.products.get(pid)
        if p is None:
            raise ApiError(404, "The requested resource was not found.", {})
        return p

    def _variant(self, pid, vid):
        self._product(pid)
        v = self.store.variants.get(vid)
        if v is None or v["product_id"] != pid:
            raise ApiError(404, "The requested resource was not found.", {})
        return v

    def _page(self, req, items, max_limit=PAGE_MAX, cap=None):
        """meta.pagination as metaCollection_Full (§B5). `limit` over the
        maximum is clamped to it *(assumption: the spec gives only maximum: 250)*."""
        try:
            page = max(1, int(_q(req, "page", 1)))
        except ValueError:
            page = 1
        try:
            limit = int(_q(req, "limit", PAGE_DEFAULT))
        except ValueError:
            limit = PAGE_DEFAULT
        limit = max(1, min(limit, max_limit if cap is None else min(max_limit, cap)))
        total = len(items)
        total_pages = int(math.ceil(total / float(limit))) if total else 0
        chunk = items[(page - 1) * limit: page * limit]
        others = [(k, v) for k, vs in req.query.items() if k not in ("page", "limit") for v in vs]
        prefix = "?" + (urllib.parse.urlencode(others, safe=",:") + "&" if others else "")

        def link(n):
            return "%spage=%d&limit=%d" % (prefix, n, limit)

        links = {"current": link(page)}
        if page > 1:
            links["previous"] = link(page - 1)
        if page < total_pages:
            links["next"] = link(page + 1)
        meta = {"pagination": {"total": total, "count": len(chunk), "per_page": limit, "current_page": page,
                               "total_pages": total_pages, "links": links}}
        return chunk, meta

    @staticmethod
    def _fields(req, obj):
        inc = _csv(req, "include_fields")
        exc = _csv(req, "exclude_fields")
        if inc:
            # "The ID and the specified fields will be returned." (IncludeFieldsParam)
            keep = set(inc) | {"id"}
            obj = {k: v for k, v in obj.items() if k in keep or k in ("variants", "options")}
        if exc:
            obj = {k: v for k, v in obj.items() if k not in set(exc) or k == "id"}
        return obj

    def _include(self, req):
        return set(_csv(req, "include") or [])

    # ------------------------------------------------------------ products
    def h_get_products(self, req, body):
        st = self.store
        items = [st.products[k] for k in sorted(st.products)]
        f = _q(req, "id")
        if f is not None:
            items = [p for p in items if str(p["id"]) == f]
        ids = _csv(req, "id:in")
        if ids is not None:
            s = set(_ints(ids))
            items = [p for p in items if p["id"] in s]
        ids = _csv(req, "id:not_in")
        if ids is not None:
            s = set(_ints(ids))
            items = [p for p in items if p["id"] not in s]
        for name, op in (("id:min", lambda a, b: a >= b), ("id:max", lambda a, b: a <= b),
                         ("id:greater", lambda a, b: a > b), ("id:less", lambda a, b: a < b)):
            v = _q(req, name)
            if v is not None and v.lstrip("-").isdigit():
                items = [p for p in items if op(p["id"], int(v))]
        sku = _q(req, "sku")
        if sku is not None:
            # "Filter items by main SKU" (SkuParam); case-insensitive like the
            # uniqueness rule *(assumption)*
            items = [p for p in items if p["sku"].casefold() == sku.casefold()]
        skus = _csv(req, "sku:in")
        if skus is not None:
            s = {x.casefold() for x in skus}
            items = [p for p in items if p["sku"].casefold() in s]
        name = _q(req, "name")
        if name is not None:
            items = [p for p in items if p["name"] == name]
        kw = _q(req, "keyword")
        if kw:
            k = kw.casefold()
            items = [p for p in items if k in p["name"].casefold() or k in p["sku"].casefold()
                     or k in p["description"].casefold()]
        for fname in ("upc", "type", "mpn"):
            v = _q(req, fname)
            if v is not None:
                items = [p for p in items if str(p.get(fname)) == v]
        v = _q(req, "is_visible")
        if v is not None:
            items = [p for p in items if p["is_visible"] == _bool(v)]
        v = _q(req, "is_featured")
        if v is not None:
            items = [p for p in items if p["is_featured"] == _bool(v)]
        for fname, op in (("date_modified:min", lambda a, b: a >= b), ("date_modified:max", lambda a, b: a <= b),
                          ("date_modified", lambda a, b: a == b)):
            v = _q(req, fname)
            if v:
                try:
                    t = common.parse_iso(v)
                except ValueError:
                    continue
                items = [p for p in items if op(common.parse_iso(p["date_modified"]), t)]
        cats = _csv(req, "categories:in")
        if cats is not None:
            s = set(_ints(cats))
            items = [p for p in items if s & set(int(c) for c in p["categories"])]
        sort = _q(req, "sort", "id")
        if sort in ("id", "name", "sku", "price", "date_modified", "inventory_level", "is_visible", "total_sold",
                    "calculated_price"):
            def key(p):
                if sort == "inventory_level":
                    return st.product_inventory_level(p)
                if sort == "calculated_price":
                    return p["sale_price"] or p["price"]
                return p[sort]
            items = sorted(items, key=key, reverse=_q(req, "direction", "asc") == "desc")
        include = self._include(req)
        # "When you specify options or modifiers, results are limited to 10 per page." (IncludeParamGetProducts)
        cap = 10 if include & {"options", "modifiers"} else None
        chunk, meta = self._page(req, items, cap=cap)
        data = [self._fields(req, st.product_view(p, include)) for p in chunk]
        return common.Response(200, {"data": data, "meta": meta})

    def h_create_product(self, req, body):
        self._validate("createProduct", body)
        if self.require_categories and not body.get("categories"):
            # "categories (required when you enable the V2 product experience)" (createProduct)
            raise ApiError(422, "JSON data is missing or invalid", {"categories": "error.path.missing"})
        p = self.store.create_product(body)
        include = self._include(req) | ({"variants"} if body.get("variants") else set())
        return common.Response(200, {"data": self._fields(req, self.store.product_view(p, include)), "meta": {}})

    def h_update_products(self, req, body):
        if isinstance(body, list):
            r = self._too_large("updateProducts", len(body))
            if r:
                return r
        self._validate("updateProducts", body)
        st = self.store
        products = []
        missing = [it["id"] for it in body if it["id"] not in st.products]
        if missing:
            raise ApiError(404, "The requested resource was not found.", {"id": "Products %s not found"
                                                                          % ",".join(map(str, missing))})
        skus, names = set(), set()
        for it in body:
            p = st.products[it["id"]]
            st.check_product_update(p, it, skus, names)
            products.append(p)
        for it, p in zip(body, products):
            st.apply_product(p, {k: v for k, v in it.items() if k != "id"})
        data = [self._fields(req, st.product_view(p, self._include(req))) for p in products]
        return common.Response(200, {"data": data, "meta": {}})

    def h_delete_products(self, req, body):
        st = self.store
        ids = _csv(req, "id:in")
        filters = {k for k in req.query if k not in ("page", "limit")}
        if not filters:
            # "To delete Product objects, you must include a filter." (deleteProducts) *(title constructed)*
            raise ApiError(422, "A filter is required to delete products.", {})
        items = list(st.products.values())
        if ids is not None:
            s = set(_ints(ids))
            items = [p for p in items if p["id"] in s]
        sku = _q(req, "sku")
        if sku is not None:
            items = [p for p in items if p["sku"].casefold() == sku.casefold()]
        name = _q(req, "name")
        if name is not None:
            items = [p for p in items if p["name"] == name]
        for p in items[:250]:  # "The maximum number of products you can delete at one time is 250."
            st.delete_product(p)
        return common.Response(204, b"", content_type=None)

    def h_get_product(self, req, body, pid):
        p = self._product(pid)
        return common.Response(200, {"data": self._fields(req, self.store.product_view(p, self._include(req))),
                                     "meta": {}})

    def h_update_product(self, req, body, pid):
        p = self._product(pid)
        self._validate("updateProduct", body)
        # A "variants" key is accepted by the schema (no additionalProperties)
        # but not applied here; update variants through the variant endpoints.
        self.store.update_product(p, {k: v for k, v in body.items() if k not in ("id", "variants")})
        return common.Response(200, {"data": self._fields(req, self.store.product_view(p, self._include(req))),
                                     "meta": {}})

    def h_delete_product(self, req, body, pid):
        self.store.delete_product(self._product(pid))
        return common.Response(204, b"", content_type=None)

    # ------------------------------------------------------------ variants
    def h_get_product_variants(self, req, body, pid):
        p = self._product(pid)
        items = [self.store.variants[v] for v in self.store.variant_ids_all(p)]
        chunk, meta = self._page(req, items)
        return common.Response(200, {"data": [self._fields(req, self.store.variant_view(v)) for v in chunk],
                                     "meta": meta})

    def h_create_product_variant(self, req, body, pid):
        p = self._product(pid)
        self._validate("createProductVariant", body)
        v = self.store.create_variant(p, body)
        return common.Response(200, {"data": self.store.variant_view(v), "meta": {}})

    def h_get_product_variant(self, req, body, pid, vid):
        v = self._variant(pid, vid)
        return common.Response(200, {"data": self._fields(req, self.store.variant_view(v)), "meta": {}})

    def h_update_product_variant(self, req, body, pid, vid):
        v = self._variant(pid, vid)
        self._validate("updateProductVariant", body)
        self.store.update_variant(v, {k: x for k, x in body.items() if k not in ("id", "product_id",
                                                                                "option_values")})
        return common.Response(200, {"data": self.store.variant_view(v), "meta": {}})

    def h_delete_product_variant(self, req, body, pid, vid):
        self.store.delete_variant(self._variant(pid, vid))
        return common.Response(204, b"", content_type=None)

    def h_get_variants(self, req, body):
        """All variants, base variants included (a simple product's base variant
        is a variant with empty option_values, productVariant_Full)."""
        st = self.store
        items = [st.variants[k] for k in sorted(st.variants)]
        v = _q(req, "id")
        if v is not None:
            items = [x for x in items if str(x["id"]) == v]
        sku = _q(req, "sku")
        if sku is not None:
            items = [x for x in items if x["sku"].casefold() == sku.casefold()]
        # `sku:in` is not listed for this operation in the spec (only id, sku,
        # upc, product_id:in); it is accepted like the products filter.
        skus = _csv(req, "sku:in")
        if skus is not None:
            s = {x.casefold() for x in skus}
            items = [x for x in items if x["sku"].casefold() in s]
        upc = _q(req, "upc")
        if upc is not None:
            items = [x for x in items if x["upc"] == upc]
        pids = _csv(req, "product_id:in")
        if pids is not None:
            s = set(_ints(pids))
            items = [x for x in items if x["product_id"] in s]
        chunk, meta = self._page(req, items)
        return common.Response(200, {"data": [self._fields(req, st.variant_view(x)) for x in chunk], "meta": meta})

    def h_update_variants(self, req, body):
        """PUT /v3/catalog/variants: "Each item {"id":...} to update, or
        {"product_id","sku","option_values":[{"id","option_id"}]} to create"
        (§B2). Applied all or nothing; errors use this operation's documented
        422 shape {"batch_errors": [...]}."""
        if isinstance(body, list):
            r = self._too_large("updateVariantsBatch", len(body))
            if r:
                return r
        st = self.store
        try:
            self._validate("updateVariantsBatch", body)
        except ApiError as e:
            raise self._batch_error(e)
        plan = []
        new_skus = set()
        per_product_new = {}
        for i, it in enumerate(body):
            try:
                # this operation's schema declares neither sku nor
                # option_values; type them as the variant model does
                bad = {}
                if "sku" in it and not isinstance(it["sku"], str):
                    bad["sku"] = "error.expected.jsstring"
                if "option_values" in it and not (isinstance(it["option_values"], list) and
                                                  all(isinstance(x, dict) for x in it["option_values"])):
                    bad["option_values"] = "error.expected.jsarray"
                if "product_id" in it and (not isinstance(it["product_id"], int) or
                                           isinstance(it["product_id"], bool)):
                    bad["product_id"] = "error.expected.jsnumber"
                if bad:
                    raise ApiError(422, "JSON data is missing or invalid", bad)
                if it.get("id") is not None:
                    v = st.variants.get(it["id"])
                    if v is None:
                        raise ApiError(422, "Variant %s not found." % it["id"], {"id": "not found"})  # *(constructed)*
                    if "sku" in it:
                        p = st.products[v["product_id"]]
                        if st.sku_taken(it["sku"], product_id=p["id"] if v["_base"] else None, variant_id=v["id"]) \
                                or it["sku"].casefold() in new_skus:
                            raise st.sku_conflict(it["sku"])
                        new_skus.add(it["sku"].casefold())
                    plan.append(("update", v, it))
                else:
                    missing = [k for k in ("product_id", "sku", "option_values") if k not in it]
                    if missing:
                        raise ApiError(422, "JSON data is missing or invalid",
                                       {k: "error.path.missing" for k in missing})
                    p = st.products.get(it["product_id"])
                    if p is None:
                        raise ApiError(422, "Product %s not found." % it["product_id"], {"product_id": "not found"})
                    n = per_product_new.get(p["id"], 0)
                    st.check_new_variant(p, it, extra_count=n)
                    if it["sku"].casefold() in new_skus:
                        raise st.sku_conflict(it["sku"])
                    new_skus.add(it["sku"].casefold())
                    per_product_new[p["id"]] = n + 1
                    for j, ov in enumerate(it["option_values"]):
                        if ov.get("id") is None or ov.get("option_id") is None:
                            raise ApiError(422, "JSON data is missing or invalid",
                                           {"option_values.%d.id" % j: "error.path.missing"})
                    st._resolve_option_values(p, it["option_values"], create=False)
                    plan.append(("create", p, it))
            except ApiError as e:
                raise self._batch_error(e, index=i)
        out = []
        for kind, obj, it in plan:
            if kind == "update":
                st.apply_variant(obj, {k: x for k, x in it.items() if k not in ("id", "product_id", "option_values")})
                out.append(obj)
            else:
                out.append(st.create_variant(obj, it))
        return common.Response(200, {"data": [st.variant_view(v) for v in out], "meta": {}})

    @staticmethod
    def _batch_error(e, index=None):
        errors = e.errors
        if index is not None:
            errors = {"%d.%s" % (index, k): v for k, v in errors.items()} or {str(index): e.title}
        err = ApiError(422, e.title, {})
        err.body = lambda: {"batch_errors": [{"status": e.status, "title": e.title, "type": STATUS_TYPE,
                                              "errors": errors}]}
        return err

    # ------------------------------------------------------------ options
    def h_get_options(self, req, body, pid):
        p = self._product(pid)
        items = [self.store.options[o] for o in p["_options"]]
        chunk, meta = self._page(req, items)
        return common.Response(200, {"data": [self.store.option_view(o) for o in chunk], "meta": meta})

    def h_create_option(self, req, body, pid):
        p = self._product(pid)
        self._validate("createProductVariantOption", body)
        # Required Fields: display_name, type, option_values (createProductVariantOption)
        missing = {k: "error.path.missing" for k in ("display_name", "type", "option_values") if k not in body}
        if missing:
            raise ApiError(422, "JSON data is missing or invalid", missing)
        o = self.store.create_option(p, body)
        return common.Response(200, {"data": self.store.option_view(o), "meta": {}})

    def _option(self, pid, oid):
        p = self._product(pid)
        if oid not in p["_options"]:
            raise ApiError(404, "The requested resource was not found.", {})
        return p, self.store.options[oid]

    def h_get_option(self, req, body, pid, oid):
        _, o = self._option(pid, oid)
        return common.Response(200, {"data": self.store.option_view(o), "meta": {}})

    def h_update_option(self, req, body, pid, oid):
        p, o = self._option(pid, oid)
        self._validate("updateProductVariantOption", body)
        if "display_name" in body:
            for other in p["_options"]:
                if other != oid and self.store.options[other]["display_name"].casefold() == \
                        body["display_name"].casefold():
                    raise ApiError(409, "The option display name is a duplicate",
                                   {"display_name": "The option display name is a duplicate"})
            o["display_name"] = body["display_name"]
        for k in ("type", "sort_order", "config", "image_url"):
            if k in body:
                o[k] = body[k]
        return common.Response(200, {"data": self.store.option_view(o), "meta": {}})

    def h_delete_option(self, req, body, pid, oid):
        p, o = self._option(pid, oid)
        st = self.store
        for vid in st.product_variant_ids(p):
            if set(st.variants[vid]["_option_values"]) & set(o["_values"]):
                st._drop_variant(vid)
        for v in o["_values"]:
            st.option_values.pop(v, None)
        p["_options"].remove(oid)
        st.options.pop(oid, None)
        st._ensure_base_variant(p)
        return common.Response(204, b"", content_type=None)

    def h_get_option_values(self, req, body, pid, oid):
        _, o = self._option(pid, oid)
        items = [self.store.option_values[v] for v in o["_values"]]
        chunk, meta = self._page(req, items)
        return common.Response(200, {"data": [self.store.option_value_view(v) for v in chunk], "meta": meta})

    def h_create_option_value(self, req, body, pid, oid):
        _, o = self._option(pid, oid)
        self._validate("createProductVariantOptionValue", body)
        if len(o["_values"]) >= 250:
            # "250 option values per option limit" (createProductVariantOptionValue) *(title constructed)*
            raise ApiError(422, "An option can have up to 250 values.", {})
        if any(self.store.option_values[v]["label"].casefold() == body["label"].casefold() for v in o["_values"]):
            raise ApiError(409, "The option value label is a duplicate", {"label": "duplicate"})  # *(constructed)*
        val = self.store.create_option_value(o, body)
        return common.Response(200, {"data": self.store.option_value_view(val), "meta": {}})

    # ------------------------------------------------------------ inventory
    def _adjust(self, req, body, op, relative):
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            r = self._too_large(op, len(body["items"]))
            if r:
                return r
        self._validate(op, body)
        txid = self.store.adjust(body["items"], relative=relative)
        return common.Response(200, {"transaction_id": txid})

    def h_adjust_absolute(self, req, body):
        return self._adjust(req, body, "put-absolute-adjustment", False)

    def h_adjust_relative(self, req, body):
        return self._adjust(req, body, "post-relative-adjustment", True)

    def h_get_inventory_items(self, req, body):
        st = self.store
        rows = st.inventory_items()
        skus = _csv(req, "sku:in")
        if skus is not None:
            s = {x.casefold() for x in skus}
            rows = [r for r in rows if (r[1]["sku"] or "").casefold() in s]
        vids = _csv(req, "variant_id:in")
        if vids is not None:
            s = set(_ints(vids))
            rows = [r for r in rows if r[1]["variant_id"] in s]
        pids = _csv(req, "product_id:in")
        if pids is not None:
            s = set(_ints(pids))
            rows = [r for r in rows if r[1]["product_id"] in s]
        locs = [st.locations[k] for k in sorted(st.locations)]
        lids = _csv(req, "location_id:in")
        if lids is not None:
            s = set(_ints(lids))
            locs = [l for l in locs if l["id"] in s]
        chunk, meta = self._page(req, rows, max_limit=INVENTORY_PAGE_MAX)
        data = [{"identity": ident, "locations": [st.item_location_row(key, l) for l in locs]}
                for key, ident in chunk]
        return common.Response(200, {"data": data, "meta": meta})

    def h_get_locations(self, req, body):
        st = self.store
        locs = [st.locations[k] for k in sorted(st.locations)]
        lids = _csv(req, "location_id:in")
        if lids is not None:
            s = set(_ints(lids))
            locs = [l for l in locs if l["id"] in s]
        v = _q(req, "is_active")
        if v is not None:
            locs = [l for l in locs if l["enabled"] == _bool(v)]
        chunk, meta = self._page(req, locs)
        return common.Response(200, {"data": [dict(l) for l in chunk], "meta": meta})

    def h_get_location_items(self, req, body, lid):
        st = self.store
        loc = st.locations.get(lid)
        if loc is None:
            raise ApiError(404, "Location not found, identities: [%d]" % lid, {}, problem=True)
        rows = st.inventory_items()
        for name, field in (("variant_id:in", "variant_id"), ("product_id:in", "product_id")):
            ids = _csv(req, name)
            if ids is not None:
                s = set(_ints(ids))
                rows = [r for r in rows if r[1][field] in s]
        skus = _csv(req, "sku:in")
        if skus is not None:
            s = {x.casefold() for x in skus}
            rows = [r for r in rows if (r[1]["sku"] or "").casefold() in s]
        chunk, meta = self._page(req, rows, max_limit=INVENTORY_PAGE_MAX)
        data = []
        for key, ident in chunk:
            row = st.item_location_row(key, loc)
            data.append({"identity": {k: ident[k] for k in ("sku", "variant_id", "product_id")},
                         "available_to_sell": row["available_to_sell"],
                         "total_inventory_onhand": row["total_inventory_onhand"], "settings": row["settings"]})
        return common.Response(200, {"data": data, "meta": meta})


def make_parser():
    return add_arguments(common.base_arg_parser("BigCommerce REST API emulator (Catalog v3, Inventory v3)"))


def run():
    return common.main(BigCommercePlatform, make_parser())


__all__ = ["BigCommercePlatform", "make_parser", "run"]
