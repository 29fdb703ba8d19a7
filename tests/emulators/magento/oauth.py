"""OAuth 1.0a request verification as Magento 2.4 does it for integrations.

Sources (magento/magento2): Framework/Oauth/Helper/Request.php (prepareRequest: protocol params
from the Authorization header, query-string params, form body params; request URL =
scheme://Host-header/path), Framework/Oauth/Helper/Signature/Hmac.php (base string: METHOD &
rawurlencode(scheme://host[:port]/path) & rawurlencode(ksort'ed key=value pairs, each
rawurlencode'd, URL query parsed again with parse_str, nested bracket arrays dropped), key =
rawurlencode(consumer secret) & rawurlencode(token secret), base64(HMAC)), Framework/Oauth/Oauth.php
(validateAccessTokenRequest: version "1.0" if present, required params, token length 32, only
HMAC-SHA256 supported, consumer, nonce + timestamp, token, then the signature), Integration
Model/Oauth/Nonce/Generator.php (timestamp <= 0 or > now + 600 s refused; a nonce used twice by one
consumer refused), Integration Model/Oauth/Token/Provider.php (messages). Reference:
platforms-woocommerce-magento.md §B2.

OauthInputException (an InputException) answers 400, Oauth\\Exception (an AuthenticationException)
401 (Framework/Webapi/ErrorProcessor::maskException).
"""

import base64
import hashlib
import hmac
import urllib.parse

TIME_DEVIATION = 600
KEY_LENGTH = 32


class OAuthError(Exception):
    def __init__(self, status, message, parameters=None, errors=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameters = parameters
        self.errors = errors


def rawurlencode(s):
    return urllib.parse.quote(str(s), safe="-_.~")


def rawurldecode(s):
    return urllib.parse.unquote(s)


def is_protocol(name):
    import re
    return re.search(r"oauth_[a-z_-]+", name) is not None


def header_params(auth):
    """Helper\\Request::_processHeader: everything after 'OAuth ', split on commas."""
    if not auth:
        return None
    pos = auth.lower().find("oauth ")
    if pos < 0:
        return None
    out = {}
    for part in auth[pos + 6:].split(","):
        nv = part.strip().split("=", 1)
        if len(nv) < 2:
            continue
        if is_protocol(nv[0]):
            out[rawurldecode(nv[0])] = rawurldecode(nv[1].strip('"'))
    return out


def request_params(protocol, query, content_type, body):
    params = dict(protocol)
    if content_type and content_type.startswith("application/x-www-form-urlencoded") and body:
        for k, v in urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            if not is_protocol(k):
                params[k] = v
    if query:
        # Helper\Request::_extractQueryStringParams: raw split, rawurldecode, exactly one "="
        for pair in query.split("&"):
            kv = pair.split("=")
            if len(kv) == 2 and not is_protocol(kv[0]):
                params[rawurldecode(kv[0])] = rawurldecode(kv[1])
        # Signature\Hmac::buildRequestParams: parse_str() of the query merged over them; keys with
        # brackets become nested arrays that removeNestedArrays() drops again, so only plain keys
        # change (parse_str turns "+" into a space).
        for pair in query.split("&"):
            if not pair:
                continue
            k, _, v = pair.partition("=")
            k = urllib.parse.unquote_plus(k)
            if "[" in k or is_protocol(k):
                continue
            params[k.replace(".", "_").replace(" ", "_")] = urllib.parse.unquote_plus(v)
    return params


def signature(method, url, params, consumer_secret, token_secret, algo="sha256"):
    pairs = []
    for k in sorted(params):
        if k == "oauth_signature":
            continue
        v = params[k]
        pairs.append(rawurlencode(k) + "=" + rawurlencode("" if v is None else v))
    base = "%s&%s&%s" % (method.upper(), rawurlencode(url), rawurlencode("&".join(pairs)))
    key = rawurlencode(consumer_secret) + "&" + rawurlencode(token_secret)
    digest = hmac.new(key.encode("utf-8"), base.encode("utf-8"), getattr(hashlib, algo)).digest()
    return base64.b64encode(digest).decode("ascii")


def sign_header(method, url, consumer_key, consumer_secret, token, token_secret, nonce, timestamp,
                extra_params=None, method_name="HMAC-SHA256"):
    """Build an Authorization header (used by the tests; what a correct client sends)."""
    split = urllib.parse.urlsplit(url)
    base_url = "%s://%s%s" % (split.scheme, split.netloc, split.path)
    oauth = {"oauth_consumer_key": consumer_key, "oauth_nonce": nonce, "oauth_signature_method": method_name,
             "oauth_timestamp": str(timestamp), "oauth_token": token, "oauth_version": "1.0"}
    params = request_params(oauth, split.query, None, None)
    params.update(extra_params or {})
    oauth["oauth_signature"] = signature(method, base_url, params, consumer_secret, token_secret)
    return "OAuth " + ",".join('%s="%s"' % (k, rawurlencode(v)) for k, v in oauth.items())


class Integration:
    """One active integration: consumer key/secret and its access token/secret."""

    def __init__(self, consumer_key, consumer_secret, token, token_secret, integration_id=1):
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.token = token
        self.token_secret = token_secret
        self.id = integration_id
        self.consumer_id = integration_id
        self.nonces = set()

    def verify(self, method, host, path, query, headers_auth, content_type, body, now):
        """-> True if the request carries OAuth and it is valid; None if it carries no OAuth;
        raises OAuthError when it carries OAuth that Magento refuses."""
        protocol = header_params(headers_auth)
        if protocol is None:
            return None
        params = request_params(protocol, query, content_type, body)
        # Oauth::_validateProtocolParams
        if "oauth_version" in params and params["oauth_version"] != "1.0":
            raise OAuthError(400, 'The "%1" Oauth version isn\'t supported.', [params["oauth_version"]])
        required = ["oauth_consumer_key", "oauth_signature", "oauth_signature_method", "oauth_nonce",
                    "oauth_timestamp", "oauth_token"]
        missing = [r for r in required if not params.get(r) and params.get(r) != "0"]
        if len(missing) == 1:
            raise OAuthError(400, '"%fieldName" is required. Enter and try again.', {"fieldName": missing[0]})
        if missing:
            raise OAuthError(400, "One or more input exceptions have occurred.", None,
                             [{"message": '"%fieldName" is required. Enter and try again.',
                               "parameters": {"fieldName": m}} for m in missing])
        if len(params["oauth_token"]) != KEY_LENGTH:
            raise OAuthError(400, "The token length is invalid. Check the length and try again.")
        if params["oauth_signature_method"] != "HMAC-SHA256":
            # Oauth::getSupportedSignatureMethods() is [HMAC-SHA256] in 2.4 (HMAC-SHA1 deprecated, §B2)
            raise OAuthError(400, "Signature method %1 is not supported", [params["oauth_signature_method"]])
        if len(params["oauth_consumer_key"]) != KEY_LENGTH:
            raise OAuthError(401, "Consumer key is not the correct length")
        if params["oauth_consumer_key"] != self.consumer_key:
            raise OAuthError(401, "A consumer having the specified key does not exist")
        try:
            ts = int(params["oauth_timestamp"])
        except ValueError:
            ts = 0
        if ts <= 0 or ts > now + TIME_DEVIATION:
            raise OAuthError(400, "Incorrect timestamp value in the oauth_timestamp parameter")
        nonce = params["oauth_nonce"]
        if nonce in self.nonces:
            raise OAuthError(401, "The nonce is already being used by the consumer with ID %1", [self.consumer_id])
        self.nonces.add(nonce)
        if params["oauth_token"] != self.token:
            raise OAuthError(401, "Specified token does not exist")
        url = "http://%s%s" % (host, path)
        expected = signature(method, url, params, self.consumer_secret, self.token_secret)
        if not hmac.compare_digest(expected, params["oauth_signature"]):
            raise OAuthError(401, "The signature is invalid. Verify and try again.")
        return True
