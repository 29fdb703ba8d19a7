/*
 * JSON REST requests for the connectors.  See rest.h.
 */
#include "posbridge/rest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "posbridge/err.h"
#include "posbridge/oauth1.h"
#include "posbridge/banned.h"

void
pb_rest_release(struct pb_rest *r)
{
    json_decref(r->json);
    free(r->link_next);
    memset(r, 0, sizeof(*r));
}

char *
pb_rest_url(const struct pb_upload *u, const char *fmt, ...)
{
    struct pb_buf b = PB_BUF_INIT;
    const char *base = u->store->base_url;
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    va_list ap;
    va_start(ap, fmt);
    int rc = pb_buf_add(&b, base, n) < 0 || pb_buf_vaddf(&b, fmt, ap) < 0;
    va_end(ap);
    if (rc) {
        pb_buf_release(&b);
        return NULL;
    }
    return pb_buf_detach(&b, NULL);
}

int
pb_rest_escape(struct pb_buf *b, const char *s)
{
    return pb_pct_encode(s, strlen(s), b);
}

const char *
pb_json_id(json_t *o, const char *key, char buf[32])
{
    json_t *v = key ? json_object_get(o, key) : o;
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, 32, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return NULL;
}

/* Magento's "%1" / "%name" placeholders filled from "parameters" (list or object). */
static void
fill_params(const char *msg, json_t *params, char *out, size_t n)
{
    struct pb_buf b = PB_BUF_INIT;
    for (const char *s = msg; *s;) {
        if (*s == '%' && (json_is_array(params) || json_is_object(params))) {
            const char *e = s + 1;
            while ((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') || (*e >= '0' && *e <= '9') ||
                   *e == '_')
                e++;
            json_t *v = NULL;
            if (e > s + 1) {
                char name[64];
                snprintf(name, sizeof(name), "%.*s", (int)(e - s - 1), s + 1);
                if (json_is_array(params) && name[0] >= '1' && name[0] <= '9')
                    v = json_array_get(params, (size_t)strtoul(name, NULL, 10) - 1);
                else if (json_is_object(params))
                    v = json_object_get(params, name);
            }
            char num[32];
            const char *text = v ? pb_json_id(v, NULL, num) : NULL;
            if (text) {
                if (pb_buf_adds(&b, text) < 0)
                    break;
                s = e;
                continue;
            }
        }
        if (pb_buf_addch(&b, *s++) < 0)
            break;
    }
    snprintf(out, n, "%s", b.data ? b.data : "");
    pb_buf_release(&b);
}

/* One readable line from an error answer: message, title, code, details. */
static void
describe_error(const struct pb_http_resp *rs, json_t *j, char *out, size_t n)
{
    char msg[300] = "";
    json_t *first = json_is_array(j) ? json_array_get(j, 0) : j;
    const char *m = json_string_value(json_object_get(first, "message"));
    const char *title = json_string_value(json_object_get(first, "title"));
    const char *code = json_string_value(json_object_get(first, "code"));
    if (m)
        fill_params(m, json_object_get(first, "parameters"), msg, sizeof(msg));
    else if (title)
        snprintf(msg, sizeof(msg), "%s", title);
    /* details: BigCommerce "errors": {field: text}, Magento "errors": [{message, parameters}] */
    json_t *errs = json_object_get(first, "errors");
    struct pb_buf d = PB_BUF_INIT;
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(errs)) {
        json_object_foreach(errs, k, v) {
            if (json_is_string(v) &&
                pb_buf_addf(&d, "%s%s: %s", d.len ? "; " : "", k, json_string_value(v)) < 0)
                break;
        }
    } else if (json_is_array(errs)) {
        json_array_foreach(errs, i, v) {
            char one[200];
            const char *em = json_string_value(json_object_get(v, "message"));
            if (!em)
                continue;
            fill_params(em, json_object_get(v, "parameters"), one, sizeof(one));
            if (pb_buf_addf(&d, "%s%s", d.len ? "; " : "", one) < 0)
                break;
        }
    }
    if (msg[0] || d.len) {
        snprintf(out, n, "HTTP %ld: %s%s%s%s%s%s", rs->status, msg, code ? " (" : "",
                 code ? code : "", code ? ")" : "", d.len && msg[0] ? ": " : "",
                 d.len ? d.data : "");
    } else {
        /* not a shape we know: the start of the body, printable only */
        char snip[120];
        size_t k2 = 0;
        for (size_t x = 0; x < rs->body.len && k2 + 1 < sizeof(snip); x++) {
            unsigned char c = (unsigned char)rs->body.data[x];
            snip[k2++] = c >= 32 && c < 127 ? (char)c : ' ';
        }
        snip[k2] = '\0';
        snprintf(out, n, "HTTP %ld%s%s", rs->status, k2 ? ": " : "", snip);
    }
    pb_buf_release(&d);
}

int
pb_rest_run(struct pb_upload *u, const struct pb_rest_req *rq, struct pb_rest *r, size_t n,
            struct pb_error *err)
{
    struct pb_http_req *hq = calloc(n ? n : 1, sizeof(*hq));
    struct pb_http_resp *hs = calloc(n ? n : 1, sizeof(*hs));
    struct pb_buf *auth = calloc(n ? n : 1, sizeof(*auth));
    char **bodies = calloc(n ? n : 1, sizeof(*bodies));
    const char **hdrs = calloc(n ? 4 * n : 4, sizeof(*hdrs));
    int rc = -1;
    if (!hq || !hs || !auth || !bodies || !hdrs) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        pb_http_resp_init(&hs[i]);
        /* 15 significant digits: a decimal such as a price, held as the nearest double,
         * prints back as the same decimal ("24.99", not "24.989999999999998") */
        if (rq[i].body &&
            !(bodies[i] = json_dumps(rq[i].body, JSON_COMPACT | JSON_REAL_PRECISION(15)))) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
        if (u->conn->auth && u->conn->auth(u, rq[i].method, rq[i].url, &auth[i]) < 0) {
            pb_error_set(err, PB_EOS, "cannot sign the request");
            goto out;
        }
        const char **h = &hdrs[4 * i];
        int k = 0;
        h[k++] = "Accept: application/json";
        if (bodies[i])
            h[k++] = "Content-Type: application/json";
        if (auth[i].len)
            h[k++] = auth[i].data;
        h[k] = NULL;
        hq[i].method = rq[i].method;
        hq[i].url = rq[i].url;
        hq[i].headers = h;
        hq[i].body = bodies[i];
        hq[i].body_len = bodies[i] ? strlen(bodies[i]) : 0;
        hq[i].cost = rq[i].cost > 0 ? rq[i].cost : 1;
        hq[i].label = rq[i].label;
        hq[i].once = rq[i].once;
    }
    if (u->res->unreachable) {
        for (size_t i = 0; i < n; i++)
            snprintf(r[i].error, sizeof(r[i].error), "the store does not answer; not sent");
        rc = 0;
        goto out;
    }
    if (pb_http_run(u->http, hq, hs, n, err) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct pb_http_resp *s = &hs[i];
        struct pb_rest *x = &r[i];
        x->http = s->status;
        x->curl_code = s->curl_code;
        x->wp_total = s->wp_total;
        x->wp_pages = s->wp_pages;
        x->rl_left = s->rl_left;
        x->rl_quota = s->rl_quota;
        x->rl_reset_ms = s->rl_reset_ms;
        x->rl_window_ms = s->rl_window_ms;
        x->link_next = s->link_next;
        s->link_next = NULL;
        if (s->body.len)
            x->json = json_loadb(s->body.data, s->body.len, JSON_DECODE_ANY, NULL);
        if (s->status == 0) {
            if (s->curl_code == CURLE_COULDNT_CONNECT)
                u->res->unreachable = 1;
            else
                x->lost = 1;
            u->res->temp_failed = 1;
            snprintf(x->error, sizeof(x->error), "no answer: %s", s->error);
            continue;
        }
        if (s->status >= 200 && s->status < 300) {
            if (s->body.len && !x->json)
                snprintf(x->error, sizeof(x->error), "HTTP %ld with an unreadable answer",
                         s->status);
            continue;
        }
        describe_error(s, x->json, x->error, sizeof(x->error));
        if (s->status == 401 || s->status == 403)
            u->res->auth_failed = 1;
        if (s->status == 429 || s->status >= 500 || s->status == 408)
            u->res->temp_failed = 1;
        if (s->status >= 500)
            x->lost = 1;
    }
    rc = 0;
out:
    for (size_t i = 0; hs && i < n; i++)
        pb_http_resp_release(&hs[i]);
    for (size_t i = 0; auth && i < n; i++) {
        if (auth[i].data)
            memset(auth[i].data, 0, auth[i].len);
        pb_buf_release(&auth[i]);
    }
    for (size_t i = 0; bodies && i < n; i++)
        free(bodies[i]);
    free(hq);
    free(hs);
    free(auth);
    free(bodies);
    free(hdrs);
    return rc;
}

int
pb_rest_one(struct pb_upload *u, const struct pb_rest_req *rq, struct pb_rest *r,
            struct pb_error *err)
{
    return pb_rest_run(u, rq, r, 1, err);
}
