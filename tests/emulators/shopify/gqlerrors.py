"""Shopify's GraphQL error shapes.

Shopify runs graphql-ruby, so a document that does not fit the schema gets
graphql-ruby's messages and extension codes, not graphql-core's. This module
turns graphql-core's parse and validation errors into that shape. Formats were
checked against responses recorded from a live shop (capture
2025-01/admin-platform/graphql-base-validation-unhappy-paths.json, see
schema_ext.graphql): HTTP 200, no "data", no "extensions.cost", and per error
{message, locations, path, extensions{code, ...}}. A path starts with
"query Name" / "mutation Name" (or just "query"/"mutation" when anonymous).
"""

import json
import re

from graphql.language import ast as A

# -------------------------------------------------------------------- helpers


def loc(node_or_loc):
    if node_or_loc is None:
        return None
    if hasattr(node_or_loc, "loc") and node_or_loc.loc is not None:
        src = node_or_loc.loc.source
        from graphql.language.location import get_location
        L = get_location(src, node_or_loc.loc.start)
        return {"line": L.line, "column": L.column}
    return None


def error(message, code=None, locations=None, path=None, **ext):
    e = {"message": message}
    if locations:
        e["locations"] = locations
    if path is not None:
        e["path"] = path
    x = {}
    if code:
        x["code"] = code
    x.update(ext)
    if x:
        e["extensions"] = x
    return e


def ruby_inspect(v):
    """How graphql-ruby prints a value inside a message."""
    if v is None:
        return "nil"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(v, ensure_ascii=False)


# ---------------------------------------------------------------- parse errors

_TOKENS = {
    "}": 'RCURLY ("}")', "{": 'LCURLY ("{")', ")": 'RPAREN (")")', "(": 'LPAREN ("(")',
    ":": 'COLON (":")', "$": 'VAR_SIGN ("$")', "!": 'BANG ("!")', "[": 'LBRACKET ("[")',
    "]": 'RBRACKET ("]")', "=": 'EQUALS ("=")', "@": 'DIR_SIGN ("@")', "...": 'ELLIPSIS ("...")',
    "|": 'PIPE ("|")', "&": 'AMP ("&")',
}


def parse_error(err):
    """graphql-core GraphQLSyntaxError -> Shopify's PARSE_ERROR."""
    L = err.locations[0] if err.locations else None
    line, col = (L.line, L.column) if L else (1, 1)
    m = re.search(r"found (.*?)\.?$", err.message)
    found = m.group(1) if m else None
    if found is None or found == "<EOF>":
        what = "end of file"
    elif found.startswith("'") and found.endswith("'") and found[1:-1] in _TOKENS:
        what = _TOKENS[found[1:-1]]
    else:
        n = re.match(r"Name '(.*)'", found or "")
        if n:
            what = 'IDENTIFIER ("%s")' % n.group(1)
        elif (found or "").startswith("String"):
            what = "STRING"
        elif (found or "").startswith("Int"):
            what = "INT"
        else:
            what = found
    return error("syntax error, unexpected %s at [%d, %d]" % (what, line, col), "PARSE_ERROR",
                 [{"line": line, "column": col}])


# --------------------------------------------------------- validation errors


class PathIndex:
    """Maps AST nodes of a document to graphql-ruby style paths."""

    def __init__(self, document):
        self.paths = {}
        for d in document.definitions:
            if isinstance(d, A.OperationDefinitionNode):
                head = d.operation.value + (" " + d.name.value if d.name else "")
                self._walk_def(d, [head])
            elif isinstance(d, A.FragmentDefinitionNode):
                self._walk_def(d, ["fragment " + d.name.value])

    def _walk_def(self, d, path):
        self.paths[id(d)] = path
        for v in getattr(d, "variable_definitions", None) or []:
            self.paths[id(v)] = path
        for dr in d.directives or []:
            self._walk_directive(dr, path)
        self._walk_sel(d.selection_set, path)

    def _walk_directive(self, dr, path):
        p = path + ["@" + dr.name.value]
        self.paths[id(dr)] = p
        for a in dr.arguments or []:
            self._walk_value(a, p + [a.name.value])

    def _walk_sel(self, ss, path):
        if ss is None:
            return
        for s in ss.selections:
            if isinstance(s, A.FieldNode):
                p = path + [s.alias.value if s.alias else s.name.value]
                self.paths[id(s)] = p
                if s.selection_set is not None:
                    self.paths[id(s.selection_set)] = p
                for a in s.arguments or []:
                    self._walk_value(a, p + [a.name.value])
                for dr in s.directives or []:
                    self._walk_directive(dr, p)
                self._walk_sel(s.selection_set, p)
            elif isinstance(s, A.InlineFragmentNode):
                p = path + (["... on " + s.type_condition.name.value] if s.type_condition else ["..."])
                self.paths[id(s)] = p
                for dr in s.directives or []:
                    self._walk_directive(dr, p)
                self._walk_sel(s.selection_set, p)
            elif isinstance(s, A.FragmentSpreadNode):
                p = path + ["... " + s.name.value]
                self.paths[id(s)] = p
                for dr in s.directives or []:
                    self._walk_directive(dr, p)

    def _walk_value(self, node, path):
        self.paths[id(node)] = path
        v = node.value if isinstance(node, (A.ArgumentNode, A.ObjectFieldNode)) else node
        self.paths.setdefault(id(v), path)
        if isinstance(v, A.ObjectValueNode):
            for f in v.fields:
                self._walk_value(f, path + [f.name.value])
        elif isinstance(v, A.ListValueNode):
            for i, item in enumerate(v.values):
                self._walk_value(item, path + [i])

    def path(self, node):
        return self.paths.get(id(node)) if node is not None else None


def _q(s):
    return s.strip("'\"")


def _node_name(node):
    if isinstance(node, A.FieldNode):
        return node.name.value
    return None


def translate_validation(errors, document, schema):
    """graphql-core validation errors -> list of Shopify-shaped error dicts."""
    idx = PathIndex(document)
    out = []
    missing_args = {}  # id(node) -> error dict, to merge per node like graphql-ruby
    for e in errors:
        msg = e.message
        node = e.nodes[0] if e.nodes else None
        locs = [{"line": L.line, "column": L.column} for L in (e.locations or [])] or None
        path = idx.path(node)
        m = re.match(r"Cannot query field '([^']+)' on type '([^']+)'\.", msg)
        if m:
            out.append(error("Field '%s' doesn't exist on type '%s'" % (m.group(1), m.group(2)),
                             "undefinedField", locs, path, typeName=m.group(2), fieldName=m.group(1)))
            continue
        m = re.match(r"Field '([^']+)' of type '([^']+)' must have a selection of subfields", msg)
        if m:
            f, t = m.group(1), m.group(2)
            out.append(error("Field must have selections (field '%s' returns %s but has no selections. "
                             "Did you mean '%s { ... }'?)" % (f, t, f), "selectionMismatch", locs, path,
                             nodeName="field '%s'" % f, typeName=t))
            continue
        m = re.match(r"Field '([^']+)' must not have a selection since type '([^']+)' has no subfields", msg)
        if m:
            f, t = m.group(1), m.group(2)
            ss = node if isinstance(node, A.SelectionSetNode) else getattr(node, "selection_set", None)
            subs = ", ".join(s.name.value for s in ss.selections if isinstance(s, A.FieldNode)) if ss else ""
            out.append(error("Selections can't be made on scalars (field '%s' returns %s but has "
                             "selections [%s])" % (f, t, subs), "selectionMismatch", locs, path,
                             nodeName="field '%s'" % f, typeName=t))
            continue
        m = re.match(r"Unknown argument '([^']+)' on field '([^']+)'\.", msg)
        if m:
            fname = m.group(2).split(".")[-1]
            out.append(error("Field '%s' doesn't accept argument '%s'" % (fname, m.group(1)),
                             "argumentNotAccepted", locs, path,
                             name=fname, typeName="Field", argumentName=m.group(1)))
            continue
        m = re.match(r"Unknown argument '([^']+)' on directive '@([^']+)'\.", msg)
        if m:
            out.append(error("Directive '%s' doesn't accept argument '%s'" % (m.group(2), m.group(1)),
                             "argumentNotAccepted", locs, path, name=m.group(2), typeName="Directive",
                             argumentName=m.group(1)))
            continue
        m = re.match(r"(Field|Directive) '@?([^']+)' argument '([^']+)' of type '([^']+)' is required", msg)
        if m:
            kind, name, arg = m.group(1), m.group(2), m.group(3)
            key = id(node)
            if key in missing_args:
                prev = missing_args[key]
                prev["extensions"]["arguments"] += ", " + arg
                prev["message"] = "%s '%s' is missing required arguments: %s" % (
                    kind, name, prev["extensions"]["arguments"])
                continue
            er = error("%s '%s' is missing required arguments: %s" % (kind, name, arg),
                       "missingRequiredArguments", locs, path, className=kind, name=name, arguments=arg)
            missing_args[key] = er
            out.append(er)
            continue
        m = re.match(r"Unknown type '([^']+)'\.", msg)
        if m:
            t = m.group(1)
            var = _enclosing_variable(document, node)
            if var:
                out.append(error("%s isn't a defined input type (on $%s)" % (t, var), "variableRequiresValidType",
                                 locs, path, typeName=t, variableName=var))
            else:
                out.append(error("No such type %s, so it can't be a fragment condition" % t, "undefinedType",
                                 locs, path, typeName=t))
            continue
        m = re.match(r"Unknown directive '@([^']+)'\.", msg)
        if m:
            out.append(error("Directive @%s is not defined" % m.group(1), "undefinedDirective", locs, path,
                             directiveName=m.group(1)))
            continue
        m = re.match(r"Directive '@([^']+)' may not be used on (\w+)\.", msg)
        if m:
            out.append(error("'@%s' can't be applied to %s" % (m.group(1), m.group(2).lower().replace("_", " ")),
                             "directiveCannotBeApplied", locs, path, targetName=m.group(2),
                             name=m.group(1)))
            continue
        m = re.match(r"Variable '\$([^']+)' is not defined(?: by operation '([^']+)')?\.", msg)
        if m:
            op = m.group(2) or "anonymous operation"
            out.append(error("Variable $%s is used by %s but not declared" % (m.group(1), op),
                             "variableNotDefined", locs, path, variableName=m.group(1)))
            continue
        m = re.match(r"Variable '\$([^']+)' is never used(?: in operation '([^']+)')?\.", msg)
        if m:
            op = m.group(2) or "anonymous operation"
            out.append(error("Variable $%s is declared by %s but not used" % (m.group(1), op),
                             "variableNotUsed", locs, path, variableName=m.group(1)))
            continue
        m = re.match(r"Variable '\$([^']+)' of type '([^']+)' used in position expecting type '([^']+)'\.", msg)
        if m:
            var, have, want = m.group(1), m.group(2), m.group(3)
            path = idx.path(e.nodes[-1]) if e.nodes else path
            kind = "Nullability mismatch" if have.rstrip("!") == want.rstrip("!") else "Type mismatch"
            arg = path[-1] if path and isinstance(path[-1], str) else "?"
            out.append(error("%s on variable $%s and argument %s (%s / %s)" % (kind, var, arg, have, want),
                             "variableMismatch", locs, path, variableName=var, typeName=have,
                             argumentName=arg, errorMessage=kind))
            continue
        m = re.match(r"Field '([^']+)' is not defined by type '([^']+)'\.", msg)
        if m:
            out.append(error("InputObject '%s' doesn't accept argument '%s'" % (m.group(2), m.group(1)),
                             "argumentNotAccepted", locs, path, name=m.group(2), typeName="InputObject",
                             argumentName=m.group(1)))
            continue
        m = re.match(r"Field '([^']+)\.([^']+)' of required type '([^']+)' was not provided\.", msg)
        if m:
            out.append(error("Argument '%s' on InputObject '%s' is required. Expected type %s" % (
                m.group(2), m.group(1), m.group(3)), "missingRequiredInputObjectAttribute", locs, path,
                argumentName=m.group(2), argumentType=m.group(3), inputObjectType=m.group(1)))
            continue
        m = re.match(r"(ID|Money|Decimal) cannot represent: (.*)$", msg)
        if m:
            out.append(error(m.group(2), "argumentLiteralsIncompatible", locs, path, typeName="CoercionError"))
            continue
        if _is_literal_error(msg):
            arg = path[-1] if path else "?"
            owner = "Field"
            shown = _literal_text(node)
            expected = _expected_type(msg)
            out.append(error("Argument '%s' on %s '%s' has an invalid value (%s). Expected type '%s'." % (
                arg, owner, _owner_field(path), shown, expected), "argumentLiteralsIncompatible", locs, path,
                typeName=owner, argumentName=arg))
            continue
        m = re.match(r"Unknown fragment '([^']+)'\.", msg)
        if m:
            out.append(error("Fragment %s was used, but not defined" % m.group(1), "useAndDefineFragment",
                             locs, path, fragmentName=m.group(1)))
            continue
        m = re.match(r"Fragment '([^']+)' is never used\.", msg)
        if m:
            out.append(error("Fragment %s was defined, but not used" % m.group(1), "useAndDefineFragment",
                             locs, path, fragmentName=m.group(1)))
            continue
        m = re.match(r"Fields '([^']+)' conflict because", msg)
        if m:
            out.append(error("Field '%s' has a field conflict: %s" % (m.group(1), msg), "fieldConflict", locs,
                             path, fieldName=m.group(1), conflicts=msg))
            continue
        if msg.startswith("This anonymous operation must be the only defined operation"):
            out.append(error("Operation name is required when multiple operations are present",
                             "anonymousOperationNotAlone", locs, path))
            continue
        out.append(error(msg, "VALIDATION_ERROR", locs, path))
    return out


def _is_literal_error(msg):
    return bool(re.match(r"(Int|Float|String|Boolean|ID|Enum '[^']+') cannot represent", msg)
                or re.match(r"Expected value of type '[^']+', found", msg)
                or msg.startswith("Value '")
                or "cannot represent" in msg)


def _expected_type(msg):
    m = re.match(r"Expected value of type '([^']+)'", msg)
    if m:
        return m.group(1)
    m = re.match(r"(Int|Float|String|Boolean|ID) cannot represent", msg)
    if m:
        return m.group(1)
    m = re.match(r"Enum '([^']+)' cannot represent", msg)
    if m:
        return m.group(1)
    m = re.search(r"does not exist in '([^']+)' enum", msg)
    if m:
        return m.group(1)
    return "?"


def _literal_text(node):
    if node is None:
        return "?"
    from graphql.language import print_ast
    try:
        return print_ast(node)
    except Exception:
        return "?"


def _owner_field(path):
    if not path:
        return "?"
    for p in reversed(path[:-1]):
        if isinstance(p, str) and not p.startswith(("query", "mutation", "...", "@", "fragment")):
            return p
    return "?"


def _enclosing_variable(document, node):
    for d in document.definitions:
        for v in getattr(d, "variable_definitions", None) or []:
            t = v.type
            while hasattr(t, "type"):
                t = t.type
            if t is node:
                return v.variable.name.value
    return None


# ------------------------------------------------------------ variable errors


def invalid_variable(var_name, type_str, value, problems, location):
    """Shopify's INVALID_VARIABLE error. problems: [{path, explanation[, message]}]."""
    shown = ", ".join(
        "%s (%s)" % (".".join(str(p) for p in pr["path"]), pr["explanation"]) if pr["path"] else ""
        for pr in problems
    )
    if problems and all(pr["path"] for pr in problems):
        message = "Variable $%s of type %s was provided invalid value for %s" % (var_name, type_str, shown)
    else:
        message = "Variable $%s of type %s was provided invalid value" % (var_name, type_str)
    return error(message, "INVALID_VARIABLE", [location] if location else None, None, value=value,
                 problems=problems)
