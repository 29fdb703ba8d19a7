"""Request-body validation against Adobe's admin OpenAPI schema, with Magento's own rules and messages.

The schema is shared/reference/platforms/magento/admin-schema-2.4.8.json (Swagger 2.0; its body
schemas are JSON Schema draft 4 with $refs into #/definitions). Each endpoint's body parameter
schema is validated with jsonschema, extended so that it accepts and rejects what Magento's web API
really does (magento/magento2 lib/internal/Magento/Framework/Webapi/ServiceInputProcessor.php and
Framework/Reflection/TypeProcessor.php):

* types are converted, not compared: an int/float field takes a number or a numeric string
  (PHP is_numeric; Adobe's own examples send "weight": "0.5", "qty": "10"), a string field takes
  any scalar, a bool field any scalar; an array or object given for a scalar is refused with
  'The "%value" value's type is invalid. The "%type" type was expected. Verify and try again.'
  (value "array"), wrapped once per object level: 'Error occurred during "%field_name"
  processing. %details' — exactly what Magento's functional test InventoryApi
  SourceItemsSave/ValidationTest expects. HTTP 400, the rendered text as "message".
* only the service method's own parameters are required (the body's top-level "required"): a
  missing one is 400 {"message":"\"%fieldName\" is required. Enter and try again.",
  "parameters":{"fieldName":"product"}}. The "required" lists inside #/definitions describe
  getters, not input, and Magento does not enforce them (POST .../options with only a label works,
  magento/magento2#8810), so they are ignored here.
* a property the data interface does not have makes NameFinder throw a LogicException
  'Property "%1" does not have accessor method "%2" in class "%3".', which the error processor
  turns into HTTP 500 "Internal Error. Details are available in Magento log file. Report ID:
  webapi-..." in production mode (the message itself in developer mode); Adobe ships a quality
  patch that makes it a 400. Reported here as `unknown`.
* custom_attributes[].value is typed by the EAV attribute (mixed for most), not by the spec's
  "string": any value is accepted; a custom attribute without a code or value gets the
  processCustomAttribute messages.
"""

import copy
import json
import os
import re

import jsonschema
from jsonschema import validators
from jsonschema.exceptions import ValidationError

import common  # noqa: E402  (tests/emulators is on the path)

HERE = os.path.dirname(os.path.abspath(__file__))


def _find_schema():
    env = os.environ.get("POSBRIDGE_MAGENTO_SCHEMA")
    if env:
        return env
    return common.reference_path("platforms", "magento", "admin-schema-2.4.8.json")


SCHEMA_FILE = _find_schema()

# swagger type -> PHP type named in Magento's messages
PHP_TYPE = {"integer": "int", "number": "float", "string": "string", "boolean": "bool"}
NUMERIC_RE = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")   # PHP is_numeric


def php_string(value):
    """(string)$value as PHP prints it in the message."""
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    if isinstance(value, float):
        return repr(value).rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    if isinstance(value, (list, dict)):
        return "array"
    return str(value)


def is_numeric(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and bool(NUMERIC_RE.match(value))


def _type_ok(checker, instance, swagger_type):
    if instance is None:
        return True
    if swagger_type in ("integer", "number"):
        return is_numeric(instance)
    if swagger_type in ("string", "boolean"):
        return not isinstance(instance, (list, dict))
    if swagger_type == "array":
        return isinstance(instance, (list, dict))      # PHP arrays: lists and objects alike
    if swagger_type == "object":
        return True                                      # scalars become empty objects, silently
    return True


def _type(validator, types, instance, schema):
    types = types if isinstance(types, list) else [types]
    if any(_type_ok(None, instance, t) for t in types):
        return
    t = types[0]
    if t == "array" and "$ref" in schema.get("items", {}):
        return   # an array of objects given a scalar becomes null, silently (convertValue)
    if t == "array":
        # a simple array type given a scalar: the value's gettype() is printed
        item = schema.get("items", {}).get("type", "mixed")
        err = ValidationError("type", validator="type", validator_value=t, instance=instance, schema=schema)
        err.magento = 'The "%s" value\'s type is invalid. The "%s[]" type was expected. Verify and try again.' % (
            {bool: "boolean", int: "integer", float: "double", str: "string"}.get(type(instance), "NULL"),
            PHP_TYPE.get(item, item))
        yield err
        return
    err = ValidationError("type", validator="type", validator_value=t, instance=instance, schema=schema)
    err.magento = 'The "%s" value\'s type is invalid. The "%s" type was expected. Verify and try again.' % (
        php_string(instance), PHP_TYPE.get(t, t))
    yield err


def _properties(validator, properties, instance, schema):
    if isinstance(instance, list):
        instance = {str(i): v for i, v in enumerate(instance)}
    if not isinstance(instance, dict):
        return
    for name, value in instance.items():
        if name in properties:
            yield from validator.descend(value, properties[name], path=name, schema_path=name)
        else:
            err = ValidationError("unknown property %s" % name, validator="unknown", validator_value=name,
                                  instance=instance, schema=schema)
            err.unknown_class = schema.get("x-php-class") or schema.get("description") or ""
            err.unknown_name = name
            yield err


def _items(validator, items, instance, schema):
    if isinstance(instance, dict):
        instance = list(instance.values())
    if not isinstance(instance, list):
        return
    for i, item in enumerate(instance):
        yield from validator.descend(item, items, path=i, schema_path=i)


def _custom_attribute(validator, enabled, instance, schema):
    """ServiceInputProcessor::processCustomAttribute."""
    if not isinstance(instance, dict):
        return
    code = instance.get("attribute_code") or instance.get("attributeCode")
    if not code and instance.get("value") is None:
        msg = "An empty custom attribute is specified. Enter the attribute and try again."
    elif not code:
        msg = "A custom attribute is specified with a missing attribute code. Verify the code and try again."
    elif "value" not in instance:
        msg = 'The "%s" attribute code doesn\'t have a value set. Enter the value and try again.' % code
    else:
        return
    err = ValidationError(msg, validator="customAttribute", validator_value=True, instance=instance, schema=schema)
    err.magento = msg
    yield err


MagentoValidator = validators.extend(
    validators.Draft4Validator,
    validators={"type": _type, "properties": _properties, "items": _items,
                "x-magento-custom-attribute": _custom_attribute},
)


def php_class(def_name):
    """catalog-data-product-interface -> Magento\\Catalog\\Api\\Data\\ProductInterface (by naming rule)."""
    if "-data-" not in def_name:
        return "Magento\\Framework\\Api\\AbstractExtensibleObject"
    module, iface = def_name.split("-data-", 1)
    camel = lambda s: "".join(w[:1].upper() + w[1:] for w in s.split("-"))
    return "Magento\\%s\\Api\\Data\\%s" % (camel(module), camel(iface))


def _strip(defs):
    """Definitions as Magento reads input: no nested "required", custom attributes untyped."""
    out = copy.deepcopy(defs)
    for name, d in out.items():
        if isinstance(d, dict):
            d.pop("required", None)
            d["x-php-class"] = php_class(name)
    fa = out.get("framework-attribute-interface")
    if fa:
        fa["properties"]["value"] = {}
        fa["x-magento-custom-attribute"] = True
    return out


class _Unsupported(Exception):
    pass


# Keys of a schema node that are not validation keywords, so jsonschema ignores them.
_HANDLED = {"$ref", "type", "properties", "items", "required", "x-magento-custom-attribute"}


class FastCheck:
    """A validity test compiled once per schema: answers only "certainly valid".

    jsonschema builds a validator object and resolves a $ref at every level of every body,
    which costs milliseconds per product; a 500-product bulk request spent seconds there.
    This walks the same schema with plain functions and says True only when MagentoValidator
    would find no error. Anything else (an error, or a keyword it does not model) is answered
    by the full validator, which produces the error exactly as before."""

    def __init__(self, defs):
        self.defs = defs
        self._compiled = {}   # id(node) -> (node, function)

    def compile(self, node):
        """-> function(instance) -> bool, or None when the schema uses a keyword not modelled here."""
        try:
            return self._node(node)
        except _Unsupported:
            return None

    def _node(self, node):
        hit = self._compiled.get(id(node))
        if hit is not None:
            return hit[1]
        cell = []
        self._compiled[id(node)] = (node, lambda inst: cell[0](inst))   # recursion through $ref
        try:
            fn = self._build(node)
        except _Unsupported:
            del self._compiled[id(node)]
            raise
        cell.append(fn)
        self._compiled[id(node)] = (node, fn)
        return fn

    def _build(self, node):
        if not isinstance(node, dict):
            raise _Unsupported()
        if "$ref" in node:
            # draft 4: a $ref's siblings are ignored
            ref = node["$ref"]
            name = ref[len("#/definitions/"):] if isinstance(ref, str) and ref.startswith("#/definitions/") else None
            if name is None or "/" in name or "~" in name or "%" in name or name not in self.defs:
                raise _Unsupported()
            return self._node(self.defs[name])
        for k in node:
            if k in MagentoValidator.VALIDATORS and k not in _HANDLED:
                raise _Unsupported()
        checks = []
        if "type" in node:
            checks.append(self._type(node))
        if "properties" in node:
            props = node["properties"]
            if not isinstance(props, dict):
                raise _Unsupported()
            sub = {name: self._node(s) for name, s in props.items()}

            def properties(inst, sub=sub):
                if isinstance(inst, list):
                    inst = {str(i): v for i, v in enumerate(inst)}
                if not isinstance(inst, dict):
                    return True
                for name, value in inst.items():
                    f = sub.get(name)
                    if f is None or not f(value):
                        return False     # an unknown property is an error too
                return True
            checks.append(properties)
        if "items" in node:
            if not isinstance(node["items"], dict):
                raise _Unsupported()
            item = self._node(node["items"])

            def items(inst, item=item):
                if isinstance(inst, dict):
                    inst = list(inst.values())
                if not isinstance(inst, list):
                    return True
                return all(item(x) for x in inst)
            checks.append(items)
        if "required" in node:
            req = node["required"]
            if not isinstance(req, list):
                raise _Unsupported()

            def required(inst, req=tuple(req)):
                return not isinstance(inst, dict) or all(r in inst for r in req)
            checks.append(required)
        if node.get("x-magento-custom-attribute"):
            def custom(inst):
                if not isinstance(inst, dict):
                    return True
                return bool(inst.get("attribute_code") or inst.get("attributeCode")) and "value" in inst
            checks.append(custom)
        elif "x-magento-custom-attribute" in node:
            raise _Unsupported()
        if not checks:
            return lambda inst: True
        if len(checks) == 1:
            return checks[0]
        return lambda inst: all(c(inst) for c in checks)

    @staticmethod
    def _type(node):
        types = node["type"]
        types = types if isinstance(types, list) else [types]
        if not types or not all(isinstance(t, str) for t in types):
            raise _Unsupported()
        items = node.get("items", {})
        if types[0] == "array" and isinstance(items, dict) and "$ref" in items:
            return lambda inst: True    # _type lets an array of objects take anything
        types = tuple(types)

        def type_ok(inst):
            return inst is None or any(_type_ok(None, inst, t) for t in types)
        return type_ok


class Schema:
    def __init__(self, path=SCHEMA_FILE):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.defs = _strip(self.doc["definitions"])
        self._validators = {}
        self._fast = {}
        self._fastcheck = FastCheck(self.defs)
        # path template -> regex
        self.paths = []
        for tpl, ops in self.doc["paths"].items():
            rx = re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(tpl)) + "$")
            self.paths.append((tpl, rx, ops))

    def operation(self, method, path):
        for tpl, rx, ops in self.paths:
            m = rx.match(path)
            if m and method.lower() in ops:
                return tpl, ops[method.lower()], m.groupdict()
        return None, None, None

    def body_schema(self, tpl, method):
        op = self.doc["paths"][tpl][method.lower()]
        for p in op.get("parameters", []):
            if p.get("in") == "body":
                return p["schema"]
        return None

    def validator(self, tpl, method):
        key = (tpl, method.lower())
        v = self._validators.get(key)
        if v is None:
            body = self.body_schema(tpl, method)
            if body is None:
                return None
            root = dict(copy.deepcopy(body), definitions=self.defs)
            v = MagentoValidator(root)
            self._validators[key] = v
            self._fast[key] = self._fastcheck.compile(root)
        return v

    def check(self, tpl, method, body, path_params=None):
        """-> None, or (http status, Magento error body, kind) for the first problem."""
        v = self.validator(tpl, method)
        if v is None:
            return None
        if not isinstance(body, dict):
            body = {}
        merged = dict(body)
        for k, val in (path_params or {}).items():
            merged.setdefault(k, val)
        schema = v.schema
        missing = [r for r in schema.get("required", []) if merged.get(r) is None]
        # ServiceInputProcessor::process: each missing parameter is one error; one error is the message
        if len(missing) == 1:
            return 400, {"message": '"%fieldName" is required. Enter and try again.',
                         "parameters": {"fieldName": missing[0]}}, "required"
        if missing:
            return 400, {"message": "One or more input exceptions have occurred.",
                         "errors": [{"message": '"%fieldName" is required. Enter and try again.',
                                     "parameters": {"fieldName": m}} for m in missing]}, "required"
        fast = self._fast.get((tpl, method.lower()))
        if fast is not None and fast(body):
            return None
        errors = list(v.iter_errors(body))
        if not errors:
            return None
        # the first in document order, as the PHP loop would meet it
        errors.sort(key=lambda e: [str(p) for p in e.absolute_path])
        e = errors[0]
        path = list(e.absolute_path)
        if e.validator == "unknown":
            cls = _class_name(e.schema)
            getter = "get" + "".join(w[:1].upper() + w[1:] for w in e.unknown_name.split("_"))
            text = 'Property "%s" does not have accessor method "%s" in class "%s".' % (
                "".join(w[:1].upper() + w[1:] for w in e.unknown_name.split("_")), getter, cls)
            return 500, text, "unknown"
        detail = getattr(e, "magento", None) or e.message
        # one 'Error occurred during "x" processing.' per object level below the method parameter
        names = [p for p in path[1:] if isinstance(p, str)]
        if e.validator == "customAttribute":
            names = [p for p in path[1:] if isinstance(p, str)]
        for name in reversed(names):
            detail = 'Error occurred during "%s" processing. %s' % (name, detail)
        return 400, {"message": detail}, "type"


def _class_name(schema):
    return (schema or {}).get("x-php-class") or "Magento\\Framework\\Api\\AbstractExtensibleObject"


_SCHEMA = None


def get_schema():
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = Schema()
    return _SCHEMA
