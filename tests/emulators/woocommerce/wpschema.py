"""WordPress REST argument validation, as WooCommerce's routes get it.

WooCommerce publishes no OpenAPI file (platforms-woocommerce-magento.md "What
could not be verified"). The machine-readable contract it does publish is the
route index of `GET /wp-json/wc/v3`, copied in
shared/reference/platforms/woocommerce/index__wc_v3_routes__response.json:
every route lists, per method, its `args` with `type`, `enum`, `required`,
`items` and `properties`. Those args ARE the request schema WordPress checks a
request against (WP_REST_Request::has_valid_params ->
rest_validate_value_from_schema), so this module validates exactly them, with
WordPress's rules, messages and error shape:

- only declared args are checked; unknown keys pass (and a handler may still
  read them); a `null` value is not checked (has_valid_params skips nulls);
- PHP type rules: "integer" accepts 7, 7.0 and "7" (rest_is_integer),
  "boolean" accepts true/false, "true"/"false", "1"/"0", 1/0
  (rest_is_boolean), "string" accepts only strings - so `"regular_price":
  21.99` fails (platforms-woocommerce-magento.md §A3: "sending
  "regular_price": 21.99 (a number) fails with 400 rest_invalid_param"),
  "array" accepts a list or a comma/space separated scalar (rest_is_array ->
  wp_parse_list), "object" accepts a JSON object or list (both are PHP arrays);
- answers 400 {"code":"rest_invalid_param","message":"Invalid parameter(s):
  a, b","data":{"status":400,"params":{a: msg},"details":{a: {code, message,
  data:{param}}}}} or 400 rest_missing_callback_param (§A8);
- valid values are then sanitized like WordPress (integers become ints,
  booleans bools, scalar lists lists).

The index is from an older WooCommerce (SOURCES.md); OVERLAYS adds what the
reference documents from current source (per_page 1..100, §A4; date-time ->
null|string and 'mixed' as WooCommerce's WP 5.5 compatibility shim does,
class-wc-rest-controller.php adjust_wp_5_5_datatype_compatibility).
"""

import copy
import json
import os
import re

import common  # noqa: E402  (tests/emulators is on the path)

HERE = os.path.dirname(os.path.abspath(__file__))


def _find_reference_dir():
    env = os.environ.get("POSBRIDGE_WOOCOMMERCE_REFERENCE_DIR")
    if env:
        return env
    return common.reference_path("platforms", "woocommerce")


REFERENCE_DIR = _find_reference_dir()
INDEX_FILE = os.path.join(REFERENCE_DIR, "index__wc_v3_routes__response.json")

MIXED = ["null", "object", "string", "number", "boolean", "integer", "array"]
EDITABLE = ("POST", "PUT", "PATCH")

# Current-source additions to the documented (older) route index.
COLLECTION_OVERLAY = {
    # "per_page (default 10, minimum 1, maximum 100; >100 -> 400 rest_invalid_param)" (§A4)
    "per_page": {"minimum": 1, "maximum": 100},
    "page": {"minimum": 1},
}
EXTRA_ARGS = {
    # stock_status replaced in_stock in WooCommerce 3.x (§A3 field list)
    "stock_status": {"required": False, "type": "string", "enum": ["instock", "outofstock", "onbackorder"]},
    "low_stock_amount": {"required": False, "type": ["integer", "null"]},
    "global_unique_id": {"required": False, "type": "string"},
}
EXTRA_LIST_ARGS = {
    # §A3: "sku=A,B,C"; §A5 modified_after/modified_before (newer WC)
    "modified_after": {"required": False, "type": "string"},
    "modified_before": {"required": False, "type": "string"},
    "search_sku": {"required": False, "type": "string"},
}


class Invalid(Exception):
    def __init__(self, code, message, param):
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param


_NUMERIC = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")


def is_numeric(v):
    """PHP is_numeric."""
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return True
    return isinstance(v, str) and bool(_NUMERIC.match(v))


def rest_is_integer(v):
    return is_numeric(v) and float(v) == round(float(v))


def rest_is_boolean(v):
    if isinstance(v, bool):
        return True
    if isinstance(v, str):
        return v.lower() in ("false", "true", "0", "1")
    if isinstance(v, int):
        return v in (0, 1)
    return False


def wp_parse_list(v):
    if isinstance(v, list):
        return v
    return [x for x in re.split(r"[\s,]+", str(v)) if x != ""]


def rest_is_array(v):
    if isinstance(v, (str, int, float, bool)):
        return True  # wp_parse_list gives a numeric array
    return isinstance(v, list)


def rest_is_object(v):
    return v == "" or isinstance(v, (dict, list))


def _matches(t, v):
    if t == "null":
        return v is None
    if t == "boolean":
        return rest_is_boolean(v)
    if t == "integer":
        return rest_is_integer(v)
    if t == "number":
        return is_numeric(v)
    if t == "string":
        return isinstance(v, str)
    if t == "array":
        return rest_is_array(v)
    if t == "object":
        return rest_is_object(v)
    return True  # an unknown type (e.g. the index's "date-time") is not checked by WordPress ≥ 5.5


def _list_text(items):
    """wp_sprintf %l: "a, b, and c"."""
    items = [str(x) for x in items]
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return "%s and %s" % tuple(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def validate_value(value, schema, param):
    """rest_validate_value_from_schema; raises Invalid."""
    types = schema.get("type")
    if types is None:
        return
    tlist = types if isinstance(types, list) else [types]
    known = [t for t in tlist if t in ("null", "boolean", "integer", "number", "string", "array", "object")]
    if not known:
        return
    best = next((t for t in known if _matches(t, value)), None)
    if best is None:
        raise Invalid("rest_invalid_type", "%s is not of type %s." % (param, ",".join(known)), param)
    if best == "array":
        items = schema.get("items")
        if isinstance(items, dict):
            for i, x in enumerate(wp_parse_list(value)):
                validate_value(x, items, "%s[%d]" % (param, i))
    elif best == "object" and isinstance(value, dict):
        props = schema.get("properties") or {}
        for k, x in value.items():
            if k in props:
                validate_value(x, props[k], "%s[%s]" % (param, k))
            elif schema.get("additionalProperties") is False:
                raise Invalid("rest_additional_properties_forbidden",
                              "%s is not a valid property of Object." % k, param)
    if "enum" in schema and best not in ("array", "object"):
        v = value
        if best == "integer":
            v = int(float(value))
        elif best == "boolean":
            v = sanitize_bool(value)
        if v not in schema["enum"]:
            raise Invalid("rest_not_in_enum", "%s is not one of %s." % (param, _list_text(schema["enum"])), param)
    if best in ("integer", "number"):
        n = float(value)
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo is not None and hi is not None and not (lo <= n <= hi):
            raise Invalid("rest_out_of_bounds", "%s must be between %d (inclusive) and %d (inclusive)"
                          % (param, lo, hi), param)
        if lo is not None and hi is None and n < lo:
            raise Invalid("rest_out_of_bounds", "%s must be greater than or equal to %d" % (param, lo), param)
        if hi is not None and lo is None and n > hi:
            raise Invalid("rest_out_of_bounds", "%s must be less than or equal to %d" % (param, hi), param)


def sanitize_bool(v):
    """rest_sanitize_boolean."""
    if isinstance(v, str):
        return v.lower() not in ("false", "0", "")
    return bool(v)


def sanitize_value(value, schema):
    """rest_sanitize_value_from_schema (the parts that change values)."""
    types = schema.get("type")
    tlist = types if isinstance(types, list) else [types]
    best = next((t for t in tlist if _matches(t, value)), None) if types else None
    if value is None:
        return None
    if best == "integer":
        return int(float(value))
    if best == "number":
        return float(value)
    if best == "boolean":
        return sanitize_bool(value)
    if best == "string":
        return value
    if best == "array":
        items = schema.get("items")
        lst = wp_parse_list(value)
        return [sanitize_value(x, items) for x in lst] if isinstance(items, dict) else lst
    if best == "object" and isinstance(value, dict):
        props = schema.get("properties") or {}
        return {k: (sanitize_value(x, props[k]) if k in props else x) for k, x in value.items()}
    return value


def _adjust_types(args):
    """WooCommerce's WP 5.5 compatibility: date-time -> [null, string],
    mixed -> every type (top level and items.properties)."""
    out = {}
    for k, a in args.items():
        a = dict(a)
        if a.get("type") == "date-time":
            a["type"] = ["null", "string"]
        if a.get("type") == "mixed":
            a["type"] = list(MIXED)
        if isinstance(a.get("items"), dict) and isinstance(a["items"].get("properties"), dict):
            items = dict(a["items"])
            items["properties"] = _adjust_types(items["properties"])
            a["items"] = items
        if isinstance(a.get("properties"), dict):
            a["properties"] = _adjust_types(a["properties"])
        out[k] = a
    return out


class RouteArgs:
    """Args per (index route, method), from the documented route index."""

    def __init__(self, path=INDEX_FILE):
        with open(path, encoding="utf-8") as f:
            self.index = json.load(f)
        self.routes = self.index["routes"]
        self._cache = {}

    def args(self, route, method):
        key = (route, method)
        if key in self._cache:
            return self._cache[key]
        spec = self.routes.get(route)
        args = {}
        if spec:
            for ep in spec.get("endpoints", []):
                if method in ep.get("methods", []):
                    args = copy.deepcopy(ep.get("args") or {})
                    break
        if method in EDITABLE:
            # meta_data[].value is 'mixed' in current source (the old index says string)
            md = args.get("meta_data", {}).get("items", {}).get("properties", {})
            if "value" in md:
                md["value"]["type"] = "mixed"
            for k, a in EXTRA_ARGS.items():
                if "regular_price" in args and k not in args:
                    args[k] = copy.deepcopy(a)
            args = _adjust_types(args)
        if method == "GET" and "per_page" in args:
            for k, over in COLLECTION_OVERLAY.items():
                if k in args:
                    args[k].update(over)
            if "sku" in args:
                for k, a in EXTRA_LIST_ARGS.items():
                    args.setdefault(k, copy.deepcopy(a))
        self._cache[key] = args
        return args


def check(args, params):
    """has_valid_params + sanitize_params. -> (sanitized params, None) or
    (None, WP error dict)."""
    missing = [k for k, a in args.items() if a.get("required") is True and params.get(k) is None]
    if missing:
        return None, {"code": "rest_missing_callback_param",
                      "message": "Missing parameter(s): %s" % ", ".join(missing),
                      "data": {"status": 400, "params": missing}}
    invalid, details = {}, {}
    for k, a in args.items():
        if k not in params or params[k] is None:
            continue
        try:
            validate_value(params[k], a, k)
        except Invalid as e:
            invalid[k] = e.message
            details[k] = {"code": e.code, "message": e.message, "data": {"param": e.param}}
    if invalid:
        return None, {"code": "rest_invalid_param",
                      "message": "Invalid parameter(s): %s" % ", ".join(invalid),
                      "data": {"status": 400, "params": invalid, "details": details}}
    out = dict(params)
    for k, a in args.items():
        if k in out and out[k] is not None:
            out[k] = sanitize_value(out[k], a)
    return out, None


def defaults(args):
    return {k: copy.deepcopy(a["default"]) for k, a in args.items() if "default" in a}
