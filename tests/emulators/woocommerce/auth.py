"""WooCommerce REST API authentication (WC_REST_Authentication), as described in
shared/reference/platforms-woocommerce-magento.md §A2:

- over HTTPS (`--https-mode basic`: "pretend this is HTTPS"): HTTP Basic with
  consumer key / secret, or the `consumer_key` / `consumer_secret` query pair
  (which takes precedence); when that gives no user, OAuth is tried;
- over plain HTTP (`--https-mode oauth`): only OAuth 1.0a one-legged;
- OAuth: params from the query string, a form body and an
  `Authorization: OAuth ...` header; signature base string
  `METHOD & rawurlencode(home_url + path) & <params>`, params sorted by key
  (strcmp), each key and value RFC 3986 encoded, joined k=v, each pair encoded
  again, pairs joined with %26; key = consumer_secret + "&"; HMAC-SHA1 or
  HMAC-SHA256; timestamp within ±15 min; a nonce may not repeat within 15 min
  (stored per key and *timestamp*, as WooCommerce does);
- errors: 401 woocommerce_rest_authentication_error with the documented
  messages, woocommerce_rest_authentication_missing_parameter; a failed Basic
  login adds WWW-Authenticate.

A request that authenticates nobody is not an error here: it continues
unauthenticated and the route's permission check answers 401
woocommerce_rest_cannot_view / _create / ... (§A2 last paragraph).
"""

import base64
import hashlib
import hmac
import re
import urllib.parse

WINDOW = 15 * 60  # "oauth_timestamp must be within ±15 min of server time" (§A2)
OAUTH_PARAMS = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")
BASIC_REALM = ('Basic realm="WooCommerce API. Use a consumer key in the username field and a consumer secret '
               'in the password field."')


def wp_error(code, message, status, **data):
    d = {"status": status}
    d.update(data)
    return {"code": code, "message": message, "data": d}


def rfc3986(s):
    """wc_rest_urlencode_rfc3986 = rawurlencode."""
    return urllib.parse.quote(str(s), safe="-_.~")


def php_parse_str(qs):
    """PHP's $_GET / parse_str: '+' and %XX decoded, '.' and ' ' in the base
    key become '_', a[b]=1 / a[]=1 build nested arrays."""
    out = {}
    for part in qs.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        k = urllib.parse.unquote_plus(k)
        v = urllib.parse.unquote_plus(v)
        m = re.match(r"^([^\[]+)((?:\[[^\]]*\])*)$", k)
        if not m:
            base, subs = k, []
        else:
            base, subs = m.group(1), re.findall(r"\[([^\]]*)\]", m.group(2))
        base = base.replace(".", "_").replace(" ", "_")
        if not subs:
            out[base] = v
            continue
        node = out.setdefault(base, {})
        if not isinstance(node, dict):
            node = out[base] = {}
        for i, sub in enumerate(subs):
            last = i == len(subs) - 1
            if sub == "":
                sub = str(len(node))
            if last:
                node[sub] = v
            else:
                nxt = node.get(sub)
                if not isinstance(nxt, dict):
                    nxt = node[sub] = {}
                node = nxt
    return out


def parse_oauth_header(header):
    """WC_REST_Authentication::parse_header (only oauth_* keys, urldecoded)."""
    if not header or not header.startswith("OAuth "):
        return {}
    params = {}
    for m in re.finditer(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))', header):
        params[m.group(1)] = urllib.parse.unquote_plus(m.group(3) if m.group(3) else (m.group(4) or ""))
    return params


def _normalize(value):
    if isinstance(value, dict):
        return {rfc3986(k): _normalize(v) for k, v in value.items()}
    return rfc3986(value)


def _join(params, out, key=""):
    for k, v in params.items():
        if key:
            k = key + "%5B" + k + "%5D"
        if isinstance(v, dict):
            _join(v, out, k)
        else:
            out.append(rfc3986(k + "=" + v))
    return out


def signature_base_string(method, base_url, params):
    """The string WooCommerce signs (check_oauth_signature)."""
    params = {k: v for k, v in params.items() if k != "oauth_signature"}
    params = dict(sorted(params.items(), key=lambda kv: kv[0].encode("utf-8")))
    normalized = {rfc3986(k): _normalize(v) for k, v in params.items()}
    return method.upper() + "&" + rfc3986(base_url) + "&" + "%26".join(_join(normalized, []))


def sign(method, base_url, params, secret, algorithm="HMAC-SHA1"):
    """What a client computes (used by the tests)."""
    digest = hashlib.sha256 if algorithm == "HMAC-SHA256" else hashlib.sha1
    base = signature_base_string(method, base_url, params)
    return base64.b64encode(hmac.new((secret + "&").encode(), base.encode(), digest).digest()).decode()


class Authenticator:
    def __init__(self, keys, https, clock, use_real_clock=False):
        """keys: {consumer_key: {"secret", "permissions", "user_id"}}."""
        self.keys = keys
        self.https = https
        self.clock = clock
        self.use_real_clock = use_real_clock
        self.nonces = {}  # consumer key -> {timestamp: nonce}

    def now(self):
        import time
        return time.time() if self.use_real_clock else self.clock.now()

    def authenticate(self, req, get_params, post_params, base_url):
        """-> (key record or None, error dict or None, method label)."""
        error = None
        method = None
        if self.https:
            method = "basic_auth"
            user, error = self._basic(req, get_params)
            if user:
                return user, None, method
        user, err, tried = self._oauth(req, get_params, post_params, base_url)
        if tried:
            method = "oauth1"
            error = err
        elif err:
            error = err
        return user, (error if user is None else None), method

    def _basic(self, req, get_params):
        ck = cs = ""
        if get_params.get("consumer_key") and get_params.get("consumer_secret"):
            ck, cs = get_params["consumer_key"], get_params["consumer_secret"]
        auth = req.header("Authorization") or ""
        if not ck and auth[:6].lower() == "basic ":
            try:
                user, _, pw = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                user = pw = ""
            if user and pw:
                ck, cs = user, pw
        if not ck or not cs or not isinstance(ck, str) or not isinstance(cs, str):
            return None, None
        rec = self.keys.get(ck)
        if rec is None:
            return None, None  # unknown key: no error, OAuth is tried next
        if not hmac.compare_digest(rec["secret"], cs):
            return None, wp_error("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401)
        return dict(rec, consumer_key=ck), None

    def _oauth(self, req, get_params, post_params, base_url):
        """-> (user, error, tried)."""
        params = dict(get_params)
        params.update(post_params)
        header = parse_oauth_header((req.header("Authorization") or "").strip())
        params.update(header)
        have = [p for p in OAUTH_PARAMS if params.get(p)]
        if not have:
            return None, None, False
        missing = [p for p in OAUTH_PARAMS if not params.get(p)]
        if missing:
            msg = ("Missing OAuth parameter %s" if len(missing) == 1 else "Missing OAuth parameters %s") \
                % ", ".join(missing)
            return None, wp_error("woocommerce_rest_authentication_missing_parameter", msg, 401), True
        ck = params["oauth_consumer_key"]
        rec = self.keys.get(ck) if isinstance(ck, str) else None
        if rec is None:
            return None, wp_error("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401), True
        consumer_signature = urllib.parse.unquote(str(params["oauth_signature"]).replace(" ", "+"))
        sig_method = params["oauth_signature_method"]
        base = signature_base_string(req.method, base_url, params)
        if sig_method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return None, wp_error("woocommerce_rest_authentication_error",
                                  "Invalid signature - signature method is invalid.", 401), True
        digest = hashlib.sha256 if sig_method == "HMAC-SHA256" else hashlib.sha1
        expected = base64.b64encode(hmac.new((rec["secret"] + "&").encode(), base.encode(), digest).digest()).decode()
        if not hmac.compare_digest(expected, consumer_signature):
            return None, wp_error("woocommerce_rest_authentication_error",
                                  "Invalid signature - provided signature does not match.", 401), True
        ts = params["oauth_timestamp"]
        now = self.now()
        try:
            t = float(ts)
        except (TypeError, ValueError):
            t = None
        if t is None or t < now - WINDOW or t > now + WINDOW:
            return None, wp_error("woocommerce_rest_authentication_error", "Invalid timestamp.", 401), True
        used = self.nonces.setdefault(ck, {})
        nonce = params["oauth_nonce"]
        if nonce in used.values():
            return None, wp_error("woocommerce_rest_authentication_error",
                                  "Invalid nonce - nonce has already been used.", 401), True
        used[str(ts)] = nonce  # keyed by timestamp: a second nonce in the same second replaces the first
        for k in [k for k in used if _num(k) < now - WINDOW]:
            del used[k]
        return dict(rec, consumer_key=ck), None, True

    @staticmethod
    def check_permissions(user, method):
        """check_user_permissions: the key's read / write permission."""
        perms = user.get("permissions", "read_write")
        if method in ("GET", "HEAD") and perms not in ("read", "read_write"):
            return wp_error("woocommerce_rest_authentication_error",
                            "The API key provided does not have read permissions.", 401)
        if method in ("POST", "PUT", "PATCH", "DELETE") and perms not in ("write", "read_write"):
            return wp_error("woocommerce_rest_authentication_error",
                            "The API key provided does not have write permissions.", 401)
        if method not in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            return wp_error("woocommerce_rest_authentication_error", "Unknown request method.", 401)
        return None


def _num(s):
    try:
        return float(s)
    except ValueError:
        return 0.0
