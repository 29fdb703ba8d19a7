#!/usr/bin/env python3
"""WooCommerce REST API v3 emulator (products, variations, attributes, terms)
for posbridge's tests.

    python3 tests/emulators/woocommerce/server.py --port 0 --port-file /tmp/p \\
        --consumer-key ck_x --consumer-secret cs_y [--https-mode basic|oauth] \\
        [--rate-limit 5/s] [common flags]

Base /wp-json/wc/v3/ (also /?rest_route=/wc/v3/...). Behaviour follows
shared/reference/platforms-woocommerce-magento.md part A ("§A..." below) and the
example bodies in shared/reference/platforms/woocommerce/; request parameters
are checked against the documented route index the way WordPress checks them
(wpschema.py); authentication in auth.py; data rules in store.py. Control
endpoints, faults, the request log and the clock come from ../common.py.
"""

import collections
import json
import math
import os
import re
import sys
import threading
import urllib.parse

_HERE = os.path.dirname(os.path.abspath(__file__))
if __name__ == "__main__":
    # run as a script: import this directory as the package "woocommerce"
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
    sys.path.insert(0, os.path.dirname(_HERE))
    import woocommerce.server as _self  # noqa: E402

    sys.exit(_self.run())

import common  # noqa: E402
from . import orders, wpschema  # noqa: E402
from .auth import BASIC_REALM, Authenticator, php_parse_str, wp_error  # noqa: E402
from .store import Store, WooError  # noqa: E402

JSON_CT = "application/json; charset=UTF-8"
BATCH_LIMIT = 100  # woocommerce_rest_batch_items_limit default (§A3 "Batch")

R_PRODUCTS = "/wc/v3/products"
R_PRODUCT = "/wc/v3/products/(?P<id>[\\d]+)"
R_PRODUCTS_BATCH = "/wc/v3/products/batch"
R_VARIATIONS = "/wc/v3/products/(?P<product_id>[\\d]+)/variations"
R_VARIATION = "/wc/v3/products/(?P<product_id>[\\d]+)/variations/(?P<id>[\\d]+)"
R_VARIATIONS_BATCH = "/wc/v3/products/(?P<product_id>[\\d]+)/variations/batch"
R_ATTRIBUTES = "/wc/v3/products/attributes"
R_ATTRIBUTE = "/wc/v3/products/attributes/(?P<id>[\\d]+)"
R_ATTRIBUTES_BATCH = "/wc/v3/products/attributes/batch"
R_TERMS = "/wc/v3/products/attributes/(?P<attribute_id>[\\d]+)/terms"
R_TERM = "/wc/v3/products/attributes/(?P<attribute_id>[\\d]+)/terms/(?P<id>[\\d]+)"
R_TERMS_BATCH = "/wc/v3/products/attributes/(?P<attribute_id>[\\d]+)/terms/batch"

EDIT = ("POST", "PUT", "PATCH")
# index route -> {method: (handler, op label, permission)}; permission is the
# WooCommerce capability check that answers 401 to an unauthenticated request.
ROUTES = [
    ("/wc/v3", {"GET": ("index", "index", None)}),
    (R_PRODUCTS_BATCH, {m: ("products_batch", "products.batch", "batch") for m in EDIT}),
    (R_PRODUCTS, {"GET": ("products_list", "products.list", "list"),
                  "POST": ("products_create", "products.create", "create")}),
    (R_ATTRIBUTES_BATCH, {m: ("attributes_batch", "attributes.batch", "batch") for m in EDIT}),
    (R_ATTRIBUTES, {"GET": ("attributes_list", "attributes.list", "list"),
                    "POST": ("attributes_create", "attributes.create", "create")}),
    (R_ATTRIBUTE, dict({"GET": ("attributes_get", "attributes.get", "view"),
                        "DELETE": ("attributes_delete", "attributes.delete", "delete")},
                       **{m: ("attributes_update", "attributes.update", "edit") for m in EDIT})),
    (R_TERMS_BATCH, {m: ("terms_batch", "terms.batch", "batch") for m in EDIT}),
    (R_TERMS, {"GET": ("terms_list", "terms.list", "list"), "POST": ("terms_create", "terms.create", "create")}),
    (R_TERM, dict({"GET": ("terms_get", "terms.get", "view"), "DELETE": ("terms_delete", "terms.delete", "delete")},
                  **{m: ("terms_update", "terms.update", "edit") for m in EDIT})),
    (R_PRODUCT, dict({"GET": ("products_get", "products.get", "view"),
                      "DELETE": ("products_delete", "products.delete", "delete")},
                     **{m: ("products_update", "products.update", "edit") for m in EDIT})),
    (R_VARIATIONS_BATCH, {m: ("variations_batch", "variations.batch", "batch") for m in EDIT}),
    (R_VARIATIONS, {"GET": ("variations_list", "variations.list", "list"),
                    "POST": ("variations_create", "variations.create", "create")}),
    (R_VARIATION, dict({"GET": ("variations_get", "variations.get", "view"),
                        "DELETE": ("variations_delete", "variations.delete", "delete")},
                       **{m: ("variations_update", "variations.update", "edit") for m in EDIT})),
]
ROUTES = [(key, re.compile("^" + key + "/?$", re.I), methods) for key, methods in ROUTES]

# rest_authorization_required_code() is 401 for a request without a user (§A2)
PERMISSION_ERRORS = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "delete": ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."),
    "batch": ("woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch manipulate this resource."),
}

# What a host / CDN answers when it throttles or is overloaded: HTML, not
# WordPress JSON ("429, 503 (often HTML) or dropped connections; some hosts send
# Retry-After", §A9).
HOST_PAGES = {
    429: "<html><head><title>429 Too Many Requests</title></head><body><h1>Too Many Requests</h1>"
         "<p>You have been rate limited.</p></body></html>",
    502: "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>",
    503: "<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1>"
         "<p>The server is temporarily unable to service your request.</p></body></html>",
    504: "<html><head><title>504 Gateway Timeout</title></head><body><h1>Gateway Timeout</h1></body></html>",
}


def add_arguments(p):
    p.add_argument("--consumer-key", default="ck_test", help="accepted consumer key (default ck_test)")
    p.add_argument("--consumer-secret", default="cs_test", help="its secret (default cs_test)")
    p.add_argument("--key-permissions", default="read_write", choices=("read", "write", "read_write"),
                   help="the key's permission (default read_write)")
    p.add_argument("--https-mode", default="oauth", choices=("basic", "oauth"),
                   help="basic: pretend the transport is HTTPS (HTTP Basic and ?consumer_key= accepted, OAuth "
                        "also); oauth (default): plain HTTP, only OAuth 1.0a")
    p.add_argument("--home-url", help="the site URL OAuth signatures are built on (default: http://127.0.0.1:PORT, "
                                      "https:// with --https-mode basic)")
    p.add_argument("--oauth-clock", default="virtual", choices=("virtual", "real"),
                   help="clock for the ±15 min oauth_timestamp window (default: the emulator's virtual clock)")
    p.add_argument("--rate-limit", help="host throttling: N/s (or N/m) requests, 429 + Retry-After past it")
    p.add_argument("--utc-offset-hours", type=float, default=0.0,
                   help="site timezone for date_* fields (the _gmt fields are UTC); default 0")
    p.add_argument("--sku-case-sensitive", action="store_true",
                   help="compare SKUs byte-wise (binary collation); default case-insensitive like utf8mb4_unicode_ci")
    return p


def parse_rate(text):
    """"5/s", "300/m", "5" -> (count, window seconds)."""
    if not text:
        return None
    m = re.match(r"^\s*(\d+)\s*(?:/\s*(s|sec|second|m|min|minute))?\s*$", text)
    if not m:
        raise ValueError("--rate-limit must look like 5/s or 300/m")
    n = int(m.group(1))
    window = 60.0 if (m.group(2) or "s").startswith("m") else 1.0
    return n, window


class HostThrottle:
    """Sliding-window request limit in front of WordPress (virtual time)."""

    def __init__(self, clock, rate):
        self.clock = clock
        self.lock = threading.Lock()
        self.set(rate)

    def set(self, rate):
        with self.lock:
            self.rate = rate
            self.times = collections.deque()

    def take(self):
        """-> None when allowed, else the Retry-After seconds."""
        with self.lock:
            if not self.rate:
                return None
            n, window = self.rate
            now = self.clock.now()
            while self.times and self.times[0] <= now - window:
                self.times.popleft()
            if len(self.times) >= n:
                wait = (self.times[0] + window - now) / self.clock.scale
                return max(1, int(math.ceil(wait)))
            self.times.append(now)
            return None


class WooPlatform(common.Platform):
    name = "woocommerce"

    def __init__(self, args, clock):
        super().__init__(args, clock)
        self.https = args.https_mode == "basic"
        self.keys = {args.consumer_key: {"secret": args.consumer_secret, "permissions": args.key_permissions,
                                         "user_id": 1}}
        self.auth = Authenticator(self.keys, self.https, clock, use_real_clock=args.oauth_clock == "real")
        self.home_url = args.home_url.rstrip("/") if args.home_url else None
        self.store = Store(clock, args.utc_offset_hours, args.sku_case_sensitive)
        self.route_args = wpschema.RouteArgs()
        self.throttle = HostThrottle(clock, parse_rate(args.rate_limit))
        self.rate_text = args.rate_limit

    # ------------------------------------------------------------ harness hooks
    def secrets(self):
        return [k for k in self.keys] + [r["secret"] for r in self.keys.values()]

    def op_label(self, req):
        route = self._route_of(req)
        if route is None:
            return None
        method = self._method(req)
        for key, rx, methods in ROUTES:
            if rx.match(route) and method in methods:
                return methods[method][1]
        if route.startswith("/wc/v3"):
            return orders.op_label(route, method)
        return None

    def fault_response(self, status, req):
        if status in HOST_PAGES:
            return common.Response(status, HOST_PAGES[status], content_type="text/html; charset=UTF-8")
        if status == 500:
            # WordPress's fatal error handler in a REST request
            body = wp_error("internal_server_error", "<p>There has been a critical error on this website.</p>"
                            "<p><a href=\"https://wordpress.org/documentation/article/faq-troubleshooting/\">"
                            "Learn more about troubleshooting WordPress.</a></p>", 500)
        elif status == 401:
            body = wp_error("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401)
        elif status == 404:
            body = wp_error("rest_no_route", "No route was found matching the URL and request method", 404)
        else:
            body = wp_error("rest_error", "Error", status)
        return common.Response(status, body, content_type=JSON_CT)

    def state_dump(self):
        out = self.store.view()
        out["config"] = self.config_view()
        out["oauthNonces"] = sum(len(v) for v in self.auth.nonces.values())
        out.update(orders.state(self))
        return out

    def persist_dump(self):
        return dict(self.store.dump(), orderBook=orders.persist_dump(self))

    def persist_load(self, data):
        self.store.load(data)
        orders.persist_load(self, data.get("orderBook"))

    def reset(self):
        self.store.reset()
        orders.reset(self)
        self.auth.nonces = {}
        self.throttle.set(self.throttle.rate)

    def config_view(self):
        return {"httpsMode": "basic" if self.https else "oauth", "rateLimit": self.rate_text,
                "keyPermissions": self.keys[next(iter(self.keys))]["permissions"],
                "skuCaseSensitive": self.store.sku_case_sensitive, "utcOffsetHours": self.store.utc_offset,
                "homeUrl": self.home_url, "clockScale": self.clock.scale}

    def configure(self, data):
        data = dict(data)
        orders.configure(self, data)  # takes refundsEndpoint
        known = {"rateLimit", "keyPermissions", "httpsMode", "skuCaseSensitive"}
        unknown = set(data) - known
        if unknown:
            raise ValueError("unknown config keys: %s" % ", ".join(sorted(unknown)))
        if "rateLimit" in data:
            self.throttle.set(parse_rate(data["rateLimit"]) if data["rateLimit"] else None)
            self.rate_text = data["rateLimit"]
        if "keyPermissions" in data:
            if data["keyPermissions"] not in ("read", "write", "read_write"):
                raise ValueError("keyPermissions must be read, write or read_write")
            for r in self.keys.values():
                r["permissions"] = data["keyPermissions"]
        if "httpsMode" in data:
            if data["httpsMode"] not in ("basic", "oauth"):
                raise ValueError("httpsMode must be basic or oauth")
            self.https = data["httpsMode"] == "basic"
            self.auth.https = self.https
        if "skuCaseSensitive" in data:
            self.store.sku_case_sensitive = bool(data["skuCaseSensitive"])
        return dict(self.config_view(), **orders.book(self).config)

    def seed(self, data):
        """{"reset", "attributes": [{"name", "slug", "terms": [names]}],
        "products": [{...product fields..., "variations": [{...}]}]} - the
        same setters as the API, without parameter validation."""
        st = self.store
        if data.get("reset"):
            st.reset()
        out = {"attributes": [], "products": []}
        try:
            for a in data.get("attributes") or []:
                attr = st.create_attribute(a)
                terms = [st.create_term(attr, {"name": t} if isinstance(t, str) else t) for t in a.get("terms") or []]
                out["attributes"].append({"id": attr["id"], "slug": "pa_" + attr["slug"],
                                          "terms": [{"id": t["id"], "name": t["name"]} for t in terms]})
            for spec in data.get("products") or []:
                p = st.save_product({k: v for k, v in spec.items() if k != "variations"})
                vs = [st.save_variation(p, v) for v in spec.get("variations") or []]
                out["products"].append({"id": p["id"], "sku": p["sku"],
                                        "variations": [{"id": v["id"], "sku": v["sku"]} for v in vs]})
        except WooError as e:
            raise ValueError("seed: %s: %s" % (e.code, e.message))
        return orders.seed(self, data, out)

    # ------------------------------------------------------------ request plumbing
    @staticmethod
    def _route_of(req):
        if req.path.startswith("/wp-json/"):
            return req.path[len("/wp-json"):].rstrip("/") or "/"
        if req.path in ("/", "/index.php"):
            rr = req.query.get("rest_route")
            if rr:
                return rr[-1].rstrip("/") or "/"
        return None

    @staticmethod
    def _method(req):
        # WP_REST_Server::serve_request: ?_method= or X-HTTP-Method-Override (§A8)
        m = req.query.get("_method")
        if m:
            return m[-1].upper()
        h = req.header("X-HTTP-Method-Override")
        return h.upper() if h else req.method

    def _home(self, req):
        if self.home_url:
            return self.home_url
        host = req.header("Host") or "127.0.0.1"
        port = host.rsplit(":", 1)[1] if ":" in host else "80"
        return "%s://127.0.0.1:%s" % ("https" if self.https else "http", port)

    def _error(self, err, status=None, headers=None):
        if isinstance(err, WooError):
            body, st = err.body(), err.status
        else:
            body, st = err, err["data"]["status"]
        return common.Response(status or st, body, headers, content_type=JSON_CT)

    def handle(self, req):
        wait = self.throttle.take()
        if wait is not None:
            with self.lock:
                self.store.count("throttled")
            return common.Response(429, HOST_PAGES[429], {"Retry-After": str(wait)},
                                   content_type="text/html; charset=UTF-8")
        route = self._route_of(req)
        if route is None:
            # not a REST URL: WordPress's theme 404 page
            return common.Response(404, "<html><body><h1>Page not found</h1></body></html>",
                                   content_type="text/html; charset=UTF-8")
        with self.lock:
            self.store.count("requests")
        method = self._method(req)
        get_params = php_parse_str(req.query_string)
        ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        post_params, json_params = {}, {}
        if req.body and ctype == "application/x-www-form-urlencoded":
            post_params = php_parse_str(req.body.decode("utf-8", "replace"))
        elif req.body and (ctype == "application/json" or ctype.endswith("+json")):
            try:
                json_params = json.loads(req.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                return self._error(wp_error("rest_invalid_json", "Invalid JSON body passed.", 400,
                                            json_error_code=4, json_error_message=str(e)))
            if not isinstance(json_params, dict):
                json_params = {}  # WordPress only reads a JSON object's keys as params
        home = self._home(req)
        # authentication happens before routing (rest_authentication_errors)
        user, err, auth_method = self.auth.authenticate(req, get_params, post_params, home + req.path)
        if err:
            with self.lock:
                self.store.count("authFailures")
            headers = {"WWW-Authenticate": BASIC_REALM} if auth_method == "basic_auth" else None
            return self._error(err, headers=headers)
        if user:
            perm = self.auth.check_permissions(user, method)
            if perm:
                with self.lock:
                    self.store.count("authFailures")
                return self._error(perm)
        for key, rx, methods in ROUTES:
            m = rx.match(route)
            if not m:
                continue
            if method not in methods:
                continue
            handler, op, permission = methods[method]
            url_params = {k: v for k, v in m.groupdict().items()}
            resp = self._dispatch(req, method, key, url_params, get_params, post_params, json_params, user,
                                  handler, op, permission, home)
            resp.op_label = op
            return resp
        sub = route[len("/wc/v3"):] if route.startswith("/wc/v3") else None
        if sub and sub.startswith(orders.ROUTE_PREFIXES):
            r = orders.handle(self, req, sub, dict(get_params, **json_params), user=user, method=method, home=home)
            if r is not None:
                return r
        # also when the path exists but not for this method (WordPress answers the same)
        return self._error(wp_error("rest_no_route", "No route was found matching the URL and request method", 404))

    def _dispatch(self, req, method, key, url_params, get_params, post_params, json_params, user, handler, op,
                  permission, home):
        with self.lock:
            self.store.count("requestsByOperation", op)
        args_method = "GET" if method == "GET" else ("DELETE" if method == "DELETE" else "POST")
        args = self.route_args.args(key, args_method)
        # WP_REST_Request parameter order: JSON body, then form body, then the
        # query string, then URL params, then defaults.
        params = dict(wpschema.defaults(args)) if method == "POST" and handler.endswith("create") else {}
        params.update(url_params)
        params.update(get_params)
        params.update(post_params)
        params.update(json_params)
        checked, err = wpschema.check(args, params)
        if err:
            with self.lock:
                self.store.count("rejected")
            return self._error(err)
        if permission and not user:
            code, msg = PERMISSION_ERRORS[permission]
            with self.lock:
                self.store.count("authFailures")
            return self._error(wp_error(code, msg, 401))
        try:
            with self.lock:
                resp = getattr(self, "h_" + handler)(req, checked, home)
        except WooError as e:
            with self.lock:
                self.store.count("rejected")
            return self._error(e)
        if method != "GET" and resp.status < 300:
            with self.lock:
                self.store.count("writes")
            resp.state_changed = True
        resp.headers.setdefault("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link")
        return resp

    # ------------------------------------------------------------ helpers
    def _json(self, value, status=200, headers=None):
        return common.Response(status, value, headers, content_type=JSON_CT)

    def _links(self, home, route, obj_id, up=None):
        base = "%s/wp-json%s" % (home, route)
        out = {"self": [{"href": "%s/%d" % (base, obj_id)}], "collection": [{"href": base}]}
        if up:
            out["up"] = [{"href": up}]
        return out

    def _paged(self, req, params, items, home, route, render):
        """Collection answer with X-WP-Total, X-WP-TotalPages and Link
        prev/next (§A4; WooCommerce's get_items builds the links from every
        query parameter, credentials included)."""
        per_page = params.get("per_page", 10)
        page = params.get("page", 1)
        total = len(items)
        pages = int(math.ceil(total / float(per_page))) if total else 0
        offset = params.get("offset")
        start = offset if offset is not None else (page - 1) * per_page
        chunk = items[start:start + per_page]
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        base = "%s/wp-json%s" % (home, route)
        q = [(k, v) for k, vs in req.query.items() if k != "page" for v in vs]
        links = []
        if page > 1:
            links.append('<%s?%s>; rel="prev"' % (base, urllib.parse.urlencode(q + [("page", min(page - 1, max(pages,
                                                                                                          1)))])))
        if pages > page:
            links.append('<%s?%s>; rel="next"' % (base, urllib.parse.urlencode(q + [("page", page + 1)])))
        if links:
            headers["Link"] = ", ".join(links)
        return self._json([render(x) for x in chunk], headers=headers)

    @staticmethod
    def _sort(items, params, key_map, default="date"):
        orderby = params.get("orderby", default)
        desc = params.get("order", "desc") == "desc"
        if orderby == "include" and params.get("include"):
            order = {int(x): i for i, x in enumerate(params["include"])}
            return sorted(items, key=lambda o: order.get(o["id"], 1 << 30))
        keyf = key_map.get(orderby, key_map["date"])
        # WooCommerce appends ID to date/modified ordering for stable pages (§A4)
        return sorted(items, key=lambda o: (keyf(o), o["id"]), reverse=desc)

    def _product(self, pid, status=404):
        p = self.store.products.get(int(pid))
        if p is None:
            # WC_REST_CRUD_Controller: "Invalid ID." 404 on read/delete, 400 on update
            raise WooError("woocommerce_rest_product_invalid_id", "Invalid ID.", status)
        return p

    # ------------------------------------------------------------ index
    def h_index(self, req, params, home):
        return self._json(self.route_args.index)

    # ------------------------------------------------------------ products
    def _product_out(self, obj, home):
        if obj.get("parent_id") and obj["id"] in self.store.variations and obj["id"] not in self.store.products:
            out = self.store.variation_as_product_view(obj, home)
        else:
            out = self.store.product_view(obj, home)
        out["_links"] = self._links(home, R_PRODUCTS, obj["id"])
        return out

    def h_products_list(self, req, params, home):
        st = self.store
        status = params.get("status", "any")
        skus = None
        if params.get("sku"):
            # "sku=A,B,C"; with sku the query covers product AND product_variation (§A3)
            raw = str(params["sku"])
            skus = [s.strip() for s in raw.split(",") if s.strip()]
            if len(skus) > 1:
                skus.append(raw)
            folded = {st._fold(s) for s in skus}
            found = {}
            for f in folded:
                for o in (st.sku_matches(f) if f else ()):
                    found[id(o)] = o
            # in the order _live_objects walks them: products, then variations, by id
            items = sorted(found.values(), key=lambda o: (st.products.get(o["id"]) is not o, o["id"]))
        else:
            items = list(st.products.values())
        if status == "any":
            items = [o for o in items if o.get("status") != "trash"]
        else:
            items = [o for o in items if o.get("status") == status]
        if params.get("type"):
            items = [o for o in items if o.get("type") == params["type"]]
        if params.get("search"):
            s = str(params["search"]).casefold()
            items = [o for o in items if s in o.get("name", "").casefold()]
        if params.get("search_sku"):
            s = str(params["search_sku"]).casefold()
            items = [o for o in items if s in o.get("sku", "").casefold()]
        if params.get("include"):
            inc = {int(x) for x in params["include"]}
            items = [o for o in items if o["id"] in inc]
        if params.get("exclude"):
            exc = {int(x) for x in params["exclude"]}
            items = [o for o in items if o["id"] not in exc]
        if params.get("parent"):
            par = {int(x) for x in params["parent"]}
            items = [o for o in items if o.get("parent_id", 0) in par]
        if params.get("featured") is not None and "featured" in params:
            items = [o for o in items if o.get("featured") == params["featured"]]
        for name, field, cmp in (("modified_after", "date_modified", lambda a, b: a > b),
                                 ("modified_before", "date_modified", lambda a, b: a < b),
                                 ("after", "date_created", lambda a, b: a > b),
                                 ("before", "date_created", lambda a, b: a < b)):
            if params.get(name):
                try:
                    t = common.parse_iso(str(params[name]))
                except ValueError:
                    continue
                if "Z" not in str(params[name]) and "+" not in str(params[name]) \
                        and str(params.get("dates_are_gmt", "")).lower() not in ("1", "true"):
                    t -= st.utc_offset * 3600  # site-local dates unless dates_are_gmt
                items = [o for o in items if cmp(o[field], t)]
        items = self._sort(items, params, {
            "date": lambda o: o["date_created"], "modified": lambda o: o["date_modified"], "id": lambda o: o["id"],
            "title": lambda o: o.get("name", "").casefold(), "slug": lambda o: o.get("slug", ""),
            "price": lambda o: float(st.price_of(o) or 0)})
        return self._paged(req, params, items, home, R_PRODUCTS, lambda o: self._product_out(o, home))

    def h_products_create(self, req, params, home):
        p = self.store.save_product(params)
        return self._json(self._product_out(p, home), 201,
                          {"Location": "%s/wp-json%s/%d" % (home, R_PRODUCTS, p["id"])})

    def h_products_get(self, req, params, home):
        return self._json(self._product_out(self._product(params["id"]), home))

    def h_products_update(self, req, params, home):
        p = self._product(params["id"], status=400)
        p = self.store.save_product({k: v for k, v in params.items() if k != "id"}, existing=p)
        return self._json(self._product_out(p, home))

    def h_products_delete(self, req, params, home):
        p = self._product(params["id"])
        before = self._product_out(p, home)
        force = bool(params.get("force"))
        p = self.store.delete_product(p, force)
        return self._json(before if force else self._product_out(p, home))

    # ------------------------------------------------------------ batch
    def _batch(self, req, params, create, update, delete, args_route):
        """WC_REST_Controller::batch_items: HTTP 200 with each element either
        the object or {"id", "error": {code, message, data}} (§A3 "Batch");
        items are not checked against the schema (create_item/update_item are
        called directly) - their values go through WooCommerce's setters."""
        items = {k: params.get(k) for k in ("create", "update", "delete") if params.get(k)}
        total = sum(len(v) if isinstance(v, (list, dict)) else 1 for v in items.values())
        if total > BATCH_LIMIT:
            return self._error(wp_error("woocommerce_rest_request_entity_too_large",
                                        "Unable to accept more than %d items for this request." % BATCH_LIMIT, 413))
        st = self.store
        st.count("batchRequests")
        args = self.route_args.args(args_route, "POST")
        out = {}

        def err_item(i, e):
            st.count("batchItemErrors")
            return {"id": i, "error": {"code": e.code, "message": e.message, "data": e.data}}

        for it in _as_list(items.get("create")):
            st.count("batchItems")
            if isinstance(it, dict) and wpschema.check(args, it)[1]:
                st.count("batchItemsCoerced")  # would have failed as a single request
            try:
                out.setdefault("create", []).append(create(it if isinstance(it, dict) else {}))
            except WooError as e:
                out.setdefault("create", []).append(err_item(0, e))
        for it in _as_list(items.get("update")):
            st.count("batchItems")
            it = it if isinstance(it, dict) else {}
            if wpschema.check(args, it)[1]:
                st.count("batchItemsCoerced")
            try:
                out.setdefault("update", []).append(update(it))
            except WooError as e:
                out.setdefault("update", []).append(err_item(it.get("id"), e))
        for raw in _as_list(items.get("delete")):
            try:
                i = int(raw)
            except (TypeError, ValueError):
                i = 0
            if i == 0:
                continue
            st.count("batchItems")
            try:
                out.setdefault("delete", []).append(delete(i))
            except WooError as e:
                out.setdefault("delete", []).append(err_item(i, e))
        return self._json(out)

    def h_products_batch(self, req, params, home):
        st = self.store

        def create(it):
            return self._product_out(st.save_product(it), home)

        def update(it):
            p = st.products.get(_int(it.get("id")))
            if p is None:
                raise WooError("woocommerce_rest_product_invalid_id", "Invalid ID.", 400)
            return self._product_out(st.save_product({k: v for k, v in it.items() if k != "id"}, existing=p), home)

        def delete(i):
            p = st.products.get(i)
            if p is None:
                raise WooError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
            before = self._product_out(p, home)
            st.delete_product(p, True)  # "Delete in batch is always force=true" (§A3)
            return before

        return self._batch(req, params, create, update, delete, R_PRODUCT)

    # ------------------------------------------------------------ variations
    def _variation_out(self, v, home):
        out = self.store.variation_view(v, home)
        out["_links"] = self._links(home, "/wc/v3/products/%d/variations" % v["parent_id"], v["id"],
                                    up="%s/wp-json%s/%d" % (home, R_PRODUCTS, v["parent_id"]))
        return out

    def _variation(self, pid, vid, status=404):
        v = self.store.variations.get(int(vid))
        if v is None or v["parent_id"] != int(pid):
            raise WooError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", status)
        return v

    def _parent(self, pid):
        p = self.store.products.get(int(pid))
        if p is None:
            # the variation's parent must exist to resolve attributes
            # (variations controller: "Cannot set attributes due to invalid parent product.")
            raise WooError("woocommerce_rest_product_variation_invalid_parent",
                           "Cannot set attributes due to invalid parent product.", 404)
        return p

    def h_variations_list(self, req, params, home):
        st = self.store
        pid = int(params["product_id"])
        items = st.variations_of(pid)
        if params.get("sku"):
            folded = {st._fold(s.strip()) for s in str(params["sku"]).split(",")}
            items = [v for v in items if st._fold(v["sku"]) in folded]
        status = params.get("status", "any")
        if status != "any":
            items = [v for v in items if v["status"] == status]
        if params.get("include"):
            inc = {int(x) for x in params["include"]}
            items = [v for v in items if v["id"] in inc]
        if params.get("exclude"):
            exc = {int(x) for x in params["exclude"]}
            items = [v for v in items if v["id"] not in exc]
        items = self._sort(items, params, {"date": lambda o: o["date_created"], "id": lambda o: o["id"],
                                           "modified": lambda o: o["date_modified"],
                                           "menu_order": lambda o: o["menu_order"], "title": lambda o: o["id"],
                                           "slug": lambda o: o["id"]})
        return self._paged(req, params, items, home, "/wc/v3/products/%d/variations" % pid,
                           lambda v: self._variation_out(v, home))

    def h_variations_create(self, req, params, home):
        parent = self._parent(params["product_id"])
        v = self.store.save_variation(parent, params)
        return self._json(self._variation_out(v, home), 201,
                          {"Location": "%s/wp-json/wc/v3/products/%d/variations/%d" % (home, parent["id"], v["id"])})

    def h_variations_get(self, req, params, home):
        return self._json(self._variation_out(self._variation(params["product_id"], params["id"]), home))

    def h_variations_update(self, req, params, home):
        v = self._variation(params["product_id"], params["id"], status=400)
        parent = self.store.products.get(v["parent_id"])
        v = self.store.save_variation(parent, {k: x for k, x in params.items() if k not in ("id", "product_id")},
                                      existing=v)
        return self._json(self._variation_out(v, home))

    def h_variations_delete(self, req, params, home):
        v = self._variation(params["product_id"], params["id"])
        before = self._variation_out(v, home)
        self.store.delete_variation(v, bool(params.get("force")))
        return self._json(before)

    def h_variations_batch(self, req, params, home):
        st = self.store
        pid = int(params["product_id"])

        def create(it):
            # the variations controller injects the URL's product_id into every item
            parent = self._parent(it.get("product_id", pid))
            return self._variation_out(st.save_variation(parent, it), home)

        def update(it):
            v = st.variations.get(_int(it.get("id")))
            if v is None or v["parent_id"] != pid:
                raise WooError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 400)
            parent = st.products.get(v["parent_id"])
            return self._variation_out(st.save_variation(parent, {k: x for k, x in it.items()
                                                                  if k not in ("id", "product_id")}, existing=v),
                                       home)

        def delete(i):
            v = st.variations.get(i)
            if v is None or v["parent_id"] != pid:
                raise WooError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)
            before = self._variation_out(v, home)
            st.delete_variation(v, True)
            return before

        return self._batch(req, params, create, update, delete, R_VARIATION)

    # ------------------------------------------------------------ attributes
    def _attribute(self, aid):
        a = self.store.attributes.get(int(aid))
        if a is None:
            raise WooError("woocommerce_rest_attribute_invalid", "Resource does not exist.", 404)
        return a

    def _attribute_out(self, a, home):
        out = self.store.attribute_view(a)
        out["_links"] = self._links(home, R_ATTRIBUTES, a["id"])
        return out

    def h_attributes_list(self, req, params, home):
        return self._json([self._attribute_out(a, home) for a in sorted(self.store.attributes.values(),
                                                                        key=lambda x: x["id"])])

    def h_attributes_create(self, req, params, home):
        a = self.store.create_attribute(params)
        return self._json(self._attribute_out(a, home), 201,
                          {"Location": "%s/wp-json%s/%d" % (home, R_ATTRIBUTES, a["id"])})

    def h_attributes_get(self, req, params, home):
        return self._json(self._attribute_out(self._attribute(params["id"]), home))

    def h_attributes_update(self, req, params, home):
        a = self._attribute(params["id"])
        self.store.update_attribute(a, params)
        return self._json(self._attribute_out(a, home))

    def h_attributes_delete(self, req, params, home):
        a = self._attribute(params["id"])
        if not params.get("force"):
            raise WooError("woocommerce_rest_trash_not_supported", "Resource does not support trashing.", 501)
        before = self._attribute_out(a, home)
        self.store.delete_attribute(a)
        return self._json(before)

    def h_attributes_batch(self, req, params, home):
        st = self.store

        def update(it):
            a = st.attributes.get(_int(it.get("id")))
            if a is None:
                raise WooError("woocommerce_rest_attribute_invalid", "Resource does not exist.", 404)
            st.update_attribute(a, it)
            return self._attribute_out(a, home)

        def delete(i):
            a = st.attributes.get(i)
            if a is None:
                raise WooError("woocommerce_rest_attribute_invalid", "Resource does not exist.", 404)
            before = self._attribute_out(a, home)
            st.delete_attribute(a)
            return before

        def create(it):
            if not it.get("name"):
                raise WooError("rest_missing_callback_param", "Missing parameter(s): name", 400, params=["name"])
            return self._attribute_out(st.create_attribute(it), home)

        return self._batch(req, params, create, update, delete, R_ATTRIBUTE)

    # ------------------------------------------------------------ terms
    def _taxonomy(self, aid):
        a = self.store.attributes.get(int(aid))
        if a is None:
            raise WooError("woocommerce_rest_taxonomy_invalid", "Taxonomy does not exist.", 404)
        return a

    def _term(self, a, tid):
        t = a["terms"].get(int(tid))
        if t is None:
            # error__woocommerce_rest_term_invalid_404.json
            raise WooError("woocommerce_rest_term_invalid", "Resource doesn't exist.", 404)
        return t

    def _term_out(self, a, t, home):
        out = self.store.term_view(a, t)
        out["_links"] = self._links(home, "/wc/v3/products/attributes/%d/terms" % a["id"], t["id"])
        return out

    def h_terms_list(self, req, params, home):
        a = self._taxonomy(params["attribute_id"])
        items = list(a["terms"].values())
        if params.get("search"):
            s = str(params["search"]).casefold()
            items = [t for t in items if s in t["name"].casefold()]
        if params.get("slug"):
            items = [t for t in items if t["slug"] == params["slug"]]
        if params.get("include"):
            inc = {int(x) for x in params["include"]}
            items = [t for t in items if t["id"] in inc]
        orderby = params.get("orderby", "name")
        keyf = {"id": lambda t: t["id"], "slug": lambda t: t["slug"], "name": lambda t: t["name"].casefold(),
                "description": lambda t: t["description"]}.get(orderby, lambda t: t["name"].casefold())
        items = sorted(items, key=keyf, reverse=params.get("order", "asc") == "desc")
        return self._paged(req, params, items, home, "/wc/v3/products/attributes/%d/terms" % a["id"],
                           lambda t: self._term_out(a, t, home))

    def h_terms_create(self, req, params, home):
        a = self._taxonomy(params["attribute_id"])
        t = self.store.create_term(a, params)
        return self._json(self._term_out(a, t, home), 201,
                          {"Location": "%s/wp-json/wc/v3/products/attributes/%d/terms/%d" % (home, a["id"], t["id"])})

    def h_terms_get(self, req, params, home):
        a = self._taxonomy(params["attribute_id"])
        return self._json(self._term_out(a, self._term(a, params["id"]), home))

    def h_terms_update(self, req, params, home):
        a = self._taxonomy(params["attribute_id"])
        t = self._term(a, params["id"])
        self.store.update_term(a, t, params)
        return self._json(self._term_out(a, t, home))

    def h_terms_delete(self, req, params, home):
        a = self._taxonomy(params["attribute_id"])
        t = self._term(a, params["id"])
        if not params.get("force"):
            raise WooError("woocommerce_rest_trash_not_supported", "Resource does not support trashing.", 501)
        before = self._term_out(a, t, home)
        del a["terms"][t["id"]]
        return self._json(before)

    def h_terms_batch(self, req, params, home):
        st = self.store
        a = self._taxonomy(params["attribute_id"])

        def create(it):
            return self._term_out(a, st.create_term(a, it), home)

        def update(it):
            t = a["terms"].get(_int(it.get("id")))
            if t is None:
                raise WooError("woocommerce_rest_term_invalid", "Resource doesn't exist.", 404)
            st.update_term(a, t, it)
            return self._term_out(a, t, home)

        def delete(i):
            t = a["terms"].get(i)
            if t is None:
                raise WooError("woocommerce_rest_term_invalid", "Resource doesn't exist.", 404)
            before = self._term_out(a, t, home)
            del a["terms"][i]
            return before

        return self._batch(req, params, create, update, delete, R_TERM)


def _as_list(v):
    if v is None:
        return []
    if isinstance(v, dict):
        return list(v.values())
    if isinstance(v, list):
        return v
    return [v]


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def make_parser():
    return add_arguments(common.base_arg_parser("WooCommerce REST API v3 emulator"))


def run():
    # The shared harness redacts credentials in query strings (consumer_key,
    # consumer_secret, oauth_*), which WooCommerce accepts there.
    return common.main(WooPlatform, make_parser())


__all__ = ["WooPlatform", "make_parser", "run"]
