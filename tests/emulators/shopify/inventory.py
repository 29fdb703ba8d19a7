"""Inventory items, levels and quantities: queries and mutations (reference §A3).

Quantity model: a level (item x location) holds available, committed,
reserved, damaged, safety_stock, quality_control and incoming; on_hand is the
sum of all but incoming. Setting on_hand moves available by the same delta.
A new variant's item is stocked at the primary location only (or at every
active location with --stock-new-items all); other locations need
inventoryActivate, else ITEM_NOT_STOCKED_AT_LOCATION.

Compare-and-swap, by served version:
- before 2026-01: compareQuantity, or ignoreCompareQuantity: true, per the
  2025-01 schema (COMPARE_QUANTITY_REQUIRED / COMPARE_QUANTITY_STALE);
- 2026-01: changeFromQuantity may be given (null skips the check); without it
  the 2025-01 rules apply;
- from 2026-04: every quantity must carry changeFromQuantity (null allowed),
  else a top-level INVALID_FIELD_ARGUMENTS error; compareQuantity and
  ignoreCompareQuantity no longer exist (schema_ext.graphql); a mismatch is
  CHANGE_FROM_QUANTITY_STALE. @idempotent is required (resolvers.py).
Messages marked (recorded) were copied from answers of a live shop.
"""

import re

from graphql import GraphQLError

from .products import Errors, set_named_quantity
from .resolvers import NODE_LOOKUP, connection, field, filtered, mutation, store_of, user_error
from . import search
from .schema import at_least
from .store import ON_HAND_PARTS, QUANTITY_NAMES, gid, parse_gid, ruby_decimal

QTY_MAX = 1000000000
# shopify.dev /docs/apps/fulfillment/inventory-management-apps/quantities-states (reference §A3)
REASONS = {
    "correction", "cycle_count_available", "damaged", "movement_created", "movement_updated",
    "movement_received", "movement_canceled", "other", "promotion", "quality_control", "received",
    "reservation_created", "reservation_deleted", "reservation_updated", "restock", "safety_stock",
    "shrinkage",
}
ADJUSTABLE_NAMES = {"available", "on_hand", "damaged", "incoming", "quality_control", "reserved",
                    "safety_stock"}
URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


# ================================================================ read side


def level_view(st, item, loc_n):
    lv = item["_levels"].get(str(loc_n))
    if lv is None:
        return None
    return {"__typename": "InventoryLevel", "id": st.level_id(item, loc_n), "_item": item["_n"],
            "_loc": loc_n, "createdAt": lv["createdAt"], "updatedAt": lv["updatedAt"],
            "canDeactivate": True, "deactivationAlert": None}


@field("InventoryLevel", "item")
def _lv_item(lv, info):
    return store_of(info).items.get(lv["_item"])


@field("InventoryLevel", "location")
def _lv_location(lv, info):
    return store_of(info).locations.get(lv["_loc"])


@field("InventoryLevel", "quantities")
def _lv_quantities(lv, info, names):
    st = store_of(info)
    item = st.items.get(lv["_item"])
    raw = item["_levels"].get(str(lv["_loc"])) if item else None
    out = []
    for name in names:
        if name not in QUANTITY_NAMES or raw is None:
            continue
        out.append({"__typename": "InventoryQuantity",
                    "id": "gid://shopify/InventoryQuantity/%d?inventory_item_id=%d&name=%s" % (
                        lv["_loc"], lv["_item"], name),
                    "name": name, "quantity": st.quantity(raw, name),
                    "updatedAt": raw["_qupd"].get(name)})
    return out


@field("InventoryItem", "unitCost")
def _ii_cost(item, info):
    if item["_cost"] is None:
        return None
    return {"__typename": "MoneyV2", "amount": ruby_decimal(item["_cost"]),
            "currencyCode": store_of(info).currency}


@field("InventoryItem", "measurement")
def _ii_measurement(item, info):
    w = item["_weight"]
    return {"__typename": "InventoryItemMeasurement", "id": gid("InventoryItemMeasurement", item["_n"]),
            "weight": {"__typename": "Weight", "value": w["value"], "unit": w["unit"]} if w else None}


@field("InventoryItem", "inventoryLevel")
def _ii_level(item, info, locationId):
    return level_view(store_of(info), item, parse_gid(locationId, "Location"))


LEVEL_SEARCH = search.Resource(
    fields={"location_id": lambda lv: [lv["_loc"]], "inventory_item_id": lambda lv: [lv["_item"]],
            "updated_at": lambda lv: [lv["updatedAt"]], "created_at": lambda lv: [lv["createdAt"]]},
    default=lambda lv: [],
)


@field("InventoryItem", "inventoryLevels")
def _ii_levels(item, info, query=None, **args):
    st = store_of(info)
    views = [level_view(st, item, int(k)) for k in item["_levels"]]
    views = search.filter_records(views, LEVEL_SEARCH, query)
    return connection("InventoryLevelConnection", views, lambda lv: (lv["_loc"],), **args)


@field("InventoryItem", "locationsCount")
def _ii_locations_count(item, info):
    return {"__typename": "Count", "count": len(item["_levels"]), "precision": "EXACT"}


@field("InventoryItem", "variant")
def _ii_variant(item, info):
    return store_of(info).variants.get(item["_variant"])


@field("InventoryItem", "duplicateSkuCount")
def _ii_dupes(item, info):
    if not item["sku"]:
        return 0
    return sum(1 for i in store_of(info).items.values() if i["sku"] == item["sku"] and i["_n"] != item["_n"])


@field("InventoryItem", "trackedEditable")
def _ii_tracked_editable(item, info):
    return {"__typename": "EditableProperty", "locked": False, "reason": None}


@field("InventoryItem", "inventoryHistoryUrl")
def _ii_history(item, info):
    return None


@field("Location", "inventoryLevels")
def _loc_levels(loc, info, query=None, **args):
    st = store_of(info)
    key = str(loc["_n"])
    views = [level_view(st, i, loc["_n"]) for i in st.items.values() if key in i["_levels"]]
    views = search.filter_records(views, LEVEL_SEARCH, query)
    return connection("InventoryLevelConnection", views, lambda lv: (lv["_item"],), **args)


@field("Location", "inventoryLevel")
def _loc_level(loc, info, inventoryItemId):
    st = store_of(info)
    item = st.items.get(parse_gid(inventoryItemId, "InventoryItem"))
    return level_view(st, item, loc["_n"]) if item else None


def item_search(st):
    return search.Resource(
        fields={"sku": lambda i: [i["sku"]], "id": lambda i: [i["_n"]],
                "created_at": lambda i: [i["createdAt"]], "updated_at": lambda i: [i["updatedAt"]]},
        default=lambda i: [i["sku"] or ""],
    )


@field("QueryRoot", "inventoryItems")
def _q_items(_, info, query=None, **args):
    st = store_of(info)
    recs = filtered(info, list(st.items.values()), item_search(st), query)
    return connection("InventoryItemConnection", recs, lambda i: (i["_n"],), **args)


@field("QueryRoot", "inventoryItem")
def _q_item(_, info, id):
    return store_of(info).items.get(parse_gid(id, "InventoryItem"))


def _level_from_gid(st, raw):
    m = re.match(r"^gid://shopify/InventoryLevel/(\d+)\?inventory_item_id=(\d+)$", raw or "")
    if not m:
        return None
    item = st.items.get(int(m.group(2)))
    return level_view(st, item, int(m.group(1))) if item else None


@field("QueryRoot", "inventoryLevel")
def _q_level(_, info, id):
    return _level_from_gid(store_of(info), id)


@field("InventoryAdjustmentGroup", "changes")
def _group_changes(g, info, inventoryItemIds=None, locationIds=None, quantityNames=None):
    st = store_of(info)
    out = []
    for c in g["_changes"]:
        if inventoryItemIds is not None and c["_item_id"] not in inventoryItemIds:
            continue
        if locationIds is not None and c["_location_id"] not in locationIds:
            continue
        if quantityNames is not None and c["name"] not in quantityNames:
            continue
        out.append({"__typename": "InventoryChange", "name": c["name"], "delta": c["delta"],
                    "quantityAfterChange": None, "ledgerDocumentUri": c.get("ledgerDocumentUri"),
                    "item": st.items.get(c["_item"]), "location": st.locations.get(c["_loc"])})
    return out


NODE_LOOKUP["InventoryItem"] = lambda st, n, raw: st.items.get(n)
NODE_LOOKUP["InventoryLevel"] = lambda st, n, raw: _level_from_gid(st, raw)
NODE_LOOKUP["InventoryAdjustmentGroup"] = lambda st, n, raw: st.groups.get(n)


# =============================================================== write side


def _new_group(st, name, reason, uri):
    n = st.next_id("InventoryAdjustmentGroup")
    g = {"__typename": "InventoryAdjustmentGroup", "id": gid("InventoryAdjustmentGroup", n), "_n": n,
         "createdAt": st.now(), "reason": reason, "referenceDocumentUri": uri, "app": None,
         "staffMember": None, "_mutation": name, "_changes": []}
    st.groups[n] = g
    return g


def _change(g, name, delta, item, loc_n, ledger=None):
    g["_changes"].append({"name": name, "delta": delta, "_item": item["_n"], "_loc": loc_n,
                          "_item_id": item["id"], "_location_id": gid("Location", loc_n),
                          "ledgerDocumentUri": ledger})


def _missing_change_from(info, input_type_name, entries):
    """2026-04: every entry must carry changeFromQuantity (recorded message;
    locations: the mutation field, then the $variable that carried the input)."""
    if any("changeFromQuantity" not in e for e in entries):
        nodes = list(info.field_nodes)
        used = {a.value.name.value for n in info.field_nodes for a in n.arguments or []
                if type(a.value).__name__ == "VariableNode"}
        nodes += [vd for vd in info.operation.variable_definitions or [] if vd.variable.name.value in used]
        raise GraphQLError("%s must include the following argument: changeFromQuantity." % input_type_name,
                           nodes=nodes, extensions={"code": "INVALID_FIELD_ARGUMENTS"})


def _common_checks(st, errs, input, names_ok, name_error):
    if input["name"] not in names_ok:
        errs.add(["input", "name"], *name_error)
    if input["reason"] not in REASONS:
        errs.add(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")
    uri = input.get("referenceDocumentUri")
    if uri is not None and not URI_RE.match(uri):
        errs.add(["input", "referenceDocumentUri"], "The specified reference document is invalid.",
                 "INVALID_REFERENCE_DOCUMENT")


def _locate(st, errs, prefix, entry, seen):
    """(item, location number, raw level) for an entry, or None with errors."""
    item = st.items.get(parse_gid(entry["inventoryItemId"], "InventoryItem"))
    loc_n = parse_gid(entry["locationId"], "Location")
    ok = True
    if item is None:
        errs.add(prefix + ["inventoryItemId"], "The specified inventory item could not be found.",
                 "INVALID_INVENTORY_ITEM")
        ok = False
    if loc_n not in st.locations:
        errs.add(prefix + ["locationId"], "The specified location could not be found.", "INVALID_LOCATION")
        ok = False
    if not ok:
        return None
    pair = (item["_n"], loc_n)
    if pair in seen:
        errs.add(prefix, "The combination of inventoryItemId and locationId must be unique.",
                 "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR")
        return None
    seen.add(pair)
    lv = item["_levels"].get(str(loc_n))
    if lv is None:
        errs.add(prefix + ["locationId"], "The specified inventory item is not stocked at the location.",
                 "ITEM_NOT_STOCKED_AT_LOCATION")
        return None
    return item, loc_n, lv


def _bounds(errs, prefix, name, value):
    if value > QTY_MAX:
        errs.add(prefix + ["quantity"], "The quantity can't be higher than 1,000,000,000.",
                 "INVALID_QUANTITY_TOO_HIGH")
    elif value < -QTY_MAX:
        errs.add(prefix + ["quantity"], "The quantity can't be lower than -1,000,000,000.",
                 "INVALID_QUANTITY_TOO_LOW")
    elif name == "on_hand" and value < 0:
        errs.add(prefix + ["quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE")


@mutation("inventorySetQuantities")
def set_quantities(_, info, input):
    st = store_of(info)
    version = info.context["version"]
    quantities = input["quantities"]
    strict = at_least(version, "2026-04")
    cas_field = at_least(version, "2026-01")
    if strict:
        _missing_change_from(info, "InventoryQuantityInput", quantities)
    errs = Errors("InventorySetQuantitiesUserError")
    name = input["name"]
    _common_checks(st, errs, input, ("available", "on_hand"),
                   ("The quantity name must be either 'available' or 'on_hand'.", "INVALID_NAME"))
    ignore = bool(input.get("ignoreCompareQuantity"))
    seen, planned = set(), []
    for i, q in enumerate(quantities):
        prefix = ["input", "quantities", i]
        found = _locate(st, errs, prefix, q, seen)
        if found is None:
            continue
        item, loc_n, lv = found
        _bounds(errs, prefix, name, q["quantity"])
        current = st.quantity(lv, name) if name in QUANTITY_NAMES else 0
        if cas_field and "changeFromQuantity" in q:
            if q["changeFromQuantity"] is not None and q["changeFromQuantity"] != current:
                errs.add(prefix + ["changeFromQuantity"],
                         "The changeFromQuantity value does not match the persisted quantity.",
                         "CHANGE_FROM_QUANTITY_STALE")
        elif not strict:
            if q.get("compareQuantity") is not None:
                if not ignore and q["compareQuantity"] != current:
                    errs.add(prefix + ["compareQuantity"],
                             "The compareQuantity value does not match persisted value.", "COMPARE_QUANTITY_STALE")
            elif not ignore:
                errs.add(prefix + ["compareQuantity"], "The compareQuantity argument must be given to each "
                         "quantity or ignored using ignoreCompareQuantity.", "COMPARE_QUANTITY_REQUIRED")
        planned.append((item, loc_n, lv, q["quantity"]))
    if errs:
        return {"inventoryAdjustmentGroup": None, "userErrors": errs.list, "_applied": False}
    g = _new_group(st, "inventorySetQuantities", input["reason"], input.get("referenceDocumentUri"))
    mirror = "on_hand" if name == "available" else "available"
    for item, loc_n, lv, value in planned:
        before_named = st.quantity(lv, name)
        before_mirror = st.quantity(lv, mirror)
        set_named_quantity(st, lv, name, value)
        lv["_qupd"][mirror] = st.now()
        _change(g, name, st.quantity(lv, name) - before_named, item, loc_n)
        _change(g, mirror, st.quantity(lv, mirror) - before_mirror, item, loc_n)
        if not item["tracked"]:
            st.count("inventorySetOnUntracked")
        st.touch(item)
    return {"inventoryAdjustmentGroup": g, "userErrors": []}


@mutation("inventoryAdjustQuantities")
def adjust_quantities(_, info, input):
    st = store_of(info)
    version = info.context["version"]
    changes = input["changes"]
    if at_least(version, "2026-04"):
        _missing_change_from(info, "InventoryChangeInput", changes)
    errs = Errors("InventoryAdjustQuantitiesUserError")
    name = input["name"]
    _common_checks(st, errs, input, ADJUSTABLE_NAMES,
                   ("The quantity name is not valid.", "INVALID_QUANTITY_NAME"))
    seen, planned = set(), []
    for i, ch in enumerate(changes):
        prefix = ["input", "changes", i]
        found = _locate(st, errs, prefix, ch, seen)
        if found is None:
            continue
        item, loc_n, lv = found
        current = st.quantity(lv, name) if name in QUANTITY_NAMES else 0
        after = current + ch["delta"]
        if after > QTY_MAX:
            errs.add(prefix + ["delta"], "The quantity can't be higher than 1,000,000,000.",
                     "INVALID_QUANTITY_TOO_HIGH")
        elif after < -QTY_MAX:
            errs.add(prefix + ["delta"], "The quantity can't be lower than -1,000,000,000.",
                     "INVALID_QUANTITY_TOO_LOW")
        if ch.get("changeFromQuantity") is not None and ch["changeFromQuantity"] != current:
            errs.add(prefix + ["changeFromQuantity"],
                     "The changeFromQuantity value does not match the persisted quantity.",
                     "CHANGE_FROM_QUANTITY_STALE")
        planned.append((item, loc_n, lv, ch))
    if errs:
        return {"inventoryAdjustmentGroup": None, "userErrors": errs.list, "_applied": False}
    g = _new_group(st, "inventoryAdjustQuantities", input["reason"], input.get("referenceDocumentUri"))
    for item, loc_n, lv, ch in planned:
        delta = ch["delta"]
        bucket = "available" if name == "on_hand" else name
        lv[bucket] = lv.get(bucket, 0) + delta
        lv["updatedAt"] = st.now()
        lv["_qupd"][name] = st.now()
        _change(g, name, delta, item, loc_n, ch.get("ledgerDocumentUri"))
        if name == "on_hand":
            _change(g, "available", delta, item, loc_n)
        elif name in ON_HAND_PARTS:
            lv["_qupd"]["on_hand"] = st.now()
            _change(g, "on_hand", delta, item, loc_n)
        st.touch(item)
    return {"inventoryAdjustmentGroup": g, "userErrors": []}


@mutation("inventoryActivate")
def activate(_, info, inventoryItemId, locationId, available=None, onHand=None, stockAtLegacyLocation=False):
    st = store_of(info)
    item = st.items.get(parse_gid(inventoryItemId, "InventoryItem"))
    loc_n = parse_gid(locationId, "Location")
    errs = []
    if item is None:
        errs.append(user_error(["inventoryItemId"], "Inventory item does not exist"))
    if loc_n not in st.locations or not st.locations[loc_n]["isActive"]:
        errs.append(user_error(["locationId"], "Location does not exist"))
    if errs:
        return {"inventoryLevel": None, "userErrors": errs, "_applied": False}
    new = str(loc_n) not in item["_levels"]
    lv = st.stock(item, loc_n)
    if new:
        if available is not None:
            set_named_quantity(st, lv, "available", available)
        if onHand is not None:
            set_named_quantity(st, lv, "on_hand", onHand)
        st.touch(item)
    return {"inventoryLevel": level_view(st, item, loc_n), "userErrors": [], "_applied": new}


@mutation("inventoryItemUpdate")
def item_update(_, info, id, input):
    from .products import apply_item_fields
    st = store_of(info)
    item = st.items.get(parse_gid(id, "InventoryItem"))
    if item is None:
        return {"inventoryItem": None, "userErrors": [user_error(["id"], "Inventory item does not exist")],
                "_applied": False}
    apply_item_fields(st, item, input)
    return {"inventoryItem": item, "userErrors": []}
