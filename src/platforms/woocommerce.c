/*
 * The WooCommerce connector: the REST API v3 (base_url + /wp-json/wc/v3).
 *
 * A product without options is a simple product; one with options is a variable product
 * whose options are global attributes (option_attributes maps an option name to the
 * store's attribute name) and whose variants are variations.  Before a product that uses
 * them is sent, GET /products/attributes and the attributes' terms are read and the
 * missing ones created (attributes/batch, terms/batch).  Products go 100 to a request
 * through POST /products/batch (create and update arrays), variations 100 to a request
 * through POST /products/{id}/variations/batch (one parent per request: the API's unit).
 * Each element of a batch answer is checked: HTTP 200 carries per-item errors.
 *
 * Prices are strings: regular_price is the higher price (compare_at_price when the row
 * has one) and sale_price the lower.  WooCommerce keeps one stock number per product or
 * variation: manage_stock with stock_quantity = the row's inventory_qty (with quantity =
 * per_store, transform sums the mapped stores into it).  status (draft when hidden,
 * publish otherwise) is sent on create only.  A variable product's parent carries the
 * product's handle as its SKU, so that it can be found again like everything else.
 *
 * SKUs are unique in a WooCommerce store (products and variations together), so the
 * store itself refuses a duplicate: a create that meets an existing SKU
 * (product_invalid_sku with data.resource_id) is looked up and adopted, then updated.
 * A create whose answer was lost is looked up by SKU before it is ever sent again.
 * SKUs not in the state are found with GET /products?sku=A,B,... (variations included),
 * paged with X-WP-TotalPages.
 *
 * Auth: HTTP Basic over HTTPS, OAuth 1.0a one-legged (HMAC-SHA256) over plain HTTP
 * (store key auth = basic | oauth | auto).  An OAuth nonce is spent once the request
 * reached WordPress, so a request whose answer was lost is signed again, never repeated
 * as it was.  WooCommerce has no rate limit of its own: the host's 429/503 with
 * Retry-After are waited out.
 *
 * Orders, refunds and customers (download): woocommerce_orders.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "pb_schemas.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/oauth1.h"
#include "posbridge/rest.h"
#include "posbridge/upload.h"
#include "woocommerce_int.h"
#include "posbridge/banned.h"

#define BATCH_LIMIT 100      /* objects per batch request (woocommerce_rest_batch_items_limit) */
#define PER_PAGE 100         /* the most a list answers */
#define LOOKUP_SKUS 100      /* SKUs per GET /products?sku= ... */
#define LOOKUP_CHARS 1800    /* ... and at most this long, to keep URLs short */
#define CREATE_TRIES 3

struct woo {
    int oauth;
    char *basic;             /* "Authorization: Basic ..." */
    json_t *attrs;           /* lower(name) -> {"id", "terms": {lower(name): id}, "loaded"} */
};

/* ---- plumbing ---- */

static void
woo_free(struct pb_upload *u)
{
    struct woo *w = u->conn_state;
    if (!w)
        return;
    if (w->basic) {
        memset(w->basic, 0, strlen(w->basic));
        free(w->basic);
    }
    json_decref(w->attrs);
    free(w);
    u->conn_state = NULL;
}

static int
woo_prepare(struct pb_upload *u, struct pb_error *err)
{
    const char *ck = u->cred[PB_SECRET_CONSUMER_KEY], *cs = u->cred[PB_SECRET_CONSUMER_SECRET];
    if (!ck || !cs)
        return pb_error_set(err, PB_ECONFIG,
                            "store '%s' needs consumer_key and consumer_secret (WooCommerce REST "
                            "API keys)",
                            u->store->name);
    struct woo *w = calloc(1, sizeof(*w));
    if (!w)
        return pb_error_set(err, PB_EOS, "out of memory");
    u->conn_state = w;
    u->conn_free = woo_free;
    int https = !strncasecmp(u->store->base_url, "https:", 6);
    switch (u->store->auth) {
    case PB_AUTH_AUTO: w->oauth = !https; break;
    case PB_AUTH_BASIC: w->oauth = 0; break;
    case PB_AUTH_OAUTH: w->oauth = 1; break;
    default:
        return pb_error_set(err, PB_ECONFIG,
                            "store '%s': WooCommerce signs with its API keys: auth = basic, oauth "
                            "or auto",
                            u->store->name);
    }
    if (!w->oauth) {
        struct pb_buf plain = PB_BUF_INIT, b64 = PB_BUF_INIT, line = PB_BUF_INIT;
        int rc = pb_buf_addf(&plain, "%s:%s", ck, cs) < 0 ||
                 pb_base64((const unsigned char *)plain.data, plain.len, &b64) < 0 ||
                 pb_buf_addf(&line, "Authorization: Basic %s", b64.data) < 0 ||
                 pb_upload_add_secret(u, b64.data) < 0;
        if (plain.data)
            memset(plain.data, 0, plain.len);
        if (b64.data)
            memset(b64.data, 0, b64.len);
        pb_buf_release(&plain);
        pb_buf_release(&b64);
        if (rc) {
            pb_buf_release(&line);
            return pb_error_set(err, PB_EOS, "out of memory");
        }
        w->basic = pb_buf_detach(&line, NULL);
    }
    /* No rate limit of its own: only what the host says (429, Retry-After). */
    pb_limiter_init(&u->limiter, 0, 0);
    pb_log(PB_LOG_INFO, "%s: WooCommerce, %s", u->store->name,
           w->oauth ? "OAuth 1.0a signatures" : "HTTP Basic");
    return 0;
}

static int
woo_auth(struct pb_upload *u, const char *method, const char *url, struct pb_buf *hdr)
{
    struct woo *w = u->conn_state;
    if (!w->oauth)
        return pb_buf_adds(hdr, w->basic);
    struct pb_oauth1 o = {u->cred[PB_SECRET_CONSUMER_KEY], u->cred[PB_SECRET_CONSUMER_SECRET],
                          NULL, NULL};
    return pb_oauth1_header(&o, method, url, 0, NULL, hdr);
}

static int
spent_nonce(const struct pb_http_resp *rs)
{
    return rs->status == 500 || (rs->status == 0 && rs->curl_code != CURLE_COULDNT_CONNECT);
}

static enum pb_http_verdict
woo_check(void *user, const struct pb_http_req *rq, const struct pb_http_resp *rs, double *wait)
{
    struct pb_upload *u = user;
    struct woo *w = u->conn_state;
    int unknown = rs->status >= 500 || (rs->status == 0 && rs->curl_code != CURLE_COULDNT_CONNECT);
    if (rq->once && unknown)
        return PB_HTTP_FAIL; /* a create: looked up before it is sent again */
    if (w && w->oauth && spent_nonce(rs))
        return PB_HTTP_FAIL; /* send() signs it again */
    if (rs->status == 0 && rs->curl_code == CURLE_COULDNT_CONNECT && rs->attempts >= 3)
        return PB_HTTP_FAIL; /* nothing listens: exit 75 soon, the next run tries again */
    if (rs->status == 429 && rs->retry_after < 0)
        *wait = 2.0; /* a host that throttles without saying how long */
    if (rs->status == 0 || rs->status == 408 || rs->status == 429 || rs->status == 500 ||
        rs->status == 502 || rs->status == 503 || rs->status == 504)
        return PB_HTTP_RETRY;
    return PB_HTTP_DONE;
}

/*
 * pb_rest_run, and with OAuth the requests that may have reached WordPress without an
 * answer (their nonce is spent) sent again with a fresh signature; creates (once) never.
 */
static int
send_all(struct pb_upload *u, const struct pb_rest_req *rq, struct pb_rest *r, size_t n,
         struct pb_error *err)
{
    struct woo *w = u->conn_state;
    if (pb_rest_run(u, rq, r, n, err) < 0)
        return -1;
    for (int round = 0; w->oauth && round < 3; round++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            k += !rq[i].once && (r[i].http == 500 || (r[i].http == 0 && r[i].lost));
        if (!k || u->res->unreachable || u->res->auth_failed)
            break;
        struct pb_rest_req *sub = calloc(k, sizeof(*sub));
        struct pb_rest *sr = calloc(k, sizeof(*sr));
        size_t *ix = calloc(k, sizeof(*ix));
        if (!sub || !sr || !ix) {
            free(sub);
            free(sr);
            free(ix);
            return pb_error_set(err, PB_EOS, "out of memory");
        }
        k = 0;
        for (size_t i = 0; i < n; i++)
            if (!rq[i].once && (r[i].http == 500 || (r[i].http == 0 && r[i].lost))) {
                ix[k] = i;
                sub[k++] = rq[i];
            }
        int rc = pb_rest_run(u, sub, sr, k, err);
        for (size_t j = 0; j < k; j++) {
            if (rc == 0) {
                pb_rest_release(&r[ix[j]]);
                r[ix[j]] = sr[j];
            } else {
                pb_rest_release(&sr[j]);
            }
        }
        free(sub);
        free(sr);
        free(ix);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static char *
api_url(const struct pb_upload *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *
api_url(const struct pb_upload *u, const char *fmt, ...)
{
    struct pb_buf b = PB_BUF_INIT;
    const char *base = u->store->base_url;
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    va_list ap;
    va_start(ap, fmt);
    int rc = pb_buf_add(&b, base, n) < 0 || pb_buf_adds(&b, "/wp-json/wc/v3") < 0 ||
             pb_buf_vaddf(&b, fmt, ap) < 0;
    va_end(ap);
    if (rc) {
        pb_buf_release(&b);
        return NULL;
    }
    return pb_buf_detach(&b, NULL);
}

static int
auth_stop(struct pb_upload *u, struct pb_error *err)
{
    return pb_error_set(err, PB_ENOPERM,
                        "%s: the store refused the API keys: check consumer_key, "
                        "consumer_secret and their read/write permission",
                        u->store->name);
}

int
pb_woo_send(struct pb_upload *u, const struct pb_rest_req *rq, struct pb_rest *r, size_t n,
            struct pb_error *err)
{
    return send_all(u, rq, r, n, err);
}

char *
pb_woo_url(const struct pb_upload *u, const char *rest)
{
    return api_url(u, "%s", rest);
}

/* "code: message" of a WP_Error object (a batch item's "error"). */
static void
item_error(json_t *e, char *out, size_t n)
{
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    snprintf(out, n, "%s%s%s%s", msg ? msg : "refused", code ? " (" : "", code ? code : "",
             code ? ")" : "");
}

static long
item_status(json_t *e)
{
    json_t *s = json_object_get(json_object_get(e, "data"), "status");
    return json_is_integer(s) ? (long)json_integer_value(s) : 400;
}

/* ---- values ---- */

static const char *
val(const struct pb_up_variant *v, int f)
{
    return pb_rec_get(&v->row, f, NULL);
}

static int
has_options(const struct pb_up_product *p)
{
    return val(&p->v[0], PB_PRODUCTS_OPTION1_NAME) != NULL;
}

static void
lower(const char *s, char *out, size_t n)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    out[i] = '\0';
}

/* Plain text into HTML: escaped, line breaks kept. */
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
        case '\n': rc = pb_buf_adds(&b, "<br>\n"); break;
        default: rc = pb_buf_addch(&b, *s);
        }
        if (rc < 0)
            break;
    }
    json_t *j = json_string(b.data ? b.data : "");
    pb_buf_release(&b);
    return j;
}

/* Price, sale price, weight and tax status of a product or variation. */
static void
money_fields(json_t *o, const struct pb_up_variant *v)
{
    const char *price = val(v, PB_PRODUCTS_PRICE), *cmp = val(v, PB_PRODUCTS_COMPARE_AT_PRICE);
    /* WooCommerce's regular price is the higher one; the sale price the lower */
    json_object_set_new(o, "regular_price", json_string(cmp ? cmp : price ? price : ""));
    json_object_set_new(o, "sale_price", json_string(cmp && price ? price : ""));
    const char *wt = val(v, PB_PRODUCTS_WEIGHT), *tx = val(v, PB_PRODUCTS_TAXABLE);
    json_object_set_new(o, "weight", json_string(wt ? wt : ""));
    if (tx)
        json_object_set_new(o, "tax_status", json_string(!strcmp(tx, "true") ? "taxable" : "none"));
}

/* manage_stock + stock_quantity; 0 when the row has no quantity. */
static int
stock_fields(struct pb_upload *u, json_t *o, struct pb_up_variant *v)
{
    json_t *q = json_object_get(pb_upload_qty(u, v), "stock");
    if (!json_is_integer(q))
        return 0;
    json_object_set_new(o, "manage_stock", json_true());
    json_object_set_new(o, "stock_quantity", json_integer(json_integer_value(q)));
    return 1;
}

/* Does the store lack this variant's wanted quantity? */
static int
stock_differs(struct pb_upload *u, struct pb_up_variant *v)
{
    json_t *want = json_object_get(pb_upload_qty(u, v), "stock");
    json_t *have = v->state ? json_object_get(json_object_get(v->state, "qty"), "stock") : NULL;
    return json_is_integer(want) && (!have || json_integer_value(have) != json_integer_value(want));
}

static const int opt_names[3] = {PB_PRODUCTS_OPTION1_NAME, PB_PRODUCTS_OPTION2_NAME,
                                 PB_PRODUCTS_OPTION3_NAME};

/* The store attribute named for an option. */
static const char *
attr_name(struct pb_upload *u, const char *option)
{
    const char *a = pb_store_option_attr(u->store, option);
    return a ? a : option;
}

static json_int_t
attr_id(struct pb_upload *u, const char *option)
{
    struct woo *w = u->conn_state;
    char k[256];
    lower(attr_name(u, option), k, sizeof(k));
    return json_integer_value(json_object_get(json_object_get(w->attrs, k), "id"));
}

/* The parent's attributes: every option with all the values its variants use. */
static json_t *
parent_attributes(struct pb_upload *u, const struct pb_up_product *p)
{
    json_t *out = json_array();
    for (int k = 0; k < 3; k++) {
        const char *name = val(&p->v[0], opt_names[k]);
        if (!name)
            continue;
        json_t *values = json_array();
        for (int i = 0; i < p->n; i++) {
            const char *x = val(&p->v[i], opt_names[k] + 1);
            int seen = 0;
            size_t j;
            json_t *e;
            json_array_foreach(values, j, e) seen |= x && !strcmp(json_string_value(e), x);
            if (x && !seen)
                json_array_append_new(values, json_string(x));
        }
        json_array_append_new(out, json_pack("{s:I, s:i, s:b, s:b, s:o}", "id",
                                             attr_id(u, name), "position", k, "visible", 1,
                                             "variation", 1, "options", values));
    }
    return out;
}

static json_t *
variation_attributes(struct pb_upload *u, const struct pb_up_variant *v)
{
    json_t *out = json_array();
    for (int k = 0; k < 3; k++) {
        const char *name = val(v, opt_names[k]), *x = val(v, opt_names[k] + 1);
        if (name && x)
            json_array_append_new(out, json_pack("{s:I, s:s}", "id", attr_id(u, name), "option",
                                                 x));
    }
    return out;
}

static json_t *
product_fields(const struct pb_up_product *p)
{
    const struct pb_up_variant *h = &p->v[0];
    return json_pack("{s:s, s:o}", "name", val(h, PB_PRODUCTS_TITLE), "description",
                     html_of(val(h, PB_PRODUCTS_DESCRIPTION)));
}

static const char *
status_of(const struct pb_up_product *p)
{
    const char *s = val(&p->v[0], PB_PRODUCTS_STATUS);
    return s && !strcmp(s, "active") ? "publish" : "draft";
}

static json_t *
create_simple(struct pb_upload *u, struct pb_up_product *p)
{
    json_t *o = product_fields(p);
    json_object_set_new(o, "type", json_string("simple"));
    json_object_set_new(o, "status", json_string(status_of(p)));
    json_object_set_new(o, "sku", json_string(p->v[0].sku));
    money_fields(o, &p->v[0]);
    stock_fields(u, o, &p->v[0]);
    return o;
}

static json_t *
create_parent(struct pb_upload *u, struct pb_up_product *p)
{
    json_t *o = product_fields(p);
    json_object_set_new(o, "type", json_string("variable"));
    json_object_set_new(o, "status", json_string(status_of(p)));
    json_object_set_new(o, "sku", json_string(val(&p->v[0], PB_PRODUCTS_HANDLE)));
    json_object_set_new(o, "attributes", parent_attributes(u, p));
    return o;
}

static json_t *
create_variation(struct pb_upload *u, struct pb_up_variant *v)
{
    json_t *o = json_pack("{s:s, s:o}", "sku", v->sku, "attributes", variation_attributes(u, v));
    money_fields(o, v);
    stock_fields(u, o, v);
    return o;
}

/* ---- finding SKUs ---- */

/* Index the objects of a /products?sku= answer by lower-case SKU. */
static void
note_found(json_t *found, json_t *arr)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        const char *sku = json_string_value(json_object_get(o, "sku"));
        if (!sku || !*sku || !json_is_integer(json_object_get(o, "id")))
            continue;
        char k[300];
        lower(sku, k, sizeof(k));
        json_t *a = json_object_get(found, k);
        if (!a) {
            a = json_array();
            json_object_set_new(found, k, a);
        }
        int dup = 0;
        size_t j;
        json_t *e;
        json_array_foreach(a, j, e) dup |= json_integer_value(json_object_get(e, "id")) ==
                                           json_integer_value(json_object_get(o, "id"));
        if (!dup)
            json_array_append(a, o);
    }
}

/*
 * Look SKUs up (products and variations): found gets lower(sku) -> [objects].
 * 0 done, 1 the store did not answer (why), -1 engine error.
 */
static int
find_skus(struct pb_upload *u, json_t *skus, json_t *found, char *why, size_t whylen,
          struct pb_error *err)
{
    size_t total = json_array_size(skus), nq = 0, cap = total + 1;
    struct pb_rest_req *rq = calloc(cap, sizeof(*rq));
    char **urls = calloc(cap, sizeof(*urls));
    struct pb_rest *r = NULL;
    struct pb_buf list = PB_BUF_INIT;
    int rc = -1, terms = 0;
    if (!rq || !urls)
        goto oom;
    for (size_t i = 0; i <= total; i++) {
        const char *sku = i < total ? json_string_value(json_array_get(skus, i)) : NULL;
        if (sku && (strchr(sku, ',') || !*sku))
            sku = NULL; /* a comma cannot be asked for in a list; nothing found */
        if (sku) {
            if ((terms && pb_buf_addch(&list, ',') < 0) || pb_buf_adds(&list, sku) < 0)
                goto oom;
            terms++;
        }
        if (terms && (i == total || terms >= LOOKUP_SKUS || list.len >= LOOKUP_CHARS)) {
            struct pb_buf q = PB_BUF_INIT;
            if (pb_buf_adds(&q, "/products?sku=") < 0 || pb_rest_escape(&q, list.data) < 0 ||
                pb_buf_addf(&q, "&per_page=%d", PER_PAGE) < 0 ||
                !(urls[nq] = api_url(u, "%s", q.data))) {
                pb_buf_release(&q);
                goto oom;
            }
            pb_buf_release(&q);
            rq[nq] = (struct pb_rest_req){"GET", urls[nq], NULL, "look SKUs up", 0, 1};
            nq++;
            pb_buf_reset(&list);
            terms = 0;
        }
    }
    if (!nq) {
        rc = 0;
        goto out;
    }
    if (!(r = calloc(nq, sizeof(*r))))
        goto oom;
    if (send_all(u, rq, r, nq, err) < 0)
        goto out;
    rc = 0;
    for (size_t i = 0; i < nq && rc == 0; i++) {
        if (!pb_rest_ok(&r[i]) || !json_is_array(r[i].json)) {
            snprintf(why, whylen, "%.250s", r[i].error[0] ? r[i].error : "not a list of products");
            rc = 1;
            break;
        }
        note_found(found, r[i].json);
        /* more than a page: only when one SKU matches several objects */
        for (long page = 2; page <= r[i].wp_pages && rc == 0; page++) {
            struct pb_rest more;
            char *url = NULL;
            struct pb_buf b = PB_BUF_INIT;
            if (pb_buf_addf(&b, "%s&page=%ld", urls[i], page) < 0) {
                pb_buf_release(&b);
                goto oom;
            }
            url = pb_buf_detach(&b, NULL);
            struct pb_rest_req one = {"GET", url, NULL, "look SKUs up", 0, 1};
            if (send_all(u, &one, &more, 1, err) < 0) {
                free(url);
                rc = -1;
                break;
            }
            if (!pb_rest_ok(&more) || !json_is_array(more.json)) {
                snprintf(why, whylen, "%.250s", more.error[0] ? more.error : "not a list of products");
                rc = 1;
            } else {
                note_found(found, more.json);
            }
            pb_rest_release(&more);
            free(url);
        }
    }
    goto out;
oom:
    rc = pb_error_set(err, PB_EOS, "out of memory");
out:
    for (size_t i = 0; r && i < nq; i++)
        pb_rest_release(&r[i]);
    for (size_t i = 0; urls && i < nq; i++)
        free(urls[i]);
    free(r);
    free(urls);
    free(rq);
    pb_buf_release(&list);
    return rc;
}

static json_t *
found_get(json_t *found, const char *sku)
{
    char k[300];
    lower(sku, k, sizeof(k));
    return json_object_get(found, k);
}

/* Parent product id of a found object (a variation's parent, else itself). */
static json_int_t
owner_of(json_t *o)
{
    const char *type = json_string_value(json_object_get(o, "type"));
    if (type && !strcmp(type, "variation"))
        return json_integer_value(json_object_get(o, "parent_id"));
    return json_integer_value(json_object_get(o, "id"));
}

/*
 * What the store has of a product, from found objects.  Records the ids of the variants
 * found (adopting them) and the product id.  1: something adopted, 0: nothing there,
 * -1: there but not adoptable (reason in why).
 */
static int
adopt(struct pb_upload *u, struct pb_up_product *p, json_t *found, char *why, size_t whylen)
{
    json_int_t pid = 0;
    int options = has_options(p), hits = 0;
    for (int k = 0; k < p->n; k++) {
        json_t *arr = found_get(found, p->v[k].sku);
        if (json_array_size(arr) > 1) {
            snprintf(why, whylen, "SKU '%s' is on %zu products in the store; posbridge will not "
                                  "guess which is this one",
                     p->v[k].sku, json_array_size(arr));
            return -1;
        }
        json_t *o = json_array_get(arr, 0);
        if (!o)
            continue;
        const char *type = json_string_value(json_object_get(o, "type"));
        int variation = type && !strcmp(type, "variation");
        json_int_t owner = owner_of(o);
        if (options && !variation) {
            snprintf(why, whylen, "SKU '%s' is a %s product (id %lld) in the store, not a "
                                  "variation",
                     p->v[k].sku, type ? type : "", (long long)owner);
            return -1;
        }
        if (pid && owner != pid) {
            snprintf(why, whylen, "its SKUs are on different products in the store");
            return -1;
        }
        pid = owner;
        hits++;
    }
    if (options) {
        /* the parent, by its SKU (the handle) */
        json_t *arr = found_get(found, val(&p->v[0], PB_PRODUCTS_HANDLE));
        json_t *o = json_array_get(arr, 0);
        const char *type = json_string_value(json_object_get(o, "type"));
        if (o && json_array_size(arr) == 1 && type && !strcmp(type, "variable") &&
            (!pid || pid == json_integer_value(json_object_get(o, "id"))))
            pid = json_integer_value(json_object_get(o, "id"));
    }
    if (!pid)
        return 0;
    if (!options && hits) {
        /* a one-variant product found as a variation of someone else's product */
        json_t *o = json_array_get(found_get(found, p->v[0].sku), 0);
        const char *type = json_string_value(json_object_get(o, "type"));
        if (type && !strcmp(type, "variation")) {
            snprintf(why, whylen, "SKU '%s' is variation %lld of product %lld in the store",
                     p->v[0].sku, (long long)json_integer_value(json_object_get(o, "id")),
                     (long long)pid);
            return -1;
        }
    }
    char ps[32];
    snprintf(ps, sizeof(ps), "%lld", (long long)pid);
    free(p->product_id);
    p->product_id = strdup(ps);
    for (int k = 0; k < p->n; k++) {
        json_t *o = json_array_get(found_get(found, p->v[k].sku), 0);
        if (!o)
            continue;
        char vs[32];
        snprintf(vs, sizeof(vs), "%lld", (long long)json_integer_value(json_object_get(o, "id")));
        pb_upload_remember(u, p, &p->v[k], ps, vs, NULL, 0, 0);
    }
    return 1;
}

/* Every SKU of these products, and the parents' handles. */
static json_t *
skus_of(struct pb_up_product **list, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < list[i]->n; k++)
            json_array_append_new(a, json_string(list[i]->v[k].sku));
        if (has_options(list[i]))
            json_array_append_new(a, json_string(val(&list[i]->v[0], PB_PRODUCTS_HANDLE)));
    }
    return a;
}

/* --remote: how the store's object differs from the row last sent. */
static void
inspect(struct pb_up_variant *v, json_t *arr)
{
    struct pb_buf b = PB_BUF_INIT;
    int rc = 0;
    json_t *row = pb_state_row(v->state);
    const char *vid = json_string_value(json_object_get(v->state, "variant_id"));
    json_t *o = json_array_get(arr, 0);
    if (!o) {
        rc |= pb_buf_adds(&b, "store differs: this SKU is no longer in the store (deleted by "
                              "hand?); it will be created again");
    } else if (json_array_size(arr) > 1) {
        rc |= pb_buf_addf(&b, "store differs: SKU is on %zu products in the store",
                          json_array_size(arr));
    } else {
        char id[32];
        snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(o, "id")));
        if (vid && strcmp(vid, id))
            rc |= pb_buf_addf(&b, "store differs: the SKU is now id %s", id);
        const char *price = json_string_value(json_object_get(row, "price"));
        const char *cmp = json_string_value(json_object_get(row, "compare_at_price"));
        const char *reg = json_string_value(json_object_get(o, "regular_price"));
        const char *sale = json_string_value(json_object_get(o, "sale_price"));
        const char *want_reg = cmp ? cmp : price, *want_sale = cmp ? price : "";
        if (row && want_reg && reg && strcmp(reg, want_reg))
            rc |= pb_buf_addf(&b, "%sregular_price is %s in the store, %s was sent",
                              b.len ? "; " : "store differs (edited by hand?): ", reg, want_reg);
        if (row && want_sale && sale && strcmp(sale, want_sale))
            rc |= pb_buf_addf(&b, "%ssale_price is %s in the store, %s was sent",
                              b.len ? "; " : "store differs (edited by hand?): ",
                              *sale ? sale : "empty", *want_sale ? want_sale : "nothing");
    }
    if (b.len && rc == 0) {
        free(v->remote_note);
        v->remote_note = pb_buf_detach(&b, NULL);
    }
    pb_buf_release(&b);
}

static void
fail_all(struct pb_up_product **list, int n, long http, const char *what, const char *why)
{
    for (int i = 0; i < n; i++) {
        list[i]->failed = 1;
        list[i]->http = http;
        snprintf(list[i]->error, sizeof(list[i]->error), "%s%.280s", what, why);
    }
}

static int
woo_lookup(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    json_t *found = json_object(), *skus = skus_of(list, n);
    char why[300] = "";
    int rc = found && skus ? find_skus(u, skus, found, why, sizeof(why), err)
                           : pb_error_set(err, PB_EOS, "out of memory");
    json_decref(skus);
    if (rc < 0)
        goto out;
    if (rc > 0) {
        pb_log(PB_LOG_ERROR, "%s: cannot look SKUs up: %s", u->store->name, why);
        fail_all(list, n, 0, "lookup failed: ", why);
        rc = u->res->auth_failed ? auth_stop(u, err) : 0;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        if (u->inspecting) {
            for (int k = 0; k < p->n; k++)
                if (p->v[k].state)
                    inspect(&p->v[k], found_get(found, p->v[k].sku));
            continue;
        }
        char reason[300];
        if (adopt(u, p, found, reason, sizeof(reason)) < 0) {
            /* Sent anyway: the store refuses the SKU with its own error, which goes to
             * the results; replay sends it again once the store is fixed. */
            pb_log(PB_LOG_WARN, "%s: '%s': %s", u->store->name, p->key, reason);
            snprintf(p->reason, sizeof(p->reason), "%s", reason);
        }
    }
    rc = 0;
out:
    json_decref(found);
    return rc;
}

/* ---- attributes and terms ---- */

/* Read the store's attributes once. 0, 1 on failure (why), -1 engine error. */
static int
load_attributes(struct pb_upload *u, char *why, size_t whylen, struct pb_error *err)
{
    struct woo *w = u->conn_state;
    if (w->attrs)
        return 0;
    char *url = api_url(u, "/products/attributes");
    if (!url)
        return pb_error_set(err, PB_EOS, "out of memory");
    struct pb_rest_req rq = {"GET", url, NULL, "read attributes", 0, 1};
    struct pb_rest r;
    int rc = send_all(u, &rq, &r, 1, err);
    free(url);
    if (rc < 0)
        return -1;
    if (!pb_rest_ok(&r) || !json_is_array(r.json)) {
        snprintf(why, whylen, "cannot read the store's attributes: %.200s",
                 r.error[0] ? r.error : "not a list");
        pb_rest_release(&r);
        return 1;
    }
    w->attrs = json_object();
    size_t i;
    json_t *a;
    json_array_foreach(r.json, i, a) {
        const char *name = json_string_value(json_object_get(a, "name"));
        char k[256];
        if (!name || !json_is_integer(json_object_get(a, "id")))
            continue;
        lower(name, k, sizeof(k));
        if (!json_object_get(w->attrs, k))
            json_object_set_new(w->attrs, k, json_pack("{s:O, s:{}, s:b}", "id",
                                                       json_object_get(a, "id"), "terms",
                                                       "loaded", 0));
    }
    pb_rest_release(&r);
    return 0;
}

/* A batch of creates: POST url {"create": items}; each created object's "name" -> id
 * into `into` (lower-cased); a "term_exists"-like refusal carrying resource_id counts as
 * there. 0, 1 on failure (why), -1 engine error. */
static int
create_named(struct pb_upload *u, char **urls, json_t **bodies, int nreq, json_t **into,
             char *why, size_t whylen, struct pb_error *err)
{
    struct pb_rest_req *rq = calloc((size_t)nreq, sizeof(*rq));
    struct pb_rest *r = calloc((size_t)nreq, sizeof(*r));
    if (!rq || !r) {
        free(rq);
        free(r);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    for (int i = 0; i < nreq; i++)
        rq[i] = (struct pb_rest_req){"POST", urls[i], bodies[i], "create attributes or terms", 0, 1};
    /* Not "once": a name already there is refused with its id, so sending twice is safe. */
    int rc = send_all(u, rq, r, (size_t)nreq, err);
    for (int i = 0; rc == 0 && i < nreq; i++) {
        json_t *sent = json_object_get(bodies[i], "create"), *got = json_object_get(r[i].json,
                                                                                    "create");
        if (!pb_rest_ok(&r[i]) || !json_is_array(got)) {
            snprintf(why, whylen, "%.250s", r[i].error[0] ? r[i].error : "no list in the answer");
            rc = 1;
            break;
        }
        size_t j;
        json_t *o;
        json_array_foreach(got, j, o) {
            const char *name = json_string_value(json_object_get(json_array_get(sent, j), "name"));
            json_t *e = json_object_get(o, "error");
            json_t *id = e ? json_object_get(json_object_get(e, "data"), "resource_id")
                           : json_object_get(o, "id");
            char k[256];
            if (!name)
                continue;
            lower(name, k, sizeof(k));
            if (json_is_integer(id) && json_integer_value(id) > 0) {
                json_object_set(into[i], k, id);
            } else if (e) {
                char msg[200];
                item_error(e, msg, sizeof(msg));
                snprintf(why, whylen, "'%s': %s", name, msg);
                rc = 1;
            }
        }
    }
    for (int i = 0; i < nreq; i++)
        pb_rest_release(&r[i]);
    free(rq);
    free(r);
    return rc;
}

/*
 * Make sure the global attributes and terms these products' new variants use exist.
 * Products whose attributes cannot be made are failed.  -1 only on engine errors.
 */
static int
ensure_attributes(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    struct woo *w = u->conn_state;
    json_t *need = json_object(); /* lower(attr) -> {"name", "values": {lower: name}} */
    char why[300] = "";
    int rc = 0, any = 0;
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        if (p->failed || !has_options(p))
            continue;
        for (int k = 0; k < p->n; k++)
            for (int o = 0; o < 3; o++) {
                const char *name = val(&p->v[k], opt_names[o]), *x = val(&p->v[k], opt_names[o] + 1);
                if (!name || !x)
                    continue;
                char ka[256], kv[256];
                lower(attr_name(u, name), ka, sizeof(ka));
                lower(x, kv, sizeof(kv));
                json_t *e = json_object_get(need, ka);
                if (!e) {
                    e = json_pack("{s:s, s:{}}", "name", attr_name(u, name), "values");
                    json_object_set_new(need, ka, e);
                }
                json_object_set_new(json_object_get(e, "values"), kv, json_string(x));
                any = 1;
            }
    }
    if (!any)
        goto out;
    if ((rc = load_attributes(u, why, sizeof(why), err)) != 0)
        goto done;
    /* missing attributes: one batch (100 at a time) */
    {
        json_t *create = json_array();
        const char *k;
        json_t *e;
        json_object_foreach(need, k, e) if (!json_object_get(w->attrs, k))
            json_array_append_new(create, json_pack("{s:O}", "name", json_object_get(e, "name")));
        for (size_t at = 0; rc == 0 && at < json_array_size(create); at += BATCH_LIMIT) {
            json_t *chunk = json_array(), *ids = json_object();
            for (size_t j = at; j < json_array_size(create) && j < at + BATCH_LIMIT; j++)
                json_array_append(chunk, json_array_get(create, j));
            json_t *body = json_pack("{s:o}", "create", chunk);
            char *url = api_url(u, "/products/attributes/batch");
            rc = url ? create_named(u, &url, &body, 1, &ids, why, sizeof(why), err)
                     : pb_error_set(err, PB_EOS, "out of memory");
            const char *nk;
            json_t *id;
            json_object_foreach(ids, nk, id)
                json_object_set_new(w->attrs, nk, json_pack("{s:O, s:{}, s:b}", "id", id, "terms",
                                                            "loaded", 1));
            json_decref(body);
            json_decref(ids);
            free(url);
        }
        json_decref(create);
        if (rc)
            goto done;
    }
    /* terms of the attributes not read yet: first pages together, then the rest */
    {
        const char *k;
        json_t *e;
        json_object_foreach(need, k, e) {
            json_t *a = json_object_get(w->attrs, k);
            if (!a) {
                snprintf(why, sizeof(why), "attribute '%s' was not created",
                         json_string_value(json_object_get(e, "name")));
                rc = 1;
                goto done;
            }
            for (long page = 1; !json_is_true(json_object_get(a, "loaded")); page++) {
                char *url = api_url(u, "/products/attributes/%lld/terms?per_page=%d&page=%ld",
                                    (long long)json_integer_value(json_object_get(a, "id")),
                                    PER_PAGE, page);
                if (!url) {
                    rc = pb_error_set(err, PB_EOS, "out of memory");
                    goto done;
                }
                struct pb_rest_req rq = {"GET", url, NULL, "read attribute terms", 0, 1};
                struct pb_rest r;
                rc = send_all(u, &rq, &r, 1, err);
                free(url);
                if (rc < 0)
                    goto done;
                if (!pb_rest_ok(&r) || !json_is_array(r.json)) {
                    snprintf(why, sizeof(why), "cannot read the terms of attribute '%.40s': %.200s",
                             json_string_value(json_object_get(e, "name")),
                             r.error[0] ? r.error : "not a list");
                    pb_rest_release(&r);
                    rc = 1;
                    goto done;
                }
                size_t j;
                json_t *t;
                json_array_foreach(r.json, j, t) {
                    const char *tn = json_string_value(json_object_get(t, "name"));
                    char kt[256];
                    if (!tn)
                        continue;
                    lower(tn, kt, sizeof(kt));
                    json_object_set(json_object_get(a, "terms"), kt, json_object_get(t, "id"));
                }
                /* X-WP-TotalPages, or a short page when a host strips the headers */
                if (r.wp_pages >= 0 ? page >= r.wp_pages : json_array_size(r.json) < PER_PAGE)
                    json_object_set_new(a, "loaded", json_true());
                pb_rest_release(&r);
            }
        }
    }
    /* missing terms: one terms batch per attribute (100 at a time), sent together */
    {
        int nreq = 0, cap = 0;
        const char *k;
        json_t *e;
        json_object_foreach(need, k, e) {
            json_t *terms = json_object_get(json_object_get(w->attrs, k), "terms");
            const char *kv;
            json_t *name;
            int missing = 0;
            json_object_foreach(json_object_get(e, "values"), kv, name) missing +=
                !json_object_get(terms, kv);
            cap += (missing + BATCH_LIMIT - 1) / BATCH_LIMIT;
        }
        char **urls = calloc((size_t)cap + 1, sizeof(*urls));
        json_t **bodies = calloc((size_t)cap + 1, sizeof(*bodies));
        json_t **into = calloc((size_t)cap + 1, sizeof(*into));
        if (!urls || !bodies || !into) {
            rc = pb_error_set(err, PB_EOS, "out of memory");
        } else {
            json_object_foreach(need, k, e) {
                json_t *a = json_object_get(w->attrs, k), *terms = json_object_get(a, "terms");
                const char *kv;
                json_t *name, *chunk = NULL;
                json_object_foreach(json_object_get(e, "values"), kv, name) {
                    if (json_object_get(terms, kv))
                        continue;
                    if (!chunk || json_array_size(chunk) >= BATCH_LIMIT) {
                        chunk = json_array();
                        bodies[nreq] = json_pack("{s:o}", "create", chunk);
                        into[nreq] = terms;
                        urls[nreq] = api_url(u, "/products/attributes/%lld/terms/batch",
                                             (long long)json_integer_value(json_object_get(a,
                                                                                           "id")));
                        if (!urls[nreq++])
                            rc = pb_error_set(err, PB_EOS, "out of memory");
                    }
                    json_array_append_new(chunk, json_pack("{s:O}", "name", name));
                }
            }
            if (rc == 0 && nreq)
                rc = create_named(u, urls, bodies, nreq, into, why, sizeof(why), err);
        }
        for (int i = 0; i < nreq; i++) {
            free(urls[i]);
            json_decref(bodies[i]);
        }
        free(urls);
        free(bodies);
        free(into);
    }
done:
    if (rc > 0) {
        pb_log(PB_LOG_ERROR, "%s: %s", u->store->name, why);
        for (int i = 0; i < n; i++)
            if (!list[i]->failed && has_options(list[i]))
                fail_all(&list[i], 1, 0, "", why);
        rc = u->res->auth_failed ? auth_stop(u, err) : 0;
    }
out:
    json_decref(need);
    return rc;
}

/* ---- batches ---- */

/* One object of a batch and what it stands for. */
struct bitem {
    struct pb_up_product *p;
    struct pb_up_variant *v; /* NULL: a variable product's parent */
    int fields, qty;         /* what it sends */
};

struct breq {
    char *url;
    json_t *create, *update;     /* arrays */
    struct bitem *items;         /* creates first, then updates, in answer order */
    int n, ncreate, cap;
};

static int
breq_add(struct breq *b, struct bitem it, json_t *obj, int create)
{
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 16;
        struct bitem *x = realloc(b->items, (size_t)cap * sizeof(*x));
        if (!x) {
            json_decref(obj);
            return -1;
        }
        b->items = x;
        b->cap = cap;
    }
    if (create) {
        /* creates stay ahead of updates in items */
        memmove(&b->items[b->ncreate + 1], &b->items[b->ncreate],
                (size_t)(b->n - b->ncreate) * sizeof(*b->items));
        b->items[b->ncreate++] = it;
        json_array_append_new(b->create, obj);
    } else {
        b->items[b->n] = it;
        json_array_append_new(b->update, obj);
    }
    b->n++;
    return 0;
}

struct batches {
    struct breq *b;
    int n, cap;
};

/* The open request for url (a new one when full or of another URL). */
static struct breq *
batch_for(struct batches *bs, const char *url)
{
    if (bs->n && !strcmp(bs->b[bs->n - 1].url, url) && bs->b[bs->n - 1].n < BATCH_LIMIT)
        return &bs->b[bs->n - 1];
    if (bs->n == bs->cap) {
        int cap = bs->cap ? bs->cap * 2 : 8;
        struct breq *x = realloc(bs->b, (size_t)cap * sizeof(*x));
        if (!x)
            return NULL;
        bs->b = x;
        bs->cap = cap;
    }
    struct breq *b = &bs->b[bs->n];
    memset(b, 0, sizeof(*b));
    if (!(b->url = strdup(url)) || !(b->create = json_array()) || !(b->update = json_array())) {
        free(b->url);
        json_decref(b->create);
        return NULL;
    }
    bs->n++;
    return b;
}

static void
batches_release(struct batches *bs)
{
    for (int i = 0; i < bs->n; i++) {
        free(bs->b[i].url);
        json_decref(bs->b[i].create);
        json_decref(bs->b[i].update);
        free(bs->b[i].items);
    }
    free(bs->b);
    memset(bs, 0, sizeof(*bs));
}

/* Send every batch (all at once, within the engine's concurrency); r[i] per batch. */
static int
batches_send(struct pb_upload *u, struct batches *bs, struct pb_rest *r, const char *label,
             struct pb_error *err)
{
    struct pb_rest_req *rq = calloc((size_t)bs->n + 1, sizeof(*rq));
    json_t **bodies = calloc((size_t)bs->n + 1, sizeof(*bodies));
    int rc = -1;
    if (!rq || !bodies) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    for (int i = 0; i < bs->n; i++) {
        struct breq *b = &bs->b[i];
        bodies[i] = json_object();
        if (json_array_size(b->create))
            json_object_set(bodies[i], "create", b->create);
        if (json_array_size(b->update))
            json_object_set(bodies[i], "update", b->update);
        rq[i] = (struct pb_rest_req){"POST", b->url, bodies[i], label, b->ncreate > 0, 1};
    }
    rc = bs->n ? send_all(u, rq, r, (size_t)bs->n, err) : 0;
out:
    for (int i = 0; bodies && i < bs->n; i++)
        json_decref(bodies[i]);
    free(bodies);
    free(rq);
    return rc;
}

/* The answer element for item k of batch b, or NULL. */
static json_t *
answer_item(const struct breq *b, const struct pb_rest *r, int k)
{
    if (k < b->ncreate)
        return json_array_get(json_object_get(r->json, "create"), (size_t)k);
    return json_array_get(json_object_get(r->json, "update"), (size_t)(k - b->ncreate));
}

static int
is_dup_sku(json_t *e)
{
    const char *code = json_string_value(json_object_get(e, "code"));
    return code && (!strcmp(code, "product_invalid_sku") ||
                    !strcmp(code, "woocommerce_rest_product_not_created")) &&
           json_is_integer(json_object_get(json_object_get(e, "data"), "resource_id"));
}

static void
set_failed(struct pb_up_product *p, long http, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_failed(struct pb_up_product *p, long http, const char *fmt, ...)
{
    if (p->failed)
        return; /* the first reason stays */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof(p->error), fmt, ap);
    va_end(ap);
    p->failed = 1;
    p->http = http;
}

/* ---- create ---- */

/* Products the store turned out to have: adopted, the driver's update step sends them. */
static void
to_update(struct pb_upload *u, struct pb_up_product *p)
{
    pb_log(PB_LOG_INFO, "%s: '%s' is already in the store (product %s): updating it instead",
           u->store->name, p->key, p->product_id);
    p->action = PB_UP_UPDATE;
    p->product_changed = 1;
    for (int k = 0; k < p->n; k++) {
        struct pb_up_variant *v = &p->v[k];
        v->is_new = v->state == NULL;
        v->fields_changed = !v->is_new;
        v->qty_changed = !v->is_new;
    }
}

/*
 * Look up products whose create met an existing SKU or lost its answer, and adopt what
 * is there.  out[i]: 1 found whole, 2 parent only (variations still to create), 0 not
 * there, -1 not adoptable (error set).  Returns -1 on engine errors.
 */
static int
recover(struct pb_upload *u, struct pb_up_product **list, int n, int *out, struct pb_error *err)
{
    json_t *found = json_object(), *skus = skus_of(list, n);
    char why[300] = "";
    int rc = find_skus(u, skus, found, why, sizeof(why), err);
    json_decref(skus);
    for (int i = 0; rc >= 0 && i < n; i++) {
        struct pb_up_product *p = list[i];
        if (rc > 0) {
            out[i] = -1;
            set_failed(p, 0, "the store did not say whether it was created, and it cannot be "
                             "looked up now: %.200s",
                       why);
            continue;
        }
        char reason[300];
        int a = adopt(u, p, found, reason, sizeof(reason));
        if (a < 0) {
            char was[300];
            snprintf(was, sizeof(was), "%s", p->error);
            out[i] = -1;
            set_failed(p, 400, "%s%s%s", was, was[0] ? ": " : "", reason);
            continue;
        }
        int known = 0;
        for (int k = 0; k < p->n; k++)
            known += p->v[k].state != NULL;
        out[i] = !a ? 0 : known == p->n ? 1 : has_options(p) ? 2 : 0;
    }
    json_decref(found);
    return rc < 0 ? -1 : 0;
}

/* Variations of new parents: one batch per parent (per 100 variations). */
static int
create_variations(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    for (int round = 0; round < CREATE_TRIES; round++) {
        struct batches bs = {0};
        int rc = 0;
        for (int i = 0; i < n && rc == 0; i++) {
            struct pb_up_product *p = list[i];
            if (p->failed || !p->product_id)
                continue;
            char *url = api_url(u, "/products/%s/variations/batch", p->product_id);
            for (int k = 0; url && k < p->n; k++) {
                struct pb_up_variant *v = &p->v[k];
                if (v->state)
                    continue;
                struct breq *b = batch_for(&bs, url);
                if (!b || breq_add(b, (struct bitem){p, v, 1, 1}, create_variation(u, v), 1) < 0)
                    rc = -1;
            }
            if (!url)
                rc = -1;
            free(url);
        }
        if (rc < 0) {
            batches_release(&bs);
            return pb_error_set(err, PB_EOS, "out of memory");
        }
        if (!bs.n)
            return 0;
        struct pb_rest *r = calloc((size_t)bs.n, sizeof(*r));
        if (!r || batches_send(u, &bs, r, "create variations", err) < 0) {
            free(r);
            batches_release(&bs);
            return r ? -1 : pb_error_set(err, PB_EOS, "out of memory");
        }
        struct pb_up_product **lost = calloc((size_t)n + 1, sizeof(*lost));
        int nlost = 0;
        for (int i = 0; lost && i < bs.n; i++) {
            struct breq *b = &bs.b[i];
            int unknown = r[i].lost && !u->res->auth_failed && !u->res->unreachable;
            for (int k = 0; k < b->n; k++) {
                struct bitem *it = &b->items[k];
                json_t *o = answer_item(b, &r[i], k), *e = json_object_get(o, "error");
                if (unknown) {
                    if (!nlost || lost[nlost - 1] != it->p)
                        lost[nlost++] = it->p;
                } else if (!pb_rest_ok(&r[i])) {
                    set_failed(it->p, r[i].http, "%s", r[i].error);
                } else if (e) {
                    char msg[250];
                    item_error(e, msg, sizeof(msg));
                    set_failed(it->p, item_status(e), "variation '%s': %s", it->v->sku, msg);
                } else if (!json_is_integer(json_object_get(o, "id"))) {
                    set_failed(it->p, r[i].http, "the store answered without a variation id");
                } else {
                    char vs[32];
                    snprintf(vs, sizeof(vs), "%lld",
                             (long long)json_integer_value(json_object_get(o, "id")));
                    it->p->http = r[i].http;
                    pb_upload_remember(u, it->p, it->v, it->p->product_id, vs, NULL, 1, 1);
                }
            }
        }
        for (int i = 0; i < bs.n; i++)
            pb_rest_release(&r[i]);
        free(r);
        batches_release(&bs);
        if (!lost)
            return pb_error_set(err, PB_EOS, "out of memory");
        if (u->res->auth_failed) {
            free(lost);
            return auth_stop(u, err);
        }
        int *st = calloc((size_t)nlost + 1, sizeof(*st));
        int rc2 = st ? (nlost ? recover(u, lost, nlost, st, err) : 0)
                     : pb_error_set(err, PB_EOS, "out of memory");
        int again = 0;
        for (int i = 0; rc2 == 0 && i < nlost; i++) {
            struct pb_up_product *p = lost[i];
            /* what the store has now was just sent: remember it as sent */
            for (int k = 0; k < p->n; k++)
                if (p->v[k].state && !json_object_get(p->v[k].state, "hash"))
                    pb_upload_remember(u, p, &p->v[k], NULL, NULL, NULL, 1, 1);
            if (st[i] == 2)
                again = 1; /* some variations still missing: the loop sends them */
        }
        free(st);
        free(lost);
        if (rc2 < 0)
            return -1;
        if (!again)
            return 0;
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < list[i]->n; k++)
            if (!list[i]->v[k].state)
                set_failed(list[i], 0, "no answer from the store for variation '%s'",
                           list[i]->v[k].sku);
    return 0;
}

static int
woo_create(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    uint64_t *seqs = calloc((size_t)n + 1, sizeof(*seqs));
    struct pb_up_product **todo = calloc((size_t)n + 1, sizeof(*todo));
    struct pb_up_product **back = calloc((size_t)n + 1, sizeof(*back));
    int *st = calloc((size_t)n + 1, sizeof(*st));
    int rc = -1, ntodo = 0;
    if (!seqs || !todo || !back || !st) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if (!(seqs[i] = pb_upload_intent(u, list[i], "create", err)))
            goto out;
        if (list[i]->n > 1 && !has_options(list[i]))
            set_failed(list[i], 0, "%d variants without options", list[i]->n);
        else
            todo[ntodo++] = list[i];
    }
    if (pb_journal_sync(&u->journal, err) < 0 || ensure_attributes(u, todo, ntodo, err) < 0)
        goto out;
    /* Products (and parents), 100 to a batch; a lost answer is looked up, then sent again. */
    for (int round = 0; round < CREATE_TRIES; round++) {
        struct batches bs = {0};
        char *url = api_url(u, "/products/batch");
        int bad = !url;
        for (int i = 0; !bad && i < ntodo; i++) {
            struct pb_up_product *p = todo[i];
            if (p->failed || p->product_id)
                continue; /* a parent already there (an earlier run): its variations below */
            struct breq *b = batch_for(&bs, url);
            json_t *o = has_options(p) ? create_parent(u, p) : create_simple(u, p);
            bad = !b || breq_add(b, (struct bitem){p, has_options(p) ? NULL : &p->v[0], 1, 1},
                                 o, 1) < 0;
        }
        free(url);
        if (bad) {
            batches_release(&bs);
            pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
        if (!bs.n)
            break;
        struct pb_rest *r = calloc((size_t)bs.n, sizeof(*r));
        if (!r || batches_send(u, &bs, r, "create products", err) < 0) {
            if (!r)
                pb_error_set(err, PB_EOS, "out of memory");
            free(r);
            batches_release(&bs);
            goto out;
        }
        int nback = 0;
        for (int i = 0; i < bs.n; i++) {
            struct breq *b = &bs.b[i];
            int unknown = r[i].lost && !u->res->auth_failed && !u->res->unreachable;
            for (int k = 0; k < b->n; k++) {
                struct bitem *it = &b->items[k];
                json_t *o = answer_item(b, &r[i], k), *e = json_object_get(o, "error");
                it->p->http = r[i].http;
                if (unknown || (e && is_dup_sku(e))) {
                    back[nback++] = it->p; /* is it there?  look it up */
                    if (e) {
                        char msg[250];
                        item_error(e, msg, sizeof(msg));
                        snprintf(it->p->error, sizeof(it->p->error), "%s", msg);
                        it->p->http = item_status(e);
                    } else {
                        it->p->error[0] = '\0';
                    }
                } else if (!pb_rest_ok(&r[i])) {
                    set_failed(it->p, r[i].http, "%s", r[i].error);
                } else if (e) {
                    char msg[250];
                    item_error(e, msg, sizeof(msg));
                    set_failed(it->p, item_status(e), "%s", msg);
                } else if (!json_is_integer(json_object_get(o, "id"))) {
                    set_failed(it->p, r[i].http, "the store answered without a product id");
                } else {
                    char ps[32];
                    snprintf(ps, sizeof(ps), "%lld",
                             (long long)json_integer_value(json_object_get(o, "id")));
                    free(it->p->product_id);
                    it->p->product_id = strdup(ps);
                    if (it->v)
                        pb_upload_remember(u, it->p, it->v, ps, ps, NULL, 1, 1);
                }
            }
        }
        for (int i = 0; i < bs.n; i++)
            pb_rest_release(&r[i]);
        free(r);
        batches_release(&bs);
        if (u->res->auth_failed) {
            rc = auth_stop(u, err);
            goto out;
        }
        if (!nback)
            break;
        if (recover(u, back, nback, st, err) < 0)
            goto out;
        int again = 0;
        for (int i = 0; i < nback; i++) {
            struct pb_up_product *p = back[i];
            int dup = p->error[0] != '\0';
            if (st[i] < 0)
                continue; /* failed, with the reason */
            if (dup && st[i] > 0) {
                to_update(u, p); /* someone else's product with our SKU: ours now */
            } else if (dup) {
                set_failed(p, p->http, "%s", p->error); /* refused, and not findable */
            } else if (st[i] == 1 && !has_options(p)) {
                /* the lost create happened: the store has what was just sent */
                pb_upload_remember(u, p, &p->v[0], NULL, NULL, NULL, 1, 1);
                pb_log(PB_LOG_INFO, "%s: '%s' was created although the answer was lost",
                       u->store->name, p->key);
            } else if (st[i] == 0) {
                free(p->product_id);
                p->product_id = NULL;
                again = 1; /* not created: sent again */
            }
            if (!p->failed)
                p->error[0] = '\0';
        }
        if (!again)
            break;
        if (round + 1 == CREATE_TRIES)
            for (int i = 0; i < nback; i++)
                if (!back[i]->product_id)
                    set_failed(back[i], 0, "no answer from the store");
    }
    /* Variations of the variable products still being created. */
    int nvar = 0;
    for (int i = 0; i < ntodo; i++)
        if (!todo[i]->failed && todo[i]->action == PB_UP_CREATE && has_options(todo[i]))
            back[nvar++] = todo[i];
    if (create_variations(u, back, nvar, err) < 0)
        goto out;
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        if (p->action == PB_UP_UPDATE && !p->failed)
            continue; /* adopted: the update step journals it */
        if (!p->failed && !p->product_id)
            set_failed(p, 0, "not created");
        if (pb_upload_outcome(u, p, seqs[i], "create", err) < 0)
            goto out;
    }
    rc = u->res->auth_failed ? auth_stop(u, err) : 0;
out:
    free(seqs);
    free(todo);
    free(back);
    free(st);
    return rc;
}

/* ---- update and inventory ---- */

/* A known variant that is a product of its own (simple), not a variation. */
static int
own_product(const struct pb_up_variant *v)
{
    const char *pid = json_string_value(json_object_get(v->state, "product_id"));
    const char *vid = json_string_value(json_object_get(v->state, "variant_id"));
    return pid && vid && !strcmp(pid, vid);
}

/*
 * Send what changed of these products: product objects through /products/batch, then
 * variations through their parent's variations batch.  op: "update" (fields, and the
 * quantities of the same variants in the same objects) or "inventory" (quantities not
 * sent yet).  New variants of known products are created (their attributes first).
 */
static int
push(struct pb_upload *u, struct pb_up_product **list, int n, const char *op, int depth,
     struct pb_error *err)
{
    int update = !strcmp(op, "update");
    uint64_t *seqs = calloc((size_t)n + 1, sizeof(*seqs));
    struct pb_up_product **redo = calloc((size_t)n + 1, sizeof(*redo));
    struct batches prod = {0}, vars = {0};
    struct pb_rest *r = NULL;
    int rc = -1, nredo = 0, any_new = 0;
    char *purl = api_url(u, "/products/batch");
    if (!seqs || !redo || !purl) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    for (int i = 0; i < n && update; i++)
        for (int k = 0; k < list[i]->n; k++)
            any_new |= list[i]->v[k].is_new && !list[i]->failed;
    if (any_new && ensure_attributes(u, list, n, err) < 0)
        goto out;
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        int sends = 0, adds = 0;
        if (p->failed || !p->product_id)
            continue;
        char *vurl = api_url(u, "/products/%s/variations/batch", p->product_id);
        if (!vurl) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
        for (int k = 0; k < p->n; k++) {
            struct pb_up_variant *v = &p->v[k];
            int fields = update && (v->fields_changed || p->product_changed);
            int qty = !v->is_new && stock_differs(u, v);
            int bad = 0;
            if (v->is_new) {
                if (!update)
                    continue;
                if (!has_options(p)) {
                    set_failed(p, 0, "SKU '%s': a product without options takes no new "
                                     "variant",
                               v->sku);
                    break;
                }
                struct breq *b = batch_for(&vars, vurl);
                bad = !b || breq_add(b, (struct bitem){p, v, 1, 1}, create_variation(u, v), 1);
                adds = 1;
            } else if (fields || qty) {
                json_t *o = json_pack("{s:I}", "id", (json_int_t)strtoll(
                    json_string_value(json_object_get(v->state, "variant_id")), NULL, 10));
                if (fields)
                    money_fields(o, v);
                if (qty && !stock_fields(u, o, v))
                    qty = 0;
                if (own_product(v)) {
                    if (fields) {
                        json_t *pf = product_fields(p);
                        json_object_update(o, pf);
                        json_decref(pf);
                        json_object_set_new(o, "sku", json_string(v->sku));
                    }
                    struct breq *b = batch_for(&prod, purl);
                    bad = !b || breq_add(b, (struct bitem){p, v, fields, qty}, o, 0);
                } else {
                    struct breq *b = batch_for(&vars, vurl);
                    bad = !b || breq_add(b, (struct bitem){p, v, fields, qty}, o, 0);
                }
            } else {
                continue;
            }
            if (bad) {
                free(vurl);
                pb_error_set(err, PB_EOS, "out of memory");
                goto out;
            }
            sends = 1;
        }
        free(vurl);
        /* the parent of a variable product: its fields, and options for new variants */
        int parent = has_options(p) && update && (p->product_changed || adds) &&
                     !(p->n && p->v[0].state && own_product(&p->v[0]));
        if (parent && !p->failed) {
            json_t *o = product_fields(p);
            json_object_set_new(o, "id", json_integer((json_int_t)strtoll(p->product_id, NULL, 10)));
            json_object_set_new(o, "attributes", parent_attributes(u, p));
            struct breq *b = batch_for(&prod, purl);
            if (!b || breq_add(b, (struct bitem){p, NULL, 1, 0}, o, 0) < 0) {
                pb_error_set(err, PB_EOS, "out of memory");
                goto out;
            }
            sends = 1;
        }
        if ((sends || p->failed) && !(seqs[i] = pb_upload_intent(u, p, op, err)))
            goto out;
    }
    if (pb_journal_sync(&u->journal, err) < 0)
        goto out;
    /* products first (a parent's options before its new variations), then variations */
    for (int phase = 0; phase < 2; phase++) {
        struct batches *bs = phase ? &vars : &prod;
        if (!bs->n)
            continue;
        if (!(r = calloc((size_t)bs->n, sizeof(*r)))) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
        if (batches_send(u, bs, r, phase ? "variations batch" : "products batch", err) < 0)
            goto out;
        for (int i = 0; i < bs->n; i++) {
            struct breq *b = &bs->b[i];
            for (int k = 0; k < b->n; k++) {
                struct bitem *it = &b->items[k];
                struct pb_up_product *p = it->p;
                json_t *o = answer_item(b, &r[i], k), *e = json_object_get(o, "error");
                if (phase && p->failed)
                    continue;
                p->http = r[i].http;
                if (!pb_rest_ok(&r[i])) {
                    set_failed(p, r[i].http, "%s", r[i].error);
                } else if (e && k < b->ncreate && is_dup_sku(e) && depth == 0) {
                    /* a new variant whose SKU the store has: adopt it if it is ours */
                    redo[nredo++] = p;
                } else if (e) {
                    char msg[250];
                    item_error(e, msg, sizeof(msg));
                    if (it->v)
                        set_failed(p, item_status(e), "'%s': %s", it->v->sku, msg);
                    else
                        set_failed(p, item_status(e), "%s", msg);
                } else if (!json_is_integer(json_object_get(o, "id"))) {
                    set_failed(p, r[i].http, "the store answered without an id");
                } else if (it->v && k < b->ncreate) {
                    char vs[32];
                    snprintf(vs, sizeof(vs), "%lld",
                             (long long)json_integer_value(json_object_get(o, "id")));
                    pb_upload_remember(u, p, it->v, p->product_id, vs, NULL, 1, 1);
                } else if (it->v) {
                    pb_upload_remember(u, p, it->v, NULL, NULL, NULL, it->fields, it->qty);
                }
            }
        }
        for (int i = 0; i < bs->n; i++)
            pb_rest_release(&r[i]);
        free(r);
        r = NULL;
        if (u->res->auth_failed) {
            rc = auth_stop(u, err);
            goto out;
        }
    }
    /* the fields of variants that needed none of their own went with the parent */
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        if (!seqs[i] || p->failed || !update || !p->product_changed)
            continue;
        for (int k = 0; k < p->n; k++)
            if (p->v[k].state && !p->v[k].fields_changed && !p->v[k].is_new)
                pb_upload_remember(u, p, &p->v[k], NULL, NULL, NULL, 1, 0);
    }
    if (nredo) {
        /* look the refused SKUs up, adopt them, and send their values */
        int *st = calloc((size_t)nredo + 1, sizeof(*st));
        int k2 = 0;
        for (int i = 0; i < nredo; i++)
            if (!k2 || redo[k2 - 1] != redo[i])
                redo[k2++] = redo[i];
        nredo = k2;
        if (!st || recover(u, redo, nredo, st, err) < 0) {
            free(st);
            if (!st)
                pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
        int m = 0;
        for (int i = 0; i < nredo; i++) {
            struct pb_up_product *p = redo[i];
            int missing = 0;
            for (int k = 0; k < p->n; k++)
                missing += p->v[k].state == NULL;
            if (st[i] < 0 || missing) {
                set_failed(p, 400, "a new variant's SKU is on another product in the store");
                continue;
            }
            for (int k = 0; k < p->n; k++) {
                p->v[k].is_new = 0;
                p->v[k].fields_changed = !json_object_get(p->v[k].state, "hash");
            }
            redo[m++] = p;
        }
        free(st);
        if (m && push(u, redo, m, op, depth + 1, err) < 0)
            goto out;
    }
    for (int i = 0; i < n; i++)
        if (seqs[i] && pb_upload_outcome(u, list[i], seqs[i], op, err) < 0)
            goto out;
    rc = 0;
out:
    batches_release(&prod);
    batches_release(&vars);
    free(r);
    free(seqs);
    free(redo);
    free(purl);
    return rc;
}

static int
woo_update(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    return push(u, list, n, "update", 0, err);
}

static int
woo_inventory(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    return push(u, list, n, "inventory", 0, err);
}

const struct pb_connector pb_connector_woocommerce = {
    .platform = "woocommerce",
    .concurrency = 2,
    .one_quantity = 1,
    .prepare = woo_prepare,
    .auth = woo_auth,
    .check = woo_check,
    .lookup = woo_lookup,
    .create = woo_create,
    .update = woo_update,
    .inventory = woo_inventory,
    .download = pb_woo_download,
};
