#!/usr/bin/env python3
"""Shopify Admin GraphQL API emulator for posbridge's tests.

    python3 tests/emulators/shopify/server.py --port 0 --port-file /tmp/p \\
        --token shpat_test --shop demo [--throttle standard|off|plus] [--api-version 2026-01]

Serves POST /admin/api/{version}/graphql.json with X-Shopify-Access-Token.
Every document is parsed and validated with graphql-core against the stored
Admin schema for the served version (schema.py, schema_ext.graphql), variables
are coerced, then the document runs against in-memory state with the
resolvers of products.py and inventory.py. Errors, limits and the cost-based
throttle follow shared/reference/platforms-shopify-bigcommerce.md part A.
Control endpoints and fault rules come from ../common.py; see ../README.md.
"""

import os
import re
import sys
import threading
import traceback
import uuid

_HERE = os.path.dirname(os.path.abspath(__file__))
if __name__ == "__main__":
    # run as a script: import this directory as the package "shopify"
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
    sys.path.insert(0, os.path.dirname(_HERE))
    import shopify.server as _self  # noqa: E402

    sys.exit(_self.run())

from graphql import (  # noqa: E402
    GraphQLError,
    GraphQLSyntaxError,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_argument_values  # noqa: E402
from graphql.language import ast as A  # noqa: E402

import common  # noqa: E402
from . import gqlerrors, orders, resolvers  # noqa: E402
from .coerce import ShopifyScalarLiteralsRule, coerce_variables  # noqa: E402
from .cost import MAX_QUERY_COST, PLANS, ActualCost, CostCalculator, Throttle  # noqa: E402
from .schema import SCHEMAS, Versions  # noqa: E402
from .store import Store, parse_gid  # noqa: E402

resolvers.register_all()

INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
MISSING_QUERY = {"errors": {"query": "Required parameter missing or invalid"}}
PATH_RE = re.compile(r"^/admin/api/(?:([^/]+)/)?graphql\.json$")
RULES = list(specified_rules) + [ShopifyScalarLiteralsRule]
INPUT_ARRAY_MAX = 250
# productSet takes up to 2,048 variants (reference §A4 "2,048 (productSet async input
# limit "2K variants")"; the 2025-01 schema lifted the 100-variant sync cap).
INPUT_ARRAY_EXCEPTIONS = {("productSet", "input", "variants"): 2048}


def add_arguments(p):
    p.add_argument("--token", action="append", default=None,
                   help="accepted X-Shopify-Access-Token (repeatable; default shpat_test)")
    p.add_argument("--shop", default="demo", help="shop name; domain is NAME.myshopify.com")
    p.add_argument("--currency", default="USD", help="shop currency code (default USD)")
    p.add_argument("--throttle", default="standard", choices=sorted(PLANS) + ["off"],
                   help="cost-throttle plan: standard 2000/100, advanced 4000/200, plus 20000/1000, "
                        "enterprise 40000/2000, or off")
    p.add_argument("--bucket", type=float, help="override maximumAvailable")
    p.add_argument("--restore-rate", type=float, help="override restoreRate (points per second)")
    p.add_argument("--throttle-status", type=int, default=200, choices=(200, 429),
                   help="HTTP status of a THROTTLED answer (default 200)")
    p.add_argument("--api-version", default="2026-01",
                   help="oldest supported stable version; requests for older or unknown versions "
                        "fall forward to it (default 2026-01)")
    p.add_argument("--latest-version", default="2026-10", help="newest stable version (default 2026-10)")
    p.add_argument("--search-lag-ms", type=int, default=0,
                   help="records written less than this long ago are not found by query: searches")
    p.add_argument("--stock-new-items", default="primary", choices=("primary", "all"),
                   help="stock a new variant at the primary location only (default) or at all")
    p.add_argument("--idempotent-required",
                   help="comma-separated mutations that need @idempotent from 2026-04 (default: %s)"
                        % ",".join(sorted(resolvers.IDEMPOTENT_REQUIRED_2026_04)))
    return p


def _root_label(query, operation_name):
    if operation_name:
        return operation_name
    m = re.search(r"\b(query|mutation)\s+([A-Za-z_]\w*)", query or "")
    if m:
        return m.group(2)
    m = re.search(r"\{\s*(?:\w+\s*:\s*)?([A-Za-z_]\w*)", query or "")
    return m.group(1) if m else None


class ShopifyPlatform(common.Platform):
    name = "shopify"

    def __init__(self, args, clock):
        super().__init__(args, clock)
        self.tokens = args.token or ["shpat_test"]
        self.versions = Versions(args.api_version, args.latest_version)
        self.store = Store(clock, args.shop, args.currency)
        self.store.search_lag = args.search_lag_ms / 1000.0
        self.throttle = Throttle(clock)
        self.throttle_status = args.throttle_status
        self.stock_new_items = args.stock_new_items
        self.idempotent_required = (set(x.strip() for x in args.idempotent_required.split(",") if x.strip())
                                    if args.idempotent_required else set(resolvers.IDEMPOTENT_REQUIRED_2026_04))
        self._configure_throttle(args.throttle, args.bucket, args.restore_rate)
        self.read_all_orders = True  # False: only orders of the last 60 days (no read_all_orders scope)
        # Build the schema of the oldest version now (before the port file is
        # written) and the other served versions' in the background, so no
        # request waits 1-2 s for a schema build.
        SCHEMAS.get(self.versions.oldest)
        threading.Thread(target=SCHEMAS.warm, args=(list(self.versions.supported),), daemon=True).start()

    def _configure_throttle(self, plan, bucket=None, restore=None):
        self.throttle.configure("standard" if plan == "off" else plan, bucket, restore, enabled=plan != "off")
        self.throttle_plan = plan

    # ------------------------------------------------------------ harness
    def secrets(self):
        return list(self.tokens)

    def op_label(self, req):
        try:
            body = req.json() or {}
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        return _root_label(body.get("query"), body.get("operationName"))

    def fault_response(self, status, req):
        if status == 429:
            body = {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume "
                              "uninterrupted service."}
        elif status == 401:
            body = INVALID_TOKEN
        elif status == 404:
            body = {"errors": "Not Found"}
        elif status >= 500:
            body = {"errors": "Internal Server Error" if status == 500 else "Service Unavailable"}
        else:
            body = {"errors": "Error"}
        r = common.Response(status, body)
        m = PATH_RE.match(req.path)
        if m:
            r.headers["X-Shopify-API-Version"] = self.versions.serve(m.group(1))
        r.headers["X-Request-Id"] = str(uuid.uuid4())
        return r

    def state_dump(self):
        out = self.store.view()
        out["throttle"] = dict(self.throttle.status(), plan=self.throttle_plan)
        out["config"] = self.config_view()
        out["orders"], out["customers"] = orders.view(self.store)
        return out

    def persist_dump(self):
        return self.store.dump()

    def persist_load(self, data):
        self.store.load(data)

    def reset(self):
        self.store.reset()
        self.throttle.reset()

    def config_view(self):
        return {"throttle": self.throttle_plan, "bucket": self.throttle.maximum,
                "restoreRate": self.throttle.restore, "throttleStatus": self.throttle_status,
                "oldestVersion": self.versions.oldest, "latestVersion": self.versions.latest,
                "searchLagMs": int(self.store.search_lag * 1000), "stockNewItems": self.stock_new_items,
                "idempotentRequired": sorted(self.idempotent_required), "clockScale": self.clock.scale,
                "readAllOrders": self.read_all_orders}

    def configure(self, data):
        known = {"throttle", "bucket", "restoreRate", "throttleStatus", "searchLagMs", "stockNewItems",
                 "idempotentRequired", "oldestVersion", "latestVersion", "readAllOrders"}
        unknown = set(data) - known
        if unknown:
            raise ValueError("unknown config keys: %s" % ", ".join(sorted(unknown)))
        if any(k in data for k in ("throttle", "bucket", "restoreRate")):
            plan = data.get("throttle", self.throttle_plan)
            if plan not in PLANS and plan != "off":
                raise ValueError("throttle must be one of %s or off" % ", ".join(sorted(PLANS)))
            self._configure_throttle(plan, data.get("bucket"), data.get("restoreRate"))
        if "throttleStatus" in data:
            if data["throttleStatus"] not in (200, 429):
                raise ValueError("throttleStatus must be 200 or 429")
            self.throttle_status = data["throttleStatus"]
        if "searchLagMs" in data:
            self.store.search_lag = float(data["searchLagMs"]) / 1000.0
        if "stockNewItems" in data:
            if data["stockNewItems"] not in ("primary", "all"):
                raise ValueError("stockNewItems must be primary or all")
            self.stock_new_items = data["stockNewItems"]
        if "idempotentRequired" in data:
            self.idempotent_required = set(data["idempotentRequired"])
        if "readAllOrders" in data:
            self.read_all_orders = bool(data["readAllOrders"])
        if "oldestVersion" in data or "latestVersion" in data:
            self.versions = Versions(data.get("oldestVersion", self.versions.oldest),
                                     data.get("latestVersion", self.versions.latest))
        return self.config_view()

    # ------------------------------------------------------------ seeding
    def seed(self, data):
        st = self.store
        if data.get("reset"):
            st.reset(default_locations=not data.get("locations"))
        if data.get("shop"):
            for k in ("name", "currencyCode", "email", "ianaTimezone"):
                if k in data["shop"]:
                    st.shop[k] = data["shop"][k]
            if "currencyCode" in data["shop"]:
                st.currency = data["shop"]["currencyCode"]
        if data.get("locations") is not None:
            if not data.get("reset"):
                # replace the default locations when nothing is stocked yet
                if not st.items:
                    st.locations = {}
                    st.seq["Location"] = 0
            for loc in data["locations"]:
                st.add_location(loc["name"], **{k: v for k, v in loc.items() if k != "name"})
        created = [self._seed_product(p) for p in data.get("products") or []]
        out = {"locations": [{"id": l["id"], "name": l["name"]} for l in
                             sorted(st.locations.values(), key=lambda l: l["_n"])],
               "products": created}
        out.update(orders.seed(st, data))  # "customers", "orders" (see orders.py)
        return out

    def _location_ref(self, ref):
        st = self.store
        n = parse_gid(ref, "Location") if isinstance(ref, str) and ref.startswith("gid://") else None
        if n is None:
            n = next((l["_n"] for l in st.locations.values() if l["name"] == ref), None)
        if n is None or n not in st.locations:
            raise ValueError("seed: unknown location %r" % ref)
        return n

    def _seed_product(self, spec):
        from .products import DEFAULT_OPTION, DEFAULT_VALUE, apply_product_fields, apply_variant_fields
        from .products import set_named_quantity
        from .store import handleize

        st = self.store
        if not spec.get("title"):
            raise ValueError("seed: a product needs a title")
        handle = handleize(spec.get("handle") or "") or st.unique_handle(handleize(spec["title"]) or "product")
        if st.handle_taken(handle):
            raise ValueError("seed: handle %r already in use" % handle)
        p = st.new_product(spec["title"], handle)
        p["status"] = spec.get("status", "ACTIVE")
        if p["status"] == "ACTIVE":
            p["publishedAt"] = st.now()
        apply_product_fields(st, p, {k: spec[k] for k in ("descriptionHtml", "vendor", "productType", "tags")
                                     if k in spec})
        options = spec.get("options") or [{"name": DEFAULT_OPTION, "values": [DEFAULT_VALUE]}]
        p["_options"] = [st.new_option(o["name"], i + 1, o["values"]) for i, o in enumerate(options)]
        variants = spec.get("variants") or [{}]
        out = []
        for vs in variants:
            values = vs.get("options") or [o["values"][0] for o in options]
            if len(values) != len(options):
                raise ValueError("seed: variant %r needs one value per option" % (vs,))
            for o, val in zip(p["_options"], values):
                if not any(x["name"] == val for x in o["_values"]):
                    o["_values"].append(st.new_option_value(val))
            v = st.new_variant(p, values)
            item = st.items[v["_item"]]
            fields = {k: vs[k] for k in ("barcode", "price", "compareAtPrice", "taxable", "inventoryPolicy", "sku")
                      if k in vs}
            inv = {k: vs[k] for k in ("cost", "tracked") if k in vs}
            if inv:
                fields["inventoryItem"] = inv
            apply_variant_fields(st, v, fields)
            inventory = vs.get("inventory")
            if inventory is None:
                st.stock(item, st.primary_location()["_n"])
            else:
                rows = ([{"location": k, "available": n} for k, n in inventory.items()]
                        if isinstance(inventory, dict) else inventory)
                for row in rows:
                    lv = st.stock(item, self._location_ref(row.get("locationId") or row.get("location")))
                    for name in ("available", "on_hand", "committed", "reserved", "damaged", "incoming"):
                        if name in row:
                            set_named_quantity(st, lv, name, int(row[name]))
                if "tracked" not in vs:
                    item["tracked"] = True
            out.append({"id": v["id"], "sku": item["sku"], "inventoryItemId": item["id"]})
        return {"id": p["id"], "handle": p["handle"], "variants": out}

    # ------------------------------------------------------------- HTTP
    def handle(self, req):
        m = PATH_RE.match(req.path)
        if not m:
            return common.Response(404, {"errors": "Not Found"}, {"X-Request-Id": str(uuid.uuid4())})
        served = self.versions.serve(m.group(1))
        headers = {"X-Shopify-API-Version": served, "X-Request-Id": str(uuid.uuid4())}
        if req.header("X-Shopify-Access-Token") not in self.tokens:
            return common.Response(401, INVALID_TOKEN, headers)
        if req.method != "POST":
            return common.Response(405, {"errors": "Method Not Allowed"}, headers)
        ctype = (req.header("Content-Type") or "").lower()
        try:
            if "application/graphql" in ctype:
                body = {"query": req.body.decode("utf-8")}
            else:
                body = req.json()
        except (ValueError, UnicodeDecodeError):
            return common.Response(400, MISSING_QUERY, headers)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str) or not body["query"].strip():
            return common.Response(400, MISSING_QUERY, headers)
        variables = body.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return common.Response(400, {"errors": {"variables": "must be an object"}}, headers)
        status, result, changed = self.run_graphql(served, body["query"], variables, body.get("operationName"))
        resp = common.Response(status, result, headers)
        resp.op_label = _root_label(body["query"], body.get("operationName"))
        resp.state_changed = changed
        return resp

    def run_graphql(self, version, query, variables, operation_name):
        """-> (http status, response body, state changed)."""
        st = self.store
        schema = SCHEMAS.get(version)
        with self.lock:
            st.count("requests")
            st.count("requestsByOperation", _root_label(query, operation_name) or "?")

        def reject(errors):
            with self.lock:
                st.count("rejected")
            return 200, {"errors": errors}, False

        try:
            document = parse(query)
        except GraphQLSyntaxError as e:
            return reject([gqlerrors.parse_error(e)])
        errors = validate(schema, document, RULES)
        if errors:
            return reject(gqlerrors.translate_validation(errors, document, schema))
        op = get_operation_ast(document, operation_name)
        if op is None:
            if operation_name:
                return reject([gqlerrors.error('No operation named "%s"' % operation_name)])
            return reject([gqlerrors.error("An operation name is required")])
        if op.operation.value == "subscription":
            return reject([gqlerrors.error("Subscriptions are not supported")])
        values, verrs = coerce_variables(schema, op, variables)
        if verrs:
            return reject(verrs)
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, A.FragmentDefinitionNode)}
        size_errors = self._input_size_errors(schema, op, values)
        if size_errors:
            return reject(size_errors)

        calc = CostCalculator(schema, document, values, fragments)
        requested = calc.operation(op)
        if requested > MAX_QUERY_COST:
            return reject([gqlerrors.error(
                "Query cost is %d, which exceeds the single query max cost limit (%d).\n\n"
                "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
                "cost of a query is calculated.\n\n"
                "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
                "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
                % (requested, MAX_QUERY_COST), "MAX_COST_EXCEEDED", cost=requested, maxCost=MAX_QUERY_COST,
                documentation="https://shopify.dev/api/usage/limits#rate-limits")])
        if not self.throttle.take(requested):
            with self.lock:
                st.count("throttled")
            return self.throttle_status, {
                "errors": [{"message": "Throttled", "extensions": {
                    "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                        "throttleStatus": self._throttle_status()}},
            }, False

        context = {"store": st, "version": version, "clock": self.clock, "platform": self,
                   "stock_new_items": self.stock_new_items, "idempotent_required": self.idempotent_required}
        with self.lock:
            result = execute(schema, document, context_value=context, variable_values=variables or {},
                             operation_name=operation_name, field_resolver=resolvers.field_resolver,
                             type_resolver=resolvers.type_resolver)
        actual = ActualCost(calc).operation(op, result.data)
        self.throttle.refund(max(0, requested - actual))
        out = {}
        if result.errors:
            out["errors"] = [self._format_error(e) for e in result.errors]
        out["data"] = result.data
        out["extensions"] = {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                                      "throttleStatus": self._throttle_status()}}
        return 200, out, bool(context.get("state_changed"))

    def _throttle_status(self):
        s = self.throttle.status()
        # --clock-scale K makes points come back K times faster in real time
        s["restoreRate"] = s["restoreRate"] * self.clock.scale
        return s

    def _format_error(self, e):
        orig = getattr(e, "original_error", None)
        if orig is not None and not isinstance(orig, GraphQLError):
            traceback.print_exception(type(orig), orig, orig.__traceback__)
            return {"message": "Internal error. Looks like something went wrong on our end.\nRequest ID: %s "
                               "(include this in support requests)." % uuid.uuid4(),
                    "extensions": {"code": "INTERNAL_SERVER_ERROR"}, "path": e.path}
        f = e.formatted
        out = {"message": f["message"]}
        if f.get("locations"):
            out["locations"] = f["locations"]
        if f.get("extensions"):
            out["extensions"] = f["extensions"]
        if f.get("path") is not None:
            out["path"] = f["path"]
        return out

    def _input_size_errors(self, schema, op, values):
        root = schema.mutation_type if op.operation.value == "mutation" else schema.query_type
        errors = []
        for sel in op.selection_set.selections:
            if not isinstance(sel, A.FieldNode):
                continue
            fdef = root.fields.get(sel.name.value)
            if fdef is None:
                continue
            try:
                args = get_argument_values(fdef, sel, values)
            except GraphQLError:
                continue
            location = gqlerrors.loc(sel)

            def walk(v, path):
                if isinstance(v, list):
                    key = tuple(p for p in path if isinstance(p, str))
                    limit = INPUT_ARRAY_EXCEPTIONS.get(key, INPUT_ARRAY_MAX)
                    if len(v) > limit:
                        errors.append(gqlerrors.error(
                            "The input array size of %d is greater than the maximum allowed of %d."
                            % (len(v), limit), "MAX_INPUT_SIZE_EXCEEDED", [location] if location else None,
                            list(path)))
                    for i, x in enumerate(v):
                        walk(x, path + [i])
                elif isinstance(v, dict):
                    for k, x in v.items():
                        walk(x, path + [k])

            for name, v in args.items():
                walk(v, [sel.name.value, name])
        return errors


def make_parser():
    return add_arguments(common.base_arg_parser("Shopify Admin GraphQL API emulator"))


def run():
    return common.main(ShopifyPlatform, make_parser())


__all__ = ["ShopifyPlatform", "make_parser", "run"]
