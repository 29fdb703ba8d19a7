"""Variable coercion with graphql-ruby's problems, and Shopify's scalars.

graphql-core would coerce variables too, but its messages are not Shopify's.
This module coerces first, reporting INVALID_VARIABLE with {path, explanation}
problems as graphql-ruby does (capture
2025-01/admin-platform/graphql-base-validation-unhappy-paths.json: "Variable
$product of type ProductCreateInput! was provided invalid value" /
"... for pubSubTopic (Expected value to not be null)"). It is at least as strict
as graphql-core, so graphql-core's own coercion afterwards always passes.

Shopify scalars: Money and Decimal take a decimal string (numbers are accepted
too); a bad one is "invalid money 'x'" (recorded answer quoted in public client
tests). ID must be a global id, "Invalid global id 'x'" otherwise.
"""

import re

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    ValidationRule,
    GraphQLError,
    get_named_type,
    type_from_ast,
    value_from_ast,
)

from . import gqlerrors

GID_RE = re.compile(r"^gid://[A-Za-z0-9_-]+/[A-Za-z][A-Za-z0-9]*/[^/\s]+$")
DECIMAL_RE = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")
INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1


class Problem(Exception):
    def __init__(self, explanation, with_message=False):
        super().__init__(explanation)
        self.explanation = explanation
        self.with_message = with_message


def check_scalar(name, value):
    """Coerce one scalar input value; raise Problem when it does not fit."""
    if name == "Int":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not value.is_integer()) or not (INT_MIN <= value <= INT_MAX):
            raise Problem("Could not coerce value %s to Int" % gqlerrors.ruby_inspect(value))
        return int(value)
    if name == "Float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Problem("Could not coerce value %s to Float" % gqlerrors.ruby_inspect(value))
        return float(value)
    if name == "String":
        if not isinstance(value, str):
            raise Problem("Could not coerce value %s to String" % gqlerrors.ruby_inspect(value))
        return value
    if name == "Boolean":
        if not isinstance(value, bool):
            raise Problem("Could not coerce value %s to Boolean" % gqlerrors.ruby_inspect(value))
        return value
    if name == "ID":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise Problem("Could not coerce value %s to ID" % gqlerrors.ruby_inspect(value))
        s = str(value)
        if not GID_RE.match(s):
            raise Problem("Invalid global id '%s'" % s, with_message=True)
        return s
    if name in ("Money", "Decimal"):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or (
                isinstance(value, str) and not DECIMAL_RE.match(value)):
            raise Problem("invalid %s '%s'" % ("money" if name == "Money" else "decimal", value))
        return value
    if name == "UnsignedInt64":
        if not (isinstance(value, str) and value.isdigit()) and not (
                isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise Problem("Could not coerce value %s to UnsignedInt64" % gqlerrors.ruby_inspect(value))
        return str(value)
    if name in ("DateTime", "Date", "URL", "HTML", "FormattedString", "StorefrontID", "ARN", "Color",
                "UtcOffset"):
        if not isinstance(value, str):
            raise Problem("Could not coerce value %s to %s" % (gqlerrors.ruby_inspect(value), name))
        return value
    return value  # JSON, BigInt and the rest


def coerce_value(t, value, path, problems):
    """Append problems (path, explanation) and return the coerced value."""
    if isinstance(t, GraphQLNonNull):
        if value is None:
            problems.append({"path": list(path), "explanation": "Expected value to not be null"})
            return None
        return coerce_value(t.of_type, value, path, problems)
    if value is None:
        return None
    if isinstance(t, GraphQLList):
        if isinstance(value, list):
            return [coerce_value(t.of_type, v, path + [i], problems) for i, v in enumerate(value)]
        return [coerce_value(t.of_type, value, path, problems)]
    if isinstance(t, GraphQLInputObjectType):
        if not isinstance(value, dict):
            problems.append({"path": list(path), "explanation": "Expected %s to be a key-value object." %
                             gqlerrors.ruby_inspect(value)})
            return None
        out = {}
        for k, v in value.items():
            if k not in t.fields:
                problems.append({"path": path + [k], "explanation": "Field is not defined on %s" % t.name})
        for k, f in t.fields.items():
            if k in value:
                out[k] = coerce_value(f.type, value[k], path + [k], problems)
            elif f.default_value is not None and str(f.default_value) != "Undefined":
                out[k] = f.default_value
            elif isinstance(f.type, GraphQLNonNull):
                problems.append({"path": path + [k], "explanation": "Expected value to not be null"})
        return out
    if isinstance(t, GraphQLEnumType):
        if not isinstance(value, str) or value not in t.values:
            problems.append({"path": list(path), "explanation": "Expected %s to be one of: %s" % (
                gqlerrors.ruby_inspect(value), ", ".join(t.values))})
            return None
        return value
    if isinstance(t, GraphQLScalarType):
        try:
            return check_scalar(t.name, value)
        except Problem as p:
            pr = {"path": list(path), "explanation": p.explanation}
            if p.with_message:
                pr["message"] = p.explanation
            problems.append(pr)
            return None
    return value


def coerce_variables(schema, operation, raw):
    """Coerce the request's variables for `operation`. Returns (values, errors)."""
    raw = raw or {}
    values, errors = {}, []
    for vd in operation.variable_definitions or []:
        name = vd.variable.name.value
        t = type_from_ast(schema, vd.type)
        if t is None:
            continue  # already a validation error
        location = gqlerrors.loc(vd)
        if name not in raw:
            if vd.default_value is not None:
                values[name] = value_from_ast(vd.default_value, t)
                continue
            if isinstance(t, GraphQLNonNull):
                errors.append(gqlerrors.invalid_variable(
                    name, str(t), None, [{"path": [], "explanation": "Expected value to not be null"}], location))
            continue
        problems = []
        coerce_value(t, raw[name], [], problems)
        if problems:
            errors.append(gqlerrors.invalid_variable(name, str(t), raw[name], problems, location))
        else:
            # graphql-core coerces again from the raw value, which now fits
            values[name] = raw[name]
    return values, errors


class ShopifyScalarLiteralsRule(ValidationRule):
    """Literal Money/Decimal/ID values in the document must fit too (graphql-core
    treats Shopify's custom scalars as "anything"). Reported like graphql-ruby's
    argumentLiteralsIncompatible."""

    def _check(self, node, value):
        t = self.context.get_input_type()
        if t is None:
            return
        named = get_named_type(t)
        if not isinstance(named, GraphQLScalarType) or named.name not in ("ID", "Money", "Decimal"):
            return
        try:
            check_scalar(named.name, value)
        except Problem as p:
            self.report_error(GraphQLError("%s cannot represent: %s" % (named.name, p.explanation), node))

    def enter_string_value(self, node, *_):
        self._check(node, node.value)

    def enter_int_value(self, node, *_):
        t = self.context.get_input_type()
        if t is not None and get_named_type(t).name in ("Money", "Decimal"):
            return
        if t is not None and get_named_type(t).name == "ID":
            self._check(node, int(node.value))

    def enter_float_value(self, node, *_):
        pass
