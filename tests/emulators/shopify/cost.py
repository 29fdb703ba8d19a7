"""Query cost and the leaky-bucket throttle (reference §A6).

Rules (reference §A6: "scalar/enum 0, object 1, connection sized by
first/last, mutation 10"), refined against recorded live answers:
- a scalar or enum field costs 0;
- an object field costs 1 plus its selections; a list of objects that is not a
  connection costs the same (it is not multiplied);
- a connection costs 2 plus first|last times the cost of one node (the node
  object itself counts 1) — edges{node} and nodes are one node;
- a mutation root field costs 10; the fields directly under its payload are
  free, what is nested below them is not. (Recorded: productSet{product{id
  title handle} userErrors{...}} requested 10; productVariantsBulkUpdate with
  productVariants{inventoryItem{...}} requested 11; inventorySetQuantities with
  inventoryAdjustmentGroup{changes{item{id} location{id}}} requested 13.)
- fragments on different types cost the most expensive one.
The actual cost uses the number of nodes a connection really returned and 0
below a null object. It is an approximation of Shopify's calculator, close
enough for the limiter; it is not byte-identical.

Throttle: per shop, bucket `maximumAvailable`, refilled at `restoreRate`
points per virtual second. A request needs its requested cost up front; the
difference to the actual cost is refunded. Standard plan 2000/100 (recorded on
a development shop: maximumAvailable 2000, restoreRate 100; shopify.dev
rate-limits page: Standard 100 points/second).
"""

import threading

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLInterfaceType,
    GraphQLUnionType,
    get_named_type,
)
from graphql.execution.values import get_argument_values
from graphql.language import ast as A

MUTATION_COST = 10
MAX_QUERY_COST = 1000

PLANS = {
    # plan: (maximumAvailable, restoreRate)
    "standard": (2000.0, 100.0),
    "advanced": (4000.0, 200.0),
    "plus": (20000.0, 1000.0),
    "enterprise": (40000.0, 2000.0),
}


def _is_connection(t):
    n = get_named_type(t)
    return isinstance(n, GraphQLObjectType) and n.name.endswith("Connection") and "pageInfo" in n.fields


def _is_list(t):
    if isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


class CostCalculator:
    def __init__(self, schema, document, variables, fragments):
        self.schema = schema
        self.document = document
        self.variables = variables or {}
        self.fragments = fragments

    # ------------------------------------------------------------ requested
    def operation(self, op):
        root = self.schema.mutation_type if op.operation.value == "mutation" else self.schema.query_type
        if op.operation.value == "mutation":
            total = 0
            for field, ftype, fdef in self._fields(op.selection_set, root):
                payload = get_named_type(fdef.type)
                sub = 0
                if field.selection_set and isinstance(payload, (GraphQLObjectType, GraphQLInterfaceType)):
                    # the payload's own fields are free; below them counts
                    for f2, t2, d2 in self._fields(field.selection_set, payload):
                        sub += self._children(f2, d2)
                total += MUTATION_COST + sub
            return total
        return self._selection_cost(op.selection_set, root)

    def _fields(self, selection_set, parent_type, seen=None):
        """(field node, parent type, field def) for the selection, flattening
        fragments on the same type."""
        out = []
        if selection_set is None:
            return out
        for s in selection_set.selections:
            if isinstance(s, A.FieldNode):
                if s.name.value.startswith("__"):
                    continue
                fdef = getattr(parent_type, "fields", {}).get(s.name.value)
                if fdef is not None:
                    out.append((s, parent_type, fdef))
            elif isinstance(s, A.InlineFragmentNode):
                t = self.schema.get_type(s.type_condition.name.value) if s.type_condition else parent_type
                out.extend(self._fields(s.selection_set, t or parent_type))
            elif isinstance(s, A.FragmentSpreadNode):
                frag = self.fragments.get(s.name.value)
                if frag is not None:
                    t = self.schema.get_type(frag.type_condition.name.value) or parent_type
                    out.extend(self._fields(frag.selection_set, t))
        return out

    def _selection_cost(self, selection_set, parent_type):
        """Cost of a selection set; fragments on different concrete types are
        alternatives, so take the maximum among them."""
        if selection_set is None:
            return 0
        base = 0
        alternatives = {}
        for s in selection_set.selections:
            if isinstance(s, A.FieldNode):
                fdef = getattr(parent_type, "fields", {}).get(s.name.value)
                if fdef is not None and not s.name.value.startswith("__"):
                    base += self._field_cost(s, fdef)
            else:
                if isinstance(s, A.InlineFragmentNode):
                    cond = s.type_condition.name.value if s.type_condition else None
                    ss = s.selection_set
                else:
                    frag = self.fragments.get(s.name.value)
                    if frag is None:
                        continue
                    cond = frag.type_condition.name.value
                    ss = frag.selection_set
                t = self.schema.get_type(cond) if cond else parent_type
                c = self._selection_cost(ss, t or parent_type)
                if cond is None or cond == getattr(parent_type, "name", None):
                    base += c
                else:
                    alternatives[cond] = alternatives.get(cond, 0) + c
        return base + (max(alternatives.values()) if alternatives else 0)

    def _args(self, field, fdef):
        try:
            return get_argument_values(fdef, field, self.variables)
        except Exception:
            return {}

    def _field_cost(self, field, fdef):
        named = get_named_type(fdef.type)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            return 0
        return 1 + self._children(field, fdef) if not _is_connection(fdef.type) else self._children(field, fdef)

    def _children(self, field, fdef):
        """Cost below `field` (for a connection: the whole connection)."""
        named = get_named_type(fdef.type)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            return 0
        if _is_connection(fdef.type):
            args = self._args(field, fdef)
            n = args.get("first") or args.get("last") or 0
            node_cost = self._connection_node_cost(field, named)
            return 2 + n * node_cost
        return self._selection_cost(field.selection_set, named)

    def _connection_node_cost(self, field, conn_type):
        cost = 0
        for f, _, fdef in self._fields(field.selection_set, conn_type):
            name = f.name.value
            if name == "nodes":
                cost = max(cost, 1 + self._selection_cost(f.selection_set, get_named_type(fdef.type)))
            elif name == "edges":
                edge_t = get_named_type(fdef.type)
                for f2, _, d2 in self._fields(f.selection_set, edge_t):
                    if f2.name.value == "node":
                        cost = max(cost, 1 + self._selection_cost(f2.selection_set, get_named_type(d2.type)))
        return cost


def _response_key(field):
    return field.alias.value if field.alias else field.name.value


class ActualCost:
    """The actual cost: the requested rules applied to the data returned —
    connections count the nodes they returned, a null object costs 0."""

    def __init__(self, calc):
        self.c = calc

    def operation(self, op, data):
        if not isinstance(data, dict):
            return 0
        c = self.c
        if op.operation.value == "mutation":
            total = 0
            for field, _, fdef in self._unique(op.selection_set, c.schema.mutation_type):
                key = _response_key(field)
                if key not in data:
                    continue
                total += MUTATION_COST
                payload = data[key]
                ptype = get_named_type(fdef.type)
                if isinstance(payload, dict) and field.selection_set:
                    for f2, _, d2 in self._unique(field.selection_set, ptype):
                        total += self._below(f2, d2, payload.get(_response_key(f2)))
            return total
        return self._set(op.selection_set, c.schema.query_type, data)

    def _unique(self, selection_set, parent_type):
        seen, out = set(), []
        for f, t, d in self.c._fields(selection_set, parent_type):
            k = _response_key(f)
            if k not in seen:
                seen.add(k)
                out.append((f, t, d))
        return out

    def _set(self, selection_set, parent_type, value):
        if not isinstance(value, dict):
            return 0
        total = 0
        for f, _, d in self._unique(selection_set, parent_type):
            total += self._field(f, d, value.get(_response_key(f)))
        return total

    def _field(self, field, fdef, value):
        named = get_named_type(fdef.type)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            return 0
        if value is None:
            return 0
        if _is_connection(fdef.type):
            return self._below(field, fdef, value)
        return 1 + self._below(field, fdef, value)

    def _below(self, field, fdef, value):
        named = get_named_type(fdef.type)
        if value is None or not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            return 0
        if _is_connection(fdef.type):
            total = 2
            for f, _, d in self._unique(field.selection_set, named):
                name = f.name.value
                items = value.get(_response_key(f)) if isinstance(value, dict) else None
                if name == "nodes" and items:
                    node_t = get_named_type(d.type)
                    total += sum(1 + self._set(f.selection_set, node_t, n) for n in items if n is not None)
                    break
                if name == "edges" and items:
                    edge_t = get_named_type(d.type)
                    for f2, _, d2 in self._unique(f.selection_set, edge_t):
                        if f2.name.value == "node":
                            node_t = get_named_type(d2.type)
                            k2 = _response_key(f2)
                            total += sum(1 + self._set(f2.selection_set, node_t, e.get(k2))
                                         for e in items if isinstance(e, dict) and e.get(k2) is not None)
                    break
            return total
        if isinstance(value, list):
            items = [v for v in value if isinstance(v, dict)]
            return max((self._set(field.selection_set, named, v) for v in items), default=0)
        return self._set(field.selection_set, named, value)


class Throttle:
    """Leaky bucket per shop, on the emulator's (scaled) clock."""

    def __init__(self, clock, plan="standard", maximum=None, restore=None, enabled=True):
        self.clock = clock
        self.lock = threading.Lock()
        self.configure(plan, maximum, restore, enabled)

    def configure(self, plan="standard", maximum=None, restore=None, enabled=True):
        mx, rr = PLANS[plan]
        with self.lock:
            self.plan = plan
            self.maximum = float(maximum if maximum is not None else mx)
            self.restore = float(restore if restore is not None else rr)
            self.enabled = enabled
            self.available = self.maximum
            self.stamp = self.clock.now()

    def _refill(self):
        now = self.clock.now()
        self.available = min(self.maximum, self.available + (now - self.stamp) * self.restore)
        self.stamp = now

    def take(self, cost):
        """Reserve `cost` points; False when the bucket holds too few."""
        with self.lock:
            if not self.enabled:
                return True
            self._refill()
            if self.available < cost:
                return False
            self.available -= cost
            return True

    def refund(self, points):
        with self.lock:
            if not self.enabled:
                return
            self._refill()
            self.available = min(self.maximum, self.available + points)

    def status(self):
        with self.lock:
            if self.enabled:
                self._refill()
            return {
                "maximumAvailable": self.maximum,
                "currentlyAvailable": int(self.available) if self.enabled else int(self.maximum),
                "restoreRate": self.restore,
            }

    def reset(self):
        with self.lock:
            self.available = self.maximum
            self.stamp = self.clock.now()
