#!/usr/bin/env python3
"""Magento 2 / Adobe Commerce REST API emulator for posbridge's tests.

    python3 tests/emulators/magento/server.py --port 0 --port-file F --token T \\
        [--oauth ck,cs,at,ats] [--bearer-integration on|off] [common flags]

Serves /rest/<store>/V1/..., /rest/V1/... and /rest/<store>/async[/bulk]/V1/... with store codes
"all" (admin scope) and "default" (the default store view; a product write there saves store-view
overrides of store-scoped attributes, the trap of §B1). Facts and messages:
shared/reference/platforms-woocommerce-magento.md part B (§Bn) and magento/magento2 source, cited
where used. Request bodies are validated against admin-schema-2.4.8.json (schema.py). Control
endpoints and fault rules come from ../common.py; see ../README.md.
"""

import os
import re
import secrets
import sys
import time
import urllib.parse
import uuid

_HERE = os.path.dirname(os.path.abspath(__file__))
if __name__ == "__main__":
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
    sys.path.insert(0, os.path.dirname(_HERE))
    import magento.server as _self  # noqa: E402

    sys.exit(_self.run())

import common  # noqa: E402
from . import bulk as bulkmod  # noqa: E402
from . import orders as ordersmod  # noqa: E402
from .oauth import Integration, OAuthError  # noqa: E402
from .schema import get_schema  # noqa: E402
from .store import (STORE_VIEWS, MagentoError, Store, apply_search, num,  # noqa: E402
                    parse_search_criteria)

NO_ROUTE = {"message": "Request does not match any route."}
INTERNAL = "Internal Error. Details are available in Magento log file. Report ID: webapi-%s"
ADMIN_TOKEN_LIFETIME = 4 * 3600   # §B2 admin token lifetime 4 h
PATH_RE = re.compile(r"^/rest(?:/(?P<store>[A-Za-z0-9_]+))?(?P<async>/async(?:/bulk)?)?(?P<path>/V1/.*)$")

# (method, route template, handler name, ACL resource). Templates are the admin schema's paths.
ROUTES = [
    ("POST", "/V1/integration/admin/token", "admin_token", None),
    ("GET", "/V1/products", "search_products", "Magento_Catalog::products"),
    ("POST", "/V1/products", "save_product", "Magento_Catalog::products"),
    ("GET", "/V1/products/attributes/{attributeCode}/options", "get_options", "Magento_Catalog::attributes_attributes"),
    ("POST", "/V1/products/attributes/{attributeCode}/options", "add_option", "Magento_Catalog::attributes_attributes"),
    ("GET", "/V1/products/attributes/{attributeCode}", "get_attribute", "Magento_Catalog::attributes_attributes"),
    ("GET", "/V1/products/attribute-sets/{attributeSetId}/attributes", "set_attributes", "Magento_Catalog::sets"),
    ("GET", "/V1/products/{sku}", "get_product", "Magento_Catalog::products"),
    ("PUT", "/V1/products/{sku}", "save_product", "Magento_Catalog::products"),
    ("DELETE", "/V1/products/{sku}", "delete_product", "Magento_Catalog::products"),
    ("POST", "/V1/configurable-products/{sku}/options", "config_option", "Magento_Catalog::products"),
    ("GET", "/V1/configurable-products/{sku}/options/all", "config_options", "Magento_Catalog::products"),
    ("POST", "/V1/configurable-products/{sku}/child", "config_child", "Magento_Catalog::products"),
    ("GET", "/V1/configurable-products/{sku}/children", "config_children", "Magento_Catalog::products"),
    ("DELETE", "/V1/configurable-products/{sku}/children/{childSku}", "config_unlink", "Magento_Catalog::products"),
    ("POST", "/V1/inventory/source-items", "save_source_items", "Magento_InventoryApi::source"),
    ("GET", "/V1/inventory/source-items", "search_source_items", "Magento_InventoryApi::source"),
    ("POST", "/V1/inventory/source-items-delete", "delete_source_items", "Magento_InventoryApi::source"),
    ("GET", "/V1/inventory/sources", "search_sources", "Magento_InventoryApi::source"),
    ("GET", "/V1/bulk/{bulkUuid}/status", "bulk_status", "Magento_Logging::system_magento_logging_bulk_operations"),
    ("GET", "/V1/bulk/{bulkUuid}/detailed-status", "bulk_detailed",
     "Magento_Logging::system_magento_logging_bulk_operations"),
    ("GET", "/V1/bulk/{bulkUuid}/operation-status/{status}", "bulk_count",
     "Magento_Logging::system_magento_logging_bulk_operations"),
]
ROUTES = ROUTES + ordersmod.ROUTES   # orders, invoices, shipments, credit memos, customers (orders.py)


def _route_rx(tpl, bulk=False):
    parts = []
    for seg in tpl.strip("/").split("/"):
        m = re.match(r"^\{(\w+)\}$", seg)
        if m:
            name = m.group(1)
            parts.append(("by" + name[:1].upper() + name[1:]) if bulk else "(?P<%s>[^/]+)" % name)
        else:
            parts.append(re.escape(seg))
    return re.compile("^/" + "/".join(parts) + "$")


COMPILED = [(m, tpl, h, acl, _route_rx(tpl), _route_rx(tpl, True)) for m, tpl, h, acl in ROUTES]


def add_arguments(p):
    p.add_argument("--token", action="append", default=None,
                   help="accepted admin Bearer token (repeatable; default magento_admin_token)")
    p.add_argument("--oauth", help="integration credentials consumer_key,consumer_secret,access_token,"
                                   "access_token_secret (each 32 characters, as Magento issues them)")
    p.add_argument("--bearer-integration", choices=("on", "off"), default="off",
                   help="accept the integration access token as a Bearer token (off = the 2.4.4+ default)")
    p.add_argument("--admin-user", help="user:password accepted by POST /V1/integration/admin/token")
    p.add_argument("--mode", choices=("production", "developer"), default="production",
                   help="Magento deploy mode: developer shows internal error messages and traces")
    p.add_argument("--input-limit", choices=("on", "off"), default="off",
                   help="2.4.7 web API input limits: page size <= 300 (default 20), arrays <= 20 sync / 5000 async")
    p.add_argument("--page-past-end", choices=("last", "empty"), default="last",
                   help="currentPage past the last page: answer the last page again (default, the trap) or []")
    p.add_argument("--bulk-delay-ms", type=int, default=1000, help="virtual ms before the consumer runs an operation")
    p.add_argument("--bulk-consumers", choices=("on", "off"), default="on",
                   help="off: async operations stay open (status 4), as with no consumer running")
    return p


class MagentoPlatform(ordersmod.SalesMixin, common.Platform):
    name = "magento"

    def __init__(self, args, clock):
        super().__init__(args, clock)
        self.tokens = args.token or ["magento_admin_token"]
        self.integration = None
        if args.oauth:
            parts = args.oauth.split(",")
            if len(parts) != 4 or any(len(x) != 32 for x in parts):
                raise SystemExit("--oauth needs consumer_key,consumer_secret,access_token,access_token_secret, each "
                                 "32 characters long (Magento's OAuth helper lengths; requests with other lengths "
                                 "are refused)")
            self.integration = Integration(*parts)
        self.admin_user = tuple(args.admin_user.split(":", 1)) if args.admin_user else None
        self.cfg = {"bearerIntegration": args.bearer_integration == "on", "mode": args.mode,
                    "inputLimit": args.input_limit == "on", "pagePastEnd": args.page_past_end,
                    "bulkDelayMs": args.bulk_delay_ms, "bulkConsumers": args.bulk_consumers == "on"}
        self.store = Store(clock)
        self.schema = get_schema()

    # ------------------------------------------------------------ harness
    def secrets(self):
        out = list(self.tokens)
        if self.integration:
            i = self.integration
            out += [i.consumer_secret, i.token, i.token_secret]
        return out

    def op_label(self, req):
        m = PATH_RE.match(req.path)
        if not m:
            return None
        path = m.group("path")
        for method, tpl, handler, _, rx, brx in COMPILED:
            if method == req.method and (brx if m.group("async") == "/async/bulk" else rx).match(path):
                return ("async:" if m.group("async") else "") + handler
        return None

    def fault_response(self, status, req):
        if status == 401:
            return common.Response(401, {"message": "The consumer isn't authorized to access %resources.",
                                         "parameters": {"resources": "Magento_Catalog::products"}})
        if status == 404:
            return common.Response(404, NO_ROUTE)
        if status == 429:
            return common.Response(429, {"message": "Too Many Requests", "trace": None})
        if status >= 500:
            return common.Response(status, {"message": INTERNAL % uuid.uuid4().hex[:13]})
        return common.Response(status, {"message": "Error"})

    def state_dump(self):
        self._run_bulks()
        out = self.store.view()
        out["config"] = dict(self.cfg)
        return out

    def persist_dump(self):
        return self.store.dump()

    def persist_load(self, data):
        self.store.load(data)

    def reset(self):
        self.store.reset()
        if self.integration:
            self.integration.nonces.clear()

    def configure(self, data):
        unknown = set(data) - set(self.cfg)
        if unknown:
            raise ValueError("unknown config keys: %s" % ", ".join(sorted(unknown)))
        self.cfg.update(data)
        return dict(self.cfg)

    def seed(self, data):
        """{"reset", "attributes": [{"attribute_code", "label", "options": [...], "frontend_input"}],
        "options": {"color": ["Navy"]}, "sources": [{"source_code", "name"}], "products": [product bodies
        with custom_attributes as {code: label or option id} allowed, "sources": {"default": 5}]}"""
        st = self.store
        if data.get("reset"):
            st.reset()
        for a in data.get("attributes") or []:
            st.add_attribute(a["attribute_code"], a.get("label") or a["attribute_code"], a.get("options") or [],
                             attribute_id=a.get("attribute_id"), frontend_input=a.get("frontend_input", "select"))
        for code, labels in (data.get("options") or {}).items():
            for label in labels:
                st.add_option(code, label)
        for s in data.get("sources") or []:
            st.add_source(s["source_code"], s.get("name") or s["source_code"])
        created = []
        for spec in data.get("products") or []:
            spec = dict(spec)
            qty = spec.pop("sources", None)
            ca = spec.get("custom_attributes")
            if isinstance(ca, dict):
                lst = []
                for code, v in ca.items():
                    attr = st.attributes.get(code)
                    if attr and attr["frontend_input"] == "select" and st.option_label(code, v) is None:
                        hit = st.option_by_label(code, str(v), any_option=True)
                        v = hit if hit is not None else st.add_option(code, str(v))
                    lst.append({"attribute_code": code, "value": v})
                spec["custom_attributes"] = lst
            try:
                p = st.save_product(spec, "all")
            except MagentoError as e:
                raise ValueError("seed product %s: %s" % (spec.get("sku"), e.rendered()))
            for code, n in (qty or {}).items():
                st.set_source_item(p["sku"], code, n, 1 if float(n) > 0 else 0)
            created.append({"sku": p["sku"], "id": p["id"]})
        out = {"products": created,
               "attributes": {c: {"attribute_id": a["attribute_id"],
                                  "options": {o["label"]: o["value"] for o in a["options"] if o["value"]}}
                              for c, a in st.attributes.items()}}
        out.update(self.seed_sales(data))   # "customers", "orders": orders.py
        return out

    # ------------------------------------------------------------ HTTP
    def _run_bulks(self):
        return bulkmod.run_due(self.store, self.clock.now(), self._execute, self.cfg["bulkConsumers"])

    def handle(self, req):
        with self.lock:
            ran = self._run_bulks()
            resp = self._handle(req)
            if ran:
                resp.state_changed = True
            return resp

    def _error(self, e):
        if isinstance(e, ordersmod.Internal):
            return common.Response(500, e.masked(self.cfg["mode"] == "developer"))
        if isinstance(e, MagentoError):
            body = e.body()
            if self.cfg["mode"] == "developer":
                body["trace"] = "#0 emulated trace"
            return common.Response(e.status, body)
        return common.Response(500, {"message": str(e)})

    def _handle(self, req):
        st = self.store
        st.counters["requests"] += 1
        m = PATH_RE.match(req.path)
        if not m:
            return common.Response(404, NO_ROUTE)
        store_code = m.group("store")
        path = m.group("path")
        if store_code is None:
            scope = "default"
        elif store_code == "all":
            scope = "all"
        elif store_code in STORE_VIEWS:
            scope = store_code
        else:
            # Webapi PathProcessor: an unknown first segment is not a store code, so it stays part
            # of the path and no route matches
            return common.Response(404, NO_ROUTE)
        async_kind = m.group("async")
        route = None
        params = {}
        for method, tpl, handler, acl, rx, brx in COMPILED:
            if method != req.method:
                continue
            mm = (brx if async_kind == "/async/bulk" else rx).match(path)
            if mm:
                route = (method, tpl, handler, acl)
                params = {k: urllib.parse.unquote(v) for k, v in mm.groupdict().items()}
                break
        if route is None:
            return common.Response(404, NO_ROUTE)
        method, tpl, handler, acl = route
        st.counters["byOperation"][handler] = st.counters["byOperation"].get(handler, 0) + 1
        if async_kind and ((tpl, method) not in bulkmod.TOPICS):
            return common.Response(404, NO_ROUTE)
        # ---- authentication / authorization (§B2)
        user = None
        if acl is not None:
            try:
                user = self._authenticate(req)
            except OAuthError as e:
                st.counters["rejected"] += 1
                return self._error(MagentoError(e.status, e.message, e.parameters, e.errors))
            if user is None:
                st.counters["rejected"] += 1
                return common.Response(401, {"message": "The consumer isn't authorized to access %resources.",
                                             "parameters": {"resources": acl}})
        # ---- body
        body = None
        if req.body:
            try:
                body = req.json()
            except ValueError:
                # Webapi Rest\Request\Deserializer\Json
                return common.Response(400, {"message": "Decoding error: \nSyntax error"})
        try:
            if async_kind:
                return self._async(tpl, method, body, params, scope, user, async_kind == "/async/bulk")
            if method in ("POST", "PUT"):
                problem = self._validate(tpl, method, body, params, sync=True)
                if problem is not None:
                    st.counters["rejected"] += 1
                    return problem
            result = getattr(self, "h_" + handler)(req, body or {}, params, scope, user)
        except MagentoError as e:
            st.counters["rejected"] += 1
            return self._error(e)
        if isinstance(result, common.Response):
            return result
        resp = common.Response(200, _json(result))
        if method != "GET":
            st.counters["writes"] += 1
            resp.state_changed = True
        return resp

    def _validate(self, tpl, method, body, params, sync):
        problem = self.schema.check(tpl, method, body, params)
        if problem is None:
            limit = 20 if sync else 5000
            if self.cfg["inputLimit"] and isinstance(body, dict):
                for k, v in body.items():
                    if isinstance(v, list) and len(v) > limit:
                        cls = {"sourceItems": "\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface"}.get(k, k)
                        return self._error(MagentoError(400, 'Maximum items of type "%type" is %max',
                                                        {"type": cls, "max": limit}))
            return None
        status, payload, kind = problem
        if kind == "unknown":
            # LogicException from NameFinder: masked in production mode (ErrorProcessor::maskException)
            if self.cfg["mode"] == "developer":
                return common.Response(500, {"message": payload, "trace": "#0 NameFinder.php(103)"})
            return common.Response(500, {"message": INTERNAL % uuid.uuid4().hex[:13]})
        return common.Response(status, payload)

    def _authenticate(self, req):
        """-> (user_type, user_id) or None. Raises OAuthError for a refused OAuth request."""
        auth = req.header("Authorization") or ""
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
            if token in self.tokens:
                return (2, 1)   # UserContextInterface::USER_TYPE_ADMIN
            exp = self.store.admin_tokens.get(token)
            if exp is not None and exp > self.clock.now():
                return (2, 1)
            if self.integration and token == self.integration.token and self.cfg["bearerIntegration"]:
                return (1, self.integration.id)   # USER_TYPE_INTEGRATION
            return None
        if self.integration:
            ok = self.integration.verify(req.method, req.header("Host") or "127.0.0.1", req.path, req.query_string,
                                         auth, req.header("Content-Type"), req.body, self.clock.now())
            if ok:
                return (1, self.integration.id)
        return None

    # ------------------------------------------------------------ async
    def _async(self, tpl, method, body, params, scope, user, is_bulk):
        if is_bulk:
            if not isinstance(body, list):
                return common.Response(400, {"message": "Request body is expected to be an array of entities."})
            items = body
        else:
            items = [body]
        if self.cfg["inputLimit"] and len(items) > 5000:
            return self._error(MagentoError(400, 'Maximum items of type "%type" is %max', {"type": tpl, "max": 5000}))
        prepared = []
        for item in items:
            item = item if isinstance(item, dict) else {}
            pp = dict(params)
            if is_bulk:
                for name in re.findall(r"\{(\w+)\}", tpl):
                    if name in item:
                        pp[name] = str(item[name])
            problem = self._validate(tpl, method, {k: v for k, v in item.items() if k not in pp}, pp, sync=False)
            if problem is not None:
                self.store.counters["rejected"] += 1
                return problem
            prepared.append((item, pp))
        due = self.clock.now() + self.cfg["bulkDelayMs"] / 1000.0
        answer = bulkmod.schedule(self.store, tpl, method, prepared, scope, user[0], user[1], due)
        resp = common.Response(202, answer)
        resp.state_changed = True
        return resp

    def _execute(self, tpl, method, params, path_params, scope):
        """The consumer: run one operation as the synchronous service would."""
        st = self.store
        if tpl == "/V1/products":
            p = st.save_product(params.get("product"), scope)
            return st.represent(p, scope)
        if tpl == "/V1/products/{sku}":
            p = st.save_product(params.get("product"), scope, path_sku=path_params.get("sku"))
            return st.represent(p, scope)
        if tpl == "/V1/configurable-products/{sku}/options":
            return st.add_configurable_option(path_params["sku"], params.get("option"))
        if tpl == "/V1/configurable-products/{sku}/child":
            return st.add_child(path_params["sku"], str(params.get("childSku")))
        if tpl == "/V1/inventory/source-items":
            return st.save_source_items(params.get("sourceItems") or [])
        raise MagentoError(400, "Unsupported operation")

    # ------------------------------------------------------------ handlers (sync)
    def h_admin_token(self, req, body, params, scope, user):
        if not self.admin_user or (body.get("username"), body.get("password")) != self.admin_user:
            raise MagentoError(401, "The account sign-in was incorrect or your account is disabled temporarily. "
                                    "Please wait and try again later.")
        token = secrets.token_hex(16)
        self.store.admin_tokens[token] = self.clock.now() + ADMIN_TOKEN_LIFETIME
        return token

    def _search(self, req, records, getter):
        sc = parse_search_criteria(req.query)
        limited = self.cfg["inputLimit"]
        items, total, echo = apply_search(records, sc, getter, self.cfg["pagePastEnd"],
                                          default_page_size=20 if limited else None,
                                          max_page_size=300 if limited else None)
        return items, total, echo

    def h_search_products(self, req, body, params, scope, user):
        st = self.store

        def getter(p, field):
            if field in ("sku", "type_id", "attribute_set_id", "created_at", "updated_at"):
                return p[field]
            if field in ("entity_id", "id"):
                return p["id"]
            return st.values(p, scope).get(field)
        candidates = st.search_candidates(parse_search_criteria(req.query))
        records = sorted(st.products.values() if candidates is None else candidates, key=lambda p: p["id"])
        items, total, echo = self._search(req, records, getter)
        return {"items": [st.represent(p, scope) for p in items], "search_criteria": echo, "total_count": total}

    def h_get_product(self, req, body, params, scope, user):
        return self.store.represent(self.store.product(params["sku"]), scope)

    def h_save_product(self, req, body, params, scope, user):
        p = self.store.save_product(body.get("product"), scope, path_sku=params.get("sku"))
        return self.store.represent(p, scope)

    def h_delete_product(self, req, body, params, scope, user):
        return self.store.delete_product(params["sku"])

    def h_get_attribute(self, req, body, params, scope, user):
        return self.store.attribute(params["attributeCode"])

    def h_get_options(self, req, body, params, scope, user):
        return self.store.attribute(params["attributeCode"])["options"]

    def h_add_option(self, req, body, params, scope, user):
        opt = body.get("option") or {}
        return self.store.add_option(params["attributeCode"], opt.get("label"), opt.get("sort_order"))

    def h_set_attributes(self, req, body, params, scope, user):
        return list(self.store.attributes.values())

    def h_config_option(self, req, body, params, scope, user):
        return self.store.add_configurable_option(params["sku"], body.get("option"))

    def h_config_options(self, req, body, params, scope, user):
        p = self.store.product(params["sku"])
        return [dict(o, product_id=p["id"]) for o in p["configurable_options"]]

    def h_config_child(self, req, body, params, scope, user):
        return self.store.add_child(params["sku"], str(body.get("childSku")))

    def h_config_children(self, req, body, params, scope, user):
        st = self.store
        p = st.product(params["sku"])
        return [st.represent(st.product_by_id(i), scope) for i in p["configurable_links"] if st.product_by_id(i)]

    def h_config_unlink(self, req, body, params, scope, user):
        return self.store.remove_child(params["sku"], params["childSku"])

    def h_save_source_items(self, req, body, params, scope, user):
        return self.store.save_source_items(body.get("sourceItems") or [])

    def h_delete_source_items(self, req, body, params, scope, user):
        return self.store.delete_source_items(body.get("sourceItems") or [])

    def h_search_source_items(self, req, body, params, scope, user):
        records = sorted(self.store.source_items.values(), key=lambda s: (s["sku"], s["source_code"]))
        items, total, echo = self._search(req, records, lambda r, f: r.get(f))
        return {"items": items, "search_criteria": echo, "total_count": total}

    def h_search_sources(self, req, body, params, scope, user):
        records = list(self.store.sources.values())
        items, total, echo = self._search(req, records, lambda r, f: r.get(f))
        return {"items": items, "search_criteria": echo, "total_count": total}

    def h_bulk_status(self, req, body, params, scope, user):
        return bulkmod.status(self.store, params["bulkUuid"], detailed=False)

    def h_bulk_detailed(self, req, body, params, scope, user):
        return bulkmod.status(self.store, params["bulkUuid"], detailed=True)

    def h_bulk_count(self, req, body, params, scope, user):
        n = num(params["status"])
        return bulkmod.count_status(self.store, params["bulkUuid"], int(n) if n is not None else -1)


def _json(value):
    """Magento answers bare JSON scalars for some routes: "49", true, 335 (§B1)."""
    if isinstance(value, (dict, list)):
        return value
    import json
    return json.dumps(value).encode("utf-8")


def make_parser():
    return add_arguments(common.base_arg_parser("Magento 2 REST API emulator"))


def run():
    return common.main(MagentoPlatform, make_parser())


__all__ = ["MagentoPlatform", "make_parser", "run"]
