"""Products, options and variants: queries and mutations.

Semantics follow reference §A2 and the schema descriptions; messages and
field paths marked "(recorded)" were copied from answers recorded on a live
shop (see schema_ext.graphql for where).

The trap this emulator must reproduce: productSet REPLACES list fields — a
variant of the product that is not in input.variants is deleted, together
with its inventory item and levels ("all existing entries not included will be
deleted", schema 2025-01 productSet description). A variant input without an
id creates a new variant ("Specifies the product variant to update or create a
new variant if absent", ProductVariantSetInput.id).
"""

from decimal import Decimal

from . import search
from .resolvers import (
    NODE_LOOKUP,
    connection,
    field,
    filtered,
    mutation,
    store_of,
    user_error,
)
from .store import gid, handleize, money, parse_gid, ruby_decimal, to_decimal

MAX_LEN = 255
MAX_OPTIONS = 3
MAX_PRICE = Decimal("1000000000000000000")
DEFAULT_OPTION = "Title"
DEFAULT_VALUE = "Default Title"


# ================================================================ read side


def option_views(st, p):
    vs = st.product_variants(p)
    out = []
    for idx, o in enumerate(p["_options"]):
        used = {v["_options"][idx] for v in vs if len(v["_options"]) > idx}
        out.append({
            "__typename": "ProductOption",
            "id": o["id"],
            "name": o["name"],
            "position": idx + 1,
            "values": [x["name"] for x in o["_values"] if x["name"] in used],
            "optionValues": [{"__typename": "ProductOptionValue", "id": x["id"], "name": x["name"],
                              "hasVariants": x["name"] in used, "linkedMetafieldValue": None,
                              "swatch": None} for x in o["_values"]],
            "linkedMetafield": None,
            "translations": [],
        })
    return out


def has_only_default_variant(st, p):
    return (len(p["_options"]) == 1 and p["_options"][0]["name"] == DEFAULT_OPTION
            and [x["name"] for x in p["_options"][0]["_values"]] == [DEFAULT_VALUE]
            and len(p["_variants"]) <= 1)


@field("Product", "options")
def _p_options(p, info, first=None):
    out = option_views(store_of(info), p)
    return out[:first] if first else out


VARIANT_SORT = {
    "POSITION": lambda st: (lambda v: (st.products[v["_product"]]["_variants"].index(v["_n"])
                                       if v["_product"] in st.products else 0, v["_n"])),
    "ID": lambda st: (lambda v: (v["_n"],)),
    "SKU": lambda st: (lambda v: (st.items[v["_item"]]["sku"], v["_n"])),
    "TITLE": lambda st: (lambda v: (st.variant_title(v), v["_n"])),
    "NAME": lambda st: (lambda v: (st.variant_title(v), v["_n"])),
    "FULL_TITLE": lambda st: (lambda v: (st.products[v["_product"]]["title"] + " " + st.variant_title(v),
                                         v["_n"])),
    "INVENTORY_QUANTITY": lambda st: (lambda v: (st.total_available(st.items[v["_item"]]), v["_n"])),
}


def variant_key(st, sort_key):
    return VARIANT_SORT.get(sort_key, VARIANT_SORT["ID"])(st)


@field("Product", "variants")
def _p_variants(p, info, sortKey="POSITION", **args):
    st = store_of(info)
    return connection("ProductVariantConnection", st.product_variants(p), variant_key(st, sortKey), **args)


@field("Product", "variantsCount")
def _p_variants_count(p, info):
    return {"__typename": "Count", "count": len(p["_variants"]), "precision": "EXACT"}


@field("Product", "totalVariants")
def _p_total_variants(p, info):
    return len(p["_variants"])


@field("Product", "hasOnlyDefaultVariant")
def _p_only_default(p, info):
    return has_only_default_variant(store_of(info), p)


def _tracked_items(st, p):
    return [st.items[v["_item"]] for v in st.product_variants(p) if st.items[v["_item"]]["tracked"]]


@field("Product", "totalInventory")
def _p_total_inventory(p, info):
    st = store_of(info)
    return sum(st.total_available(i) for i in _tracked_items(st, p))


@field("Product", "tracksInventory")
def _p_tracks(p, info):
    return bool(_tracked_items(store_of(info), p))


@field("Product", "hasOutOfStockVariants")
def _p_out_of_stock(p, info):
    st = store_of(info)
    return any(st.total_available(i) <= 0 for i in _tracked_items(st, p))


@field("Product", "description")
def _p_description(p, info, truncateAt=None):
    import html
    import re
    text = html.unescape(re.sub(r"<[^>]*>", " ", p["descriptionHtml"] or ""))
    text = re.sub(r"\s+", " ", text).strip()
    return text[:truncateAt] if truncateAt else text


def _money_v2(st, amount):
    return {"__typename": "MoneyV2", "amount": ruby_decimal(amount), "currencyCode": st.currency}


@field("Product", "priceRangeV2")
def _p_price_range(p, info):
    st = store_of(info)
    prices = [to_decimal(v["price"]) for v in st.product_variants(p)] or [Decimal(0)]
    return {"__typename": "ProductPriceRangeV2", "minVariantPrice": _money_v2(st, min(prices)),
            "maxVariantPrice": _money_v2(st, max(prices))}


@field("Product", "compareAtPriceRange")
def _p_compare_range(p, info):
    st = store_of(info)
    prices = [to_decimal(v["compareAtPrice"]) for v in st.product_variants(p) if v["compareAtPrice"]]
    if not prices:
        return None
    return {"__typename": "ProductCompareAtPriceRange",
            "minVariantCompareAtPrice": _money_v2(st, min(prices)),
            "maxVariantCompareAtPrice": _money_v2(st, max(prices))}


@field("Product", "metafield")
def _p_metafield(p, info, key, namespace=None):
    for m in p["_metafields"]:
        if m["key"] == key and (namespace is None or m["namespace"] == namespace):
            return m
    return None


@field("Product", "metafields")
def _p_metafields(p, info, namespace=None, keys=None, **args):
    recs = [m for m in p["_metafields"] if (namespace is None or m["namespace"] == namespace)
            and (keys is None or "%s.%s" % (m["namespace"], m["key"]) in keys)]
    return connection("MetafieldConnection", recs, lambda m: (m["_n"],), **args)


@field("Product", "onlineStoreUrl")
def _p_online_url(p, info):
    return None


@field("ProductVariant", "product")
def _v_product(v, info):
    return store_of(info).products.get(v["_product"])


@field("ProductVariant", "inventoryItem")
def _v_item(v, info):
    return store_of(info).items.get(v["_item"])


@field("ProductVariant", "sku")
def _v_sku(v, info):
    item = store_of(info).items.get(v["_item"])
    return item["sku"] if item else None


@field("ProductVariant", "title")
def _v_title(v, info):
    return store_of(info).variant_title(v)


@field("ProductVariant", "displayName")
def _v_display(v, info):
    st = store_of(info)
    p = st.products.get(v["_product"])
    return "%s - %s" % (p["title"] if p else "", st.variant_title(v))


@field("ProductVariant", "position")
def _v_position(v, info):
    p = store_of(info).products.get(v["_product"])
    return p["_variants"].index(v["_n"]) + 1 if p and v["_n"] in p["_variants"] else 1


@field("ProductVariant", "selectedOptions")
def _v_selected(v, info):
    st = store_of(info)
    p = st.products.get(v["_product"])
    out = []
    if not p:
        return out
    for o, val in zip(p["_options"], v["_options"]):
        ov = next((x for x in o["_values"] if x["name"] == val), None)
        out.append({"__typename": "SelectedOption", "name": o["name"], "value": val,
                    "optionValue": {"__typename": "ProductOptionValue", "id": ov["id"] if ov else None,
                                    "name": val, "hasVariants": True}})
    return out


def _v_qty(st, v):
    item = st.items.get(v["_item"])
    return st.total_available(item) if item else 0


@field("ProductVariant", "inventoryQuantity")
def _v_inventory_quantity(v, info):
    return _v_qty(store_of(info), v)


@field("ProductVariant", "sellableOnlineQuantity")
def _v_sellable(v, info):
    return max(0, _v_qty(store_of(info), v))


@field("ProductVariant", "availableForSale")
def _v_available(v, info):
    st = store_of(info)
    p = st.products.get(v["_product"])
    item = st.items.get(v["_item"])
    if not p or p["status"] != "ACTIVE":
        return False
    return (not item["tracked"]) or v["inventoryPolicy"] == "CONTINUE" or _v_qty(st, v) > 0


@field("ProductVariant", "metafield")
def _v_metafield(v, info, key, namespace=None):
    return None


# ---------------------------------------------------------------- searching

def _variant_items(st, p):
    return [st.items[v["_item"]] for v in st.product_variants(p)]


def product_search(st):
    return search.Resource(
        fields={
            "title": lambda p: [p["title"]],
            "handle": lambda p: [p["handle"]],
            "status": lambda p: [p["status"]],
            "vendor": lambda p: [p["vendor"]],
            "product_type": lambda p: [p["productType"]],
            "tag": lambda p: p["tags"],
            "sku": lambda p: [i["sku"] for i in _variant_items(st, p)],
            "barcode": lambda p: [v["barcode"] for v in st.product_variants(p)],
            "id": lambda p: [p["_n"]],
            "variant_id": lambda p: list(p["_variants"]),
            "created_at": lambda p: [p["createdAt"]],
            "updated_at": lambda p: [p["updatedAt"]],
            "published_at": lambda p: [p["publishedAt"]],
            "inventory_total": lambda p: [sum(st.total_available(i) for i in _tracked_items(st, p))],
            "gift_card": lambda p: [str(p["isGiftCard"]).lower()],
            "has_only_default_variant": lambda p: [str(has_only_default_variant(st, p)).lower()],
            "price": lambda p: [float(to_decimal(v["price"])) for v in st.product_variants(p)],
        },
        default=lambda p: [p["title"], p["vendor"], p["productType"], p["handle"]] + p["tags"]
        + [i["sku"] or "" for i in _variant_items(st, p)],
        multi={"handle", "status", "product_type"},
        negated={"tag_not": "tag"},
        text={"title"},
    )


def variant_search(st):
    def prod(v):
        return st.products.get(v["_product"]) or {}

    def item(v):
        return st.items.get(v["_item"]) or {}

    return search.Resource(
        fields={
            "sku": lambda v: [item(v).get("sku")],
            "barcode": lambda v: [v["barcode"]],
            "id": lambda v: [v["_n"]],
            "product_id": lambda v: [v["_product"]],
            "product_ids": lambda v: [str(v["_product"])],
            "title": lambda v: [st.variant_title(v)],
            "vendor": lambda v: [prod(v).get("vendor")],
            "product_type": lambda v: [prod(v).get("productType")],
            "product_status": lambda v: [prod(v).get("status")],
            "tag": lambda v: prod(v).get("tags", []),
            "taxable": lambda v: [str(v["taxable"]).lower()],
            "updated_at": lambda v: [v["updatedAt"]],
            "created_at": lambda v: [v["createdAt"]],
            "inventory_quantity": lambda v: [_v_qty(st, v)],
            "location_id": lambda v: [int(k) for k in item(v).get("_levels", {})],
            "option1": lambda v: v["_options"][0:1],
            "option2": lambda v: v["_options"][1:2],
            "option3": lambda v: v["_options"][2:3],
        },
        default=lambda v: [st.variant_title(v), item(v).get("sku") or "", v["barcode"] or "",
                           prod(v).get("title", "")],
        multi={"product_status", "product_ids"},
        negated={"tag_not": "tag"},
        text={"title"},
    )


PRODUCT_SORT = {
    "ID": lambda p: (p["_n"],),
    "TITLE": lambda p: (p["title"], p["_n"]),
    "CREATED_AT": lambda p: (p["createdAt"], p["_n"]),
    "UPDATED_AT": lambda p: (p["updatedAt"], p["_n"]),
    "PRODUCT_TYPE": lambda p: (p["productType"], p["_n"]),
    "VENDOR": lambda p: (p["vendor"], p["_n"]),
    "PUBLISHED_AT": lambda p: (p["publishedAt"], p["_n"]),
    "RELEVANCE": lambda p: (p["_n"],),
}


@field("QueryRoot", "products")
def _q_products(_, info, sortKey="ID", query=None, savedSearchId=None, **args):
    st = store_of(info)
    recs = filtered(info, list(st.products.values()), product_search(st), query)
    key = PRODUCT_SORT.get(sortKey, PRODUCT_SORT["ID"])
    if sortKey == "INVENTORY_TOTAL":
        key = lambda p: (sum(st.total_available(i) for i in _tracked_items(st, p)), p["_n"])  # noqa: E731
    return connection("ProductConnection", recs, key, **args)


@field("QueryRoot", "productsCount")
def _q_products_count(_, info, query=None, limit=None, savedSearchId=None):
    st = store_of(info)
    n = len(filtered(info, list(st.products.values()), product_search(st), query))
    if limit is not None and n > limit:
        return {"__typename": "Count", "count": limit, "precision": "AT_LEAST"}
    return {"__typename": "Count", "count": n, "precision": "EXACT"}


@field("QueryRoot", "product")
def _q_product(_, info, id):
    return store_of(info).products.get(parse_gid(id, "Product"))


@field("QueryRoot", "productByHandle")
def _q_product_by_handle(_, info, handle):
    return next((p for p in store_of(info).products.values() if p["handle"] == handle), None)


def find_by_custom_id(st, cid):
    ns = cid.get("namespace") or "custom"
    for p in st.products.values():
        for m in p["_metafields"]:
            if m["namespace"] == ns and m["key"] == cid.get("key") and m["value"] == cid.get("value"):
                return p
    return None


@field("QueryRoot", "productByIdentifier")
def _q_product_by_identifier(_, info, identifier):
    st = store_of(info)
    if identifier.get("id"):
        return st.products.get(parse_gid(identifier["id"], "Product"))
    if identifier.get("handle"):
        return next((p for p in st.products.values() if p["handle"] == identifier["handle"]), None)
    if identifier.get("customId"):
        return find_by_custom_id(st, identifier["customId"])
    return None


@field("QueryRoot", "productVariants")
def _q_variants(_, info, sortKey="ID", query=None, savedSearchId=None, **args):
    st = store_of(info)
    recs = filtered(info, list(st.variants.values()), variant_search(st), query)
    return connection("ProductVariantConnection", recs, variant_key(st, sortKey), **args)


@field("QueryRoot", "productVariantsCount")
def _q_variants_count(_, info, query=None):
    st = store_of(info)
    n = len(filtered(info, list(st.variants.values()), variant_search(st), query))
    return {"__typename": "Count", "count": n, "precision": "EXACT"}


@field("QueryRoot", "productVariant")
def _q_variant(_, info, id):
    return store_of(info).variants.get(parse_gid(id, "ProductVariant"))


@field("QueryRoot", "productOperation")
def _q_product_operation(_, info, id):
    st = store_of(info)
    op = st.operations.get(parse_gid(id, "ProductSetOperation"))
    return operation_view(st, op, done=True) if op else None


def operation_view(st, op, done):
    return {"__typename": "ProductSetOperation", "id": op["id"],
            "status": "COMPLETE" if done else "CREATED",
            "product": st.products.get(op["_product"]) if done and op.get("_product") else None,
            "userErrors": op.get("userErrors", []) if done else []}


NODE_LOOKUP["Product"] = lambda st, n, raw: st.products.get(n)
NODE_LOOKUP["ProductVariant"] = lambda st, n, raw: st.variants.get(n)
NODE_LOOKUP["ProductSetOperation"] = lambda st, n, raw: (operation_view(st, st.operations[n], True)
                                                         if n in st.operations else None)


# =============================================================== write side


class Errors:
    """Collects userErrors of one payload type."""

    def __init__(self, typename):
        self.typename = typename
        self.list = []

    def add(self, path, message, code=None):
        self.list.append(user_error(path, message, code, self.typename))

    def __bool__(self):
        return bool(self.list)


def normalize_tags(tags):
    seen, out = set(), []
    for t in tags or []:
        for part in str(t).split(","):
            s = part.strip()
            if s and s.lower() not in seen:
                seen.add(s.lower())
                out.append(s)
    return sorted(out, key=lambda s: (s.lower(), s))


def check_lengths(errs, data, prefix, title_required):
    title = data.get("title")
    if title_required and not (title or "").strip():
        errs.add(prefix + ["title"], "Title can't be blank")
    if title is not None and len(title) > MAX_LEN:
        errs.add(prefix + ["title"], "is too long (maximum is 255 characters)")
    for key, label in (("vendor", "Vendor"), ("productType", "Product type")):
        v = data.get(key)
        if v is not None and len(v) > MAX_LEN:
            errs.add(prefix or ["input"], "%s is too long (maximum is 255 characters)" % label)
            if key == "productType":
                errs.add(prefix or ["input"], "Custom product type is too long (maximum is 255 characters)")


def resolve_handle(st, errs, data, product, prefix, handle_code=None):
    """The handle to store, or None on error. `product` is None on create."""
    raw = data.get("handle")
    except_n = product["_n"] if product else None
    if raw is not None and handleize(raw):
        h = handleize(raw)
        if len(h) > MAX_LEN:
            errs.add(prefix or ["input"], "Handle is too long (maximum is 255 characters)")
            return None
        if st.handle_taken(h, except_n):
            errs.add(["input", "handle"], "Handle '%s' already in use. Please provide a new handle." % raw,
                     handle_code)
            return None
        return h
    if product is not None:
        return product["handle"]
    base = handleize(data.get("title") or "")
    if len(base) > MAX_LEN:
        errs.add(prefix or ["input"], "Handle is too long (maximum is 255 characters)")
        return None
    return st.unique_handle(base or "product", except_n)


def apply_product_fields(st, p, data):
    for key in ("title", "descriptionHtml", "vendor", "productType", "templateSuffix",
                "giftCardTemplateSuffix", "requiresSellingPlan"):
        if key in data and data[key] is not None:
            p[key] = data[key]
    if "tags" in data:
        p["tags"] = normalize_tags(data["tags"])
    if data.get("status"):
        if data["status"] == "ACTIVE" and p["status"] != "ACTIVE":
            p["publishedAt"] = p.get("publishedAt") or st.now()
        p["status"] = data["status"]
    if data.get("giftCard") is not None:
        p["isGiftCard"] = bool(data["giftCard"])
    if data.get("seo") is not None:
        p["seo"] = {"__typename": "SEO", "title": data["seo"].get("title"),
                    "description": data["seo"].get("description")}
    if data.get("metafields") is not None:
        p["_metafields"] = [metafield_record(st, m, p) for m in data["metafields"]]


def metafield_record(st, m, owner):
    n = st.next_id("Metafield")
    return {"__typename": "Metafield", "id": gid("Metafield", n), "_n": n,
            "namespace": m.get("namespace") or "custom", "key": m.get("key"), "value": m.get("value"),
            "type": m.get("type") or "single_line_text_field", "ownerType": "PRODUCT",
            "createdAt": st.now(), "updatedAt": st.now()}


def default_options(st, p):
    p["_options"] = [st.new_option(DEFAULT_OPTION, 1, [DEFAULT_VALUE])]


def price_errors(errs, data, prefix, price_code, compare_code="INVALID_INPUT"):
    if data.get("compareAtPrice") is not None:
        d = to_decimal(data["compareAtPrice"])
        if d is not None and d >= MAX_PRICE:
            errs.add(prefix + ["compareAtPrice"], "must be less than 1000000000000000000", compare_code)
    if data.get("price") is not None:
        d = to_decimal(data["price"])
        if d is not None and d < 0:
            errs.add(prefix + ["price"], "Price must be greater than or equal to 0", price_code)
        elif d is not None and d >= MAX_PRICE:
            errs.add(prefix + ["price"], "must be less than 1000000000000000000", compare_code)


def apply_variant_fields(st, v, data):
    for key in ("barcode", "taxable", "taxCode", "inventoryPolicy", "requiresComponents"):
        if key in data and (data[key] is not None or key in ("barcode", "taxCode")):
            v[key] = data[key]
    if data.get("price") is not None:
        v["price"] = money(data["price"])
    if "compareAtPrice" in data:
        v["compareAtPrice"] = money(data["compareAtPrice"]) if data["compareAtPrice"] is not None else None
    item = st.items[v["_item"]]
    if "sku" in data:
        item["sku"] = data["sku"]
    if data.get("inventoryItem") is not None:
        apply_item_fields(st, item, data["inventoryItem"])
    st.touch(v)


def apply_item_fields(st, item, data):
    if "sku" in data:
        item["sku"] = data["sku"]
    if "cost" in data:
        item["_cost"] = ruby_decimal(data["cost"]) if data["cost"] is not None else None
    if data.get("tracked") is not None:
        item["tracked"] = bool(data["tracked"])
    if data.get("requiresShipping") is not None:
        item["requiresShipping"] = bool(data["requiresShipping"])
    for key in ("countryCodeOfOrigin", "provinceCodeOfOrigin", "harmonizedSystemCode"):
        if key in data:
            item[key] = data[key]
    w = (data.get("measurement") or {}).get("weight")
    if w:
        item["_weight"] = {"value": float(w["value"]), "unit": w["unit"]}
    st.touch(item)


def resolve_option_values(errs, options, values, prefix, codes, allow_new=False):
    """Map [{optionName|optionId, name|id}] to a list of value names in the
    product's option order. `options`: [{"id", "name", "_values"}]. Returns
    None on error. With allow_new, unknown values of known options are kept
    (the caller creates them)."""
    chosen = {}
    ok = True
    for j, ov in enumerate(values or []):
        opt_idx = None
        for idx, o in enumerate(options):
            if (ov.get("optionId") and ov["optionId"] == o.get("id")) or (
                    ov.get("optionName") is not None and ov["optionName"].lower() == o["name"].lower()):
                opt_idx = idx
                break
        if opt_idx is None:
            errs.add(prefix + ["optionValues", j], "Option does not exist", codes["option"])
            ok = False
            continue
        if opt_idx in chosen:
            errs.add(prefix + ["optionValues", j], "Duplicated option value.", codes.get("invalid"))
            ok = False
            continue
        o = options[opt_idx]
        val = None
        for x in o["_values"]:
            if (ov.get("id") and ov["id"] == x.get("id")) or (ov.get("name") is not None and
                                                              ov["name"] == x["name"]):
                val = x["name"]
                break
        if val is None:
            if allow_new and ov.get("name"):
                val = ov["name"]
            else:
                errs.add(prefix + ["optionValues", j], "Option value does not exist", codes["value"])
                ok = False
                continue
        chosen[opt_idx] = val
    if not ok:
        return None
    missing = [o["name"] for idx, o in enumerate(options) if idx not in chosen]
    if missing:
        errs.add(prefix + ["optionValues"], "You need to add option values for %s" % ", ".join(missing),
                 codes["missing"])
        return None
    return [chosen[i] for i in range(len(options))]


def stock_new_item(st, info, item, quantities, name_key="name", qty_key="quantity"):
    """Stock a new variant's item: the primary location (or every active one,
    --stock-new-items all) plus the locations in `quantities`."""
    mode = info.context.get("stock_new_items", "primary")
    locs = ([l for l in st.locations.values() if l["isActive"]] if mode == "all"
            else [st.primary_location()] if st.primary_location() else [])
    for loc in locs:
        st.stock(item, loc["_n"])
    for q in quantities or []:
        ln = parse_gid(q["locationId"], "Location")
        lv = st.stock(item, ln)
        set_named_quantity(st, lv, q.get(name_key, "available"), q[qty_key])


def set_named_quantity(st, lv, name, value):
    if name == "on_hand":
        others = sum(lv.get(k, 0) for k in ("committed", "reserved", "damaged", "safety_stock",
                                              "quality_control"))
        lv["available"] = value - others
    else:
        lv[name] = value
    lv["updatedAt"] = st.now()
    lv["_qupd"][name] = st.now()


# ------------------------------------------------------------------ productSet

SET_CODES = {"option": "OPTION_DOES_NOT_EXIST", "value": "OPTION_VALUE_DOES_NOT_EXIST",
             "missing": "INVALID_VARIANT", "invalid": "INVALID_VARIANT"}


def _check_options(errs, opts):
    if len(opts) > MAX_OPTIONS:
        errs.add(["input", "productOptions"], "Options are limited to 3 per product", "INVALID_INPUT")
    seen = set()
    for i, o in enumerate(opts):
        name = (o.get("name") or "").strip()
        if not name:
            errs.add(["input", "productOptions", i, "name"], "Option name can't be blank", "INVALID_INPUT")
        elif name.lower() in seen:
            errs.add(["input", "productOptions", i, "name"], "Duplicated option name.",
                     "DUPLICATED_OPTION_NAME")
        seen.add(name.lower())
        values = o.get("values") or []
        if not values:
            errs.add(["input", "productOptions", i, "values"],
                     "Each option must have at least one option value specified.", "OPTION_VALUES_MISSING")
        vseen = set()
        for j, v in enumerate(values):
            vn = (v.get("name") or "").strip()
            if not vn:
                errs.add(["input", "productOptions", i, "values", j, "name"], "Option value name can't be blank",
                         "INVALID_INPUT")
            elif vn in vseen:
                errs.add(["input", "productOptions", i, "values", j, "name"], "Duplicated option value.",
                         "DUPLICATED_OPTION_VALUE")
            vseen.add(vn)


def _planned_options(st, p, opts):
    """New option list from input, keeping ids of options/values that match."""
    ordered = sorted(enumerate(opts), key=lambda t: (t[1].get("position") or t[0] + 1, t[0]))
    old = p["_options"] if p else []
    out = []
    for pos, (_, o) in enumerate(ordered, 1):
        prev = next((x for x in old if (o.get("id") and x["id"] == o["id"]) or
                     x["name"].lower() == (o.get("name") or "").strip().lower()), None)
        values = []
        for v in o.get("values") or []:
            pv = next((x for x in (prev["_values"] if prev else []) if
                       (v.get("id") and x["id"] == v["id"]) or x["name"] == (v.get("name") or "").strip()), None)
            values.append(pv if pv else st.new_option_value((v.get("name") or "").strip()))
        out.append({"__typename": "ProductOption", "id": prev["id"] if prev else
                    gid("ProductOption", st.next_id("ProductOption")),
                    "name": (o.get("name") or "").strip(), "position": pos, "_values": values})
    return out


@mutation("productSet")
def product_set(_, info, input, synchronous=True, identifier=None):
    st = store_of(info)
    errs = Errors("ProductSetUserError")
    product = None
    upsert_handle = None
    custom_id = None
    if identifier is not None and any(identifier.get(k) for k in ("id", "handle", "customId")):
        if input.get("id"):
            errs.add(["input"], "The id field is not allowed if identifier is provided.", "ID_NOT_ALLOWED")
            return {"product": None, "productSetOperation": None, "userErrors": errs.list, "_applied": False}
        if identifier.get("id"):
            product = st.products.get(parse_gid(identifier["id"], "Product"))
            if product is None:
                errs.add(["identifier", "id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        elif identifier.get("handle"):
            upsert_handle = identifier["handle"]
            product = next((p for p in st.products.values() if p["handle"] == upsert_handle), None)
        else:
            custom_id = identifier["customId"]
            product = find_by_custom_id(st, custom_id)
    elif input.get("id"):
        product = st.products.get(parse_gid(input["id"], "Product"))
        if product is None:
            errs.add(["input", "id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
    if errs:
        return {"product": None, "productSetOperation": None, "userErrors": errs.list, "_applied": False}

    creating = product is None
    data = dict(input)
    if creating and upsert_handle and not data.get("handle"):
        data["handle"] = upsert_handle
    check_lengths(errs, data, [], title_required=creating)
    # title errors carry ["input", "title"] (recorded); the others ["input"]
    for e in errs.list:
        if e["field"] == ["title"]:
            e["field"] = ["input", "title"]
        elif not e["field"]:
            e["field"] = ["input"]
    handle = resolve_handle(st, errs, data, product, ["input"], "HANDLE_NOT_UNIQUE")

    opts_given = "productOptions" in data and data["productOptions"] is not None
    vars_given = "variants" in data and data["variants"] is not None
    if opts_given:
        _check_options(errs, data["productOptions"])
        if not vars_given or (not data["variants"] and data["productOptions"]):
            errs.add(["input", "variants"], "Variants input is required when updating product options",
                     "VARIANTS_INPUT_MISSING")
    elif vars_given and data["variants"]:
        errs.add(["input", "productOptions"], "Must specify product options when updating variants.",
                 "PRODUCT_OPTIONS_INPUT_MISSING")
    if errs:
        return _set_failed(product, errs)

    # plan options and variants before touching anything
    options = _planned_options(st, product, data["productOptions"]) if opts_given else None
    plan = []
    if vars_given and data["variants"]:
        combos = {}
        existing = {v["_n"]: v for v in st.product_variants(product)} if product else {}
        used_ids = set()
        for i, vin in enumerate(data["variants"]):
            prefix = ["input", "variants", i]
            target = None
            if vin.get("id"):
                vn = parse_gid(vin["id"], "ProductVariant")
                target = existing.get(vn)
                if target is None or vn in used_ids:
                    errs.add(prefix + ["id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST")
                    continue
                used_ids.add(vn)
            price_errors(errs, vin, prefix, "INVALID_VARIANT", "INVALID_VARIANT")
            values = resolve_option_values(errs, options, vin.get("optionValues"), prefix, SET_CODES)
            for j, q in enumerate(vin.get("inventoryQuantities") or []):
                qp = prefix + ["inventoryQuantities", j]
                if q["name"] not in ("available", "on_hand"):
                    errs.add(qp + ["name"], "Inventory quantity name must be either 'available' or 'on_hand'",
                             "INVALID_INPUT")
                ln = parse_gid(q["locationId"], "Location")
                if ln not in st.locations:
                    errs.add(qp + ["locationId"], "Location does not exist", "INVALID_INPUT")
                elif target is not None and str(ln) not in st.items[target["_item"]]["_levels"]:
                    errs.add(qp + ["locationId"], "The variant is not stocked at this location. Quantities of "
                             "existing variants can only be set at locations where they are stocked.",
                             "INVALID_INPUT")
            if values is None:
                continue
            key = tuple(values)
            if key in combos:
                errs.add(prefix, "The variant '%s' already exists. Please change at least one option value."
                         % " / ".join(values), "INVALID_VARIANT")
                continue
            combos[key] = i
            plan.append((i, vin, target, values))
    if errs:
        return _set_failed(product, errs)

    # ---- apply
    if creating:
        product = st.new_product(data.get("title") or "", handle)
        product["status"] = data.get("status") or "ACTIVE"
        if product["status"] == "ACTIVE":
            product["publishedAt"] = st.now()
    else:
        product["handle"] = handle
    apply_product_fields(st, product, data)
    if custom_id and not find_by_custom_id(st, custom_id):
        product["_metafields"].append(metafield_record(st, custom_id, product))
    if options is not None:
        product["_options"] = options
    if vars_given and data["variants"]:
        keep = []
        for i, vin, target, values in sorted(plan, key=lambda t: (t[1].get("position") or t[0] + 1, t[0])):
            if target is None:
                target = st.new_variant(product, values)
                product["_variants"].remove(target["_n"])
                item = st.items[target["_item"]]
                stock_new_item(st, info, item, vin.get("inventoryQuantities"))
                if vin.get("inventoryQuantities") and (vin.get("inventoryItem") or {}).get("tracked") is None:
                    item["tracked"] = True
            else:
                target["_options"] = values
                item = st.items[target["_item"]]
                for q in vin.get("inventoryQuantities") or []:
                    set_named_quantity(st, st.stock(item, parse_gid(q["locationId"], "Location")),
                                       q["name"], q["quantity"])
            apply_variant_fields(st, target, vin)
            keep.append(target["_n"])
        for vn in list(product["_variants"]):
            if vn not in keep:
                st.delete_variant(vn)  # the productSet trap: omitted variants go away
        product["_variants"] = keep
    elif creating:
        default_options(st, product)
        v = st.new_variant(product, [DEFAULT_VALUE])
        stock_new_item(st, info, st.items[v["_item"]], None)
    st.touch(product)

    if synchronous is False:
        n = st.next_id("ProductSetOperation")
        op = {"id": gid("ProductSetOperation", n), "_n": n, "_product": product["_n"], "userErrors": []}
        st.operations[n] = op
        return {"product": None, "productSetOperation": operation_view(st, op, done=False), "userErrors": []}
    return {"product": product, "productSetOperation": None, "userErrors": []}


def _set_failed(product, errs):
    # Recorded: an update that fails validation still returns the (unchanged) product.
    return {"product": product, "productSetOperation": None, "userErrors": errs.list, "_applied": False}


# --------------------------------------------------------------- productCreate


@mutation("productCreate")
def product_create(_, info, product=None, media=None):
    st = store_of(info)
    data = dict(product or {})
    errs = Errors("UserError")
    check_lengths(errs, data, [], title_required=True)
    handle = resolve_handle(st, errs, data, None, [])
    opts = data.get("productOptions") or []
    if opts:
        sub = Errors("UserError")
        _check_options(sub, opts)
        for e in sub.list:
            e["field"] = ["productOptions"] + e["field"][2:]
            e.pop("code", None)
            errs.list.append(e)
    if errs:
        return {"product": None, "shop": st.shop, "userErrors": errs.list, "_applied": False}
    p = st.new_product(data.get("title"), handle)
    p["status"] = data.get("status") or "ACTIVE"
    if p["status"] == "ACTIVE":
        p["publishedAt"] = st.now()
    apply_product_fields(st, p, data)
    if opts:
        p["_options"] = _planned_options(st, None, opts)
        first = [o["_values"][0]["name"] for o in p["_options"]]
    else:
        default_options(st, p)
        first = [DEFAULT_VALUE]
    v = st.new_variant(p, first)
    stock_new_item(st, info, st.items[v["_item"]], None)
    return {"product": p, "shop": st.shop, "userErrors": []}


@mutation("productUpdate")
def product_update(_, info, product=None, media=None, **_rest):
    st = store_of(info)
    data = dict(product or {})
    errs = Errors("UserError")
    p = st.products.get(parse_gid(data.get("id"), "Product")) if data.get("id") else None
    if p is None:
        errs.add(["id"], "Product does not exist")
        return {"product": None, "userErrors": errs.list, "_applied": False}
    check_lengths(errs, data, [], title_required=False)
    handle = resolve_handle(st, errs, data, p, [])
    if errs:
        return {"product": p, "userErrors": errs.list, "_applied": False}
    p["handle"] = handle
    apply_product_fields(st, p, data)
    st.touch(p)
    return {"product": p, "userErrors": []}


@mutation("productDelete")
def product_delete(_, info, input, synchronous=True):
    st = store_of(info)
    n = parse_gid(input["id"], "Product")
    if n not in st.products:
        return {"deletedProductId": None, "productDeleteOperation": None, "shop": st.shop,
                "userErrors": [user_error(["id"], "Product does not exist")], "_applied": False}
    st.delete_product(n)
    return {"deletedProductId": input["id"], "productDeleteOperation": None, "shop": st.shop, "userErrors": []}


# ------------------------------------------------------- bulk variant mutations

CREATE_CODES = {"option": "INVALID_INPUT", "value": "INVALID_INPUT", "missing": "NEED_TO_ADD_OPTION_VALUES",
                "invalid": "INVALID_INPUT"}
UPDATE_CODES = {"option": "OPTION_DOES_NOT_EXIST", "value": "OPTION_VALUE_DOES_NOT_EXIST",
                "missing": "NEED_TO_ADD_OPTION_VALUES", "invalid": "INVALID_INPUT"}


@mutation("productVariantsBulkCreate")
def variants_bulk_create(_, info, productId, variants, media=None, strategy="DEFAULT"):
    st = store_of(info)
    errs = Errors("ProductVariantsBulkCreateUserError")
    p = st.products.get(parse_gid(productId, "Product"))
    if p is None:
        errs.add(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return {"product": None, "productVariants": None, "userErrors": errs.list, "_applied": False}
    remove_standalone = strategy == "REMOVE_STANDALONE_VARIANT" and has_only_default_variant(st, p)
    if remove_standalone:
        # the new variants define the options, in the order they first appear
        names = []
        for vin in variants:
            for ov in vin.get("optionValues") or []:
                if ov.get("optionName") and ov["optionName"] not in names:
                    names.append(ov["optionName"])
        options = [{"id": gid("ProductOption", st.next_id("ProductOption")), "name": nm, "position": i + 1,
                    "_values": [], "__typename": "ProductOption"} for i, nm in enumerate(names)]
        existing_combos = set()
    else:
        options = [dict(o, _values=list(o["_values"])) for o in p["_options"]]
        existing_combos = {tuple(v["_options"]) for v in st.product_variants(p)}
    plan = []
    for i, vin in enumerate(variants):
        prefix = ["variants", i]
        if vin.get("id"):
            errs.add(prefix + ["id"], "On create, this key cannot be used.", "NO_KEY_ON_CREATE")
            continue
        price_errors(errs, vin, prefix, "GREATER_THAN_OR_EQUAL_TO")
        for j, q in enumerate(vin.get("inventoryQuantities") or []):
            if parse_gid(q["locationId"], "Location") not in st.locations:
                errs.add(prefix + ["inventoryQuantities", j, "locationId"],
                         "Quantity could not be set. The location was not found.",
                         "TRACKED_VARIANT_LOCATION_NOT_FOUND")
        values = resolve_option_values(errs, options, vin.get("optionValues"), prefix, CREATE_CODES,
                                       allow_new=True)
        if values is None:
            continue
        if tuple(values) in existing_combos:
            errs.add(prefix, "The variant '%s' already exists. Please change at least one option value."
                     % " / ".join(values), "VARIANT_ALREADY_EXISTS")
            continue
        existing_combos.add(tuple(values))
        plan.append((vin, values))
    if errs:
        return {"product": None, "productVariants": None, "userErrors": errs.list, "_applied": False}
    if remove_standalone:
        for vn in list(p["_variants"]):
            st.delete_variant(vn)
        p["_options"] = options
    created = []
    for vin, values in plan:
        for idx, val in enumerate(values):  # new option values are created on the fly
            o = p["_options"][idx]
            if not any(x["name"] == val for x in o["_values"]):
                o["_values"].append(st.new_option_value(val))
        v = st.new_variant(p, values)
        item = st.items[v["_item"]]
        stock_new_item(st, info, item, vin.get("inventoryQuantities"), name_key="_unused",
                       qty_key="availableQuantity")
        apply_variant_fields(st, v, vin)
        created.append(v)
    st.touch(p)
    return {"product": p, "productVariants": created, "userErrors": []}


@mutation("productVariantsBulkUpdate")
def variants_bulk_update(_, info, productId, variants, media=None, allowPartialUpdates=False):
    st = store_of(info)
    errs = Errors("ProductVariantsBulkUpdateUserError")
    p = st.products.get(parse_gid(productId, "Product"))
    if p is None:
        errs.add(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return {"product": None, "productVariants": None, "userErrors": errs.list, "_applied": False}
    combos = {v["_n"]: tuple(v["_options"]) for v in st.product_variants(p)}
    results = []  # (variant or None, input, values or None, ok)
    for i, vin in enumerate(variants):
        prefix = ["variants", i]
        before = len(errs.list)
        if not vin.get("id"):
            errs.add(prefix + ["id"], "Product variant is missing ID attribute", "PRODUCT_VARIANT_ID_MISSING")
            results.append((None, vin, None, False))
            continue
        vn = parse_gid(vin["id"], "ProductVariant")
        v = st.variants.get(vn)
        if v is None:
            errs.add(prefix + ["id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST")
            results.append((None, vin, None, False))
            continue
        if v["_product"] != p["_n"]:
            errs.add(prefix + ["id"], "Input must be for this product.", "MUST_BE_FOR_THIS_PRODUCT")
            results.append((None, vin, None, False))
            continue
        price_errors(errs, vin, prefix, "GREATER_THAN_OR_EQUAL_TO")
        if "inventoryQuantities" in vin and vin["inventoryQuantities"] is not None:
            errs.add(prefix + ["inventoryQuantities"], "Inventory quantities can only be provided during "
                     "create. To update inventory for existing variants, use inventoryAdjustQuantities.",
                     "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE")
        values = None
        if vin.get("optionValues"):
            current = dict(zip([o["name"] for o in p["_options"]], v["_options"]))
            merged = [{"optionName": k, "name": val} for k, val in current.items()]
            for ov in vin["optionValues"]:
                for m in merged:
                    if (ov.get("optionName") or "").lower() == m["optionName"].lower():
                        m.update(ov)
                        break
                else:
                    merged.append(ov)
            values = resolve_option_values(errs, p["_options"], merged, prefix, UPDATE_CODES)
            if values is not None:
                others = {c for n2, c in combos.items() if n2 != vn}
                if tuple(values) in others:
                    errs.add(prefix, "The variant '%s' already exists." % " / ".join(values),
                             "VARIANT_ALREADY_EXISTS")
                    values = None
                else:
                    combos[vn] = tuple(values)
        results.append((v, vin, values, len(errs.list) == before))
    if errs and not allowPartialUpdates:
        return {"product": None, "productVariants": None, "userErrors": errs.list, "_applied": False}
    applied = False
    for v, vin, values, ok in results:
        if v is None or not ok:
            continue
        if values is not None:
            v["_options"] = values
        apply_variant_fields(st, v, vin)
        applied = True
    if applied:
        st.touch(p)
    out = [v for v, _, _, _ in results if v is not None]
    return {"product": p, "productVariants": out, "userErrors": errs.list, "_applied": applied}


@mutation("productVariantsBulkDelete")
def variants_bulk_delete(_, info, productId, variantsIds):
    st = store_of(info)
    errs = Errors("ProductVariantsBulkDeleteUserError")
    p = st.products.get(parse_gid(productId, "Product"))
    if p is None:
        errs.add(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return {"product": None, "userErrors": errs.list, "_applied": False}
    ns = [parse_gid(x, "ProductVariant") for x in variantsIds]
    if any(n not in p["_variants"] for n in ns):
        errs.add(["variantsIds"], "At least one variant does not belong to the product",
                 "AT_LEAST_ONE_VARIANT_DOES_NOT_BELONG_TO_THE_PRODUCT")
        return {"product": None, "userErrors": errs.list, "_applied": False}
    for n in ns:
        st.delete_variant(n)
    if not p["_variants"]:  # Shopify keeps a product with one default variant
        default_options(st, p)
        v = st.new_variant(p, [DEFAULT_VALUE])
        stock_new_item(st, info, st.items[v["_item"]], None)
    st.touch(p)
    return {"product": p, "userErrors": []}
