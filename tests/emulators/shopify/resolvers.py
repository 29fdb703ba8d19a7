"""Resolver registry and the pieces every domain module shares.

graphql-core executes documents against the stored schema with one
field_resolver: a function registered for (TypeName, fieldName) wins; else the
record's own key is read. A field nobody implemented resolves to null, or, when
the schema says non-null, to a harmless empty value (false, 0, "", [], an
empty connection), so an unimplemented field never breaks an answer.

Domain modules (products.py, inventory.py, later orders.py) register their
resolvers with @field and their mutations with @mutation; see the bottom of
this file for the queries shared by all of them (shop, locations, node).
"""

import base64
import json

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)
from graphql.execution.values import get_directive_values

from . import search
from .schema import at_least
from .store import gid_type, parse_gid

REGISTRY = {}
MAX_PAGE = 250


def field(type_name, field_name):
    def deco(fn):
        REGISTRY[(type_name, field_name)] = fn
        return fn
    return deco


def ctx(info):
    return info.context


def store_of(info):
    return info.context["store"]


# --------------------------------------------------------------- defaults

_SCALAR_DEFAULTS = {
    "Boolean": False, "Int": 0, "Float": 0.0, "String": "", "ID": "gid://shopify/Unknown/0",
    "Money": "0.00", "Decimal": "0.0", "URL": "", "HTML": "", "UnsignedInt64": "0", "JSON": {},
    "FormattedString": "", "StorefrontID": "", "BigInt": "0", "Color": "#000000", "ARN": "",
    "UtcOffset": "+00:00",
}


def default_for(t, info):
    if isinstance(t, GraphQLNonNull):
        t = t.of_type
    if isinstance(t, GraphQLList):
        return []
    if isinstance(t, GraphQLScalarType):
        if t.name in ("DateTime", "Date"):
            iso = info.context["clock"].iso()
            return iso if t.name == "DateTime" else iso[:10]
        return _SCALAR_DEFAULTS.get(t.name, "")
    if isinstance(t, GraphQLEnumType):
        return next(iter(t.values))
    if isinstance(t, GraphQLObjectType):
        if t.name.endswith("Connection") and "pageInfo" in t.fields:
            return empty_connection(t.name)
        if t.name == "Count":
            return {"__typename": "Count", "count": 0, "precision": "EXACT"}
        return {"__typename": t.name}
    return None  # interfaces/unions: nothing sensible to invent


def field_resolver(source, info, **args):
    fn = REGISTRY.get((info.parent_type.name, info.field_name))
    if fn is not None:
        value = fn(source, info, **args)
    elif isinstance(source, dict):
        value = source.get(info.field_name)
    else:
        value = getattr(source, info.field_name, None)
    if value is None and isinstance(info.return_type, GraphQLNonNull):
        value = default_for(info.return_type, info)
    return value


def type_resolver(value, info, abstract_type):
    if isinstance(value, dict):
        return value.get("__typename")
    return None


# ------------------------------------------------------------ connections


def _enc(key):
    return base64.urlsafe_b64encode(json.dumps({"k": key}, separators=(",", ":")).encode()).decode().rstrip("=")


def _dec(cursor):
    try:
        pad = "=" * (-len(cursor) % 4)
        return tuple_key(json.loads(base64.urlsafe_b64decode(cursor + pad))["k"])
    except Exception:
        raise GraphQLError("Invalid cursor for current pagination sort.",
                           extensions={"code": "BAD_REQUEST"})


def tuple_key(k):
    return tuple(tuple_key(x) if isinstance(x, list) else x for x in k) if isinstance(k, (list, tuple)) else k


def empty_connection(typename):
    return {"__typename": typename, "edges": [], "nodes": [],
            "pageInfo": {"__typename": "PageInfo", "hasNextPage": False, "hasPreviousPage": False,
                         "startCursor": None, "endCursor": None}}


def connection(typename, records, key, first=None, last=None, after=None, before=None, reverse=False,
               **_ignored):
    """Page `records` ordered by key(record) (a tuple of JSON values)."""
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    if first is not None:
        first = max(0, min(first, MAX_PAGE))
    if last is not None:
        last = max(0, min(last, MAX_PAGE))
    ordered = sorted(records, key=lambda r: _sortable(key(r)), reverse=bool(reverse))
    keys = [tuple_key(list(key(r))) for r in ordered]

    def beyond(k, c):  # k comes after c in iteration order
        return _sortable(k) < _sortable(c) if reverse else _sortable(k) > _sortable(c)

    lo, hi = 0, len(ordered)
    if after:
        ak = _dec(after)
        lo = next((i for i, k in enumerate(keys) if beyond(k, ak)), len(ordered))
    if before:
        bk = _dec(before)
        hi = next((i for i, k in enumerate(keys) if not beyond(bk, k)), len(ordered))
        hi = max(hi, lo)
    window = list(range(lo, hi))
    has_next = hi < len(ordered)
    has_prev = lo > 0
    if first is not None and len(window) > first:
        window = window[:first]
        has_next = True
    if last is not None and len(window) > last:
        window = window[len(window) - last:]
        has_prev = True
    nodes = [ordered[i] for i in window]
    cursors = [_enc(list(keys[i])) for i in window]
    return {
        "__typename": typename,
        "edges": [{"__typename": typename[:-len("Connection")] + "Edge", "cursor": c, "node": n}
                  for c, n in zip(cursors, nodes)],
        "nodes": nodes,
        "pageInfo": {"__typename": "PageInfo", "hasNextPage": bool(has_next),
                     "hasPreviousPage": bool(has_prev),
                     "startCursor": cursors[0] if cursors else None,
                     "endCursor": cursors[-1] if cursors else None},
    }


def _sortable(k):
    """Make keys with None comparable (None sorts first)."""
    if isinstance(k, tuple):
        return tuple(_sortable(x) for x in k)
    if k is None:
        return (0, "")
    if isinstance(k, str):
        return (1, k.lower(), k)
    return (1, k, "")


def searchable(info, records, query):
    """Apply the search-index lag (--search-lag-ms) to searched records."""
    if not query:
        return records
    now = info.context["clock"].now()
    return [r for r in records if r.get("_indexedAt", 0) <= now]


def filtered(info, records, resource, query):
    return search.filter_records(searchable(info, records, query), resource, query)


# -------------------------------------------------------------- mutations

# Mutations that need @idempotent from 2026-04 (a missing directive is a
# runtime error, not a schema error). Reference §A3 names refundCreate,
# inventoryAdjustQuantities, inventoryShipmentReceive "and more";
# inventorySetQuantities: capture 2026-04/products/inventory-quantity-contracts-2026-04.json;
# inventorySetOnHandQuantities: shopify.dev 2026-07 mutation page.
IDEMPOTENT_REQUIRED_2026_04 = {
    "refundCreate",
    "inventoryAdjustQuantities",
    "inventoryShipmentReceive",
    "inventorySetQuantities",
    "inventorySetOnHandQuantities",
}


def idempotency_key(info):
    schema = info.schema
    d = schema.get_directive("idempotent")
    if d is None:
        return None
    for node in info.field_nodes:
        vals = get_directive_values(d, node, info.variable_values)
        if vals is not None:
            return vals.get("key")
    return None


def mutation(name, writes=True):
    """Register a mutation resolver. Handles @idempotent (required from
    2026-04 for the mutations above, optional from 2026-01: the same key with
    the same arguments returns the first result without running again) and
    the write counters. The wrapped function returns its payload dict; set
    payload["_applied"] = False when nothing changed (userErrors)."""

    def deco(fn):
        def run(source, info, **args):
            c = info.context
            st = c["store"]
            st.count("mutations", name)
            key = idempotency_key(info)
            required = c.get("idempotent_required", IDEMPOTENT_REQUIRED_2026_04)
            if key is None and name in required and at_least(c["version"], "2026-04"):
                raise GraphQLError("The @idempotent directive is required for this mutation but was not "
                                   "provided.", extensions={"code": "BAD_REQUEST"})
            if key is not None:
                if not str(key).strip():
                    raise GraphQLError("The idempotency key cannot be an empty string.",
                                       extensions={"code": "BAD_REQUEST"})
                fp = json.dumps([name, args], sort_keys=True, default=str)
                seen = st.idempotency.get(key)
                if seen is not None:
                    if seen["fingerprint"] != fp:
                        raise GraphQLError("The same idempotency key was used with different parameters.",
                                           extensions={"code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"})
                    st.count("idempotentReplays")
                    return seen["result"]
            payload = fn(source, info, **args)
            applied = payload.pop("_applied", True) if isinstance(payload, dict) else True
            if writes and applied:
                st.count("writes")
                c["state_changed"] = True
            if key is not None:
                st.idempotency[key] = {"fingerprint": fp, "mutation": name,
                                       "result": payload, "at": st.now()}
                c["state_changed"] = True
            return payload

        REGISTRY[("Mutation", name)] = run
        return fn

    return deco


def user_error(field_path, message, code=None, typename="UserError"):
    e = {"__typename": typename, "field": [str(x) for x in field_path] if field_path is not None else None,
         "message": message}
    if code is not None:
        e["code"] = code
    return e


# ------------------------------------------------------------ shared roots


@field("QueryRoot", "shop")
def _shop(_, info):
    return store_of(info).shop


LOCATION_SEARCH = search.Resource(
    fields={
        "name": lambda l: [l["name"]],
        "id": lambda l: [l["_n"]],
        "location_id": lambda l: [l["_n"]],
        "active": lambda l: [str(l["isActive"]).lower()],
        "created_at": lambda l: [l["createdAt"]],
    },
    default=lambda l: [l["name"]],
)


def location_key(sort_key):
    if sort_key == "NAME":
        return lambda l: (l["name"], l["_n"])
    return lambda l: (l["_n"],)


@field("QueryRoot", "locations")
def _locations(_, info, sortKey="NAME", query=None, includeInactive=False, **args):
    st = store_of(info)
    recs = [l for l in st.locations.values() if includeInactive or l["isActive"]]
    recs = filtered(info, recs, LOCATION_SEARCH, query)
    return connection("LocationConnection", recs, location_key(sortKey), **args)


@field("QueryRoot", "location")
def _location(_, info, id=None):
    st = store_of(info)
    if id is None:
        return st.primary_location()
    return st.locations.get(parse_gid(id, "Location"))


@field("Location", "isPrimary")
def _loc_primary(loc, info):
    p = store_of(info).primary_location()
    return p is not None and p["_n"] == loc["_n"]


@field("Location", "legacyResourceId")
def _loc_legacy(loc, info):
    return str(loc["_n"])


@field("Location", "activatable")
def _loc_activatable(loc, info):
    return not loc["isActive"]


@field("Location", "deactivatable")
def _loc_deactivatable(loc, info):
    return loc["isActive"]


@field("Location", "hasActiveInventory")
def _loc_has_inventory(loc, info):
    key = str(loc["_n"])
    return any(key in i["_levels"] for i in store_of(info).items.values())


NODE_LOOKUP = {}  # typename -> function(store, n) -> record


def lookup_node(st, value):
    t = gid_type(value)
    fn = NODE_LOOKUP.get(t)
    if fn is None:
        return None
    n = parse_gid(value, t)
    if n is None:
        return None
    return fn(st, n, value)


NODE_LOOKUP["Location"] = lambda st, n, raw: st.locations.get(n)
NODE_LOOKUP["Shop"] = lambda st, n, raw: st.shop if n == 1 else None


@field("QueryRoot", "node")
def _node(_, info, id):
    return lookup_node(store_of(info), id)


@field("QueryRoot", "nodes")
def _nodes(_, info, ids):
    st = store_of(info)
    return [lookup_node(st, i) for i in ids]


def register_all():
    """Import the domain modules so their resolvers register."""
    from . import products, inventory, orders  # noqa: F401
