"""Request-body validation against BigCommerce's own OpenAPI files.

The files are shared/reference/platforms/bigcommerce/*.yml (verbatim copies of
bigcommerce/docs `reference/...`, commit in that folder's SOURCES.md). For each
endpoint the emulator serves, the requestBody schema of that operation is
resolved ($refs inlined) and checked with openapi-schema-validator's
OAS30Validator (OpenAPI 3.0 dialect: `nullable`, `format: float|double`).

Where the published schema contradicts BigCommerce's documented behaviour the
schema is patched, and every patch is listed in PATCHES below with the line of
the reference that justifies it. Nothing else is changed.

Errors are reported the way BigCommerce's catalog service reports a body that
does not parse into its model: 422 "JSON data is missing or invalid" with one
`errors` entry per field, keyed by the dotted path (batch bodies start with the
array index, e.g. "0.meta_keywords") and valued with Play-JSON codes
("error.path.missing", "error.expected.jsnumber", ...). That shape was seen in a
real BigCommerce answer quoted in public code:
  {"status":422,"title":"JSON data is missing or invalid","type":
   "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
   "errors":{"0.meta_keywords":"error.expected.jsarray"}}
and fits the documented v3 error shape (error_Base + DetailedErrors,
platforms-shopify-bigcommerce.md §B7).
"""

import copy
import os
import threading

import yaml
from openapi_schema_validator import OAS30Validator

import common  # noqa: E402  (tests/emulators is on the path)

HERE = os.path.dirname(os.path.abspath(__file__))

try:  # the C loader parses the 400 kB products file in ~0.3 s instead of ~4 s
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


def _find_spec_dir():
    env = os.environ.get("POSBRIDGE_BIGCOMMERCE_SPEC_DIR")
    if env:
        return env
    return common.reference_path("platforms", "bigcommerce")


SPEC_DIR = _find_spec_dir()

# operation key -> (spec file, path in the file, method)
OPERATIONS = {
    "createProduct": ("products_catalog.v3.yml", "/catalog/products", "post"),
    "updateProducts": ("products_catalog.v3.yml", "/catalog/products", "put"),
    "updateProduct": ("products_catalog.v3.yml", "/catalog/products/{product_id}", "put"),
    "createProductVariant": ("product-variants_catalog.v3.yml", "/catalog/products/{product_id}/variants", "post"),
    "updateProductVariant": ("product-variants_catalog.v3.yml",
                             "/catalog/products/{product_id}/variants/{variant_id}", "put"),
    "updateVariantsBatch": ("product-variants_catalog.v3.yml", "/catalog/variants", "put"),
    "createProductVariantOption": ("product-variant-options_catalog.v3.yml",
                                   "/catalog/products/{product_id}/options", "post"),
    "updateProductVariantOption": ("product-variant-options_catalog.v3.yml",
                                   "/catalog/products/{product_id}/options/{option_id}", "put"),
    "createProductVariantOptionValue": ("product-variant-options_catalog.v3.yml",
                                        "/catalog/products/{product_id}/options/{option_id}/values", "post"),
    "put-absolute-adjustment": ("inventory.v3.yml", "/inventory/adjustments/absolute", "put"),
    "post-relative-adjustment": ("inventory.v3.yml", "/inventory/adjustments/relative", "post"),
}

# Documented deviations of the published schemas from the documented API.
PATCHES = {
    # product_Base_POST.variants.items is productVariant_Full, which requires
    # id, product_id and sku. A new product's variants cannot carry ids: the
    # POST description says "you can create multiple product variants using the
    # `variants` array" (products_catalog.v3.yml createProduct), and the
    # catalog guide's "Create a variant using the product endpoint" example
    # sends variants without ids (reference §B2). Only `sku` stays required
    # ("sku (required for non-base variants)", §B2 field table).
    "createProduct": "variants-without-ids",
    # product_Put_Collection has `items` but no `type: array`; the operation
    # says "PUT /v3/catalog/products body = JSON array, each item needs id"
    # (§B2 "Batch update"). Without the type an object body would pass.
    "updateProducts": "array",
}
# Applied to every schema: the variants batch schema writes nullability
# Swagger-2 style (`x-nullable: true`); OpenAPI 3 spells it `nullable`. A null
# variant price means "use the product's price" (productVariant_Base.price
# description), so null must pass.
# Also applied to every schema: `readOnly` markers are dropped. The batch
# schemas mark `id` readOnly *and* required ("product `id` is required for
# batch updates", updateProducts description); OpenAPI's readOnly rule would
# make it optional in a request (and OAS30WriteValidator would forbid it).


def _resolve(node, root, stack=()):
    """Inline every local $ref (the files are self-contained); a recursive
    reference is cut to {} at the second visit."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in stack:
                return {}
            target = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            out = _resolve(target, root, stack + (ref,))
            extra = {k: _resolve(v, root, stack) for k, v in node.items() if k != "$ref"}
            return dict(out, **extra) if extra else out
        return {k: _resolve(v, root, stack) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, root, stack) for v in node]
    return node


def _x_nullable(node):
    """x-nullable: true -> nullable: true and no readOnly, recursively."""
    if isinstance(node, dict):
        out = {k: _x_nullable(v) for k, v in node.items() if k != "readOnly"}
        if out.get("x-nullable") is True:
            out["nullable"] = True
        return out
    if isinstance(node, list):
        return [_x_nullable(v) for v in node]
    return node


def _strip_variant_ids(schema):
    variants = schema.get("properties", {}).get("variants")
    if not variants:
        return schema
    items = variants.get("items", {})
    if "required" in items:
        items["required"] = [r for r in items["required"] if r not in ("id", "product_id")]
    return schema


class SpecStore:
    """Loads the YAML files lazily and caches one validator per operation."""

    def __init__(self, spec_dir=SPEC_DIR):
        self.spec_dir = spec_dir
        self._docs = {}
        self._validators = {}
        self._schemas = {}
        self._lock = threading.Lock()

    def doc(self, name):
        with self._lock:
            if name not in self._docs:
                with open(os.path.join(self.spec_dir, name), encoding="utf-8") as f:
                    self._docs[name] = yaml.load(f, Loader=_Loader)
            return self._docs[name]

    def schema(self, op):
        if op in self._schemas:
            return self._schemas[op]
        fname, path, method = OPERATIONS[op]
        d = self.doc(fname)
        body = d["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        schema = _x_nullable(_resolve(copy.deepcopy(body), d))
        patch = PATCHES.get(op)
        if patch == "variants-without-ids":
            schema = _strip_variant_ids(schema)
        elif patch == "array":
            schema["type"] = "array"
        self._schemas[op] = schema
        return schema

    def validator(self, op):
        v = self._validators.get(op)
        if v is None:
            v = OAS30Validator(self.schema(op))
            self._validators[op] = v
        return v

    def operation_doc(self, op):
        fname, path, method = OPERATIONS[op]
        return self.doc(fname)["paths"][path][method]

    def errors(self, op, body):
        """-> {dotted path: play-json error code} (empty when the body fits)."""
        out = {}
        for e in sorted(self.validator(op).iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
            for path, code in _play_errors(e):
                out.setdefault(path, code)
        return out

    def warm(self, ops=None):
        for op in ops or OPERATIONS:
            self.validator(op)


_TYPE_CODES = {
    "number": "error.expected.jsnumber",
    "integer": "error.expected.jsnumber",
    "string": "error.expected.jsstring",
    "boolean": "error.expected.jsboolean",
    "array": "error.expected.jsarray",
    "object": "error.expected.jsobject",
}


def _dotted(parts):
    # Play JSON names the document root "obj"
    return ".".join(str(p) for p in parts) or "obj"


def _play_errors(e):
    """Map one jsonschema error (or the leaves of a composite one) to
    (dotted path, Play JSON error code) pairs."""
    path = list(e.absolute_path)
    v = e.validator
    if v in ("allOf", "anyOf") and e.context:
        out = []
        for sub in e.context:
            out.extend(_play_errors(sub))
        return out or [(_dotted(path) or "obj", "error.invalid")]
    if v == "required":
        missing = e.message.split("'")[1] if "'" in e.message else "?"
        return [(_dotted(path + [missing]), "error.path.missing")]
    if v == "type":
        t = e.validator_value
        if isinstance(t, list):
            t = t[0]
        if t == "integer" and isinstance(e.instance, float):
            return [(_dotted(path), "error.expected.int")]
        return [(_dotted(path), _TYPE_CODES.get(t, "error.invalid"))]
    if v == "enum":
        return [(_dotted(path), "error.expected.validenumvalue")]
    if v in ("minimum", "exclusiveMinimum"):
        return [(_dotted(path), "error.min")]
    if v in ("maximum", "exclusiveMaximum"):
        return [(_dotted(path), "error.max")]
    if v == "maxLength":
        return [(_dotted(path), "error.maxLength")]
    if v == "minLength":
        return [(_dotted(path), "error.minLength")]
    if v == "minItems":
        return [(_dotted(path), "error.minLength")]
    return [(_dotted(path) or "obj", "error.invalid")]


SPECS = SpecStore()
