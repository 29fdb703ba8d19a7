/*
 * The Magento 2 connector: the REST API at base_url/rest/<store_code>/V1 (store_code
 * "all" unless configured: a write through a store view's code would save store-view
 * overrides instead of the product's own values).
 *
 * A one-variant product is a simple product (visibility 4).  A product with variants is a
 * configurable parent (SKU = the handle, visibility 4, no price) over simple children
 * (visibility 1, always enabled), linked in one save of the parent
 * (extension_attributes.configurable_product_options and configurable_product_links).
 * Option values (Color: Pink) are EAV option ids: each attribute's options are read once
 * per run (GET /V1/products/attributes/{code}/options) and a missing label is created
 * (POST .../options) before any product that uses it, so Magento never refuses a product
 * for an unknown option value.  New products are created disabled (status 2) when their
 * row is a draft; the status is sent on create only.  Updates are PUT /V1/products/{sku}
 * with only the fields that changed.  Quantities are MSI source items
 * (POST /V1/inventory/source-items, up to 500 per request, 20 when the store's input
 * limit says so).
 *
 * POST and PUT on products are upserts: a create whose answer was lost is looked up by
 * SKU (searchCriteria, "in" lists, pageSize always sent, paged by total_count) before it
 * is ever sent again.  More than bulk_above products in a step go through the async bulk
 * API (/async/bulk/V1/products), polled until every operation is done; a failed
 * operation fails its product.  Magento does not rate-limit admin REST calls, so the
 * limiter is off and four requests run at once.  Authentication: an integration token
 * as Bearer, or OAuth 1.0a (HMAC-SHA256) with the integration's four credentials, which
 * Magento 2.4.4+ requires unless the store allows tokens as Bearer.
 */
#include "magento_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "pb_schemas.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/money.h"
#include "posbridge/oauth1.h"
#include "posbridge/rest.h"
#include "posbridge/upload.h"
#include "posbridge/banned.h"

#define SKUS_PER_SEARCH 100 /* SKUs in one "in" filter, and the page size */
#define PER_CHUNK 50        /* products journaled and written together (sync path) */
#define STOCK_CHUNK 500     /* source items per request */
#define STOCK_LIMITED 20    /* ... when the store's input limit is on */
#define BULK_CHUNK 500      /* bodies per async bulk request */
#define BULK_WAIT 600.0     /* seconds to wait for a bulk's operations */
#define TRIES 3             /* sends of a create whose answer is lost */

struct mg {
    int oauth;
    int bulk;             /* this step goes through the async bulk API */
    int stock_chunk;
    json_t *attrs;        /* code -> {"id", "opts": {lowercase label: id}, "bad": {...}, "error"} */
};

enum kind { K_SIMPLE, K_CHILD, K_PARENT };

/* One product write (a simple product, a child or a parent). */
struct wr {
    struct pb_up_product *p;
    struct pb_up_variant *v; /* NULL: the parent */
    const char *sku;
    json_t *body;            /* {"product": {...}} (owned) */
    char *id;                /* entity id once written (owned) */
    long http;
    int state;               /* 0 to send, 1 written, 2 failed */
    int tries;
    char error[300];
};

/* ---- small helpers ---- */

static const char *
val(const struct pb_up_variant *v, int f)
{
    return pb_rec_get(&v->row, f, NULL);
}

static const char *
store_code(const struct pb_upload *u)
{
    return u->store->store_code ? u->store->store_code : "all";
}

/* base/rest/<code><async>/V1<path>; path is already escaped. */
static char *
api_url(struct pb_upload *u, const char *async, const char *path)
{
    return pb_rest_url(u, "/rest/%s%s/V1%s", store_code(u), async, path);
}

static char *
sku_url(struct pb_upload *u, const char *sku)
{
    struct pb_buf b = PB_BUF_INIT;
    char *url = NULL;
    if (pb_buf_adds(&b, "/products/") == 0 && pb_rest_escape(&b, sku) == 0)
        url = api_url(u, "", b.data);
    pb_buf_release(&b);
    return url;
}

json_t *
pb_magento_number(const char *s)
{
    int64_t v;
    const char *why;
    if (!s || pb_dec_parse(s, strlen(s), PB_DEC_SCALE, &v, &why) < 0)
        return NULL;
    if (v % 1000000 == 0)
        return json_integer((json_int_t)(v / 1000000));
    /* v and 10^6 are exact doubles and the division is correctly rounded: the result is
     * the double nearest the decimal, which prints back as that decimal */
    return json_real((double)v / 1e6);
}

char *
pb_magento_attr_code(const struct pb_store_cfg *st, const char *option)
{
    const char *a = pb_store_option_attr(st, option);
    char *c = strdup(a ? a : option);
    for (char *s = c; !a && s && *s; s++)
        *s = (char)tolower((unsigned char)*s);
    return c;
}

char *
pb_magento_slug(const char *s)
{
    struct pb_buf b = PB_BUF_INIT;
    int dash = 0;
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) && c < 128) {
            if ((dash && b.len && pb_buf_addch(&b, '-') < 0) ||
                pb_buf_addch(&b, (char)tolower(c)) < 0) {
                pb_buf_release(&b);
                return NULL;
            }
            dash = 0;
        } else {
            dash = 1;
        }
    }
    return pb_buf_detach(&b, NULL);
}

char *
pb_magento_op_sku(json_t *op)
{
    const char *text = json_string_value(json_object_get(op, "serialized_data"));
    json_t *outer = text ? json_loads(text, 0, NULL) : NULL;
    const char *meta = json_string_value(json_object_get(outer, "meta_information"));
    json_t *inner = meta ? json_loads(meta, 0, NULL) : NULL;
    const char *sku = json_string_value(json_object_get(json_object_get(inner, "product"), "sku"));
    if (!sku)
        sku = json_string_value(json_object_get(inner, "sku"));
    char *out = sku ? strdup(sku) : NULL;
    json_decref(inner);
    json_decref(outer);
    return out;
}

static char *
lower(const char *s)
{
    char *c = strdup(s ? s : "");
    for (char *x = c; x && *x; x++)
        *x = (char)tolower((unsigned char)*x);
    return c;
}

/* Plain text into HTML: escaped, line breaks become <br>. */
static json_t *
html_of(const char *s)
{
    struct pb_buf b = PB_BUF_INIT;
    for (; s && *s; s++) {
        int rc;
        switch (*s) {
        case '<': rc = pb_buf_adds(&b, "&lt;"); break;
        case '>': rc = pb_buf_adds(&b, "&gt;"); break;
        case '&': rc = pb_buf_adds(&b, "&amp;"); break;
        case '\r': rc = 0; break;
        case '\n': rc = pb_buf_adds(&b, "<br>"); break;
        default: rc = pb_buf_addch(&b, *s);
        }
        if (rc < 0)
            break;
    }
    json_t *j = json_string(b.data);
    pb_buf_release(&b);
    return j;
}

static int
refused(struct pb_upload *u, struct pb_error *err)
{
    return pb_error_set(err, PB_ENOPERM,
                        "%s: the store refused the credentials: check the token, or the "
                        "integration's OAuth keys and its API resources",
                        u->store->name);
}

static void
fail(struct pb_up_product *p, long http, const char *why)
{
    if (p->failed)
        return;
    p->failed = 1;
    p->http = http;
    snprintf(p->error, sizeof(p->error), "%.299s", why);
}

static void
pause_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* ---- the connector's hooks ---- */

static void mg_free(struct pb_upload *u);

static int
mg_prepare(struct pb_upload *u, struct pb_error *err)
{
    const struct pb_store_cfg *s = u->store;
    int four = u->cred[PB_SECRET_CONSUMER_KEY] && u->cred[PB_SECRET_CONSUMER_SECRET] &&
               u->cred[PB_SECRET_ACCESS_TOKEN] && u->cred[PB_SECRET_ACCESS_TOKEN_SECRET];
    if (s->auth == PB_AUTH_BASIC)
        return pb_error_set(err, PB_ECONFIG, "[store %s]: auth = basic: Magento takes a token or "
                                             "OAuth (auth = token or oauth)", s->name);
    int oauth = s->auth == PB_AUTH_OAUTH || (s->auth == PB_AUTH_AUTO && four);
    if (oauth && !four)
        return pb_error_set(err, PB_ECONFIG,
                            "[store %s]: auth = oauth needs consumer_key, consumer_secret, "
                            "access_token and access_token_secret",
                            s->name);
    if (!oauth && !u->secret)
        return pb_error_set(err, PB_ECONFIG,
                            "[store %s]: no token (or the four integration credentials for "
                            "OAuth)", s->name);
    struct mg *m = calloc(1, sizeof(*m));
    if (!m || !(m->attrs = json_object())) {
        free(m);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    m->oauth = oauth;
    m->stock_chunk = STOCK_CHUNK;
    u->conn_state = m;
    u->conn_free = mg_free;
    pb_limiter_init(&u->limiter, 0, 0); /* Magento does not throttle admin calls */
    if (!s->default_location && s->pricing.qty != PB_QTY_PER_STORE &&
        !(u->primary_location = strdup("default")))
        return pb_error_set(err, PB_EOS, "out of memory");
    pb_log(PB_LOG_INFO, "%s: %s authentication, store code '%s'", s->name,
           oauth ? "OAuth 1.0a" : "bearer token", store_code(u));
    return 0;
}

static void
mg_free(struct pb_upload *u)
{
    struct mg *m = u->conn_state;
    if (m)
        json_decref(m->attrs);
    free(m);
    u->conn_state = NULL;
}

static int
mg_auth(struct pb_upload *u, const char *method, const char *url, struct pb_buf *hdr)
{
    struct mg *m = u->conn_state;
    if (m && m->oauth) {
        struct pb_oauth1 o = {u->cred[PB_SECRET_CONSUMER_KEY], u->cred[PB_SECRET_CONSUMER_SECRET],
                              u->cred[PB_SECRET_ACCESS_TOKEN],
                              u->cred[PB_SECRET_ACCESS_TOKEN_SECRET]};
        return pb_oauth1_header(&o, method, url, 0, NULL, hdr);
    }
    return pb_buf_addf(hdr, "Authorization: Bearer %s", u->secret);
}

/* A create (once) whose answer was lost is never re-sent blind: the connector looks it
 * up first.  The rest: 408, 429, 5xx and dropped connections are retried. */
static enum pb_http_verdict
mg_check(void *user, const struct pb_http_req *rq, const struct pb_http_resp *rs, double *wait)
{
    (void)user;
    (void)wait;
    int unknown = rs->status >= 500 || (rs->status == 0 && rs->curl_code != CURLE_COULDNT_CONNECT);
    if (rq->once && unknown)
        return PB_HTTP_FAIL;
    if (rs->status == 0 || rs->status == 408 || rs->status == 429 || rs->status == 500 ||
        rs->status == 502 || rs->status == 503 || rs->status == 504)
        return PB_HTTP_RETRY;
    return PB_HTTP_DONE;
}

/* ---- finding SKUs ---- */

static int
add_filter_url(struct pb_buf *q, const char *value, const char *cond, int page)
{
    static const char F[] = "searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5B";
    return pb_buf_addf(q, "/products?%sfield%%5D=sku&%svalue%%5D=", F, F) < 0 ||
                   pb_rest_escape(q, value) < 0 ||
                   pb_buf_addf(q, "&%scondition_type%%5D=%s&searchCriteria%%5BpageSize%%5D=%d"
                                  "&searchCriteria%%5BcurrentPage%%5D=%d",
                               F, cond, SKUS_PER_SEARCH, page) < 0
               ? -1
               : 0;
}

/*
 * Look SKUs up: found gets sku -> the store's product.  Up to SKUS_PER_SEARCH SKUs per
 * "in" filter (a SKU with a comma alone, with "eq"), the page size always sent and the
 * pages counted from total_count (past the end Magento answers the last page again).
 * 0, 1 with the reason in why, -1 on an engine failure.
 */
static int
search_skus(struct pb_upload *u, json_t *skus, json_t *found, char *why, size_t whylen,
            struct pb_error *err)
{
    size_t n = json_array_size(skus), nq = 0;
    struct pb_buf *vals = calloc(n + 1, sizeof(*vals));
    const char **conds = calloc(n + 1, sizeof(*conds));
    int rc = -1;
    if (!vals || !conds) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    size_t in = 0; /* SKUs in the open "in" list, vals[nq - 1] */
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(skus, i));
        if (strchr(s, ',')) { /* it cannot be in a comma list */
            if (pb_buf_adds(&vals[nq], s) < 0)
                goto oom;
            conds[nq++] = "eq";
            in = 0;
            continue;
        }
        if (in == 0 || in == SKUS_PER_SEARCH) {
            conds[nq++] = "in";
            in = 0;
        }
        if (pb_buf_addf(&vals[nq - 1], "%s%s", in ? "," : "", s) < 0)
            goto oom;
        in++;
    }
    for (size_t first = 0; first < nq;) {
        /* page 1 of several lists at once, then each list's further pages */
        size_t cnt = nq - first < 16 ? nq - first : 16;
        struct pb_rest_req rq[16];
        struct pb_rest rs[16];
        char *urls[16] = {0};
        memset(rs, 0, sizeof(rs));
        for (size_t k = 0; k < cnt; k++) {
            struct pb_buf q = PB_BUF_INIT;
            if (add_filter_url(&q, vals[first + k].data, conds[first + k], 1) < 0 ||
                !(urls[k] = api_url(u, "", q.data))) {
                pb_buf_release(&q);
                for (size_t j = 0; j < k; j++)
                    free(urls[j]);
                goto oom;
            }
            pb_buf_release(&q);
            rq[k] = (struct pb_rest_req){"GET", urls[k], NULL, "lookup by SKU", 0, 1};
        }
        int r = pb_rest_run(u, rq, rs, cnt, err);
        for (size_t k = 0; k < cnt && r == 0; k++) {
            struct pb_rest *x = &rs[k];
            for (int page = 1;; page++) {
                if (!pb_rest_ok(x) || !json_is_array(json_object_get(x->json, "items"))) {
                    snprintf(why, whylen, "%s", x->error[0] ? x->error : "an answer without items");
                    rc = 1;
                    break;
                }
                size_t j;
                json_t *it;
                json_array_foreach(json_object_get(x->json, "items"), j, it) {
                    const char *sku = json_string_value(json_object_get(it, "sku"));
                    if (sku)
                        json_object_set(found, sku, it);
                }
                json_int_t total = json_integer_value(json_object_get(x->json, "total_count"));
                if ((json_int_t)page * SKUS_PER_SEARCH >= total)
                    break;
                struct pb_buf q = PB_BUF_INIT;
                char *url = NULL;
                if (add_filter_url(&q, vals[first + k].data, conds[first + k], page + 1) < 0 ||
                    !(url = api_url(u, "", q.data))) {
                    pb_buf_release(&q);
                    r = pb_error_set(err, PB_EOS, "out of memory");
                    break;
                }
                pb_buf_release(&q);
                struct pb_rest_req more = {"GET", url, NULL, "lookup by SKU", 0, 1};
                pb_rest_release(x);
                r = pb_rest_one(u, &more, x, err);
                free(url);
                if (r < 0)
                    break;
            }
            if (rc == 1)
                break;
        }
        for (size_t k = 0; k < cnt; k++) {
            pb_rest_release(&rs[k]);
            free(urls[k]);
        }
        if (r < 0)
            goto out;
        if (rc == 1)
            goto out;
        first += cnt;
    }
    rc = 0;
    goto out;
oom:
    pb_error_set(err, PB_EOS, "out of memory");
out:
    for (size_t i = 0; vals && i <= n; i++)
        pb_buf_release(&vals[i]);
    free(vals);
    free(conds);
    return rc;
}

/* The parent's SKU of a product with variants: its handle, stable across runs. */
static const char *
parent_sku(const struct pb_up_product *p)
{
    return val(&p->v[0], PB_PRODUCTS_HANDLE);
}

/* How a variant is written: known ones as they were made, new ones by the product. */
static enum kind
kind_of(const struct pb_up_product *p, const struct pb_up_variant *v)
{
    if (v->state) {
        const char *pid = json_string_value(json_object_get(v->state, "product_id"));
        const char *vid = json_string_value(json_object_get(v->state, "variant_id"));
        return pid && vid && strcmp(pid, vid) ? K_CHILD : K_SIMPLE;
    }
    return p->n == 1 && !p->product_id ? K_SIMPLE : K_CHILD;
}

static char *
id_text(json_t *item)
{
    char buf[32];
    const char *id = pb_json_id(item, "id", buf);
    return id ? strdup(id) : NULL;
}

/* --remote: how the store's product differs from what was last sent. */
static void
inspect(struct pb_up_variant *v, json_t *item)
{
    char note[300] = "";
    json_t *row = pb_state_row(v->state);
    if (!item) {
        snprintf(note, sizeof(note), "store differs: this SKU is no longer in the store "
                                     "(deleted by hand?); it will be created again");
    } else if (row) {
        const char *sent = json_string_value(json_object_get(row, "price"));
        json_t *there = json_object_get(item, "price");
        int64_t a, b;
        const char *why;
        if (sent && json_is_number(there) && pb_money_parse(sent, strlen(sent), &a, &why) == 0) {
            double d = json_number_value(there) * 100.0;
            b = (int64_t)(d < 0 ? d - 0.5 : d + 0.5);
            if (a != b) {
                char txt[32];
                pb_money_format(b, txt);
                snprintf(note, sizeof(note),
                         "store differs (edited by hand?): price is %s in the store, %s was sent",
                         txt, sent);
            }
        }
    }
    if (note[0]) {
        free(v->remote_note);
        v->remote_note = strdup(note);
    }
}

static int
mg_lookup(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    json_t *skus = json_array(), *found = json_object();
    int rc = -1;
    char why[300];
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        if (p->n > 1 && !u->inspecting)
            json_array_append_new(skus, json_string(parent_sku(p)));
        for (int k = 0; k < p->n; k++)
            json_array_append_new(skus, json_string(p->v[k].sku));
    }
    int r = search_skus(u, skus, found, why, sizeof(why), err);
    if (r < 0)
        goto out;
    if (r > 0) {
        pb_log(PB_LOG_ERROR, "%s: cannot look SKUs up: %s", u->store->name, why);
        char msg[320];
        snprintf(msg, sizeof(msg), "lookup failed: %.280s", why);
        for (int i = 0; i < n; i++)
            fail(list[i], 0, msg);
        rc = u->res->auth_failed ? refused(u, err) : 0;
        goto out;
    }
    if (u->inspecting) {
        for (int i = 0; i < n; i++)
            for (int k = 0; k < list[i]->n; k++)
                if (list[i]->v[k].state)
                    inspect(&list[i]->v[k], json_object_get(found, list[i]->v[k].sku));
        rc = 0;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        const char *anchor = p->n > 1 ? parent_sku(p) : p->v[0].sku;
        json_t *a = json_object_get(found, anchor);
        const char *type = json_string_value(json_object_get(a, "type_id"));
        for (int k = 0; k < p->n; k++) {
            json_t *it = json_object_get(found, p->v[k].sku);
            const char *t = json_string_value(json_object_get(it, "type_id"));
            if (it && t && strcmp(t, "simple") && strcmp(t, "virtual")) {
                snprintf(p->reason, sizeof(p->reason),
                         "SKU '%s' is a %s product in the store, not a variant", p->v[k].sku, t);
                p->action = PB_UP_REJECT;
                break;
            }
        }
        if (p->action == PB_UP_REJECT || !a)
            continue; /* not there: created (a create is an upsert, children found too) */
        if (p->n > 1 && (!type || strcmp(type, "configurable"))) {
            snprintf(p->reason, sizeof(p->reason),
                     "SKU '%s' (this product's parent) is a %s product in the store", anchor,
                     type ? type : "unknown");
            p->action = PB_UP_REJECT;
            continue;
        }
        char *pid = id_text(a);
        if (!pid)
            continue;
        free(p->product_id);
        p->product_id = pid;
        for (int k = 0; k < p->n; k++) {
            char *vid = id_text(json_object_get(found, p->v[k].sku));
            if (vid)
                pb_upload_remember(u, p, &p->v[k], pid, vid, NULL, 0, 0);
            free(vid);
        }
    }
    rc = 0;
out:
    json_decref(skus);
    json_decref(found);
    return rc;
}

/* ---- attribute options ---- */

/* The attribute's cache entry, its options read on first use; NULL only on an engine
 * failure.  A failure to read them is kept in the entry's "error". */
static json_t *
attr_entry(struct pb_upload *u, const char *code, struct pb_error *err)
{
    struct mg *m = u->conn_state;
    json_t *e = json_object_get(m->attrs, code);
    if (e)
        return e;
    e = json_pack("{s:{}, s:{}}", "opts", "bad");
    json_object_set_new(m->attrs, code, e);
    struct pb_buf path = PB_BUF_INIT;
    char *url = NULL;
    if (pb_buf_adds(&path, "/products/attributes/") < 0 || pb_rest_escape(&path, code) < 0 ||
        pb_buf_adds(&path, "/options") < 0 || !(url = api_url(u, "", path.data))) {
        pb_buf_release(&path);
        pb_error_set(err, PB_EOS, "out of memory");
        return NULL;
    }
    pb_buf_release(&path);
    struct pb_rest_req rq = {"GET", url, NULL, "attribute options", 0, 1};
    struct pb_rest rs;
    int r = pb_rest_one(u, &rq, &rs, err);
    free(url);
    if (r < 0)
        return NULL;
    if (!pb_rest_ok(&rs) || !json_is_array(rs.json)) {
        char msg[400];
        snprintf(msg, sizeof(msg), "the store's attribute '%.60s' cannot be read (%.200s): map the "
                                   "option to an attribute with option_attributes",
                 code, rs.error[0] ? rs.error : "not a list");
        json_object_set_new(e, "error", json_string(msg));
    } else {
        size_t i;
        json_t *o;
        json_array_foreach(rs.json, i, o) {
            const char *label = json_string_value(json_object_get(o, "label"));
            char buf[32];
            const char *id = pb_json_id(o, "value", buf);
            if (!label || !id || !*id)
                continue;
            char *l = lower(label);
            if (l && !json_object_get(json_object_get(e, "opts"), l))
                json_object_set_new(json_object_get(e, "opts"), l, json_string(id));
            free(l);
        }
    }
    pb_rest_release(&rs);
    return e;
}

/* The attribute's id (for a configurable option), read once. */
static const char *
attr_id(struct pb_upload *u, const char *code, char *why, size_t whylen, struct pb_error *err)
{
    struct mg *m = u->conn_state;
    json_t *e = json_object_get(m->attrs, code);
    const char *id = json_string_value(json_object_get(e, "id"));
    if (id || !e)
        return id;
    struct pb_buf path = PB_BUF_INIT;
    char *url = NULL;
    if (pb_buf_adds(&path, "/products/attributes/") < 0 || pb_rest_escape(&path, code) < 0 ||
        !(url = api_url(u, "", path.data))) {
        pb_buf_release(&path);
        pb_error_set(err, PB_EOS, "out of memory");
        return NULL;
    }
    pb_buf_release(&path);
    struct pb_rest_req rq = {"GET", url, NULL, "attribute", 0, 1};
    struct pb_rest rs;
    int r = pb_rest_one(u, &rq, &rs, err);
    free(url);
    if (r < 0)
        return NULL;
    char buf[32];
    const char *got = pb_json_id(rs.json, "attribute_id", buf);
    if (got)
        json_object_set_new(e, "id", json_string(got));
    else
        snprintf(why, whylen, "attribute '%.60s': %.200s", code, rs.error[0] ? rs.error : "no id");
    pb_rest_release(&rs);
    return json_string_value(json_object_get(e, "id"));
}

static int
create_option(struct pb_upload *u, const char *code, json_t *e, const char *label,
              struct pb_error *err)
{
    struct pb_buf path = PB_BUF_INIT;
    char *url = NULL;
    if (pb_buf_adds(&path, "/products/attributes/") < 0 || pb_rest_escape(&path, code) < 0 ||
        pb_buf_adds(&path, "/options") < 0 || !(url = api_url(u, "", path.data))) {
        pb_buf_release(&path);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    pb_buf_release(&path);
    json_t *body = json_pack("{s:{s:s, s:i, s:b}}", "option", "label", label, "sort_order", 0,
                             "is_default", 0);
    struct pb_rest_req rq = {"POST", url, body, "create attribute option", 0, 1};
    struct pb_rest rs;
    int r = pb_rest_one(u, &rq, &rs, err);
    json_decref(body);
    free(url);
    if (r < 0)
        return -1;
    char *l = lower(label);
    const char *id = json_string_value(rs.json);
    if (pb_rest_ok(&rs) && id && *id && strspn(id, "0123456789") == strlen(id)) {
        json_object_set_new(json_object_get(e, "opts"), l, json_string(id));
        pb_log(PB_LOG_INFO, "%s: option '%s' of '%s' created (%s)", u->store->name, label, code,
               id);
    } else if (pb_rest_ok(&rs) || rs.http == 400 || rs.lost) {
        /* an older build's answer, a label that exists after all, or no answer: read the
         * options again and take the label from there */
        json_t *again = NULL;
        json_incref(e);
        json_object_del(((struct mg *)u->conn_state)->attrs, code);
        again = attr_entry(u, code, err);
        if (!again) {
            json_decref(e);
            free(l);
            pb_rest_release(&rs);
            return -1;
        }
        if (!json_object_get(json_object_get(again, "opts"), l))
            json_object_set_new(json_object_get(again, "bad"), l,
                                json_string(rs.error[0] ? rs.error : "not created"));
        json_decref(e);
    } else {
        json_object_set_new(json_object_get(e, "bad"), l, json_string(rs.error));
    }
    free(l);
    pb_rest_release(&rs);
    return 0;
}

static int differs(const struct pb_up_variant *v, int f);

static const int option_names[3] = {PB_PRODUCTS_OPTION1_NAME, PB_PRODUCTS_OPTION2_NAME,
                                    PB_PRODUCTS_OPTION3_NAME};

/* Every option value these products' writes need exists in the store before them. */
static int
ensure_options(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        for (int k = 0; k < p->n; k++) {
            struct pb_up_variant *v = &p->v[k];
            if (!v->is_new && !v->fields_changed && p->action != PB_UP_CREATE)
                continue;
            for (int o = 0; o < 3; o++) {
                const char *name = val(v, option_names[o]), *label = val(v, option_names[o] + 1);
                /* a known variant whose values did not change needs no option */
                if (!name || !label ||
                    (!v->is_new && p->action != PB_UP_CREATE && !differs(v, option_names[o] + 1)))
                    continue;
                char *code = pb_magento_attr_code(u->store, name);
                char *l = lower(label);
                json_t *e = code && l ? attr_entry(u, code, err) : NULL;
                int rc = e ? 0 : -1;
                if (e && !json_object_get(e, "error") &&
                    !json_object_get(json_object_get(e, "opts"), l) &&
                    !json_object_get(json_object_get(e, "bad"), l))
                    rc = create_option(u, code, e, label, err);
                free(code);
                free(l);
                if (rc < 0)
                    return code && l ? -1 : pb_error_set(err, PB_EOS, "out of memory");
                if (u->res->auth_failed)
                    return refused(u, err);
            }
        }
    }
    return 0;
}

/* {"attribute_code", "value": option id} for each option of v into ca; -1 with why. */
static int
option_values(struct pb_upload *u, const struct pb_up_variant *v, json_t *ca, char *why,
              size_t whylen)
{
    struct mg *m = u->conn_state;
    for (int o = 0; o < 3; o++) {
        const char *name = val(v, option_names[o]), *label = val(v, option_names[o] + 1);
        if (!name || !label)
            continue;
        char *code = pb_magento_attr_code(u->store, name);
        char *l = lower(label);
        json_t *e = json_object_get(m->attrs, code ? code : "");
        const char *id = json_string_value(json_object_get(json_object_get(e, "opts"), l ? l : ""));
        if (id) {
            json_array_append_new(ca, json_pack("{s:s, s:s}", "attribute_code", code, "value", id));
        } else {
            const char *bad = json_string_value(json_object_get(e, "error"));
            if (!bad)
                bad = json_string_value(json_object_get(json_object_get(e, "bad"), l ? l : ""));
            snprintf(why, whylen, "option %s '%s' is not in the store: %s", name, label,
                     bad ? bad : "not created");
        }
        free(code);
        free(l);
        if (!id)
            return -1;
    }
    return 0;
}

/* ---- product bodies ---- */

static void
child_name(const struct pb_up_variant *v, struct pb_buf *b)
{
    int rc = pb_buf_adds(b, val(v, PB_PRODUCTS_TITLE));
    for (int o = 0, any = 0; o < 3 && rc == 0; o++) {
        const char *x = val(v, option_names[o] + 1);
        if (x) {
            rc = pb_buf_addf(b, "%s%s", any ? " / " : " - ", x);
            any = 1;
        }
    }
}

static void
custom(json_t *ca, const char *code, json_t *value)
{
    json_array_append_new(ca, json_pack("{s:s, s:o}", "attribute_code", code, "value", value));
}

/* Does field f differ from what was last sent (or was nothing recorded)? */
static int
differs(const struct pb_up_variant *v, int f)
{
    json_t *row = v->state ? pb_state_row(v->state) : NULL;
    if (!row)
        return 1;
    const char *now = val(v, f);
    const char *was = json_string_value(json_object_get(row, v->row.schema->fields[f].name));
    return (now == NULL) != (was == NULL) || (now && strcmp(now, was));
}

/*
 * The body of a write.  create: every field (status included, from the row); else only
 * what differs from what was last sent, NULL when nothing does.  children: the parent's
 * child ids (create, or a parent whose children changed).  NULL with why on a value the
 * store cannot take.
 */
static json_t *
product_body(struct pb_upload *u, struct pb_up_product *p, struct pb_up_variant *v,
             enum kind kind, int create, json_t *children, char *why, size_t whylen)
{
    const struct pb_store_cfg *s = u->store;
    struct pb_up_variant *h = v ? v : &p->v[0];
    json_t *prod = json_object(), *ca = json_array(), *ext = json_object();
    struct pb_buf b = PB_BUF_INIT;
    int any = 0;
    int opts_changed = 0;
    for (int o = 0; o < 3; o++)
        opts_changed |= differs(h, option_names[o] + 1);
    json_object_set_new(prod, "sku", json_string(kind == K_PARENT ? parent_sku(p) : v->sku));
    if (create) {
        const char *st = val(h, PB_PRODUCTS_STATUS);
        json_object_set_new(prod, "attribute_set_id", json_integer(s->attribute_set_id));
        json_object_set_new(prod, "type_id",
                            json_string(kind == K_PARENT ? "configurable" : "simple"));
        json_object_set_new(prod, "visibility", json_integer(kind == K_CHILD ? 1 : 4));
        /* a child stays enabled: the parent's status decides what shoppers see */
        json_object_set_new(prod, "status",
                            json_integer(kind != K_CHILD && st && strcmp(st, "active") ? 2 : 1));
        if (s->website_id > 0)
            json_object_set_new(ext, "website_ids", json_pack("[i]", s->website_id));
    }
    if (kind == K_CHILD ? (create || differs(h, PB_PRODUCTS_TITLE) || opts_changed)
                        : (create || differs(h, PB_PRODUCTS_TITLE))) {
        if (kind == K_CHILD)
            child_name(h, &b);
        else if (pb_buf_adds(&b, val(h, PB_PRODUCTS_TITLE)) < 0)
            pb_buf_reset(&b);
        json_object_set_new(prod, "name", json_string(b.data));
        any = 1;
    }
    if (kind != K_CHILD && (create || differs(h, PB_PRODUCTS_DESCRIPTION))) {
        custom(ca, "description", html_of(val(h, PB_PRODUCTS_DESCRIPTION)));
        any = 1;
    }
    if (create) {
        char *slug = NULL;
        if (kind == K_CHILD) {
            char *k = pb_magento_slug(v->sku);
            pb_buf_reset(&b);
            if (k && pb_buf_addf(&b, "%s-%s", val(h, PB_PRODUCTS_HANDLE), k) == 0)
                slug = pb_magento_slug(b.data);
            free(k);
        } else {
            slug = pb_magento_slug(val(h, PB_PRODUCTS_HANDLE));
        }
        if (slug)
            custom(ca, "url_key", json_string(slug));
        free(slug);
    }
    if (kind != K_PARENT) {
        if (create || differs(v, PB_PRODUCTS_PRICE)) {
            json_t *price = pb_magento_number(val(v, PB_PRODUCTS_PRICE));
            if (!price) {
                snprintf(why, whylen, "price '%s' is not a number", val(v, PB_PRODUCTS_PRICE));
                goto bad;
            }
            json_object_set_new(prod, "price", price);
            any = 1;
        }
        if ((create && val(v, PB_PRODUCTS_WEIGHT)) || (!create && differs(v, PB_PRODUCTS_WEIGHT))) {
            json_t *w = pb_magento_number(val(v, PB_PRODUCTS_WEIGHT) ? val(v, PB_PRODUCTS_WEIGHT)
                                                                    : "0");
            json_object_set_new(prod, "weight", w ? w : json_integer(0));
            any = 1;
        }
        if ((create && val(v, PB_PRODUCTS_COST)) || (!create && differs(v, PB_PRODUCTS_COST))) {
            custom(ca, "cost", json_string(val(v, PB_PRODUCTS_COST) ? val(v, PB_PRODUCTS_COST) : ""));
            any = 1;
        }
        if ((create && val(v, PB_PRODUCTS_COMPARE_AT_PRICE)) ||
            (!create && differs(v, PB_PRODUCTS_COMPARE_AT_PRICE))) {
            const char *c = val(v, PB_PRODUCTS_COMPARE_AT_PRICE);
            custom(ca, "msrp", json_string(c ? c : ""));
            any = 1;
        }
        if ((create || differs(v, PB_PRODUCTS_TAXABLE)) && val(v, PB_PRODUCTS_TAXABLE)) {
            custom(ca, "tax_class_id",
                   json_string(strcmp(val(v, PB_PRODUCTS_TAXABLE), "true") ? "0" : "2"));
            any = 1;
        }
        if ((create || opts_changed) && option_values(u, v, ca, why, whylen) < 0)
            goto bad;
        any |= opts_changed;
    } else if (children) {
        /* the configurable attributes with every child's value, and the links */
        json_t *opts = json_array();
        for (int o = 0; o < 3; o++) {
            const char *name = val(&p->v[0], option_names[o]);
            if (!name)
                continue;
            char *code = pb_magento_attr_code(s, name);
            struct pb_error e2;
            pb_error_init(&e2);
            const char *aid = code ? attr_id(u, code, why, whylen, &e2) : NULL;
            if (!aid) {
                if (!why[0])
                    snprintf(why, whylen, "attribute '%s' cannot be read", code ? code : name);
                free(code);
                json_decref(opts);
                goto bad;
            }
            json_t *values = json_array(), *seen = json_object();
            json_t *e = json_object_get(((struct mg *)u->conn_state)->attrs, code);
            for (int k = 0; k < p->n; k++) {
                char *l = lower(val(&p->v[k], option_names[o] + 1));
                const char *id = json_string_value(json_object_get(json_object_get(e, "opts"),
                                                                   l ? l : ""));
                if (id && !json_object_get(seen, id)) {
                    json_object_set_new(seen, id, json_true());
                    json_array_append_new(values,
                                          json_pack("{s:I}", "value_index",
                                                    (json_int_t)strtoll(id, NULL, 10)));
                }
                free(l);
            }
            json_decref(seen);
            json_array_append_new(opts, json_pack("{s:s, s:s, s:i, s:o}", "attribute_id", aid,
                                                  "label", name, "position", o, "values",
                                                  values));
            free(code);
        }
        json_object_set_new(ext, "configurable_product_options", opts);
        json_object_set(ext, "configurable_product_links", children);
        any = 1;
    }
    if (!create && !any)
        goto none;
    if (json_object_size(ext))
        json_object_set(prod, "extension_attributes", ext);
    if (json_array_size(ca))
        json_object_set(prod, "custom_attributes", ca);
    json_decref(ca);
    json_decref(ext);
    pb_buf_release(&b);
    return json_pack("{s:o}", "product", prod);
bad:
    if (!why[0])
        snprintf(why, whylen, "cannot build the product");
none:
    json_decref(prod);
    json_decref(ca);
    json_decref(ext);
    pb_buf_release(&b);
    return NULL;
}

/* ---- writes: synchronous ---- */

static int
sync_writes(struct pb_upload *u, struct wr *w, size_t n, const char *method,
            struct pb_error *err)
{
    int create = !strcmp(method, "POST");
    struct pb_rest_req *rq = calloc(n + 1, sizeof(*rq));
    struct pb_rest *rs = calloc(n + 1, sizeof(*rs));
    char **urls = calloc(n + 1, sizeof(*urls));
    size_t *ix = calloc(n + 1, sizeof(*ix));
    json_t *lost = json_array();
    int rc = -1;
    if (!rq || !rs || !urls || !ix)
        goto oom;
    for (int round = 0; round < TRIES; round++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (w[i].state != 0)
                continue;
            char *url = create ? api_url(u, "", "/products") : sku_url(u, w[i].sku);
            if (!url)
                goto oom;
            urls[m] = url;
            ix[m] = i;
            rq[m] = (struct pb_rest_req){method, url, w[i].body, create ? "create product"
                                                                         : "update product",
                                         create, 1};
            w[i].tries++;
            m++;
        }
        if (!m)
            break;
        int r = pb_rest_run(u, rq, rs, m, err);
        json_array_clear(lost);
        for (size_t k = 0; k < m; k++) {
            struct wr *x = &w[ix[k]];
            if (r == 0) {
                x->http = rs[k].http;
                char *id = pb_rest_ok(&rs[k]) ? id_text(rs[k].json) : NULL;
                if (id) {
                    x->id = id;
                    x->state = 1;
                } else if (create && rs[k].lost && !u->res->unreachable) {
                    json_array_append_new(lost, json_string(x->sku));
                    snprintf(x->error, sizeof(x->error), "no answer from the store: %.260s",
                             rs[k].error);
                } else {
                    x->state = 2;
                    snprintf(x->error, sizeof(x->error), "%.299s",
                             rs[k].error[0] ? rs[k].error : "the store answered without an id");
                }
                pb_rest_release(&rs[k]);
            }
            free(urls[k]);
            urls[k] = NULL;
        }
        if (r < 0)
            goto out;
        if (!json_array_size(lost))
            break;
        /* The answer was lost: the product may exist.  Look before sending again. */
        json_t *found = json_object();
        char why[300];
        int s = search_skus(u, lost, found, why, sizeof(why), err);
        for (size_t i = 0; s >= 0 && i < n; i++) {
            if (w[i].state != 0)
                continue;
            json_t *it = json_object_get(found, w[i].sku);
            if (it && (w[i].id = id_text(it))) {
                w[i].state = 1;
                pb_log(PB_LOG_INFO, "%s: '%s' was saved although the answer was lost",
                       u->store->name, w[i].sku);
            } else if (s > 0 || w[i].tries >= TRIES) {
                w[i].state = 2;
                if (s > 0)
                    snprintf(w[i].error, sizeof(w[i].error), "lookup failed: %.280s", why);
            }
        }
        json_decref(found);
        if (s < 0)
            goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (w[i].state == 0)
            w[i].state = 2;
    rc = 0;
    goto out;
oom:
    pb_error_set(err, PB_EOS, "out of memory");
out:
    if (urls)
        for (size_t k = 0; k < n; k++)
            free(urls[k]);
    free(rq);
    free(rs);
    free(urls);
    free(ix);
    json_decref(lost);
    return rc;
}

/* ---- writes: the async bulk API ---- */

struct bulk {
    char *uuid;
    size_t first, count;  /* the writes it carries */
    int done;
};

static void
bulk_fail(struct wr *w, size_t first, size_t count, long http, const char *why)
{
    for (size_t i = first; i < first + count; i++) {
        w[i].state = 2;
        w[i].http = http;
        snprintf(w[i].error, sizeof(w[i].error), "%.299s", why);
    }
}

/* One poll of a bulk's detailed status: 1 when every operation has finished. */
static int
bulk_poll(struct pb_upload *u, struct bulk *bk, struct wr *w, struct pb_error *err)
{
    struct pb_buf path = PB_BUF_INIT;
    char *url = NULL;
    if (pb_buf_adds(&path, "/bulk/") < 0 || pb_rest_escape(&path, bk->uuid) < 0 ||
        pb_buf_adds(&path, "/detailed-status") < 0 || !(url = api_url(u, "", path.data))) {
        pb_buf_release(&path);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    pb_buf_release(&path);
    struct pb_rest_req rq = {"GET", url, NULL, "bulk status", 0, 1};
    struct pb_rest rs;
    int r = pb_rest_one(u, &rq, &rs, err);
    free(url);
    if (r < 0)
        return -1;
    json_t *ops = json_object_get(rs.json, "operations_list");
    if (!pb_rest_ok(&rs) || !json_is_array(ops)) {
        bulk_fail(w, bk->first, bk->count, rs.http, rs.error[0] ? rs.error : "no bulk status");
        pb_rest_release(&rs);
        return 1;
    }
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op) {
        if (json_integer_value(json_object_get(op, "status")) == 4) {
            pb_rest_release(&rs);
            return 0; /* still open */
        }
    }
    json_array_foreach(ops, i, op) {
        char *sku = pb_magento_op_sku(op);
        struct wr *x = NULL;
        for (size_t k = bk->first; sku && k < bk->first + bk->count; k++)
            if (!strcmp(w[k].sku, sku) && w[k].state == 0)
                x = &w[k];
        if (!sku && json_array_size(ops) == bk->count)
            x = &w[bk->first + i]; /* the operations in the order of the bodies */
        free(sku);
        if (!x)
            continue;
        json_int_t st = json_integer_value(json_object_get(op, "status"));
        const char *msg = json_string_value(json_object_get(op, "result_message"));
        if (st == 1) {
            const char *res = json_string_value(json_object_get(op, "result_serialized_data"));
            json_t *saved = res ? json_loads(res, JSON_DECODE_ANY, NULL) : NULL;
            x->id = id_text(saved);
            json_decref(saved);
            x->state = 1;
        } else {
            x->state = 2;
            snprintf(x->error, sizeof(x->error), "bulk operation %s: %.250s",
                     st == 2 ? "failed (retriable)" : st == 5 ? "rejected" : "failed",
                     msg ? msg : "no message");
        }
    }
    for (size_t k = bk->first; k < bk->first + bk->count; k++)
        if (w[k].state == 0) {
            w[k].state = 2;
            snprintf(w[k].error, sizeof(w[k].error), "the bulk status does not name it");
        }
    pb_rest_release(&rs);
    return 1;
}

static int
bulk_writes(struct pb_upload *u, struct wr *w, size_t n, const char *method,
            struct pb_error *err)
{
    int create = !strcmp(method, "POST");
    size_t nb = (n + BULK_CHUNK - 1) / BULK_CHUNK;
    struct bulk *bk = calloc(nb + 1, sizeof(*bk));
    char *url = api_url(u, "/async/bulk", create ? "/products" : "/products/bySku");
    int rc = -1;
    if (!bk || !url) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    for (size_t b = 0; b < nb; b++) {
        bk[b].first = b * BULK_CHUNK;
        bk[b].count = n - bk[b].first < BULK_CHUNK ? n - bk[b].first : BULK_CHUNK;
        json_t *arr = json_array();
        for (size_t i = bk[b].first; i < bk[b].first + bk[b].count; i++)
            json_array_append(arr, w[i].body);
        struct pb_rest_req rq = {method, url, arr, "bulk products", 1, 1};
        struct pb_rest rs;
        int r = pb_rest_one(u, &rq, &rs, err);
        json_decref(arr);
        if (r < 0)
            goto out;
        const char *uuid = json_string_value(json_object_get(rs.json, "bulk_uuid"));
        if (pb_rest_ok(&rs) && uuid) {
            bk[b].uuid = strdup(uuid);
            pb_log(PB_LOG_INFO, "%s: bulk %s: %zu products scheduled", u->store->name, uuid,
                   bk[b].count);
        } else {
            char why[300];
            snprintf(why, sizeof(why), "%s%.200s",
                     rs.lost ? "the answer to the bulk request was lost (the next run looks "
                               "these up): " : "",
                     rs.error[0] ? rs.error : "no bulk id in the answer");
            bulk_fail(w, bk[b].first, bk[b].count, rs.http, why);
            bk[b].done = 1;
        }
        pb_rest_release(&rs);
        for (size_t i = bk[b].first; i < bk[b].first + bk[b].count; i++)
            w[i].tries++;
    }
    double start = pb_now(), nap = 0.05;
    for (;;) {
        int open = 0;
        for (size_t b = 0; b < nb; b++) {
            if (bk[b].done)
                continue;
            int r = bulk_poll(u, &bk[b], w, err);
            if (r < 0)
                goto out;
            bk[b].done = r;
            open += !r;
        }
        if (!open)
            break;
        if (pb_now() - start > BULK_WAIT) {
            for (size_t b = 0; b < nb; b++)
                if (!bk[b].done)
                    bulk_fail(w, bk[b].first, bk[b].count, 0,
                              "the bulk operations are still open: is Magento's "
                              "async.operations.all consumer running?");
            break;
        }
        pause_s(nap);
        nap = nap * 2 < 2.0 ? nap * 2 : 2.0;
    }
    /* written, but the status did not carry the saved product: read the ids */
    json_t *need = json_array(), *found = json_object();
    for (size_t i = 0; i < n; i++)
        if (w[i].state == 1 && !w[i].id)
            json_array_append_new(need, json_string(w[i].sku));
    char why[300];
    int s = json_array_size(need) ? search_skus(u, need, found, why, sizeof(why), err) : 0;
    for (size_t i = 0; s >= 0 && i < n; i++)
        if (w[i].state == 1 && !w[i].id && !(w[i].id = id_text(json_object_get(found, w[i].sku)))) {
            w[i].state = 2;
            snprintf(w[i].error, sizeof(w[i].error), "saved, but not found afterwards");
        }
    json_decref(need);
    json_decref(found);
    rc = s < 0 ? -1 : 0;
out:
    for (size_t b = 0; bk && b < nb; b++)
        free(bk[b].uuid);
    free(bk);
    free(url);
    return rc;
}

static int
run_writes(struct pb_upload *u, struct wr *w, size_t n, const char *method,
           struct pb_error *err)
{
    struct mg *m = u->conn_state;
    if (!n)
        return 0;
    return m->bulk ? bulk_writes(u, w, n, method, err) : sync_writes(u, w, n, method, err);
}

static void
wr_release(struct wr *w, size_t n)
{
    for (size_t i = 0; w && i < n; i++) {
        json_decref(w[i].body);
        free(w[i].id);
    }
    free(w);
}

/* The first failed write of each product fails it. */
static void
apply_failures(struct wr *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i].state == 2)
            fail(w[i].p, w[i].http, w[i].error);
}

/* ---- quantities ---- */

struct qref {
    struct pb_up_product *p;
    struct pb_up_variant *v;
    const char *loc;
    json_int_t qty;
    int ok;
};

/* Every (variant, source) quantity of these refs, STOCK_CHUNK a request; a chunk the
 * store refuses for its size goes again in the smaller size the input limit allows. */
static int
send_stock(struct pb_upload *u, struct qref *refs, size_t n, struct pb_error *err)
{
    struct mg *m = u->conn_state;
    char *url = api_url(u, "", "/inventory/source-items");
    if (!url)
        return pb_error_set(err, PB_EOS, "out of memory");
    size_t maxreq = (n + STOCK_LIMITED - 1) / STOCK_LIMITED + 1;
    struct pb_rest_req *rq = calloc(maxreq, sizeof(*rq));
    struct pb_rest *rs = calloc(maxreq, sizeof(*rs));
    json_t **bodies = calloc(maxreq, sizeof(*bodies));
    size_t *from = calloc(maxreq, sizeof(*from));
    int rc = -1;
    if (!rq || !rs || !bodies || !from) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    for (int round = 0; round < 2; round++) {
        size_t nr = 0, chunk = (size_t)m->stock_chunk;
        for (size_t at = 0; at < n;) {
            while (at < n && refs[at].ok)
                at++;
            if (at >= n)
                break;
            json_t *items = json_array();
            from[nr] = at;
            size_t end = at;
            while (end < n && json_array_size(items) < chunk) {
                if (!refs[end].ok)
                    json_array_append_new(
                        items, json_pack("{s:s, s:s, s:I, s:i}", "sku", refs[end].v->sku,
                                         "source_code", refs[end].loc, "quantity",
                                         refs[end].qty, "status", refs[end].qty > 0 ? 1 : 0));
                end++;
            }
            bodies[nr] = json_pack("{s:o}", "sourceItems", items);
            rq[nr] = (struct pb_rest_req){"POST", url, bodies[nr], "source items", 0, 1};
            nr++;
            at = end;
        }
        if (!nr)
            break;
        int r = pb_rest_run(u, rq, rs, nr, err);
        int shrink = 0;
        for (size_t k = 0; k < nr; k++) {
            size_t end = k + 1 < nr ? from[k + 1] : n;
            if (r == 0) {
                int ok = pb_rest_ok(&rs[k]);
                if (!ok && rs[k].http == 400 && strstr(rs[k].error, "Maximum items"))
                    shrink = 1;
                for (size_t i = from[k]; i < end; i++) {
                    if (refs[i].ok)
                        continue;
                    if (ok)
                        refs[i].ok = 1;
                    else if (!shrink || m->stock_chunk == STOCK_LIMITED) {
                        char msg[320];
                        snprintf(msg, sizeof(msg), "quantities: %.280s", rs[k].error);
                        fail(refs[i].p, rs[k].http, msg);
                    }
                }
                pb_rest_release(&rs[k]);
            }
            json_decref(bodies[k]);
            bodies[k] = NULL;
        }
        if (r < 0)
            goto out;
        if (!shrink || m->stock_chunk == STOCK_LIMITED)
            break;
        m->stock_chunk = STOCK_LIMITED;
        pb_log(PB_LOG_INFO, "%s: the store limits input arrays: %d source items a request",
               u->store->name, STOCK_LIMITED);
    }
    rc = 0;
out:
    free(url);
    free(rq);
    free(rs);
    free(bodies);
    free(from);
    return rc;
}

/* Append the quantities of v (only those that differ from what was sent unless all). */
static int
add_refs(struct pb_upload *u, struct pb_up_product *p, struct pb_up_variant *v, int all,
         struct qref **refs, size_t *n, size_t *cap)
{
    json_t *have = v->state && !all ? json_object_get(v->state, "qty") : NULL;
    const char *loc;
    json_t *q;
    json_object_foreach(pb_upload_qty(u, v), loc, q) {
        json_t *h = json_object_get(have, loc);
        if (h && json_integer_value(h) == json_integer_value(q))
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            struct qref *r = realloc(*refs, *cap * sizeof(*r));
            if (!r)
                return -1;
            *refs = r;
        }
        (*refs)[(*n)++] = (struct qref){p, v, loc, json_integer_value(q), 0};
    }
    return 0;
}

/* Did every quantity of v land? */
static int
stock_ok(const struct qref *refs, size_t n, const struct pb_up_variant *v)
{
    for (size_t i = 0; i < n; i++)
        if (refs[i].v == v && !refs[i].ok)
            return 0;
    return 1;
}

/* ---- create ---- */

static int
mg_create(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    struct mg *m = u->conn_state;
    m->bulk = u->store->bulk_above > 0 && n > u->store->bulk_above;
    if (ensure_options(u, list, n, err) < 0)
        return -1;
    int chunk = m->bulk ? n : PER_CHUNK;
    for (int first = 0; first < n; first += chunk) {
        int cnt = n - first < chunk ? n - first : chunk;
        struct pb_up_product **ps = list + first;
        uint64_t *seqs = calloc((size_t)cnt, sizeof(*seqs));
        size_t nv = 0, np = 0, nrefs = 0, cap = 0;
        for (int i = 0; i < cnt; i++)
            nv += (size_t)ps[i]->n;
        struct wr *w = calloc(nv + 1, sizeof(*w)), *pw = calloc((size_t)cnt + 1, sizeof(*pw));
        struct qref *refs = NULL;
        int rc = -1;
        if (!seqs || !w || !pw) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto next;
        }
        for (int i = 0; i < cnt; i++)
            if (!(seqs[i] = pb_upload_intent(u, ps[i], "create", err)))
                goto next;
        if (pb_journal_sync(&u->journal, err) < 0)
            goto next;
        /* the simple products and the children first */
        nv = 0;
        for (int i = 0; i < cnt; i++) {
            struct pb_up_product *p = ps[i];
            for (int k = 0; k < p->n && !p->failed; k++) {
                char why[300] = "";
                enum kind kd = p->n == 1 ? K_SIMPLE : K_CHILD;
                json_t *body = product_body(u, p, &p->v[k], kd, 1, NULL, why, sizeof(why));
                if (!body) {
                    fail(p, 0, why);
                    break;
                }
                w[nv++] = (struct wr){p, &p->v[k], p->v[k].sku, body, NULL, 0, 0, 0, ""};
            }
        }
        /* a product that failed on a value sends nothing */
        size_t keep = 0;
        for (size_t i = 0; i < nv; i++) {
            if (w[i].p->failed) {
                json_decref(w[i].body);
                continue;
            }
            w[keep++] = w[i];
        }
        nv = keep;
        if (run_writes(u, w, nv, "POST", err) < 0)
            goto next;
        apply_failures(w, nv);
        /* then each parent, over its children */
        for (int i = 0; i < cnt; i++) {
            struct pb_up_product *p = ps[i];
            if (p->n == 1 || p->failed)
                continue;
            json_t *ids = json_array();
            for (size_t k = 0; k < nv; k++)
                if (w[k].p == p)
                    json_array_append_new(ids, json_integer(strtoll(w[k].id, NULL, 10)));
            char why[300] = "";
            json_t *body = product_body(u, p, NULL, K_PARENT, 1, ids, why, sizeof(why));
            json_decref(ids);
            if (!body) {
                fail(p, 0, why);
                continue;
            }
            pw[np++] = (struct wr){p, NULL, parent_sku(p), body, NULL, 0, 0, 0, ""};
        }
        if (run_writes(u, pw, np, "POST", err) < 0)
            goto next;
        apply_failures(pw, np);
        /* and the quantities of what was made */
        for (size_t k = 0; k < nv; k++)
            if (!w[k].p->failed && add_refs(u, w[k].p, w[k].v, 1, &refs, &nrefs, &cap) < 0) {
                pb_error_set(err, PB_EOS, "out of memory");
                goto next;
            }
        if (nrefs && send_stock(u, refs, nrefs, err) < 0)
            goto next;
        for (int i = 0; i < cnt; i++) {
            struct pb_up_product *p = ps[i];
            const char *pid = NULL;
            for (size_t k = 0; k < np; k++)
                if (pw[k].p == p && pw[k].state == 1)
                    pid = pw[k].id;
            for (size_t k = 0; p->n == 1 && k < nv; k++)
                if (w[k].p == p && w[k].state == 1)
                    pid = w[k].id;
            /* a product is recorded whole or not at all: without its parent, the next
             * run looks it up and sends it again (saves are upserts) */
            for (size_t k = 0; k < nv && pid; k++) {
                if (w[k].p != p || w[k].state != 1)
                    continue;
                pb_upload_remember(u, p, w[k].v, pid, w[k].id, NULL, 1,
                                   stock_ok(refs, nrefs, w[k].v));
            }
            if (pid) {
                free(p->product_id);
                p->product_id = strdup(pid);
            }
            if (!p->failed && p->n > 1 && !pid)
                fail(p, 0, "the parent was not saved");
            if (pb_upload_outcome(u, p, seqs[i], "create", err) < 0)
                goto next;
        }
        rc = 0;
    next:
        wr_release(w, nv);
        wr_release(pw, np);
        free(refs);
        free(seqs);
        if (rc < 0)
            return -1;
        if (u->res->auth_failed)
            return refused(u, err);
    }
    return 0;
}

/* ---- update ---- */

static int
mg_update(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    struct mg *m = u->conn_state;
    m->bulk = u->store->bulk_above > 0 && n > u->store->bulk_above;
    if (ensure_options(u, list, n, err) < 0)
        return -1;
    int chunk = m->bulk ? n : PER_CHUNK;
    for (int first = 0; first < n; first += chunk) {
        int cnt = n - first < chunk ? n - first : chunk;
        struct pb_up_product **ps = list + first;
        uint64_t *seqs = calloc((size_t)cnt, sizeof(*seqs));
        size_t nv = 0, nc = 0, nw = 0, np = 0, nrefs = 0, cap = 0;
        for (int i = 0; i < cnt; i++)
            nv += (size_t)ps[i]->n;
        struct wr *cw = calloc(nv + 1, sizeof(*cw)), *uw = calloc(nv + 1, sizeof(*uw)),
                  *pw = calloc((size_t)cnt + 1, sizeof(*pw));
        struct qref *refs = NULL;
        int rc = -1;
        if (!seqs || !cw || !uw || !pw) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto next;
        }
        for (int i = 0; i < cnt; i++)
            if (!(seqs[i] = pb_upload_intent(u, ps[i], "update", err)))
                goto next;
        if (pb_journal_sync(&u->journal, err) < 0)
            goto next;
        for (int i = 0; i < cnt; i++) {
            struct pb_up_product *p = ps[i];
            int was_simple = 0, has_new = 0;
            for (int k = 0; k < p->n; k++) {
                was_simple |= p->v[k].state && kind_of(p, &p->v[k]) == K_SIMPLE;
                has_new |= p->v[k].is_new;
            }
            if (was_simple && has_new) {
                fail(p, 0,
                     "it was sent as a one-variant (simple) product and now has variants: "
                     "Magento cannot turn it into a configurable one; delete it in the store "
                     "to have it created again");
                continue;
            }
            for (int k = 0; k < p->n && !p->failed; k++) {
                struct pb_up_variant *v = &p->v[k];
                enum kind kd = kind_of(p, v);
                char why[300] = "";
                if (v->is_new || v->fields_changed ||
                    (p->product_changed && kd == K_SIMPLE)) {
                    json_t *body = product_body(u, p, v, kd, v->is_new, NULL, why, sizeof(why));
                    if (!body && why[0]) {
                        fail(p, 0, why);
                        break;
                    }
                    if (!body)
                        continue;
                    struct wr x = {p, v, v->sku, body, NULL, 0, 0, 0, ""};
                    if (v->is_new)
                        cw[nc++] = x;
                    else
                        uw[nw++] = x;
                }
            }
        }
        if (run_writes(u, cw, nc, "POST", err) < 0 || run_writes(u, uw, nw, "PUT", err) < 0)
            goto next;
        apply_failures(cw, nc);
        apply_failures(uw, nw);
        /* the parents: changed product fields, and the links when children were added */
        for (int i = 0; i < cnt; i++) {
            struct pb_up_product *p = ps[i];
            int has_new = 0;
            for (int k = 0; k < p->n; k++)
                has_new |= p->v[k].is_new;
            if (p->failed || p->n == 0 || kind_of(p, &p->v[0]) != K_CHILD ||
                (!has_new && !p->product_changed))
                continue;
            json_t *ids = NULL;
            if (has_new) {
                ids = json_array();
                for (int k = 0; k < p->n; k++) {
                    const char *id = p->v[k].state ? json_string_value(json_object_get(
                                                         p->v[k].state, "variant_id"))
                                                   : NULL;
                    for (size_t c = 0; !p->v[k].state && c < nc; c++)
                        if (cw[c].v == &p->v[k])
                            id = cw[c].id;
                    if (id)
                        json_array_append_new(ids, json_integer(strtoll(id, NULL, 10)));
                }
            }
            char why[300] = "";
            json_t *body = product_body(u, p, NULL, K_PARENT, 0, ids, why, sizeof(why));
            json_decref(ids);
            if (!body && why[0])
                fail(p, 0, why);
            if (body)
                pw[np++] = (struct wr){p, NULL, parent_sku(p), body, NULL, 0, 0, 0, ""};
        }
        if (run_writes(u, pw, np, "PUT", err) < 0)
            goto next;
        apply_failures(pw, np);
        for (size_t k = 0; k < nc; k++)
            if (!cw[k].p->failed && add_refs(u, cw[k].p, cw[k].v, 1, &refs, &nrefs, &cap) < 0) {
                pb_error_set(err, PB_EOS, "out of memory");
                goto next;
            }
        if (nrefs && send_stock(u, refs, nrefs, err) < 0)
            goto next;
        for (int i = 0; i < cnt; i++) {
            struct pb_up_product *p = ps[i];
            for (size_t k = 0; k < nc; k++)
                if (cw[k].p == p && cw[k].state == 1 && !p->failed)
                    pb_upload_remember(u, p, cw[k].v, p->product_id, cw[k].id, NULL, 1,
                                       stock_ok(refs, nrefs, cw[k].v));
            for (int k = 0; k < p->n && !p->failed; k++)
                if (!p->v[k].is_new && (p->v[k].fields_changed || p->product_changed))
                    pb_upload_remember(u, p, &p->v[k], NULL, NULL, NULL, 1, 0);
            if (pb_upload_outcome(u, p, seqs[i], "update", err) < 0)
                goto next;
        }
        rc = 0;
    next:
        wr_release(cw, nc);
        wr_release(uw, nw);
        wr_release(pw, np);
        free(refs);
        free(seqs);
        if (rc < 0)
            return -1;
        if (u->res->auth_failed)
            return refused(u, err);
    }
    return 0;
}

/* ---- inventory ---- */

static int
mg_inventory(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    struct qref *refs = NULL;
    size_t nrefs = 0, cap = 0;
    uint64_t *seqs = calloc((size_t)n + 1, sizeof(*seqs));
    int rc = -1;
    if (!seqs)
        return pb_error_set(err, PB_EOS, "out of memory");
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        size_t before = nrefs;
        for (int k = 0; k < p->n; k++) {
            struct pb_up_variant *v = &p->v[k];
            if (!v->qty_changed || v->is_new || !v->state)
                continue;
            if (add_refs(u, p, v, 0, &refs, &nrefs, &cap) < 0) {
                pb_error_set(err, PB_EOS, "out of memory");
                goto out;
            }
        }
        if (nrefs > before && !(seqs[i] = pb_upload_intent(u, p, "inventory", err)))
            goto out;
    }
    if (pb_journal_sync(&u->journal, err) < 0)
        goto out;
    if (nrefs && send_stock(u, refs, nrefs, err) < 0)
        goto out;
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        if (!seqs[i])
            continue;
        for (int k = 0; k < p->n && !p->failed; k++)
            if (p->v[k].qty_changed && !p->v[k].is_new && p->v[k].state)
                pb_upload_remember(u, p, &p->v[k], NULL, NULL, NULL, 0, 1);
        if (pb_upload_outcome(u, p, seqs[i], "inventory", err) < 0)
            goto out;
    }
    rc = u->res->auth_failed ? refused(u, err) : 0;
out:
    free(refs);
    free(seqs);
    return rc;
}

const struct pb_connector pb_connector_magento = {
    .platform = "magento",
    .concurrency = 4,
    .prepare = mg_prepare,
    .auth = mg_auth,
    .check = mg_check,
    .lookup = mg_lookup,
    .create = mg_create,
    .update = mg_update,
    .inventory = mg_inventory,
    .download = pb_magento_download,
};
