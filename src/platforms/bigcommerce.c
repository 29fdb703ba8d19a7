/*
 * The BigCommerce connector: Catalog v3 and Inventory v3 over REST, X-Auth-Token.
 *
 * Find SKUs with GET /v3/catalog/variants?sku:in=... (base variants included, every page
 * of meta.pagination followed), or, when that would take more requests, by reading every
 * variant of the store 250 a page.  SKUs are unique ignoring case: a SKU in the store
 * that differs from ours only in case, or that sits on another product, rejects the
 * product with the reason; nothing is guessed.  A product over 600 variants is refused
 * before any request.
 *
 * Create: one POST /v3/catalog/products per product, with its variants and their options
 * (created from option_display_name/label), weight (required: the row's or 0), category
 * ids, is_visible:false only for a new product that arrives hidden, and the tracking its
 * stock needs: a product without options is tracked by product (stock by product_id), a
 * product with option variants by variant (stock by variant_id).  A create whose answer
 * was lost is looked up by SKU before it is ever sent again.
 *
 * Update: product fields (and a simple product's prices) with PUT /v3/catalog/products,
 * at most 10 a request; option variants' prices, UPC, cost and weight with PUT
 * /v3/catalog/variants, at most 50 a request (413 past either); a variant new to a known
 * product with POST /v3/catalog/products/{id}/variants.  A batch refused with a 4xx is
 * sent again one product at a time, so one bad product does not hold back the others.
 *
 * Stock: PUT /v3/inventory/adjustments/absolute, at most 2,000 items a request, one
 * request at a time, to the location ids of the store config (location = N, or
 * locations = 1:1, 2:2 per QBPOS store).
 *
 * Rate limit: X-Rate-Limit-Requests-Left/-Quota/-Time-Reset-Ms/-Time-Window-Ms of every
 * answer feed the limiter (a spent quota pauses until the window resets); a 429 waits the
 * longer of X-Retry-After and the reset, one without those headers backs off.  Prices and
 * weights are JSON numbers built from the exact decimal strings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bigcommerce_int.h"
#include "pb_schemas.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/money.h"
#include "posbridge/rest.h"
#include "posbridge/upload.h"
#include "posbridge/banned.h"

#define PRODUCTS_PER_PUT 10   /* PUT /v3/catalog/products: 413 past it */
#define VARIANTS_PER_PUT 50   /* PUT /v3/catalog/variants: 413 past it */
#define ITEMS_PER_ADJUST 2000 /* PUT /v3/inventory/adjustments/absolute */
#define MAX_VARIANTS 600      /* SKUs per product */
#define SKUS_PER_QUERY 50     /* sku:in values per lookup */
#define PAGE_LIMIT 250        /* the catalog's largest page */
#define MAX_PAGES 4000        /* a million variants: more is not a store we believe */
#define CREATE_CHUNK 100      /* products journaled and created before their stock goes */
#define UPDATE_CHUNK 500
#define VARIANT_FIELDS "id,product_id,sku,option_values,price,calculated_price"

/* ---- pure helpers (bigcommerce_int.h) ---- */

json_t *
pb_bc_number(const char *s, size_t n)
{
    int64_t v;
    const char *why;
    if (!s || pb_dec_parse(s, n, PB_DEC_SCALE, &v, &why) < 0)
        return NULL;
    if (v > 9000000000000000LL || v < -9000000000000000LL)
        return NULL; /* beyond what a double holds exactly */
    if (v % 1000000 == 0)
        return json_integer((json_int_t)(v / 1000000));
    /* both exact as doubles; the quotient is the double nearest the decimal, which 15
     * significant digits print back as written */
    return json_real((double)v / 1e6);
}

int
pb_bc_sku_same(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return 0;
        if (!x)
            return 1;
    }
}

json_t *
pb_bc_categories(const char *s)
{
    json_t *a = json_array();
    const char *p = s;
    while (a && p && *p) {
        while (*p == ' ')
            p++;
        json_int_t id = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 12) {
            id = id * 10 + (*p++ - '0');
            digits++;
        }
        while (*p == ' ')
            p++;
        if (!digits || id <= 0 || (*p && *p != ',')) {
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, json_integer(id));
        if (*p == ',')
            p++;
    }
    if (a && !json_array_size(a)) {
        json_decref(a);
        return NULL;
    }
    return a;
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

/* A money or decimal field as a JSON number; absent -> dflt (may be NULL: leave out). */
static json_t *
num_or(const struct pb_up_variant *v, int f, json_t *dflt)
{
    const char *s = val(v, f);
    json_t *j = s ? pb_bc_number(s, strlen(s)) : NULL;
    if (j) {
        json_decref(dflt);
        return j;
    }
    return dflt;
}

static void
set_opt(json_t *o, const char *k, json_t *x)
{
    if (x)
        json_object_set_new(o, k, x);
}

/* Plain text into HTML: escape, line breaks become <br>. */
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

static void fail(struct pb_up_product *p, long http, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct pb_up_product *p, long http, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = 1;
    p->http = http;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof(p->error), fmt, ap);
    va_end(ap);
}

/* The product fields every create and update carries; NULL with p failed on a bad
 * category. */
static json_t *
product_fields(struct pb_up_product *p)
{
    const struct pb_up_variant *h = &p->v[0];
    json_t *o = json_pack("{s:s, s:o, s:s}", "name", val(h, PB_PRODUCTS_TITLE), "description",
                          html_of(val(h, PB_PRODUCTS_DESCRIPTION)), "inventory_tracking",
                          has_options(p) ? "variant" : "product");
    if (val(h, PB_PRODUCTS_VENDOR))
        json_object_set_new(o, "brand_name", json_string(val(h, PB_PRODUCTS_VENDOR)));
    json_object_set_new(o, "search_keywords",
                        json_string(val(h, PB_PRODUCTS_TAGS) ? val(h, PB_PRODUCTS_TAGS) : ""));
    const char *cat = val(h, PB_PRODUCTS_CATEGORY);
    if (cat) {
        json_t *ids = pb_bc_categories(cat);
        if (!ids) {
            fail(p, 0, "category '%.200s' is not a BigCommerce category id (map the department "
                       "to one in the store's category map)", cat);
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, "categories", ids);
    }
    return o;
}

/* A simple product's variant fields live on the product. */
static void
simple_money(json_t *o, const struct pb_up_variant *v, int update)
{
    set_opt(o, "price", num_or(v, PB_PRODUCTS_PRICE, NULL));
    set_opt(o, "retail_price", num_or(v, PB_PRODUCTS_COMPARE_AT_PRICE, update ? json_integer(0) : NULL));
    set_opt(o, "cost_price", num_or(v, PB_PRODUCTS_COST, update ? json_integer(0) : NULL));
    if (val(v, PB_PRODUCTS_BARCODE) || update)
        json_object_set_new(o, "upc", json_string(val(v, PB_PRODUCTS_BARCODE)
                                                      ? val(v, PB_PRODUCTS_BARCODE) : ""));
    set_opt(o, "weight", num_or(v, PB_PRODUCTS_WEIGHT, json_integer(0)));
}

static void
variant_money(json_t *o, const struct pb_up_variant *v, int update)
{
    set_opt(o, "price", num_or(v, PB_PRODUCTS_PRICE, NULL));
    set_opt(o, "retail_price", num_or(v, PB_PRODUCTS_COMPARE_AT_PRICE, update ? json_null() : NULL));
    set_opt(o, "cost_price", num_or(v, PB_PRODUCTS_COST, update ? json_null() : NULL));
    if (val(v, PB_PRODUCTS_BARCODE) || update)
        json_object_set_new(o, "upc", json_string(val(v, PB_PRODUCTS_BARCODE)
                                                      ? val(v, PB_PRODUCTS_BARCODE) : ""));
    set_opt(o, "weight", num_or(v, PB_PRODUCTS_WEIGHT, update ? json_null() : NULL));
}

static json_t *
option_values(const struct pb_up_variant *v)
{
    json_t *a = json_array();
    static const int names[3] = {PB_PRODUCTS_OPTION1_NAME, PB_PRODUCTS_OPTION2_NAME,
                                 PB_PRODUCTS_OPTION3_NAME};
    for (int k = 0; k < 3; k++) {
        const char *n = val(v, names[k]), *x = val(v, names[k] + 1);
        if (n && x)
            json_array_append_new(a, json_pack("{s:s, s:s}", "option_display_name", n, "label", x));
    }
    return a;
}

/* ---- auth, limits ---- */

static int
bc_prepare(struct pb_upload *u, struct pb_error *err)
{
    const struct pb_store_cfg *s = u->store;
    if (!u->secret)
        return pb_error_set(err, PB_ECONFIG, "store '%s' has no token (the API account's "
                                             "access token)", s->name);
    if (s->pricing.qty != PB_QTY_PER_STORE && !s->default_location)
        return pb_error_set(err, PB_ECONFIG,
                            "[store %s]: set 'location = N' (the BigCommerce location id the "
                            "quantities go to; 1 is the default location)", s->name);
    for (int n = 0; n <= PB_QBPOS_STORES; n++) {
        const char *l = n ? s->location[n] : s->default_location;
        char *end;
        if (l && (strtol(l, &end, 10) <= 0 || *end))
            return pb_error_set(err, PB_ECONFIG,
                                "[store %s]: location '%s' is not a BigCommerce location id",
                                s->name, l);
    }
    /* The quota is read from every answer (bc_check); nothing is metered before. */
    pb_limiter_init(&u->limiter, 150, 0);
    return 0;
}

static int
bc_auth(struct pb_upload *u, const char *method, const char *url, struct pb_buf *hdr)
{
    (void)method;
    (void)url;
    return pb_buf_addf(hdr, "X-Auth-Token: %s", u->secret);
}

/* A create whose answer was lost may have happened: never send it blind again. */
static int
outcome_unknown(const struct pb_http_resp *rs)
{
    return rs->status >= 500 || (rs->status == 0 && rs->curl_code != CURLE_COULDNT_CONNECT);
}

/*
 * BigCommerce's quota is a fixed window (so many requests, refreshed every 30 s), not a
 * leaky bucket: the requests left may all go at once, and then nothing until the window
 * resets.  So the limiter does not meter (rate 0); when an answer says no more than the
 * requests that may be in flight are left, everyone waits for the reset.
 */
static enum pb_http_verdict
bc_check(void *user, const struct pb_http_req *rq, const struct pb_http_resp *rs, double *wait)
{
    struct pb_upload *u = user;
    long inflight = u->store->concurrency ? u->store->concurrency
                                          : pb_connector_bigcommerce.concurrency;
    if (rs->rl_left >= 0 && rs->rl_reset_ms > 0 && rs->rl_left < inflight)
        pb_limiter_pause(&u->limiter, (double)rs->rl_reset_ms / 1000.0);
    if (rq->once && outcome_unknown(rs))
        return PB_HTTP_FAIL; /* the caller looks it up instead */
    if (rs->status == 429) {
        /* "If both are present, honor the longer"; without them: platform load, back off */
        double w = rs->retry_after > 0 ? rs->retry_after : 0;
        if (rs->rl_reset_ms > 0 && (double)rs->rl_reset_ms / 1000.0 > w)
            w = (double)rs->rl_reset_ms / 1000.0;
        if (w > 0) {
            *wait = w;
            pb_limiter_pause(&u->limiter, w);
        }
        return PB_HTTP_RETRY;
    }
    if (rs->status == 0 || rs->status == 408 || rs->status == 500 || rs->status == 502 ||
        rs->status == 503 || rs->status == 504)
        return PB_HTTP_RETRY;
    return PB_HTTP_DONE;
}

/* ---- reading lists ---- */

/* See bigcommerce_int.h. */
int
pb_bc_get_pages(struct pb_upload *u, char **urls, size_t n, const char *label, json_t *out,
                int stop_above, char *why, size_t whylen, long *http, struct pb_error *err)
{
    struct pb_rest_req *rq = calloc(n ? n : 1, sizeof(*rq));
    struct pb_rest *rs = calloc(n ? n : 1, sizeof(*rs));
    char **more = NULL;
    size_t nmore = 0, cap = 0;
    int rc = -1;
    if (!rq || !rs)
        goto oom;
    for (size_t i = 0; i < n; i++)
        rq[i] = (struct pb_rest_req){"GET", urls[i], NULL, label, 0, 1};
    if (pb_rest_run(u, rq, rs, n, err) < 0)
        goto out;
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *data = json_object_get(rs[i].json, "data");
        if (!pb_rest_ok(&rs[i]) || !json_is_array(data)) {
            *http = rs[i].http;
            snprintf(why, whylen, "%s", rs[i].error[0] ? rs[i].error : "an answer without data");
            rc = 1;
            break;
        }
        json_array_extend(out, data);
        json_t *pg = json_object_get(json_object_get(rs[i].json, "meta"), "pagination");
        json_int_t pages = json_integer_value(json_object_get(pg, "total_pages"));
        json_int_t cur = json_integer_value(json_object_get(pg, "current_page"));
        if (pages > MAX_PAGES) {
            snprintf(why, whylen, "the store announces %lld pages", (long long)pages);
            rc = 1;
            break;
        }
        if (i == 0 && stop_above > 0 && pages > stop_above) {
            rc = 2;
            break;
        }
        for (json_int_t k = (cur > 0 ? cur : 1) + 1; k <= pages; k++) {
            if (nmore == cap) {
                cap = cap ? 2 * cap : 16;
                char **m = realloc(more, cap * sizeof(*m));
                if (!m)
                    goto oom;
                more = m;
            }
            struct pb_buf b = PB_BUF_INIT;
            if (pb_buf_addf(&b, "%s&page=%lld", urls[i], (long long)k) < 0)
                goto oom;
            more[nmore++] = pb_buf_detach(&b, NULL);
        }
    }
    if (rc == 0 && nmore)
        rc = pb_bc_get_pages(u, more, nmore, label, out, 0, why, whylen, http, err);
    goto out;
oom:
    rc = pb_error_set(err, PB_EOS, "out of memory");
out:
    for (size_t i = 0; rs && i < n; i++)
        pb_rest_release(&rs[i]);
    for (size_t i = 0; i < nmore; i++)
        free(more[i]);
    free(more);
    free(rq);
    free(rs);
    return rc;
}

/* Lowercase ASCII key for the case-insensitive SKU index. */
static char *
fold(const char *s)
{
    char *f = strdup(s);
    for (char *c = f; c && *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    return f;
}

static void
index_variants(json_t *found, json_t *list)
{
    size_t i;
    json_t *node;
    json_array_foreach(list, i, node) {
        const char *sku = json_string_value(json_object_get(node, "sku"));
        char *f = sku && *sku ? fold(sku) : NULL;
        if (!f)
            continue;
        json_t *arr = json_object_get(found, f);
        if (!arr) {
            arr = json_array();
            json_object_set_new(found, f, arr);
        }
        json_array_append(arr, node);
        free(f);
    }
}

/*
 * The store's variants for these SKUs, indexed by folded SKU -> [variant].  Searches
 * sku:in 50 at a time, or reads the whole store when that is fewer requests.
 * 0, 1 failed (why), -1 engine error.
 */
static int
find_skus(struct pb_upload *u, const char *const *skus, size_t n, json_t *found, char *why,
          size_t whylen, long *http, struct pb_error *err)
{
    size_t nq = 0;
    for (size_t i = 0; i < n; i++)
        nq += strchr(skus[i], ',') ? SKUS_PER_QUERY : 1;
    nq = (nq + SKUS_PER_QUERY - 1) / SKUS_PER_QUERY;
    json_t *all = json_array();
    char **urls = calloc(nq + 1, sizeof(*urls));
    size_t nu = 0;
    int rc = -1;
    if (!all || !urls)
        goto oom;
    if (nq > 2) {
        /* A first page of everything says how big the store is. */
        urls[0] = pb_rest_url(u, "/v3/catalog/variants?include_fields=" VARIANT_FIELDS
                                 "&limit=%d", PAGE_LIMIT);
        if (!urls[0])
            goto oom;
        rc = pb_bc_get_pages(u, urls, 1, "read the store's variants", all, (int)nq, why, whylen, http,
                       err);
        free(urls[0]);
        urls[0] = NULL;
        if (rc != 2) {
            if (rc == 0)
                index_variants(found, all);
            goto out;
        }
        json_array_clear(all);
    }
    /* sku:in lists; a SKU with a comma in it is asked for alone */
    struct pb_buf q = PB_BUF_INIT;
    int terms = 0;
    for (size_t i = 0; i <= n; i++) {
        int alone = i < n && strchr(skus[i], ',');
        if (i < n && !alone) {
            if ((terms ? pb_buf_addch(&q, ',') : 0) < 0 || pb_rest_escape(&q, skus[i]) < 0)
                goto oomq;
            terms++;
        }
        if (terms && (i == n || terms == SKUS_PER_QUERY)) {
            if (!(urls[nu++] = pb_rest_url(u, "/v3/catalog/variants?sku:in=%s&include_fields="
                                              VARIANT_FIELDS "&limit=%d", q.data, PAGE_LIMIT)))
                goto oomq;
            pb_buf_reset(&q);
            terms = 0;
        }
        if (alone) {
            struct pb_buf one = PB_BUF_INIT;
            if (pb_rest_escape(&one, skus[i]) < 0) {
                pb_buf_release(&one);
                goto oomq;
            }
            urls[nu] = pb_rest_url(u, "/v3/catalog/variants?sku=%s&include_fields=" VARIANT_FIELDS
                                      "&limit=%d", one.data, PAGE_LIMIT);
            pb_buf_release(&one);
            if (!urls[nu++])
                goto oomq;
        }
    }
    pb_buf_release(&q);
    rc = nu ? pb_bc_get_pages(u, urls, nu, "lookup by SKU", all, 0, why, whylen, http, err) : 0;
    if (rc == 0)
        index_variants(found, all);
    goto out;
oomq:
    pb_buf_release(&q);
oom:
    rc = pb_error_set(err, PB_EOS, "out of memory");
out:
    for (size_t i = 0; urls && i < nu; i++)
        free(urls[i]);
    free(urls);
    json_decref(all);
    return rc;
}

static const char *
id_of(json_t *o, const char *key, char buf[32])
{
    return pb_json_id(o, key, buf);
}

/* ---- lookup ---- */

/* --remote: how the store's variant differs from the row last sent. */
static void
inspect(struct pb_up_variant *v, json_t *matches)
{
    struct pb_buf b = PB_BUF_INIT;
    int rc = 0;
    json_t *row = pb_state_row(v->state);
    json_t *m = json_array_get(matches, 0);
    char buf[32];
    const char *vid = json_string_value(json_object_get(v->state, "variant_id"));
    const char *id = m ? id_of(m, "id", buf) : NULL;
    if (!m) {
        rc |= pb_buf_adds(&b, "store differs: this SKU is no longer in the store (deleted by "
                              "hand?)");
    } else if (vid && id && strcmp(vid, id)) {
        rc |= pb_buf_addf(&b, "store differs: the SKU is now variant %s", id);
    } else {
        json_t *there = json_object_get(m, "price");
        if (!json_is_number(there))
            there = json_object_get(m, "calculated_price");
        const char *sent = json_string_value(json_object_get(row, "price"));
        json_t *want = sent ? pb_bc_number(sent, strlen(sent)) : NULL;
        if (want && json_is_number(there) &&
            (long long)(json_number_value(there) * 100 + 0.5) !=
                (long long)(json_number_value(want) * 100 + 0.5)) {
            char *t = json_dumps(there, JSON_ENCODE_ANY | PB_BC_DUMP);
            rc |= pb_buf_addf(&b, "store differs (edited by hand?): price is %s in the store, "
                                  "%s was sent", t ? t : "?", sent);
            free(t);
        }
        json_decref(want);
    }
    if (b.len && rc == 0) {
        free(v->remote_note);
        v->remote_note = pb_buf_detach(&b, NULL);
    }
    pb_buf_release(&b);
}

static void
reject(struct pb_up_product *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
reject(struct pb_up_product *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
    va_end(ap);
    p->action = PB_UP_REJECT;
}

/* Decide one product from what the store has for its SKUs. */
static void
decide(struct pb_upload *u, struct pb_up_product *p, json_t *found)
{
    const char *pid = NULL;
    char pbuf[32], vbuf[32], obuf[32];
    int hits = 0;
    for (int k = 0; k < p->n; k++) {
        char *f = fold(p->v[k].sku);
        json_t *arr = f ? json_object_get(found, f) : NULL;
        free(f);
        if (json_array_size(arr) > 1) {
            reject(p, "SKU '%s' is on %zu variants in the store; posbridge will not guess which "
                      "is this one", p->v[k].sku, json_array_size(arr));
            return;
        }
        json_t *node = json_array_get(arr, 0);
        if (!node)
            continue;
        const char *sku = json_string_value(json_object_get(node, "sku"));
        const char *id = id_of(node, "product_id", pbuf);
        if (sku && strcmp(sku, p->v[k].sku)) {
            reject(p, "SKU '%s' is already in the store as '%s' (product %s); BigCommerce SKUs "
                      "ignore case, so this product is not sent",
                   p->v[k].sku, sku, id ? id : "?");
            return;
        }
        if (pid && id && strcmp(pid, id)) {
            reject(p, "its SKUs are on different products in the store (%s and %s)", pid, id);
            return;
        }
        int base = json_array_size(json_object_get(node, "option_values")) == 0;
        if (base == has_options(p)) {
            reject(p, "SKU '%s' is on product %s in the store, which %s options while this "
                      "product %s; change it by hand first",
                   p->v[k].sku, id ? id : "?", base ? "has no" : "has", base ? "has" : "has none");
            return;
        }
        if (id)
            snprintf(obuf, sizeof(obuf), "%s", id);
        pid = id ? obuf : pid;
        hits++;
    }
    if (!hits || !pid)
        return;
    /* The store product must not be another product of ours already. */
    const char *sku;
    json_t *e;
    json_object_foreach(u->state.by_sku, sku, e) {
        const char *k = json_string_value(json_object_get(e, "product_key"));
        const char *id = json_string_value(json_object_get(e, "product_id"));
        if (k && id && !strcmp(id, pid) && strcmp(k, p->key)) {
            reject(p, "its SKUs are on store product %s, which is '%s' here", pid, k);
            return;
        }
    }
    free(p->product_id);
    p->product_id = strdup(pid);
    for (int k = 0; k < p->n; k++) {
        char *f = fold(p->v[k].sku);
        json_t *node = f ? json_array_get(json_object_get(found, f), 0) : NULL;
        free(f);
        if (node)
            pb_upload_remember(u, p, &p->v[k], pid, id_of(node, "id", vbuf), NULL, 0, 0);
    }
}

static int
bc_lookup(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    size_t total = 0, ns = 0;
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        if (!u->inspecting && p->n > MAX_VARIANTS) {
            reject(p, "%d variants; BigCommerce allows at most %d per product", p->n,
                   MAX_VARIANTS);
            continue;
        }
        total += (size_t)p->n;
    }
    const char **skus = malloc((total + 1) * sizeof(*skus));
    json_t *found = json_object();
    int rc = -1;
    if (!skus || !found) {
        rc = pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; list[i]->action != PB_UP_REJECT && k < list[i]->n; k++)
            skus[ns++] = list[i]->v[k].sku;
    char why[420] = "";
    long http = 0;
    int r = ns ? find_skus(u, skus, ns, found, why, sizeof(why), &http, err) : 0;
    if (r < 0)
        goto out;
    if (r > 0) {
        pb_log(PB_LOG_ERROR, "%s: cannot look SKUs up: %s", u->store->name, why);
        for (int k = 0; k < n; k++)
            if (list[k]->action != PB_UP_REJECT)
                fail(list[k], http, "lookup failed: %.280s", why);
        rc = u->res->auth_failed
                 ? pb_error_set(err, PB_ENOPERM, "%s: the store refused the access token: %s",
                                u->store->name, why)
                 : 0;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        if (p->action == PB_UP_REJECT)
            continue;
        if (u->inspecting) {
            for (int k = 0; k < p->n; k++)
                if (p->v[k].state) {
                    char *f = fold(p->v[k].sku);
                    inspect(&p->v[k], f ? json_object_get(found, f) : NULL);
                    free(f);
                }
            continue;
        }
        decide(u, p, found);
    }
    rc = 0;
out:
    free(skus);
    json_decref(found);
    return rc;
}

/* ---- stock ---- */

struct qitem {
    struct pb_up_product *p;
    struct pb_up_variant *v;
    json_int_t loc, qty;
};

struct qlist {
    struct qitem *it;
    size_t n, cap;
};

/* The quantities of a variant that differ from what the store was last given. */
static int
add_quantities(struct pb_upload *u, struct qlist *q, struct pb_up_product *p,
               struct pb_up_variant *v)
{
    json_t *have = v->state ? json_object_get(v->state, "qty") : NULL;
    const char *loc;
    json_t *x;
    json_object_foreach(pb_upload_qty(u, v), loc, x) {
        json_t *h = json_object_get(have, loc);
        if (h && json_integer_value(h) == json_integer_value(x))
            continue;
        if (q->n == q->cap) {
            size_t cap = q->cap ? 2 * q->cap : 256;
            struct qitem *it = realloc(q->it, cap * sizeof(*it));
            if (!it)
                return -1;
            q->it = it;
            q->cap = cap;
        }
        q->it[q->n++] = (struct qitem){p, v, strtol(loc, NULL, 10), json_integer_value(x)};
    }
    return 0;
}

static json_t *
adjust_item(const struct qitem *q)
{
    const char *key = has_options(q->p) ? "variant_id" : "product_id";
    const char *id = json_string_value(json_object_get(q->v->state, key));
    if (!id && !has_options(q->p))
        id = q->p->product_id;
    return json_pack("{s:I, s:I, s:I}", "location_id", q->loc, key,
                     (json_int_t)strtoll(id ? id : "0", NULL, 10), "quantity", q->qty);
}

/* One adjustment request for items [at, end); the error goes to each product. */
static int
adjust_one(struct pb_upload *u, const struct qitem *it, size_t at, size_t end, long *http,
           char *why, size_t whylen, struct pb_error *err)
{
    json_t *items = json_array();
    for (size_t r = at; r < end; r++)
        json_array_append_new(items, adjust_item(&it[r]));
    json_t *body = json_pack("{s:s, s:o}", "reason", "posbridge: QuickBooks POS stock",
                             "items", items);
    char *url = pb_rest_url(u, "/v3/inventory/adjustments/absolute");
    if (!body || !url) {
        json_decref(body);
        free(url);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    struct pb_rest_req rq = {"PUT", url, body, "inventory adjustment", 0, 1};
    struct pb_rest r;
    int rc = pb_rest_one(u, &rq, &r, err);
    json_decref(body);
    free(url);
    if (rc < 0)
        return -1;
    *http = r.http;
    snprintf(why, whylen, "%s", pb_rest_ok(&r) ? "" : r.error);
    int refused = !pb_rest_ok(&r) && r.http >= 400 && r.http < 500 && r.http != 401 &&
                  r.http != 403 && r.http != 429 && r.http != 413;
    pb_rest_release(&r);
    return refused ? 1 : 0;
}

/*
 * Send the items (grouped by product, in order), at most ITEMS_PER_ADJUST a request, one
 * request after the other.  A request the store refuses (422: a product tracked another
 * way, an unknown location) is sent again one product at a time.  Failed products get
 * the reason; the others remember their quantities.
 */
static int
send_stock(struct pb_upload *u, struct qlist *q, struct pb_error *err)
{
    for (size_t at = 0; at < q->n;) {
        size_t end = at + ITEMS_PER_ADJUST < q->n ? at + ITEMS_PER_ADJUST : q->n;
        while (end < q->n && end > at + 1 && q->it[end].p == q->it[end - 1].p)
            end--;
        if (end == at + 1 && at + ITEMS_PER_ADJUST < q->n)
            end = at + ITEMS_PER_ADJUST; /* one product alone past the limit */
        long http;
        char why[420];
        int r = adjust_one(u, q->it, at, end, &http, why, sizeof(why), err);
        if (r < 0)
            return -1;
        int several = q->it[at].p != q->it[end - 1].p;
        if (r == 1 && several) {
            /* find the product the store refuses: one request each */
            for (size_t s = at; s < end;) {
                size_t e = s;
                while (e < end && q->it[e].p == q->it[s].p)
                    e++;
                if (adjust_one(u, q->it, s, e, &http, why, sizeof(why), err) < 0)
                    return -1;
                if (why[0])
                    fail(q->it[s].p, http, "stock: %.280s", why);
                s = e;
            }
        } else if (why[0]) {
            for (size_t s = at; s < end; s++)
                fail(q->it[s].p, http, "stock: %.280s", why);
        }
        at = end;
        if (u->res->auth_failed)
            break;
    }
    for (size_t s = 0; s < q->n; s++)
        if (!q->it[s].p->failed)
            pb_upload_remember(u, q->it[s].p, q->it[s].v, NULL, NULL, NULL, 0, 1);
    return 0;
}

/* ---- create ---- */

static json_t *
create_body(struct pb_up_product *p)
{
    json_t *o = product_fields(p);
    if (!o)
        return NULL;
    struct pb_up_variant *h = &p->v[0];
    json_object_set_new(o, "type", json_string("physical"));
    const char *status = val(h, PB_PRODUCTS_STATUS);
    if (!status || strcmp(status, "active"))
        json_object_set_new(o, "is_visible", json_false()); /* on create only */
    if (!has_options(p)) {
        json_object_set_new(o, "sku", json_string(h->sku));
        simple_money(o, h, 0);
        return o;
    }
    set_opt(o, "price", num_or(h, PB_PRODUCTS_PRICE, NULL));
    set_opt(o, "weight", num_or(h, PB_PRODUCTS_WEIGHT, json_integer(0)));
    json_t *vs = json_array();
    for (int k = 0; k < p->n; k++) {
        json_t *v = json_pack("{s:s, s:o}", "sku", p->v[k].sku, "option_values",
                              option_values(&p->v[k]));
        variant_money(v, &p->v[k], 0);
        json_array_append_new(vs, v);
    }
    json_object_set_new(o, "variants", vs);
    return o;
}

/* Record the ids of a created (or found) product: its variants by SKU. */
static int
record_created(struct pb_upload *u, struct pb_up_product *p, const char *pid, json_t *variants,
               const char *base_variant)
{
    int got = 0;
    char buf[32];
    free(p->product_id);
    p->product_id = strdup(pid);
    for (int k = 0; k < p->n; k++) {
        const char *vid = NULL;
        size_t j;
        json_t *node;
        json_array_foreach(variants, j, node) {
            const char *sku = json_string_value(json_object_get(node, "sku"));
            if (sku && !strcmp(sku, p->v[k].sku))
                vid = id_of(node, "id", buf);
        }
        if (!vid && !has_options(p))
            vid = base_variant;
        if (vid) {
            pb_upload_remember(u, p, &p->v[k], pid, vid, NULL, 1, 0);
            got++;
        }
    }
    return got;
}

/* After a lost answer: is it there?  1 all of it, 0 none, -2 part, 3 failed, -1 error. */
static int
find_created(struct pb_upload *u, struct pb_up_product *p, struct pb_error *err)
{
    const char **skus = malloc((size_t)p->n * sizeof(*skus));
    json_t *found = json_object(), *nodes = json_array();
    int rc = -1;
    if (!skus || !found || !nodes) {
        rc = pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    for (int k = 0; k < p->n; k++)
        skus[k] = p->v[k].sku;
    char why[420];
    long http = 0;
    int r = find_skus(u, skus, (size_t)p->n, found, why, sizeof(why), &http, err);
    if (r != 0) {
        rc = r < 0 ? -1 : 3;
        goto out;
    }
    const char *pid = NULL;
    char buf[32], pb[32];
    for (int k = 0; k < p->n; k++) {
        char *f = fold(p->v[k].sku);
        json_t *node = f ? json_array_get(json_object_get(found, f), 0) : NULL;
        free(f);
        const char *id = node ? id_of(node, "product_id", buf) : NULL;
        if (!id)
            continue;
        if (pid && strcmp(pid, id)) {
            rc = -2;
            goto out;
        }
        snprintf(pb, sizeof(pb), "%s", id);
        pid = pb;
        json_array_append(nodes, node);
    }
    if (!pid) {
        rc = 0;
        goto out;
    }
    rc = record_created(u, p, pid, nodes, NULL) == p->n ? 1 : -2;
out:
    free(skus);
    json_decref(found);
    json_decref(nodes);
    return rc;
}

static int
bc_create(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    for (int at = 0; at < n; at += CREATE_CHUNK) {
        int m = n - at < CREATE_CHUNK ? n - at : CREATE_CHUNK;
        struct pb_rest_req *rq = calloc((size_t)m, sizeof(*rq));
        struct pb_rest *rs = calloc((size_t)m, sizeof(*rs));
        json_t **bodies = calloc((size_t)m, sizeof(*bodies));
        uint64_t *seqs = calloc((size_t)m, sizeof(*seqs));
        char *url = pb_rest_url(u, "/v3/catalog/products");
        char **labels = calloc((size_t)m, sizeof(*labels));
        int *slot = calloc((size_t)m, sizeof(*slot));
        struct qlist q = {0};
        int rc = -1, nr = 0;
        if (!rq || !rs || !bodies || !seqs || !url || !labels || !slot) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto done;
        }
        for (int i = 0; i < m; i++) {
            struct pb_up_product *p = list[at + i];
            if (!(seqs[i] = pb_upload_intent(u, p, "create", err)))
                goto done;
            if (p->n > MAX_VARIANTS) {
                fail(p, 0, "%s", "more than 600 variants: BigCommerce refuses the product");
                continue;
            }
            if (!(bodies[i] = create_body(p)))
                continue; /* failed: a bad category */
            struct pb_buf l = PB_BUF_INIT;
            if (pb_buf_addf(&l, "createProduct %s", p->key) < 0)
                goto done;
            labels[i] = pb_buf_detach(&l, NULL);
            slot[nr] = i;
            rq[nr++] = (struct pb_rest_req){"POST", url, bodies[i], labels[i], 1, 1};
        }
        if (pb_journal_sync(&u->journal, err) < 0 || pb_rest_run(u, rq, rs, (size_t)nr, err) < 0)
            goto done;
        for (int r = 0; r < nr; r++) {
            struct pb_up_product *p = list[at + slot[r]];
            struct pb_rest *x = &rs[r];
            json_t *data = json_object_get(x->json, "data");
            char buf[32], bbuf[32];
            const char *pid = id_of(data, "id", buf);
            p->http = x->http;
            if (pb_rest_ok(x) && pid) {
                if (x->http == 207)
                    pb_log(PB_LOG_WARN, "%s: '%s' created, but the store reports a partial "
                           "failure (HTTP 207): check it in the store", u->store->name, p->key);
                if (record_created(u, p, pid, json_object_get(data, "variants"),
                                   id_of(data, "base_variant_id", bbuf)) != p->n)
                    fail(p, x->http, "%s", "the store answered without every variant's id");
            } else if (x->lost && !u->res->unreachable && !u->res->auth_failed) {
                /* It may have happened: look before anything is sent again. */
                int f = find_created(u, p, err);
                if (f == -1)
                    goto done;
                if (f == 1)
                    pb_log(PB_LOG_INFO, "%s: '%s' was created although the answer was lost",
                           u->store->name, p->key);
                else if (f == -2)
                    fail(p, x->http, "%s", "the answer was lost and the store has this product "
                                           "only in part; check it by hand");
                else if (f == 0 && p->tries++ < 3) {
                    /* not there: send it again, alone */
                    struct pb_rest one;
                    if (pb_rest_one(u, &rq[r], &one, err) < 0)
                        goto done;
                    pb_rest_release(x);
                    *x = one;
                    r--;
                    continue;
                } else
                    fail(p, x->http, "no answer from the store: %.250s", x->error);
            } else {
                fail(p, x->http, "%.290s", x->error[0] ? x->error : "not created");
            }
        }
        /* Their stock, now that they exist. */
        for (int i = 0; i < m; i++) {
            struct pb_up_product *p = list[at + i];
            for (int k = 0; !p->failed && k < p->n; k++)
                if (add_quantities(u, &q, p, &p->v[k]) < 0) {
                    pb_error_set(err, PB_EOS, "out of memory");
                    goto done;
                }
        }
        if (q.n && send_stock(u, &q, err) < 0)
            goto done;
        for (int i = 0; i < m; i++)
            if (pb_upload_outcome(u, list[at + i], seqs[i], "create", err) < 0)
                goto done;
        rc = 0;
    done:
        for (int r = 0; rs && r < nr; r++)
            pb_rest_release(&rs[r]);
        for (int i = 0; bodies && i < m; i++)
            json_decref(bodies[i]);
        for (int i = 0; labels && i < m; i++)
            free(labels[i]);
        free(labels);
        free(slot);
        free(rq);
        free(rs);
        free(bodies);
        free(seqs);
        free(url);
        free(q.it);
        if (rc < 0)
            return -1;
        if (u->res->auth_failed)
            return pb_error_set(err, PB_ENOPERM, "%s: the store refused the access token",
                                u->store->name);
    }
    return 0;
}

/* ---- update ---- */

/* Whether what a variant carries itself (not its product) differs from what was sent:
 * a row hash also changes with the product's title or description. */
static int
variant_differs(const struct pb_up_variant *v)
{
    static const int fields[] = {PB_PRODUCTS_PRICE, PB_PRODUCTS_COMPARE_AT_PRICE,
                                 PB_PRODUCTS_COST, PB_PRODUCTS_BARCODE, PB_PRODUCTS_WEIGHT};
    json_t *row = pb_state_row(v->state);
    if (!row)
        return 1;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *now = val(v, fields[i]);
        const char *was = json_string_value(
            json_object_get(row, v->row.schema->fields[fields[i]].name));
        if ((now == NULL) != (was == NULL) || (now && strcmp(now, was)))
            return 1;
    }
    return 0;
}

struct elem {
    struct pb_up_product *p;
    json_t *body;
};

struct elist {
    struct elem *e;
    size_t n, cap;
};

static int
elist_add(struct elist *l, struct pb_up_product *p, json_t *body)
{
    if (!body)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct elem *e = realloc(l->e, cap * sizeof(*e));
        if (!e) {
            json_decref(body);
            return -1;
        }
        l->e = e;
        l->cap = cap;
    }
    l->e[l->n++] = (struct elem){p, body};
    return 0;
}

static void
elist_release(struct elist *l)
{
    for (size_t i = 0; i < l->n; i++)
        json_decref(l->e[i].body);
    free(l->e);
    memset(l, 0, sizeof(*l));
}

/* An array of elements [a, b). */
static json_t *
batch_of(const struct elist *l, size_t a, size_t b)
{
    json_t *arr = json_array();
    for (size_t i = a; i < b; i++)
        json_array_append(arr, l->e[i].body);
    return arr;
}

static int
refused(const struct pb_rest *r)
{
    return (r->http >= 400 && r->http < 500 && r->http != 401 && r->http != 403 &&
            r->http != 429 && r->http != 413) || r->http == 207;
}

/*
 * PUT the elements to path, `per` a request, all requests at once.  A request the store
 * refuses is sent again one product at a time; what still fails marks its product.
 */
static int
send_batches(struct pb_upload *u, const char *path, const struct elist *l, size_t per,
             const char *label, struct pb_error *err)
{
    size_t nreq = (l->n + per - 1) / per, nr = 0;
    /* at most one request per element when split */
    struct pb_rest_req *rq = calloc(l->n + 1, sizeof(*rq));
    struct pb_rest *rs = calloc(l->n + 1, sizeof(*rs));
    json_t **bodies = calloc(l->n + 1, sizeof(*bodies));
    size_t *from = calloc(l->n + 1, sizeof(*from)), *to = calloc(l->n + 1, sizeof(*to));
    char *url = pb_rest_url(u, "%s", path);
    int rc = -1;
    if (!rq || !rs || !bodies || !from || !to || !url) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < nreq; k++) {
        from[k] = k * per;
        to[k] = from[k] + per < l->n ? from[k] + per : l->n;
        bodies[k] = batch_of(l, from[k], to[k]);
        rq[k] = (struct pb_rest_req){"PUT", url, bodies[k], label, 0, 1};
    }
    nr = nreq;
    if (pb_rest_run(u, rq, rs, nr, err) < 0)
        goto out;
    /* the refused batches with several products: one request per product */
    size_t ns = 0;
    struct pb_rest_req *sq = calloc(l->n + 1, sizeof(*sq));
    struct pb_rest *ss = calloc(l->n + 1, sizeof(*ss));
    json_t **sb = calloc(l->n + 1, sizeof(*sb));
    size_t *sf = calloc(l->n + 1, sizeof(*sf)), *st = calloc(l->n + 1, sizeof(*st));
    if (!sq || !ss || !sb || !sf || !st) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto split_out;
    }
    for (size_t k = 0; k < nr; k++) {
        if (pb_rest_ok(&rs[k]) && rs[k].http != 207)
            continue;
        int several = l->e[from[k]].p != l->e[to[k] - 1].p;
        if (!refused(&rs[k]) || !several) {
            for (size_t i = from[k]; i < to[k]; i++)
                fail(l->e[i].p, rs[k].http, "%.290s",
                     rs[k].error[0] ? rs[k].error : "partly refused (HTTP 207)");
            continue;
        }
        for (size_t i = from[k]; i < to[k];) {
            size_t e = i;
            while (e < to[k] && l->e[e].p == l->e[i].p)
                e++;
            sf[ns] = i;
            st[ns] = e;
            sb[ns] = batch_of(l, i, e);
            sq[ns] = (struct pb_rest_req){"PUT", url, sb[ns], label, 0, 1};
            ns++;
            i = e;
        }
    }
    if (ns && pb_rest_run(u, sq, ss, ns, err) < 0)
        goto split_out;
    for (size_t k = 0; k < ns; k++)
        if (!pb_rest_ok(&ss[k]) || ss[k].http == 207)
            fail(l->e[sf[k]].p, ss[k].http, "%.290s",
                 ss[k].error[0] ? ss[k].error : "partly refused (HTTP 207)");
    rc = 0;
split_out:
    for (size_t k = 0; ss && k < ns; k++) {
        pb_rest_release(&ss[k]);
        json_decref(sb[k]);
    }
    free(sq);
    free(ss);
    free(sb);
    free(sf);
    free(st);
out:
    for (size_t k = 0; rs && k < nr; k++) {
        pb_rest_release(&rs[k]);
        json_decref(bodies[k]);
    }
    free(rq);
    free(rs);
    free(bodies);
    free(from);
    free(to);
    free(url);
    return rc;
}

/* New variants of known products, one POST each; their ids are remembered. */
static int
create_variants(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    int nv = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; !list[i]->failed && k < list[i]->n; k++)
            nv += list[i]->v[k].is_new;
    if (!nv)
        return 0;
    struct pb_rest_req *rq = calloc((size_t)nv, sizeof(*rq));
    struct pb_rest *rs = calloc((size_t)nv, sizeof(*rs));
    struct pb_up_variant **vs = calloc((size_t)nv, sizeof(*vs));
    struct pb_up_product **ps = calloc((size_t)nv, sizeof(*ps));
    json_t **bodies = calloc((size_t)nv, sizeof(*bodies));
    char **urls = calloc((size_t)nv, sizeof(*urls));
    int m = 0, rc = -1;
    if (!rq || !rs || !vs || !ps || !bodies || !urls) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        for (int k = 0; !p->failed && k < p->n; k++) {
            struct pb_up_variant *v = &p->v[k];
            if (!v->is_new)
                continue;
            bodies[m] = json_pack("{s:s, s:o}", "sku", v->sku, "option_values", option_values(v));
            variant_money(bodies[m], v, 0);
            urls[m] = pb_rest_url(u, "/v3/catalog/products/%s/variants", p->product_id);
            if (!bodies[m] || !urls[m]) {
                m++;
                pb_error_set(err, PB_EOS, "out of memory");
                goto out;
            }
            vs[m] = v;
            ps[m] = p;
            rq[m] = (struct pb_rest_req){"POST", urls[m], bodies[m], "createProductVariant", 1, 1};
            m++;
        }
    }
    if (pb_rest_run(u, rq, rs, (size_t)m, err) < 0)
        goto out;
    for (int k = 0; k < m; k++) {
        char buf[32];
        const char *vid = id_of(json_object_get(rs[k].json, "data"), "id", buf);
        if (pb_rest_ok(&rs[k]) && vid)
            pb_upload_remember(u, ps[k], vs[k], ps[k]->product_id, vid, NULL, 1, 0);
        else
            fail(ps[k], rs[k].http, "new variant: %.280s",
                 rs[k].error[0] ? rs[k].error : "no id in the answer");
    }
    rc = 0;
out:
    for (int k = 0; k < m; k++) {
        pb_rest_release(&rs[k]);
        json_decref(bodies[k]);
        free(urls[k]);
    }
    free(rq);
    free(rs);
    free(vs);
    free(ps);
    free(bodies);
    free(urls);
    return rc;
}

static int
bc_update(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    for (int at = 0; at < n; at += UPDATE_CHUNK) {
        int m = n - at < UPDATE_CHUNK ? n - at : UPDATE_CHUNK;
        struct pb_up_product **chunk = list + at;
        uint64_t *seqs = calloc((size_t)m, sizeof(*seqs));
        struct elist prods = {0}, vars = {0};
        int rc = -1;
        if (!seqs) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto done;
        }
        for (int i = 0; i < m; i++) {
            struct pb_up_product *p = chunk[i];
            if (!(seqs[i] = pb_upload_intent(u, p, "update", err)))
                goto done;
            int opts = has_options(p), grows = 0, known_simple = 0;
            for (int k = 0; k < p->n; k++) {
                grows |= p->v[k].is_new;
                known_simple |= p->v[k].state && !json_object_get(pb_state_row(p->v[k].state),
                                                                  "option1_name") &&
                                pb_state_row(p->v[k].state);
            }
            if (grows && (!opts || known_simple)) {
                fail(p, 0, "%s", "this product gained options: BigCommerce would drop its "
                                 "base variant; delete it in the store and upload again");
                continue;
            }
            if (p->n > MAX_VARIANTS) {
                fail(p, 0, "%s", "more than 600 variants: BigCommerce refuses the product");
                continue;
            }
            if (p->product_changed || (!opts && p->v[0].fields_changed)) {
                json_t *o = product_fields(p);
                if (!o)
                    continue;
                json_object_set_new(o, "id", json_integer(strtoll(p->product_id, NULL, 10)));
                if (!opts)
                    simple_money(o, &p->v[0], 1);
                if (elist_add(&prods, p, o) < 0)
                    goto oom;
            }
            for (int k = 0; opts && k < p->n; k++) {
                struct pb_up_variant *v = &p->v[k];
                if (v->is_new || !v->fields_changed || !variant_differs(v))
                    continue;
                const char *vid = json_string_value(json_object_get(v->state, "variant_id"));
                json_t *o = json_pack("{s:I}", "id", (json_int_t)strtoll(vid ? vid : "0", NULL, 10));
                variant_money(o, v, 1);
                if (elist_add(&vars, p, o) < 0)
                    goto oom;
            }
        }
        if (pb_journal_sync(&u->journal, err) < 0)
            goto done;
        if ((prods.n && send_batches(u, "/v3/catalog/products", &prods, PRODUCTS_PER_PUT,
                                     "updateProducts", err) < 0) ||
            (vars.n && send_batches(u, "/v3/catalog/variants", &vars, VARIANTS_PER_PUT,
                                    "updateVariantsBatch", err) < 0) ||
            create_variants(u, chunk, m, err) < 0)
            goto done;
        for (int i = 0; i < m; i++) {
            struct pb_up_product *p = chunk[i];
            for (int k = 0; !p->failed && k < p->n; k++)
                if (!p->v[k].is_new && (p->v[k].fields_changed || p->product_changed))
                    pb_upload_remember(u, p, &p->v[k], NULL, NULL, NULL, 1, 0);
            if (pb_upload_outcome(u, p, seqs[i], "update", err) < 0)
                goto done;
        }
        rc = 0;
        goto done;
    oom:
        pb_error_set(err, PB_EOS, "out of memory");
    done:
        elist_release(&prods);
        elist_release(&vars);
        free(seqs);
        if (rc < 0)
            return -1;
        if (u->res->auth_failed)
            return pb_error_set(err, PB_ENOPERM, "%s: the store refused the access token",
                                u->store->name);
    }
    return 0;
}

/* ---- inventory ---- */

static int
bc_inventory(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    struct qlist q = {0};
    struct pb_up_product **who = calloc((size_t)n + 1, sizeof(*who));
    uint64_t *seqs = calloc((size_t)n + 1, sizeof(*seqs));
    int nw = 0, rc = -1;
    if (!who || !seqs)
        goto oom;
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        size_t before = q.n;
        for (int k = 0; k < p->n; k++) {
            struct pb_up_variant *v = &p->v[k];
            /* changed quantities, and those of variants the update step just created */
            if ((!v->qty_changed && !v->is_new) || !v->state ||
                !json_object_get(v->state, "variant_id"))
                continue;
            if (add_quantities(u, &q, p, v) < 0)
                goto oom;
        }
        if (q.n == before)
            continue;
        if (!(seqs[nw] = pb_upload_intent(u, p, "inventory", err)))
            goto out;
        who[nw++] = p;
    }
    if (pb_journal_sync(&u->journal, err) < 0 || (q.n && send_stock(u, &q, err) < 0))
        goto out;
    for (int i = 0; i < nw; i++)
        if (pb_upload_outcome(u, who[i], seqs[i], "inventory", err) < 0)
            goto out;
    rc = u->res->auth_failed ? pb_error_set(err, PB_ENOPERM, "%s: the store refused the access "
                                                            "token", u->store->name)
                             : 0;
    goto out;
oom:
    pb_error_set(err, PB_EOS, "out of memory");
out:
    free(q.it);
    free(who);
    free(seqs);
    return rc;
}

const struct pb_connector pb_connector_bigcommerce = {
    .platform = "bigcommerce",
    .concurrency = 4,
    .prepare = bc_prepare,
    .auth = bc_auth,
    .check = bc_check,
    .lookup = bc_lookup,
    .create = bc_create,
    .update = bc_update,
    .inventory = bc_inventory,
    .download = pb_bc_download,
};
