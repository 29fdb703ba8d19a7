"""The qbposXML 3.0 message spec, read from Intuit's ops file.

shared/reference/qbpos/qbposxmlops30.xml is "Sample data for dtd: qbposxml30.dtd": every request and
response element in DTD order, one element per line, with its rules in trailing comments
("opt", "may rep", "rep (1 or more)", "field max = N", "vX.Y", "may be macro value"), enum lists
in the comment line above an element, and choice groups bracketed by "BEGIN OR: You may
[optionally] have A OR B" ... "OR" ... "END OR" comment lines (reference qbpos.md §4 legend).

This module turns that file into content models (sequence of particles and choice groups, per
element in its parent's context, since the same name has different children in different places:
ShippingInformation under SalesReceiptAdd vs under SalesReceiptRet) and checks request documents
against them the way a DTD-validating parser does: a deterministic (1-unambiguous) model, so a
greedy left-to-right match is exact.
"""

import os
import re

import common  # noqa: E402  (tests/emulators is on the path)

HERE = os.path.dirname(os.path.abspath(__file__))


def _find_ops_file():
    env = os.environ.get("POSBRIDGE_QBPOS_OPS_FILE")
    if env:
        return env
    return common.reference_path("qbpos", "qbposxmlops30.xml")


OPS_FILE = _find_ops_file()

# Versions of the spec a request may name in <?qbposxml version="X"?>. Elements annotated vX.Y
# exist only from that version on (ops file header: the PI "is the version of the qbposXML spec
# to be used for validation purposes").
KNOWN_VERSIONS = ("1.0", "1.1", "1.2", "2.0", "2.5", "3.0")

_LEAF = re.compile(r"^\s*<(\w+)((?:\s+\w+\s*=\s*\"[^\"]*\")*)\s*>([^<]*)</\1>\s*(?:<!--(.*?)-->)?\s*$")
_OPEN = re.compile(r"^\s*<(\w+)((?:\s+\w+\s*=\s*\"[^\"]*\")*)\s*>\s*(?:<!--(.*?)-->)?\s*$")
_CLOSE = re.compile(r"^\s*</(\w+)>\s*$")
_COMMENT = re.compile(r"^\s*<!--(.*?)-->\s*$")
_ATTR = re.compile(r"(\w+)\s*=\s*\"([^\"]*)\"")
_ENUM = re.compile(r"^\s*(\w+) may have one of the following values:\s*(.*?)\s*$")
_ATTR_RULE = re.compile(r"^\s*'(\w+)' is (optional|required)(?: and (?:may|must) have one of the following "
                        r"values:\s*(.*?))?\s*$")
_VERSION = re.compile(r"\bv(\d+\.\d+)\b")
_MAXLEN = re.compile(r"field max = (\d+)")


def _version_key(v):
    a, b = v.split(".")
    return (int(a), int(b))


class Node:
    """One element definition in its parent's context."""

    __slots__ = ("name", "type", "min", "max", "maxlen", "version", "macro", "enum", "attrs", "model",
                 "parent", "line")

    def __init__(self, name, parent=None, line=0):
        self.name = name
        self.type = None          # leaf type (IDTYPE, STRTYPE, AMTTYPE, ...) or None for aggregates
        self.min = 1
        self.max = 1              # None = unbounded
        self.maxlen = None
        self.version = None       # "2.0" etc.
        self.macro = False        # "may be macro value": may carry useMacro
        self.enum = None          # list of allowed values (leaf) or None
        self.attrs = {}           # name -> {"required": bool, "enum": [..] or None, "default": str}
        self.model = []           # list of Node | Choice
        self.parent = parent
        self.line = line

    @property
    def is_leaf(self):
        return self.type is not None

    def children(self):
        """Every child definition (flattening choices), in schema order."""
        out = []
        for item in self.model:
            if isinstance(item, Choice):
                for alt in item.alts:
                    out.extend(alt)
            else:
                out.append(item)
        return out

    def child(self, name):
        for c in self.children():
            if c.name == name:
                return c
        return None

    def __repr__(self):
        return "<Node %s %s>" % (self.name, self.type or "aggregate")


class Choice:
    """BEGIN OR ... END OR: exactly one alternative (a sequence), or none when optional."""

    __slots__ = ("optional", "alts", "version")

    def __init__(self, optional, version=None):
        self.optional = optional
        self.alts = [[]]
        self.version = version


def _apply_flags(node, comment):
    c = comment or ""
    parts = [p.strip() for p in c.split(",")]
    if "opt" in parts:
        node.min = 0
    if "may rep" in parts:
        node.max = None
    if any(p.startswith("rep (") for p in parts):
        node.min, node.max = 1, None
    m = _MAXLEN.search(c)
    if m:
        node.maxlen = int(m.group(1))
    m = _VERSION.search(c)
    if m:
        node.version = m.group(1)
    if "may be macro value" in c:
        node.macro = True


class Spec:
    def __init__(self, path=OPS_FILE):
        self.path = path
        self.requests = {}    # "ItemInventoryQueryRq" -> Node
        self.responses = {}   # "ItemInventoryQueryRs" -> Node
        self.msgs_rq = None
        self._parse(path)

    def _parse(self, path):
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        root = Node("#document")
        stack = [root]
        choice_stack = []     # (owner node, Choice)
        pending_enum = {}     # element name -> values (from the comment line above it)
        pending_attrs = {}    # attr name -> rule

        def container():
            return stack[-1]

        def add(node):
            if choice_stack and choice_stack[-1][0] is container():
                ch = choice_stack[-1][1]
                if ch.version and not node.version:
                    node.version = ch.version
                # members of a choice: required within their alternative unless marked opt
                ch.alts[-1].append(node)
            else:
                container().model.append(node)

        def take_attrs(node, attr_text):
            for aname, _ in _ATTR.findall(attr_text or ""):
                rule = pending_attrs.pop(aname, None) or {"required": False, "enum": None, "default": None}
                node.attrs[aname] = rule
            pending_attrs.clear()

        for no, raw in enumerate(lines, 1):
            line = raw.rstrip("\r")
            if not line.strip() or line.lstrip().startswith("<?"):
                continue
            m = _LEAF.match(line)
            if m:
                node = Node(m.group(1), container(), no)
                node.type = m.group(3).strip()
                _apply_flags(node, m.group(4))
                if node.name in pending_enum:
                    node.enum = pending_enum.pop(node.name)
                take_attrs(node, m.group(2))
                add(node)
                continue
            m = _OPEN.match(line)
            if m:
                node = Node(m.group(1), container(), no)
                _apply_flags(node, m.group(3))
                take_attrs(node, m.group(2))
                add(node)
                stack.append(node)
                continue
            m = _CLOSE.match(line)
            if m:
                if stack[-1].name != m.group(1):
                    raise ValueError("%s:%d: unbalanced </%s>" % (path, no, m.group(1)))
                stack.pop()
                continue
            m = _COMMENT.match(line)
            if not m:
                raise ValueError("%s:%d: unexpected line %r" % (path, no, line))
            text = m.group(1).strip()
            if "BEGIN OR" in text:
                vm = _VERSION.search(text.split("BEGIN OR")[0])
                choice_stack.append((container(), Choice("optionally" in text, vm.group(1) if vm else None)))
            elif text == "OR" and choice_stack:
                choice_stack[-1][1].alts.append([])
            elif text == "END OR" and choice_stack:
                owner, ch = choice_stack.pop()
                owner.model.append(ch)
            else:
                em = _ENUM.match(text)
                if em and "'" not in text:
                    pending_enum[em.group(1)] = [v.strip() for v in em.group(2).split(",") if v.strip()]
                    continue
                am = _ATTR_RULE.match(text)
                if am:
                    enum = None
                    default = None
                    if am.group(3):
                        enum = []
                        for v in am.group(3).split(","):
                            v = v.strip()
                            if v.endswith("[DEFAULT]"):
                                v = v[: -len("[DEFAULT]")]
                                default = v
                            enum.append(v)
                    pending_attrs[am.group(1)] = {"required": am.group(2) == "required", "enum": enum,
                                                  "default": default}
        qbposxml = root.child("QBPOSXML")
        self.msgs_rq = qbposxml.child("QBPOSXMLMsgsRq")
        for n in self.msgs_rq.children():
            self.requests[n.name] = n
        for n in qbposxml.child("QBPOSXMLMsgsRs").children():
            self.responses[n.name] = n

    # ------------------------------------------------------------------ lookups
    def ret_node(self, rs_name, ret_name):
        rs = self.responses.get(rs_name)
        return rs.child(ret_name) if rs else None


class SpecError(Exception):
    """A document that does not fit the DTD: the request processor refuses the whole message set."""

    def __init__(self, detail, line=None):
        super().__init__(detail)
        self.detail = detail
        self.line = line


def _names(nodes):
    return ", ".join(n.name for n in nodes)


def _first_names(item):
    if isinstance(item, Choice):
        return [alt[0] for alt in item.alts if alt]
    return [item]


def _allowed(node, version):
    return node.version is None or _version_key(node.version) <= _version_key(version)


def validate_element(elem, node, version, path=""):
    """Check one element (xml.etree Element) against its definition; raise SpecError.

    Checks, as a validating parser would against qbposxml30.dtd: attributes (known, required, enum
    for attributes), child order and count per the content model, unknown children, required
    children, choices, elements newer than the requested spec version, and that leaves have
    no element children. Values of leaves are checked later, per request (status codes).
    """
    where = (path + "/" + node.name) if path else node.name
    line = getattr(elem, "sourceline", None)
    for aname, value in elem.attrib.items():
        rule = node.attrs.get(aname)
        if aname == "useMacro" and node.macro:
            continue
        if rule is None:
            raise SpecError("Attribute '%s' on element '%s' is not defined in the DTD/Schema." % (aname, where))
        if rule["enum"] and value not in rule["enum"]:
            raise SpecError("Value '%s' of attribute '%s' on element '%s' is not one of: %s."
                            % (value, aname, where, ", ".join(rule["enum"])))
    for aname, rule in node.attrs.items():
        if rule["required"] and aname not in elem.attrib:
            raise SpecError("Required attribute '%s' is missing on element '%s'." % (aname, where))
    kids = list(elem)
    if node.is_leaf:
        if kids:
            raise SpecError("Element '%s' is a field and cannot contain element '%s'." % (where, kids[0].tag))
        return
    i = 0

    def expect_text(items):
        names = []
        for it in items:
            names.extend(n.name for n in _first_names(it) if _allowed(n, version))
        return ", ".join(names)

    def match_particle(p, i):
        count = 0
        while i < len(kids) and kids[i].tag == p.name and (p.max is None or count < p.max):
            if not _allowed(p, version):
                raise SpecError("Element '%s' is not defined in qbposXML %s (added in v%s)."
                                % (where + "/" + p.name, version, p.version))
            validate_element(kids[i], p, version, where)
            count += 1
            i += 1
        if count < p.min:
            got = kids[i].tag if i < len(kids) else None
            raise SpecError("Element content of '%s' is invalid according to the DTD/Schema. Expecting: %s%s."
                            % (where, p.name, ("; found: %s" % got) if got else "; found the end of the element"))
        return i

    for idx, item in enumerate(node.model):
        if isinstance(item, Choice):
            nxt = kids[i].tag if i < len(kids) else None
            chosen = None
            for alt in item.alts:
                if alt and alt[0].name == nxt:
                    chosen = alt
                    break
            if chosen is None:
                # an alternative whose first member is optional may still match later members
                for alt in item.alts:
                    if alt and any(n.name == nxt for n in alt):
                        chosen = alt
                        break
            if chosen is None:
                if not item.optional:
                    raise SpecError("Element content of '%s' is invalid according to the DTD/Schema. Expecting "
                                    "one of: %s; found: %s." % (where, _names([a[0] for a in item.alts if a]),
                                                                nxt or "the end of the element"))
                continue
            for p in chosen:
                i = match_particle(p, i)
        else:
            i = match_particle(item, i)
    if i < len(kids):
        extra = kids[i].tag
        known = [n for n in node.children() if n.name == extra]
        if known:
            raise SpecError("Element content of '%s' is invalid according to the DTD/Schema: element '%s' is "
                            "out of order (the DTD puts it before the elements already seen)." % (where, extra))
        raise SpecError("Element '%s' is unexpected according to the DTD/Schema of '%s'. Expecting: %s."
                        % (extra, where, expect_text(node.model) or "no more elements"))


_SPEC = None


def get_spec():
    global _SPEC
    if _SPEC is None:
        _SPEC = Spec()
    return _SPEC
