"""Shopify search syntax (the `query:` argument of connections).

Supported: terms joined by whitespace (AND), AND, OR, NOT / leading "-",
parentheses, field:value, field:"quoted value", comparators field:>x >=x <x <=x,
a trailing * as a prefix wildcard, bare terms (searched in the resource's
default fields). Matching is case-insensitive. Malformed input is forgiving as
on Shopify (recorded: a dangling OR or a stray "(" does not raise an error).

A resource supplies `fields`: name -> function(record) -> list of values
(strings or numbers), and `default`: function(record) -> list of strings.
An unknown field name matches nothing.
"""

import re

from common import parse_iso

_TOKEN = re.compile(r'\s*(\(|\)|-?[\w.]+:(?:"[^"]*"|\'[^\']*\'|[^\s()]*)|"[^"]*"|\'[^\']*\'|[^\s()]+)')


def tokenize(q):
    pos, out = 0, []
    while pos < len(q):
        m = _TOKEN.match(q, pos)
        if not m or m.end() == pos:
            break
        out.append(m.group(1))
        pos = m.end()
    return out


class Parser:
    def __init__(self, tokens):
        self.t = tokens
        self.i = 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else None

    def next(self):
        tok = self.peek()
        self.i += 1
        return tok

    def parse(self):
        node = self.or_expr()
        while self.peek() is not None:  # stray ")" etc.: skip and go on
            self.next()
            more = self.or_expr()
            if more is not None:
                node = ("and", node, more) if node is not None else more
        return node

    def or_expr(self):
        left = self.and_expr()
        while self.peek() == "OR":
            self.next()
            right = self.and_expr()
            if right is None:
                continue
            left = ("or", left, right) if left is not None else right
        return left

    def and_expr(self):
        left = None
        while True:
            tok = self.peek()
            if tok is None or tok in (")", "OR"):
                return left
            if tok == "AND":
                self.next()
                continue
            right = self.unary()
            if right is not None:
                left = ("and", left, right) if left is not None else right

    def unary(self):
        tok = self.peek()
        if tok == "NOT":
            self.next()
            inner = self.unary()
            return ("not", inner) if inner is not None else None
        if tok == "(":
            self.next()
            inner = self.or_expr()
            if self.peek() == ")":
                self.next()
            return inner
        self.next()
        neg = False
        if tok.startswith("-") and len(tok) > 1:
            neg, tok = True, tok[1:]
        term = self.term(tok)
        return ("not", term) if neg else term

    @staticmethod
    def term(tok):
        m = re.match(r"^([\w.]+):(.*)$", tok)
        if m:
            field, value = m.group(1), m.group(2)
        else:
            field, value = None, tok
        op = "="
        for cand in (">=", "<=", ">", "<"):
            if value.startswith(cand):
                op, value = cand, value[len(cand):]
                break
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
            wildcard = False
        else:
            wildcard = value.endswith("*")
            if wildcard:
                value = value[:-1]
        return ("term", field, op, value, wildcard)


def parse(q):
    return Parser(tokenize(q or "")).parse()


def _cmp(a, op, b):
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    return a == b


def _value_matches(candidate, op, value, wildcard):
    if candidate is None:
        return False
    if isinstance(candidate, (int, float)) and not isinstance(candidate, bool):
        try:
            return _cmp(candidate, op, float(value))
        except ValueError:
            return False
    c = str(candidate)
    if op != "=":
        # times compare as instants, anything else as text
        try:
            return _cmp(parse_iso(c), op, parse_iso(value))
        except ValueError:
            return _cmp(c.lower(), op, value.lower())
    if value == "" and wildcard:  # field:*  means "has a value"
        return c != ""
    if wildcard:
        return c.lower().startswith(value.lower())
    return c.lower() == value.lower()


class Resource:
    def __init__(self, fields, default, multi=None, negated=None, text=None):
        self.fields = fields
        # tokenized fields: a value matches a whole word (or the whole text)
        self.text = set(text or ())
        self.default = default
        # fields whose value is a comma-separated list of alternatives
        self.multi = set(multi or ())
        # fields that mean "no value of that other field matches" (tag_not -> tag)
        self.negated = dict(negated or {})

    def matches(self, record, tree):
        if tree is None:
            return True
        kind = tree[0]
        if kind == "and":
            return self.matches(record, tree[1]) and self.matches(record, tree[2])
        if kind == "or":
            return self.matches(record, tree[1]) or self.matches(record, tree[2])
        if kind == "not":
            return not self.matches(record, tree[1])
        _, field, op, value, wildcard = tree
        if field is None:
            words = [w for w in self.default(record) if w]
            v = value.lower()
            return any(v in str(w).lower() for w in words)
        if field in self.negated:
            return not self.matches(record, ("term", self.negated[field], op, value, wildcard))
        getter = self.fields.get(field)
        if getter is None:
            return False
        cands = getter(record)
        values = [value]
        if field in self.multi and op == "=" and "," in value:
            values = [x.strip() for x in value.split(",")]
        if field in self.text and op == "=":
            cands = [w for c in cands if c for w in [c] + re.split(r"[\W_]+", str(c)) if w]
        return any(_value_matches(c, op, v, wildcard) for c in cands for v in values)


def filter_records(records, resource, query):
    if not query:
        return list(records)
    tree = parse(query)
    return [r for r in records if resource.matches(r, tree)]
