/*
 * OAuth 1.0a signing with HMAC-SHA256.  See oauth1.h.
 */
#include "posbridge/oauth1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "posbridge/sha256.h"
#include "posbridge/banned.h"

void
pb_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
               unsigned char out[32])
{
    unsigned char k[64] = {0}, pad[64], inner[32];
    struct pb_sha256 s;
    if (keylen > 64) {
        pb_sha256_init(&s);
        pb_sha256_update(&s, key, keylen);
        pb_sha256_final(&s, k);
    } else if (keylen) {
        memcpy(k, key, keylen);
    }
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    pb_sha256_init(&s);
    pb_sha256_update(&s, pad, 64);
    pb_sha256_update(&s, msg, msglen);
    pb_sha256_final(&s, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    pb_sha256_init(&s);
    pb_sha256_update(&s, pad, 64);
    pb_sha256_update(&s, inner, 32);
    pb_sha256_final(&s, out);
    memset(k, 0, sizeof(k));
    memset(pad, 0, sizeof(pad));
}

int
pb_base64(const unsigned char *in, size_t n, struct pb_buf *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        char q[4] = {t[v >> 18 & 63], t[v >> 12 & 63], i + 1 < n ? t[v >> 6 & 63] : '=',
                     i + 2 < n ? t[v & 63] : '='};
        if (pb_buf_add(out, q, 4) < 0)
            return -1;
    }
    return 0;
}

int
pb_pct_encode(const char *s, size_t n, struct pb_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~';
        if (plain ? pb_buf_addch(out, c) < 0
                  : (pb_buf_addch(out, '%') < 0 || pb_buf_addch(out, hex[c >> 4]) < 0 ||
                     pb_buf_addch(out, hex[c & 15]) < 0))
            return -1;
    }
    return 0;
}

static int
hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decode %XX and '+' (a query string as a server reads it). */
static char *
pct_decode(const char *s, size_t n)
{
    char *o = malloc(n + 1), *p = o;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            *p++ = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
            i += 2;
        } else {
            *p++ = s[i] == '+' ? ' ' : s[i];
        }
    }
    *p = '\0';
    return o;
}

/* One parameter, encoded: "name=value" as the base string wants it. */
struct param {
    char *enc;
};

static int
cmp_param(const void *a, const void *b)
{
    return strcmp(((const struct param *)a)->enc, ((const struct param *)b)->enc);
}

static int
add_param(struct param **v, int *n, const char *k, size_t kn, const char *val, size_t vn)
{
    struct pb_buf b = PB_BUF_INIT;
    if (pb_pct_encode(k, kn, &b) < 0 || pb_buf_addch(&b, '=') < 0 ||
        pb_pct_encode(val, vn, &b) < 0) {
        pb_buf_release(&b);
        return -1;
    }
    struct param *nv = realloc(*v, (size_t)(*n + 1) * sizeof(**v));
    if (!nv) {
        pb_buf_release(&b);
        return -1;
    }
    *v = nv;
    (*v)[(*n)++].enc = pb_buf_detach(&b, NULL);
    return (*v)[*n - 1].enc ? 0 : -1;
}

int
pb_oauth1_header(const struct pb_oauth1 *o, const char *method, const char *url,
                 long timestamp, const char *nonce, struct pb_buf *out)
{
    char ts[24], nc[40];
    if (!timestamp)
        timestamp = (long)time(NULL);
    snprintf(ts, sizeof(ts), "%ld", timestamp);
    if (!nonce) {
        unsigned char r[16];
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
            return -1;
        for (int i = 0; i < 16; i++)
            snprintf(nc + 2 * i, 3, "%02x", r[i]);
        nonce = nc;
    }
    const char *oauth[][2] = {{"oauth_consumer_key", o->consumer_key},
                              {"oauth_nonce", nonce},
                              {"oauth_signature_method", "HMAC-SHA256"},
                              {"oauth_timestamp", ts},
                              {"oauth_token", o->token},
                              {"oauth_version", "1.0"}};
    const int noauth = (int)(sizeof(oauth) / sizeof(oauth[0]));
    struct param *ps = NULL;
    int np = 0, rc = -1;
    struct pb_buf base = PB_BUF_INIT, params = PB_BUF_INIT, key = PB_BUF_INIT;
    for (int i = 0; i < noauth; i++)
        if (oauth[i][1] &&
            add_param(&ps, &np, oauth[i][0], strlen(oauth[i][0]), oauth[i][1],
                      strlen(oauth[i][1])) < 0)
            goto out;
    const char *q = strchr(url, '?');
    size_t ulen = q ? (size_t)(q - url) : strlen(url);
    for (const char *s = q ? q + 1 : NULL; s && *s;) {
        const char *amp = strchr(s, '&');
        size_t n = amp ? (size_t)(amp - s) : strlen(s);
        const char *eq = memchr(s, '=', n);
        if (n) {
            char *k = pct_decode(s, eq ? (size_t)(eq - s) : n);
            char *v = eq ? pct_decode(eq + 1, n - (size_t)(eq - s) - 1) : strdup("");
            int r = k && v ? add_param(&ps, &np, k, strlen(k), v, strlen(v)) : -1;
            free(k);
            free(v);
            if (r < 0)
                goto out;
        }
        s = amp ? amp + 1 : NULL;
    }
    qsort(ps, (size_t)np, sizeof(*ps), cmp_param);
    for (int i = 0; i < np; i++)
        if (pb_buf_addf(&params, "%s%s", i ? "&" : "", ps[i].enc) < 0)
            goto out;
    for (const char *m = method; *m; m++)
        if (pb_buf_addch(&base, *m >= 'a' && *m <= 'z' ? *m - 32 : *m) < 0)
            goto out;
    if (pb_buf_addch(&base, '&') < 0 || pb_pct_encode(url, ulen, &base) < 0 ||
        pb_buf_addch(&base, '&') < 0 || pb_pct_encode(params.data ? params.data : "",
                                                      params.len, &base) < 0)
        goto out;
    if (pb_pct_encode(o->consumer_secret, strlen(o->consumer_secret), &key) < 0 ||
        pb_buf_addch(&key, '&') < 0 ||
        (o->token_secret && pb_pct_encode(o->token_secret, strlen(o->token_secret), &key) < 0))
        goto out;
    unsigned char mac[32];
    pb_hmac_sha256(key.data, key.len, base.data, base.len, mac);
    struct pb_buf sig = PB_BUF_INIT;
    if (pb_base64(mac, 32, &sig) < 0 || pb_buf_adds(out, "Authorization: OAuth ") < 0) {
        pb_buf_release(&sig);
        goto out;
    }
    for (int i = 0; i < noauth; i++) {
        if (!oauth[i][1])
            continue;
        if (pb_buf_addf(out, "%s=\"", oauth[i][0]) < 0 ||
            pb_pct_encode(oauth[i][1], strlen(oauth[i][1]), out) < 0 || pb_buf_adds(out, "\",") < 0) {
            pb_buf_release(&sig);
            goto out;
        }
    }
    rc = pb_buf_adds(out, "oauth_signature=\"") < 0 || pb_pct_encode(sig.data, sig.len, out) < 0 ||
                 pb_buf_addch(out, '"') < 0
             ? -1
             : 0;
    pb_buf_release(&sig);
out:
    for (int i = 0; i < np; i++)
        free(ps[i].enc);
    free(ps);
    if (key.data)
        memset(key.data, 0, key.len);
    pb_buf_release(&key);
    pb_buf_release(&base);
    pb_buf_release(&params);
    return rc;
}
