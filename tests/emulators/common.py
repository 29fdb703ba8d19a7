"""Shared harness for the posbridge test emulators.

Every platform emulator (Shopify, BigCommerce, WooCommerce, Magento, QBPOS) is a
ThreadingHTTPServer bound to 127.0.0.1 built from the pieces here:

- command line: --port (0 = pick a free one), --port-file (written atomically
  once listening), --state-file (JSON persisted across restarts), --log-file
  (request log as JSONL), --clock-scale (time-based limits run K times faster);
- a request log with secrets redacted (headers, JSON/form body keys and any
  registered secret value);
- fault injection: POST /__emulator/faults {"rules":[...]} makes the next N
  matching requests answer a status, wait, or lose their connection;
- control endpoints: GET /__emulator/state, GET /__emulator/requests,
  POST /__emulator/reset, POST /__emulator/seed, POST /__emulator/clock,
  GET|POST|DELETE /__emulator/faults, POST /__emulator/config;
- gzip answers when the client sends Accept-Encoding: gzip;
- a scaled virtual clock shared by the platform logic.

A platform subclasses Platform and implements handle(); see shopify/server.py.
Standard library only.
"""

import argparse
import datetime as _dt
import gzip
import http.server
import io
import json
import os
import re
import socket
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid

CONTROL_PREFIX = "/__emulator/"

# Header names whose values never reach a log line (compared lowercased).
SECRET_HEADERS = {
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-shopify-access-token",
    "x-auth-token",
    "x-auth-client",
    "x-api-key",
    "x-wc-webhook-signature",
}

# Body keys (JSON or form) whose values are redacted, compared lowercased.
SECRET_KEYS = {
    "password",
    "passwd",
    "client_secret",
    "access_token",
    "refresh_token",
    "token",
    "api_key",
    "consumer_key",
    "consumer_secret",
    "secret",
    "authorization",
}

REDACTED = "***"


def reference_path(*parts):
    """A file or folder of the reference data the emulators check requests against:
    the copies in tests/emulators/specs first, then ../shared beside the repository."""
    root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    bases = (os.path.join(root, "tests", "emulators", "specs"), os.path.join(root, "..", "shared"),
             os.path.join(root, "shared"))
    for base in bases:
        path = os.path.join(base, "reference", *parts)
        if os.path.exists(path):
            return os.path.abspath(path)
    return os.path.abspath(os.path.join(bases[0], "reference", *parts))


# --------------------------------------------------------------------------
# Clock


class Clock:
    """A virtual wall clock that runs `scale` times faster than real time.

    now() is seconds since the epoch (float). Time-based limits (leaky buckets,
    token expiry) must use this clock so --clock-scale speeds them all up.
    advance() moves the clock forward without waiting (tests, benchmarks).
    """

    def __init__(self, scale=1.0, start=None):
        if scale <= 0:
            raise ValueError("clock scale must be positive")
        self.scale = float(scale)
        self._lock = threading.Lock()
        self._mono0 = time.monotonic()
        self._wall0 = time.time() if start is None else float(start)
        self._offset = 0.0

    def now(self):
        with self._lock:
            return self._wall0 + (time.monotonic() - self._mono0) * self.scale + self._offset

    def advance(self, seconds):
        with self._lock:
            self._offset += float(seconds)

    def real_seconds(self, virtual_seconds):
        """How long to really wait for `virtual_seconds` of virtual time."""
        return float(virtual_seconds) / self.scale

    def iso(self, t=None):
        """UTC ISO-8601 with a Z and whole seconds, as Shopify prints times."""
        if t is None:
            t = self.now()
        return _dt.datetime.fromtimestamp(int(t), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    """Parse an ISO-8601 timestamp (with Z or offset) to epoch seconds."""
    s = text.strip()
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    if len(s) == 10:  # a date only
        s += "T00:00:00+00:00"
    d = _dt.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.timezone.utc)
    return d.timestamp()


# --------------------------------------------------------------------------
# Redaction and the request log


class Redactor:
    def __init__(self):
        self._values = set()

    def add_secret(self, value):
        if value:
            self._values.add(str(value))

    def text(self, s):
        if not s:
            return s
        for v in sorted(self._values, key=len, reverse=True):
            s = s.replace(v, REDACTED)
        return s

    def query(self, query):
        """Redact secret parameters of a query string (WooCommerce and OAuth 1.0a put
        credentials there: consumer_key, consumer_secret, oauth_signature...)."""
        if not query:
            return query
        parts = []
        for part in query.split("&"):
            name, eq, value = part.partition("=")
            key = urllib.parse.unquote_plus(name).lower()
            if eq and (key in SECRET_KEYS or key in ("oauth_signature", "oauth_token",
                                                     "oauth_consumer_key")):
                value = REDACTED
            parts.append(name + eq + self.text(value))
        return "&".join(parts)

    def headers(self, headers):
        out = {}
        for k, v in headers.items():
            out[k] = REDACTED if k.lower() in SECRET_HEADERS else self.text(v)
        return out

    def _walk(self, value):
        if isinstance(value, dict):
            return {
                k: (REDACTED if isinstance(k, str) and k.lower() in SECRET_KEYS else self._walk(v))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def body(self, raw, content_type=""):
        """Redact a request body for the log; returns text."""
        if not raw:
            return ""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return "<%d bytes of binary>" % len(raw)
        ct = (content_type or "").lower()
        if "json" in ct or text[:1] in "{[":
            try:
                return json.dumps(self._walk(json.loads(text)), ensure_ascii=False)
            except ValueError:
                pass
        if "x-www-form-urlencoded" in ct:
            pairs = urllib.parse.parse_qsl(text, keep_blank_values=True)
            pairs = [(k, REDACTED if k.lower() in SECRET_KEYS else self.text(v)) for k, v in pairs]
            return urllib.parse.urlencode(pairs)
        return self.text(text)


class RequestLog:
    """In-memory request log (bounded) plus an optional JSONL file."""

    def __init__(self, path=None, limit=20000):
        self._lock = threading.Lock()
        self._entries = []
        self._seq = 0
        self._limit = limit
        self._file = open(path, "a", encoding="utf-8") if path else None

    def add(self, entry):
        with self._lock:
            self._seq += 1
            entry = dict(entry, seq=self._seq)
            self._entries.append(entry)
            if len(self._entries) > self._limit:
                del self._entries[: len(self._entries) - self._limit]
            if self._file:
                self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self._file.flush()
            return self._seq

    def entries(self, since=0):
        with self._lock:
            return [e for e in self._entries if e["seq"] > since]

    def clear(self):
        with self._lock:
            self._entries = []


# --------------------------------------------------------------------------
# Fault injection


class FaultRegistry:
    """Ordered fault rules; each applies to the next `count` matching requests.

    Rule keys (all optional):
      match     substring of "METHOD path?query", or "op:NAME" to match the
                platform's operation label (GraphQL operation name or root field)
      method    exact HTTP method
      skip      let this many matching requests through first
      count     how many requests the rule applies to (default 1; 0 = forever)
      status    answer this HTTP status without running the request
      body      answer body (JSON value or string); default: platform's body
      headers   extra response headers
      retry_after  value of a Retry-After header (default "2.0" for 429)
      delay_ms  wait this long (virtual ms, see --clock-scale) before answering
      drop      true: close the connection without an answer, request not run;
                "after": run the request, then close without an answer
    """

    KEYS = {"match", "method", "skip", "count", "status", "body", "headers", "retry_after",
            "delay_ms", "drop"}

    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []

    @classmethod
    def check(cls, rule):
        if not isinstance(rule, dict):
            raise ValueError("a rule must be an object")
        unknown = set(rule) - cls.KEYS
        if unknown:
            raise ValueError("unknown rule keys: %s" % ", ".join(sorted(unknown)))
        if not any(k in rule for k in ("status", "delay_ms", "drop")):
            raise ValueError("a rule needs status, delay_ms or drop")
        if "drop" in rule and rule["drop"] not in (True, False, "after"):
            raise ValueError('drop must be true, false or "after"')
        for k in ("skip", "count", "status", "delay_ms"):
            if k in rule and (not isinstance(rule[k], int) or isinstance(rule[k], bool) or rule[k] < 0):
                raise ValueError("%s must be a non-negative integer" % k)

    def add(self, rules, replace=False):
        for r in rules:
            self.check(r)
        with self._lock:
            if replace:
                self._rules = []
            for r in rules:
                r = dict(r)
                r.setdefault("count", 1)
                r["_left"] = r["count"] if r["count"] > 0 else None
                r["_skip"] = r.get("skip", 0)
                r["_hits"] = 0
                self._rules.append(r)

    def clear(self):
        with self._lock:
            self._rules = []

    def rules(self):
        with self._lock:
            return [
                {k: v for k, v in r.items() if not k.startswith("_")}
                | {"remaining": r["_left"], "applied": r["_hits"]}
                for r in self._rules
            ]

    def take(self, method, target, op_label):
        """Return the first rule that applies to this request, consuming it."""
        with self._lock:
            for r in self._rules:
                if r["_left"] == 0:
                    continue
                if "method" in r and r["method"].upper() != method.upper():
                    continue
                m = r.get("match")
                if m:
                    if m.startswith("op:"):
                        if not op_label or m[3:] != op_label:
                            continue
                    elif m not in "%s %s" % (method, target):
                        continue
                if r["_skip"] > 0:
                    r["_skip"] -= 1
                    continue
                if r["_left"] is not None:
                    r["_left"] -= 1
                r["_hits"] += 1
                return {k: v for k, v in r.items() if not k.startswith("_")}
        return None


# --------------------------------------------------------------------------
# Requests, responses, platform interface


class Request:
    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path
        self.query_string = query
        self.query = urllib.parse.parse_qs(query, keep_blank_values=True)
        self.headers = headers  # dict with original case keys
        self._lower = {k.lower(): v for k, v in headers.items()}
        self.body = body

    def header(self, name, default=None):
        return self._lower.get(name.lower(), default)

    def json(self):
        return json.loads(self.body.decode("utf-8")) if self.body else None


class Response:
    def __init__(self, status=200, body=b"", headers=None, content_type="application/json; charset=utf-8"):
        self.status = status
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        elif isinstance(body, str):
            body = body.encode("utf-8")
        self.body = body
        self.headers = dict(headers or {})
        if content_type and "Content-Type" not in self.headers:
            self.headers["Content-Type"] = content_type
        # set by the platform: what the log should call this request
        self.op_label = None


def json_response(value, status=200, headers=None):
    return Response(status, value, headers)


class Platform:
    """What a platform emulator implements. The harness owns HTTP, the log,
    faults, the clock and state persistence; the platform owns the API."""

    name = "platform"

    def __init__(self, args, clock):
        self.args = args
        self.clock = clock
        self.lock = threading.RLock()  # serialises state changes

    # -- API ---------------------------------------------------------------
    def handle(self, request):  # -> Response
        raise NotImplementedError

    def op_label(self, request):
        """A short label for fault matching ("op:...") and the log."""
        return None

    def fault_response(self, status, request):
        """Body/headers for an injected status when the rule gives no body."""
        return Response(status, {"errors": http.HTTPStatus(status).phrase if status in
                                 http.HTTPStatus._value2member_map_ else "Error"})

    # -- state -------------------------------------------------------------
    def state_dump(self):
        """Everything a test may inspect (GET /__emulator/state)."""
        return {}

    def persist_dump(self):
        """What --state-file saves; defaults to state_dump()."""
        return self.state_dump()

    def persist_load(self, data):
        pass

    def reset(self):
        pass

    def seed(self, data):
        pass

    def configure(self, data):
        """POST /__emulator/config; returns the effective config."""
        raise ValueError("this emulator has no runtime config")

    def secrets(self):
        """Values that must never appear in a log line."""
        return []


# --------------------------------------------------------------------------
# Server


def atomic_write(path, data):
    d = os.path.dirname(os.path.abspath(path)) or "."
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class DropConnection(Exception):
    """Close the socket without writing an answer."""


class EmulatorServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, platform, args, clock, log, faults, redactor):
        self.platform = platform
        self.args = args
        self.clock = clock
        self.log = log
        self.faults = faults
        self.redactor = redactor
        self._save_lock = threading.Lock()
        super().__init__((getattr(args, "host", "127.0.0.1"), args.port), Handler)

    @property
    def port(self):
        return self.server_address[1]

    def save_state(self):
        if not self.args.state_file:
            return
        with self._save_lock:
            with self.platform.lock:
                data = json.dumps(self.platform.persist_dump(), ensure_ascii=False, indent=1,
                                  sort_keys=True).encode("utf-8")
            atomic_write(self.args.state_file, data)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "posbridge-emulator"
    sys_version = ""

    def version_string(self):
        return self.server_version

    def setup(self):
        super().setup()
        # The status line and headers go in one write and the body in another: without
        # TCP_NODELAY, Nagle's algorithm holds the body back until the client's delayed ACK
        # (about 40 ms on Linux), a stall no real store adds to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def parse_request(self):
        # A request's service time starts once its request line is in: parsing the headers,
        # reading the body, handling it and encoding the answer are all the store's time.
        self._started = time.monotonic()
        return super().parse_request()

    def log_message(self, fmt, *args):  # the request log replaces stderr noise
        if getattr(self.server.args, "verbose", False):
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    # Every method goes through one path.
    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            body = b"".join(chunks)
        else:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n > 0 else b""
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip" and body:
            body = gzip.decompress(body)
        return body

    def _dispatch(self):
        srv = self.server
        started = getattr(self, "_started", None) or time.monotonic()
        split = urllib.parse.urlsplit(self.path)
        body = self._read_body()
        headers = {k: v for k, v in self.headers.items()}
        req = Request(self.command, split.path, split.query, headers, body)
        entry = {
            "time": srv.clock.iso(),
            "method": self.command,
            "path": split.path,
            "query": srv.redactor.query(split.query),
            "headers": srv.redactor.headers(headers),
            "body": srv.redactor.body(body, headers.get("Content-Type", "")),
        }
        try:
            if split.path.startswith(CONTROL_PREFIX):
                resp = self._control(req)
                entry["control"] = True
            else:
                resp = self._api(req, entry)
        except DropConnection:
            entry["status"] = None
            entry["dropped"] = True
            entry["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
            if not split.path.startswith(CONTROL_PREFIX):
                srv.log.add(entry)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        except Exception as e:  # an emulator bug: answer 500 and say why
            traceback.print_exc()
            resp = Response(500, {"errors": "emulator internal error: %s" % e})
        entry["status"] = resp.status
        entry["response_bytes"] = len(resp.body or b"")
        body, headers = self._encode(resp)
        entry["started"] = round(started, 6)  # monotonic seconds: overlaps can be merged
        entry["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        if not entry.get("control"):
            srv.log.add(entry)
        self._write(resp, body, headers)

    def _api(self, req, entry):
        srv = self.server
        plat = srv.platform
        label = None
        try:
            label = plat.op_label(req)
        except Exception:
            label = None
        if label:
            entry["operation"] = label
        rule = srv.faults.take(req.method, req.path + ("?" + req.query_string if req.query_string else ""),
                               label)
        if rule:
            entry["fault"] = rule
            if rule.get("delay_ms"):
                time.sleep(srv.clock.real_seconds(rule["delay_ms"] / 1000.0))
            if rule.get("drop") is True:
                raise DropConnection()
            if rule.get("status"):
                if "body" in rule:
                    resp = Response(rule["status"], rule["body"])
                else:
                    resp = plat.fault_response(rule["status"], req)
                if rule["status"] == 429 or "retry_after" in rule:
                    resp.headers["Retry-After"] = str(rule.get("retry_after", "2.0"))
                resp.headers.update(rule.get("headers") or {})
                return resp
        resp = plat.handle(req)
        if resp.op_label:
            entry["operation"] = resp.op_label
        if getattr(resp, "state_changed", False):
            srv.save_state()
        if rule and rule.get("drop") == "after":
            raise DropConnection()
        return resp

    def _control(self, req):
        srv = self.server
        plat = srv.platform
        name = req.path[len(CONTROL_PREFIX):].strip("/")
        try:
            data = req.json() if req.body else None
        except ValueError:
            return Response(400, {"error": "body is not JSON"})
        try:
            if name == "state" and req.method == "GET":
                with plat.lock:
                    return Response(200, plat.state_dump())
            if name == "requests" and req.method == "GET":
                since = int((req.query.get("since") or ["0"])[0])
                return Response(200, {"requests": srv.log.entries(since)})
            if name == "requests" and req.method == "DELETE":
                srv.log.clear()
                return Response(200, {"ok": True})
            if name == "faults":
                if req.method == "GET":
                    return Response(200, {"rules": srv.faults.rules()})
                if req.method == "DELETE":
                    srv.faults.clear()
                    return Response(200, {"rules": []})
                if req.method == "POST":
                    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
                        return Response(400, {"error": 'expected {"rules":[...]}'})
                    srv.faults.add(data["rules"], replace=bool(data.get("replace")))
                    return Response(200, {"rules": srv.faults.rules()})
            if name == "reset" and req.method == "POST":
                with plat.lock:
                    plat.reset()
                srv.faults.clear()
                srv.log.clear()
                srv.save_state()
                return Response(200, {"ok": True})
            if name == "seed" and req.method == "POST":
                with plat.lock:
                    result = plat.seed(data or {})
                srv.save_state()
                return Response(200, result if result is not None else {"ok": True})
            if name == "clock":
                if req.method == "POST":
                    srv.clock.advance(float((data or {}).get("advance_ms", 0)) / 1000.0)
                return Response(200, {"now": srv.clock.iso(), "epoch": srv.clock.now(),
                                      "scale": srv.clock.scale})
            if name == "config" and req.method == "POST":
                with plat.lock:
                    return Response(200, plat.configure(data or {}))
        except ValueError as e:
            return Response(400, {"error": str(e)})
        return Response(404, {"error": "unknown control endpoint %s %s" % (req.method, req.path)})

    def _encode(self, resp):
        body = resp.body or b""
        headers = dict(resp.headers)
        accept = (self.headers.get("Accept-Encoding") or "").lower()
        if body and re.search(r"\bgzip\b", accept):
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
                gz.write(body)
            body = buf.getvalue()
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        return body, headers

    def _write(self, resp, body=None, headers=None):
        if body is None:
            body, headers = self._encode(resp)
        self.send_response(resp.status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


# --------------------------------------------------------------------------
# Command line and start-up


def base_arg_parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: pick a free port)")
    p.add_argument("--port-file", help="write the port here (atomically) once listening")
    p.add_argument("--state-file", help="load state from and save it to this JSON file")
    p.add_argument("--log-file", help="append the request log here as JSONL")
    p.add_argument("--clock-scale", type=float, default=1.0,
                   help="run time-based limits this many times faster (default 1)")
    p.add_argument("--start-time", help="virtual clock start, ISO-8601 UTC (default: now)")
    p.add_argument("--verbose", action="store_true", help="print each request on stderr")
    return p


class Emulator:
    """A started emulator: `with Emulator(...) as emu: emu.url`. Also used by
    main() for the command line."""

    def __init__(self, platform_cls, args):
        start = parse_iso(args.start_time) if getattr(args, "start_time", None) else None
        self.clock = Clock(args.clock_scale, start)
        self.platform = platform_cls(args, self.clock)
        self.redactor = Redactor()
        for s in self.platform.secrets():
            self.redactor.add_secret(s)
        self.log = RequestLog(args.log_file)
        self.faults = FaultRegistry()
        if args.state_file and os.path.exists(args.state_file):
            with open(args.state_file, encoding="utf-8") as f:
                self.platform.persist_load(json.load(f))
        self.server = EmulatorServer(self.platform, args, self.clock, self.log, self.faults, self.redactor)
        self.args = args
        self._thread = None

    @property
    def port(self):
        return self.server.port

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def write_port_file(self):
        if self.args.port_file:
            atomic_write(self.args.port_file, ("%d\n" % self.port).encode())

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever, name="emulator", daemon=True)
        self._thread.start()
        self.write_port_file()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.server.save_state()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(platform_cls, parser):
    import signal

    args = parser.parse_args()
    emu = Emulator(platform_cls, args)

    def stop(signum, frame):
        threading.Thread(target=emu.server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    emu.write_port_file()
    sys.stderr.write("%s emulator listening on %s\n" % (platform_cls.name, emu.url))
    sys.stderr.flush()
    try:
        emu.server.serve_forever()
    finally:
        emu.server.server_close()
        emu.server.save_state()
        if args.port_file:
            try:
                os.unlink(args.port_file)  # a stale port file must not outlive the server
            except OSError:
                pass
    return 0


def new_request_id():
    return str(uuid.uuid4())
