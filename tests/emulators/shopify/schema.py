"""The Admin GraphQL schema the emulator validates against, per API version.

The stored introspection results (shared/reference/platforms/shopify/
admin-graphql-schema/, see SOURCES.md there) are 2024-10 and 2025-01. Newer
versions are 2025-01 plus the blocks of schema_ext.graphql whose "@since"
version is not newer than the served version. Versions older than 2025-01 use
the 2024-10 file. Schemas are built lazily and cached (about 1.5 s each).
"""

import copy
import gzip
import json
import os
import re
import threading

from graphql import build_client_schema, extend_schema, parse

import common  # noqa: E402  (tests/emulators is on the path)

HERE = os.path.dirname(os.path.abspath(__file__))


def _find_reference_dir():
    env = os.environ.get("POSBRIDGE_SHOPIFY_SCHEMA_DIR")
    if env:
        return env
    return common.reference_path("platforms", "shopify", "admin-graphql-schema")


SCHEMA_DIR = _find_reference_dir()
EXT_FILE = os.path.join(HERE, "schema_ext.graphql")

VERSION_RE = re.compile(r"^(\d{4})-(01|04|07|10)$")


def version_key(v):
    """Sort key; "unstable" sorts after every stable version."""
    if v == "unstable":
        return (9999, 99)
    m = VERSION_RE.match(v)
    if not m:
        raise ValueError("not an API version: %r" % v)
    return (int(m.group(1)), int(m.group(2)))


def quarterly(first, last):
    out = []
    y, m = version_key(first)
    ly, lm = version_key(last)
    while (y, m) <= (ly, lm):
        out.append("%04d-%02d" % (y, m))
        m += 3
        if m > 10:
            y, m = y + 1, 1
    return out


class Versions:
    """Which versions are served, and the fall-forward rule.

    oldest: the oldest supported stable version; a request for an older, an
    unknown or a malformed version is answered by it (Shopify "falls forward"
    to the oldest supported stable version, reference §0 item 2).
    latest: the newest stable version. "unstable" is always served.
    """

    def __init__(self, oldest, latest):
        version_key(oldest)
        version_key(latest)
        if version_key(oldest) > version_key(latest):
            raise ValueError("oldest supported version is newer than the latest")
        self.oldest = oldest
        self.latest = latest
        self.supported = quarterly(oldest, latest) + ["unstable"]

    def serve(self, requested):
        """The version that answers a request for `requested` (None: no version in the URL)."""
        if requested in self.supported:
            return requested
        return self.oldest


def at_least(version, since):
    return version_key(version) >= version_key(since)


def _parse_ext():
    """[(since, [removals], sdl_text)] from schema_ext.graphql."""
    blocks = []
    cur = None
    with open(EXT_FILE, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^#\s*@since\s+(\S+)", line)
            if m:
                cur = [m.group(1), [], []]
                blocks.append(cur)
                continue
            if cur is None:
                continue
            m = re.match(r"^#\s*@remove\s+(\w+)\.(\w+)", line)
            if m:
                cur[1].append((m.group(1), m.group(2)))
                continue
            cur[2].append(line)
    return [(s, r, "".join(t)) for s, r, t in blocks]


class SchemaCache:
    def __init__(self):
        self._lock = threading.Lock()
        self._raw = {}
        self._built = {}
        self._ext = _parse_ext()

    def _load_raw(self, base):
        if base not in self._raw:
            path = os.path.join(SCHEMA_DIR, "admin_schema_%s.json.gz" % base)
            with gzip.open(path, "rt", encoding="utf-8") as f:
                self._raw[base] = json.load(f)["data"]
        return self._raw[base]

    def blocks_for(self, version):
        return [b for b in self._ext if at_least(version, b[0])]

    def base_for(self, version):
        return "2024-10" if version_key(version) < version_key("2025-01") else "2025-01"

    def key_for(self, version):
        return (self.base_for(version), tuple(b[0] for b in self.blocks_for(version)))

    def warm(self, versions):
        """Build the schemas of `versions` (one per distinct schema)."""
        seen = set()
        for v in versions:
            k = self.key_for(v)
            if k not in seen:
                seen.add(k)
                self.get(v)

    def get(self, version):
        base = self.base_for(version)
        blocks = self.blocks_for(version)
        key = (base, tuple(b[0] for b in blocks))
        with self._lock:
            if key in self._built:
                return self._built[key]
            raw = self._load_raw(base)
            removals = [r for b in blocks for r in b[1]]
            if removals:
                raw = dict(raw)
                schema_part = dict(raw["__schema"])
                types = list(schema_part["types"])
                for i, t in enumerate(types):
                    drop = {f for (tn, f) in removals if tn == t["name"]}
                    if drop:
                        t = copy.copy(t)
                        for k in ("fields", "inputFields"):
                            if t.get(k):
                                t[k] = [x for x in t[k] if x["name"] not in drop]
                        types[i] = t
                schema_part["types"] = types
                raw["__schema"] = schema_part
            schema = build_client_schema(raw)
            sdl = "\n".join(b[2] for b in blocks if b[2].strip() and re.search(r"^[^#\s]", b[2], re.M))
            if sdl.strip():
                schema = extend_schema(schema, parse(sdl))
            self._built[key] = schema
            return schema


SCHEMAS = SchemaCache()
