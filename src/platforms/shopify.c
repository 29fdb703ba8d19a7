/*
 * The Shopify connector: the GraphQL Admin API.
 *
 * Create with productSet (status DRAFT when new products arrive hidden; the status is sent
 * on create only), change prices, barcodes, compare-at prices and costs with
 * productVariantsBulkUpdate (never a productSet, which would drop variants it is not
 * given), product fields with productUpdate, new variants of a known product with
 * productVariantsBulkCreate, and quantities with inventorySetQuantities (on_hand, a
 * changeFromQuantity on every quantity, an @idempotent key).  Several products go in one
 * request as aliased mutations, within the query cost limit.  The throttle is Shopify's
 * cost bucket, read from every answer's extensions.cost.throttleStatus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "pb_schemas.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/sha256.h"
#include "posbridge/upload.h"
#include "shopify_int.h"
#include "posbridge/banned.h"

#define MAX_COST 1000      /* a single query may not cost more */
#define MUTATION_COST 10
#define INPUT_LIMIT 250      /* input arrays */
#define PER_REQUEST 100    /* products per update request (each at least one mutation) */

/* ---- one GraphQL request ---- */

/* A create whose answer was lost may have happened: never send it blind again. */
static int
outcome_unknown(const struct pb_http_resp *rs)
{
    return rs->status >= 500 || (rs->status == 0 && rs->curl_code != CURLE_COULDNT_CONNECT);
}

static enum pb_http_verdict
check(void *user, const struct pb_http_req *rq, const struct pb_http_resp *rs, double *wait)
{
    struct pb_upload *u = user;
    int create = rq->label && !strncmp(rq->label, "productSet", 10);
    if (create && outcome_unknown(rs))
        return PB_HTTP_FAIL; /* shopify_create looks the products up instead */
    if (rs->status == 0 || rs->status == 429 || rs->status >= 500)
        return PB_HTTP_RETRY;
    if (rs->status != 200)
        return PB_HTTP_DONE;
    json_t *body = json_loadb(rs->body.data, rs->body.len, 0, NULL);
    json_t *ts = json_object_get(
        json_object_get(json_object_get(body, "extensions"), "cost"), "throttleStatus");
    double avail = json_number_value(json_object_get(ts, "currentlyAvailable"));
    double max = json_number_value(json_object_get(ts, "maximumAvailable"));
    double rate = json_number_value(json_object_get(ts, "restoreRate"));
    if (ts && max > 0)
        pb_limiter_update(&u->limiter, avail, max, rate);
    enum pb_http_verdict v = PB_HTTP_DONE;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(body, "errors"), i, e) {
        const char *code = json_string_value(json_object_get(json_object_get(e, "extensions"),
                                                             "code"));
        if (code && !strcmp(code, "THROTTLED")) {
            double need = json_number_value(json_object_get(
                json_object_get(json_object_get(body, "extensions"), "cost"),
                "requestedQueryCost"));
            if (need <= 0)
                need = rq->cost;
            *wait = rate > 0 && need > avail ? (need - avail) / rate : 1.0;
            v = PB_HTTP_RETRY;
        }
    }
    if (v == PB_HTTP_DONE)
        u->res->cost += json_number_value(json_object_get(
            json_object_get(json_object_get(body, "extensions"), "cost"), "requestedQueryCost"));
    json_decref(body);
    return v;
}

static char *
endpoint(const struct pb_upload *u)
{
    struct pb_buf b = PB_BUF_INIT;
    const char *base = u->store->base_url;
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    if (pb_buf_addf(&b, "%.*s/admin/api/%s/graphql.json", (int)n, base,
                    u->store->api_version ? u->store->api_version : "2026-01") < 0)
        return NULL;
    return pb_buf_detach(&b, NULL);
}

int
pb_shopify_gql(struct pb_upload *u, const char *query, json_t *vars, double cost, const char *label,
        struct gql *g, struct pb_error *err)
{
    memset(g, 0, sizeof(*g));
    if (u->res->unreachable) {
        snprintf(g->error, sizeof(g->error), "the store does not answer; not sent");
        return 0;
    }
    json_t *doc = json_pack("{s:s, s:o}", "query", query, "variables", vars ? json_incref(vars) : json_object());
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    char *url = endpoint(u);
    struct pb_buf auth = PB_BUF_INIT;
    if (!body || !url || pb_buf_addf(&auth, "X-Shopify-Access-Token: %s", u->secret) < 0) {
        free(body);
        free(url);
        pb_buf_release(&auth);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    const char *headers[] = {"Content-Type: application/json", "Accept: application/json",
                             auth.data, NULL};
    struct pb_http_req rq = {"POST", url, headers, body, strlen(body), cost, label,
                             label && !strncmp(label, "productSet", 10)};
    struct pb_http_resp rs;
    pb_http_resp_init(&rs);
    int rc = pb_http_one(u->http, &rq, &rs, err);
    memset(auth.data, 0, auth.len);
    pb_buf_release(&auth);
    free(body);
    free(url);
    if (rc < 0) {
        pb_http_resp_release(&rs);
        return -1;
    }
    g->http = rs.status;
    g->curl_code = rs.curl_code;
    if (rs.status == 0 && rs.curl_code == CURLE_COULDNT_CONNECT)
        u->res->unreachable = 1; /* after the engine's retries: the store is down */
    if (rs.status == 401 || rs.status == 403) {
        u->res->auth_failed = 1;
        snprintf(g->error, sizeof(g->error),
                 "the store refused the access token (HTTP %ld): check the token and the "
                 "app's scopes",
                 rs.status);
    } else if (rs.status != 200) {
        if (rs.status == 0 || rs.status == 429 || rs.status >= 500)
            u->res->temp_failed = 1;
        snprintf(g->error, sizeof(g->error), "%s%s",
                 rs.status ? "the store answered HTTP " : "no answer: ",
                 rs.status ? "" : rs.error);
        if (rs.status) {
            size_t k = strlen(g->error);
            snprintf(g->error + k, sizeof(g->error) - k, "%ld", rs.status);
        }
    } else {
        json_error_t je;
        json_t *ans = json_loadb(rs.body.data, rs.body.len, 0, &je);
        if (!ans) {
            snprintf(g->error, sizeof(g->error), "unreadable answer: %s", je.text);
        } else {
            g->data = json_incref(json_object_get(ans, "data"));
            g->errors = json_incref(json_object_get(ans, "errors"));
            if (g->errors && json_array_size(g->errors)) {
                json_t *e0 = json_array_get(g->errors, 0);
                const char *code = json_string_value(
                    json_object_get(json_object_get(e0, "extensions"), "code"));
                snprintf(g->error, sizeof(g->error), "%s%s%s",
                         json_string_value(json_object_get(e0, "message"))
                             ? json_string_value(json_object_get(e0, "message"))
                             : "GraphQL error",
                         code ? " " : "", code ? code : "");
                if (code && !strcmp(code, "THROTTLED"))
                    u->res->temp_failed = 1;
            }
            json_decref(ans);
        }
    }
    pb_http_resp_release(&rs);
    return 0;
}

void
pb_shopify_gql_release(struct gql *g)
{
    json_decref(g->data);
    json_decref(g->errors);
    memset(g, 0, sizeof(*g));
}

/* The first userError of a payload as text, or NULL. */
static const char *
user_error(json_t *payload, char *buf, size_t n)
{
    json_t *ue = json_array_get(json_object_get(payload, "userErrors"), 0);
    if (!ue)
        return NULL;
    json_t *field = json_object_get(ue, "field");
    struct pb_buf f = PB_BUF_INIT;
    size_t i;
    json_t *x;
    json_array_foreach(field, i, x) {
        if (json_is_string(x) && pb_buf_addf(&f, "%s%s", f.len ? "." : "", json_string_value(x)) < 0)
            break;
    }
    const char *code = json_string_value(json_object_get(ue, "code"));
    snprintf(buf, n, "%s%s%s%s%s", f.len ? f.data : "", f.len ? ": " : "",
             json_string_value(json_object_get(ue, "message"))
                 ? json_string_value(json_object_get(ue, "message"))
                 : "error",
             code ? " " : "",
             code ? code : "");
    pb_buf_release(&f);
    return buf;
}

/* ---- values ---- */

static const char *
val(const struct pb_up_variant *v, int f)
{
    return pb_rec_get(&v->row, f, NULL);
}

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Plain text into HTML: escape, line breaks become <br>. */
static json_t *
html_of(const char *s)
{
    if (!s)
        return json_string("");
    struct pb_buf b = PB_BUF_INIT;
    for (; *s; s++) {
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

static json_t *
tags_of(const char *s)
{
    json_t *a = json_array();
    while (s && *s) {
        const char *c = strstr(s, ", ");
        size_t n = c ? (size_t)(c - s) : strlen(s);
        if (n)
            json_array_append_new(a, json_stringn(s, n));
        s = c ? c + 2 : NULL;
    }
    return a;
}

static int
has_options(const struct pb_up_product *p)
{
    return val(&p->v[0], PB_PRODUCTS_OPTION1_NAME) != NULL;
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
            json_array_append_new(a, json_pack("{s:s, s:s}", "optionName", n, "name", x));
    }
    if (!json_array_size(a)) /* Shopify's one-variant products: Title / Default Title */
        json_array_append_new(a, json_pack("{s:s, s:s}", "optionName", "Title", "name",
                                           "Default Title"));
    return a;
}

static json_t *
product_options(const struct pb_up_product *p)
{
    json_t *opts = json_array();
    static const int names[3] = {PB_PRODUCTS_OPTION1_NAME, PB_PRODUCTS_OPTION2_NAME,
                                 PB_PRODUCTS_OPTION3_NAME};
    if (!has_options(p)) {
        json_array_append_new(opts, json_pack("{s:s, s:[{s:s}]}", "name", "Title", "values",
                                              "name", "Default Title"));
        return opts;
    }
    for (int k = 0; k < 3; k++) {
        const char *name = val(&p->v[0], names[k]);
        if (!name)
            continue;
        json_t *values = json_array();
        for (int i = 0; i < p->n; i++) {
            const char *x = val(&p->v[i], names[k] + 1);
            int seen = 0;
            size_t j;
            json_t *e;
            json_array_foreach(values, j, e) seen |= x && !strcmp(
                json_string_value(json_object_get(e, "name")), x);
            if (x && !seen)
                json_array_append_new(values, json_pack("{s:s}", "name", x));
        }
        json_array_append_new(opts, json_pack("{s:s, s:o}", "name", name, "values", values));
    }
    return opts;
}

static json_t *
inventory_item(const struct pb_up_variant *v)
{
    json_t *it = json_pack("{s:s, s:b}", "sku", v->sku, "tracked", 1);
    if (val(v, PB_PRODUCTS_COST))
        json_object_set_new(it, "cost", json_string(val(v, PB_PRODUCTS_COST)));
    return it;
}

static void
variant_money(json_t *o, const struct pb_up_variant *v)
{
    json_object_set_new(o, "price", json_string(val(v, PB_PRODUCTS_PRICE)));
    json_object_set_new(o, "compareAtPrice", str_or_null(val(v, PB_PRODUCTS_COMPARE_AT_PRICE)));
    json_object_set_new(o, "barcode", str_or_null(val(v, PB_PRODUCTS_BARCODE)));
    const char *tx = val(v, PB_PRODUCTS_TAXABLE);
    if (tx)
        json_object_set_new(o, "taxable", json_boolean(!strcmp(tx, "true")));
}

/* ---- locations ---- */

static int
ensure_location(struct pb_upload *u, struct pb_error *err)
{
    const struct pb_store_cfg *s = u->store;
    if (s->default_location || u->primary_location || s->pricing.qty == PB_QTY_PER_STORE)
        return 0;
    struct gql g;
    if (pb_shopify_gql(u, "query Locations { locations(first: 50) { nodes { id name isActive } } }",
                NULL, 5, "locations", &g, err) < 0)
        return -1;
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(json_object_get(g.data, "locations"), "nodes"), i, n) {
        if (json_is_true(json_object_get(n, "isActive")) ||
            !json_object_get(n, "isActive")) {
            u->primary_location = strdup(json_string_value(json_object_get(n, "id")));
            break;
        }
    }
    int rc = 0;
    if (!u->primary_location)
        rc = pb_error_set(err, u->res->auth_failed ? PB_ENOPERM
                               : u->res->unreachable || u->res->temp_failed ? PB_ETEMP
                                                                             : PB_EUNAVAIL,
                          "%s: cannot find a location for the quantities: %s", s->name,
                          g.error[0] ? g.error : "the store lists none");
    else
        pb_log(PB_LOG_INFO, "%s: quantities go to location %s", s->name, u->primary_location);
    pb_shopify_gql_release(&g);
    pb_upload_qty_forget(u); /* computed before the location was known */
    return rc;
}

static json_t *
set_quantities(struct pb_upload *u, struct pb_up_variant *v)
{
    json_t *a = json_array();
    const char *loc;
    json_t *q;
    json_object_foreach(pb_upload_qty(u, v), loc, q)
        json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "locationId", loc, "name",
                                           "on_hand", "quantity", json_integer_value(q)));
    return a;
}

/* ---- lookup ---- */

/* first: twice the SKUs asked for, so a duplicated SKU shows (each node costs 3). */
static const char LOOKUP[] =
    "query Lookup($q: String!, $first: Int!) { productVariants(first: $first, query: $q) { "
    "nodes { id sku price compareAtPrice barcode product { id handle } inventoryItem { id } "
    "} } }";

/* --remote: how the store's variant differs from the row last sent. */
static void
inspect(struct pb_up_variant *v, json_t *matches)
{
    struct pb_buf b = PB_BUF_INIT;
    int rc = 0;
    const char *vid = json_string_value(json_object_get(v->state, "variant_id"));
    json_t *row = pb_state_row(v->state);
    if (!json_array_size(matches)) {
        rc |= pb_buf_adds(&b, "store differs: this SKU is no longer in the store (deleted by "
                              "hand?); it will be created again");
    } else if (json_array_size(matches) > 1) {
        rc |= pb_buf_addf(&b, "store differs: SKU is on %zu variants in the store",
                          json_array_size(matches));
    } else {
        json_t *m = json_array_get(matches, 0);
        const char *id = json_string_value(json_object_get(m, "id"));
        static const char *const pairs[][2] = {{"price", "price"},
                                               {"compareAtPrice", "compare_at_price"},
                                               {"barcode", "barcode"}};
        if (vid && id && strcmp(vid, id))
            rc |= pb_buf_addf(&b, "store differs: the SKU is now variant %s", id);
        for (size_t i = 0; i < 3; i++) {
            const char *there = json_string_value(json_object_get(m, pairs[i][0]));
            const char *sent = json_string_value(json_object_get(row, pairs[i][1]));
            if (!row || (!there && !sent) || (there && sent && !strcmp(there, sent)))
                continue;
            rc |= pb_buf_addf(&b, "%s%s is %s in the store, %s was sent",
                              b.len ? "; " : "store differs (edited by hand?): ", pairs[i][1],
                              there ? there : "empty", sent ? sent : "nothing");
        }
    }
    if (b.len && rc == 0) {
        free(v->remote_note);
        v->remote_note = pb_buf_detach(&b, NULL);
    }
    pb_buf_release(&b);
}

static const char BY_HANDLE[] =
    "query ByHandle($h: String!) { productByHandle(handle: $h) { id handle variants(first: "
    "250) { nodes { id sku inventoryItem { id } } } } }";

/* Record a found variant as known, so planning sends only the differences. */
static void
adopt(struct pb_upload *u, struct pb_up_product *p, struct pb_up_variant *v, json_t *node,
      const char *product_id)
{
    pb_upload_remember(u, p, v, product_id, json_string_value(json_object_get(node, "id")),
                       json_string_value(json_object_get(
                           json_object_get(node, "inventoryItem"), "id")),
                       0, 0);
}

static const char SCAN[] =
    "query Scan($after: String) { productVariants(first: 250, after: $after) { pageInfo { "
    "hasNextPage endCursor } nodes { id sku price compareAtPrice barcode product { id handle } "
    "inventoryItem { id } } } }";

static void
note_nodes(json_t *found, json_t *nodes)
{
    size_t j;
    json_t *node;
    json_array_foreach(nodes, j, node) {
        const char *sku = json_string_value(json_object_get(node, "sku"));
        if (!sku)
            continue;
        json_t *arr = json_object_get(found, sku);
        if (!arr) {
            arr = json_array();
            json_object_set_new(found, sku, arr);
        }
        json_array_append(arr, node);
    }
}

/*
 * Many SKUs to find (a first run, or a lost state): reading every variant of the store
 * page by page costs far fewer requests than searching for them 100 at a time.
 * 0, or -1 with the reason in *why.
 */
static int
scan_all(struct pb_upload *u, json_t *found, char *why, size_t whylen, struct pb_error *err)
{
    char *after = NULL;
    int rc = 0;
    for (;;) {
        struct gql g;
        json_t *vars = after ? json_pack("{s:s}", "after", after) : json_object();
        int r = pb_shopify_gql(u, SCAN, vars, 2 + 250 * 3, "read the store's variants", &g, err);
        json_decref(vars);
        free(after);
        after = NULL;
        if (r < 0)
            return -1;
        if (!g.data) {
            snprintf(why, whylen, "%s", g.error);
            pb_shopify_gql_release(&g);
            return 1;
        }
        json_t *pv = json_object_get(g.data, "productVariants");
        note_nodes(found, json_object_get(pv, "nodes"));
        json_t *pi = json_object_get(pv, "pageInfo");
        if (json_is_true(json_object_get(pi, "hasNextPage")) &&
            json_string_value(json_object_get(pi, "endCursor")))
            after = strdup(json_string_value(json_object_get(pi, "endCursor")));
        pb_shopify_gql_release(&g);
        if (!after)
            break;
    }
    return rc;
}

#define SKUS_PER_SEARCH 100
#define SCAN_ABOVE 1000

static int resolve_by_handle(struct pb_upload *u, struct pb_up_product *p, int sent_now,
                             struct pb_error *err);

static int
shopify_lookup(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    json_t *found = json_object(); /* sku -> [nodes] */
    struct pb_buf q = PB_BUF_INIT;
    int rc = -1, terms = 0, total = 0;
    for (int i = 0; i < n; i++)
        total += list[i]->n;
    if (total > SCAN_ABOVE) {
        char why[300];
        int r = scan_all(u, found, why, sizeof(why), err);
        if (r < 0)
            goto out;
        if (r > 0) {
            pb_log(PB_LOG_ERROR, "%s: cannot read the store's variants: %s", u->store->name, why);
            for (int k = 0; k < n; k++) {
                list[k]->failed = 1;
                snprintf(list[k]->error, sizeof(list[k]->error), "lookup failed: %.280s", why);
            }
            rc = u->res->auth_failed ? pb_error_set(err, PB_ENOPERM, "%s: %s", u->store->name, why)
                                     : 0;
            goto out;
        }
        goto decide;
    }
    for (int i = 0; i <= n; i++) {
        for (int k = 0; i < n && k < list[i]->n; k++) {
            const char *sku = list[i]->v[k].sku;
            /* sku:"..." with quotes and backslashes escaped */
            if (pb_buf_addf(&q, "%ssku:\"", terms ? " OR " : "") < 0)
                goto oom;
            for (const char *s = sku; *s; s++)
                if ((*s == '"' || *s == '\\') ? pb_buf_addch(&q, '\\') < 0 : 0)
                    goto oom;
                else if (pb_buf_addch(&q, *s) < 0)
                    goto oom;
            if (pb_buf_addch(&q, '"') < 0)
                goto oom;
            terms++;
        }
        if (terms && (i == n || terms >= SKUS_PER_SEARCH)) {
            struct gql g;
            int first_n = terms * 2 < 250 ? terms * 2 : 250;
            json_t *vars = json_pack("{s:s, s:i}", "q", q.data, "first", first_n);
            int r = pb_shopify_gql(u, LOOKUP, vars, 2 + 3 * first_n, "lookup by SKU", &g, err);
            json_decref(vars);
            if (r < 0)
                goto out;
            if (!g.data) {
                pb_log(PB_LOG_ERROR, "%s: cannot look SKUs up: %s", u->store->name, g.error);
                for (int k = 0; k < n; k++) {
                    list[k]->failed = 1;
                    list[k]->http = g.http;
                    snprintf(list[k]->error, sizeof(list[k]->error), "lookup failed: %.280s",
                             g.error);
                }
                pb_shopify_gql_release(&g);
                if (u->res->auth_failed)
                    rc = pb_error_set(err, PB_ENOPERM, "%s: %s", u->store->name, g.error);
                else
                    rc = 0;
                goto out;
            }
            note_nodes(found, json_object_get(json_object_get(g.data, "productVariants"), "nodes"));
            pb_shopify_gql_release(&g);
            pb_buf_reset(&q);
            terms = 0;
        }
    }
decide:
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
        const char *pid = NULL;
        int hits = 0;
        for (int k = 0; k < p->n && p->action != PB_UP_REJECT; k++) {
            json_t *arr = json_object_get(found, p->v[k].sku);
            if (json_array_size(arr) > 1) {
                snprintf(p->reason, sizeof(p->reason),
                         "SKU '%s' is on %zu variants in the store; posbridge will not guess "
                         "which is this one",
                         p->v[k].sku, json_array_size(arr));
                p->action = PB_UP_REJECT;
                break;
            }
            json_t *node = json_array_get(arr, 0);
            if (!node)
                continue;
            const char *id = json_string_value(
                json_object_get(json_object_get(node, "product"), "id"));
            if (pid && id && strcmp(pid, id)) {
                snprintf(p->reason, sizeof(p->reason),
                         "its SKUs are on different products in the store");
                p->action = PB_UP_REJECT;
                break;
            }
            pid = id;
            hits++;
        }
        if (p->action == PB_UP_REJECT || !hits)
            continue;
        free(p->product_id);
        p->product_id = strdup(pid);
        for (int k = 0; k < p->n; k++) {
            json_t *node = json_array_get(json_object_get(found, p->v[k].sku), 0);
            if (node)
                adopt(u, p, &p->v[k], node, pid);
        }
    }
    /* A create that an earlier run sent without hearing back: the search index may lag,
     * so ask for the handle directly before sending it again. */
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        if (!p->pending || p->product_id || p->action == PB_UP_REJECT ||
            !val(&p->v[0], PB_PRODUCTS_HANDLE))
            continue;
        if (resolve_by_handle(u, p, 0, err) == -1)
            goto out;
    }
    rc = 0;
    goto out;
oom:
    pb_error_set(err, PB_EOS, "out of memory");
out:
    pb_buf_release(&q);
    json_decref(found);
    return rc;
}

/* ---- create ---- */

/*
 * Several products per request, each its own aliased productSet, packed so the request's
 * cost stays under the limit: a productSet costs 10, plus the variants it returns (2 and
 * 2 per variant asked for).
 */
static int
create_cost(const struct pb_up_product *p)
{
    int n = p->n < 250 ? p->n : 250;
    return MUTATION_COST + 2 + 2 * n;
}

static json_t *
create_input(struct pb_upload *u, struct pb_up_product *p)
{
    struct pb_up_variant *head = &p->v[0];
    json_t *variants = json_array();
    for (int k = 0; k < p->n; k++) {
        struct pb_up_variant *v = &p->v[k];
        json_t *o = json_pack("{s:o, s:s, s:o, s:o}", "optionValues", option_values(v), "sku",
                              v->sku, "inventoryItem", inventory_item(v), "inventoryQuantities",
                              set_quantities(u, v));
        variant_money(o, v);
        json_array_append_new(variants, o);
    }
    const char *status = val(head, PB_PRODUCTS_STATUS);
    return json_pack("{s:s, s:s, s:o, s:s?, s:s?, s:o, s:s, s:o, s:o}", "title",
                     val(head, PB_PRODUCTS_TITLE), "handle", val(head, PB_PRODUCTS_HANDLE),
                     "descriptionHtml", html_of(val(head, PB_PRODUCTS_DESCRIPTION)), "vendor",
                     val(head, PB_PRODUCTS_VENDOR), "productType",
                     val(head, PB_PRODUCTS_PRODUCT_TYPE), "tags",
                     tags_of(val(head, PB_PRODUCTS_TAGS)), "status",
                     status && !strcmp(status, "active") ? "ACTIVE" : "DRAFT", "productOptions",
                     product_options(p), "variants", variants);
}

#define CREATES_PER_REQUEST 25

/*
 * The answer to a create was lost (connection dropped, 5xx): it may or may not have
 * happened.  Ask for the product by its handle (a direct read, not the lagging search)
 * and adopt what is there.  sent_now: this run just sent these very values, so the store
 * has them; otherwise (an earlier run's intent) the values are sent again to be sure.
 * 1: found and recorded, 0: not there, -2: only some variants there, -1: error.
 */
static int
resolve_by_handle(struct pb_upload *u, struct pb_up_product *p, int sent_now,
                  struct pb_error *err)
{
    const char *handle = val(&p->v[0], PB_PRODUCTS_HANDLE);
    struct gql g;
    json_t *vars = json_pack("{s:s}", "h", handle);
    int r = pb_shopify_gql(u, BY_HANDLE, vars, 2 + 2 * 250 + 1, "lookup by handle", &g, err);
    json_decref(vars);
    if (r < 0)
        return -1;
    json_t *prod = json_object_get(g.data, "productByHandle");
    const char *pid = json_string_value(json_object_get(prod, "id"));
    int found = 0;
    if (pid) {
        free(p->product_id);
        p->product_id = strdup(pid);
        size_t j;
        json_t *node;
        json_array_foreach(json_object_get(json_object_get(prod, "variants"), "nodes"), j, node) {
            const char *sku = json_string_value(json_object_get(node, "sku"));
            for (int k = 0; sku && k < p->n; k++)
                if (!strcmp(sku, p->v[k].sku)) {
                    pb_upload_remember(u, p, &p->v[k], pid,
                                       json_string_value(json_object_get(node, "id")),
                                       json_string_value(json_object_get(
                                           json_object_get(node, "inventoryItem"), "id")),
                                       sent_now, sent_now);
                    found++;
                }
        }
    }
    pb_shopify_gql_release(&g);
    return found == p->n ? 1 : found ? -2 : 0;
}

static int
shopify_create(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    if (ensure_location(u, err) < 0)
        return -1;
    struct pb_up_product **again = malloc(((size_t)n + 1) * sizeof(*again));
    int nagain = 0, i = 0;
    if (!again)
        return pb_error_set(err, PB_EOS, "out of memory");
    while (i < n) {
        struct pb_buf doc = PB_BUF_INIT, decl = PB_BUF_INIT;
        json_t *vars = json_object();
        uint64_t seqs[CREATES_PER_REQUEST];
        int first = i, count = 0, cost = 0, rc = 0;
        while (i < n && count < CREATES_PER_REQUEST &&
               (count == 0 || cost + create_cost(list[i]) <= MAX_COST)) {
            struct pb_up_product *p = list[i];
            char name[16];
            int nv = p->n < 250 ? p->n : 250;
            snprintf(name, sizeof(name), "in%d", count);
            json_object_set_new(vars, name, create_input(u, p));
            rc |= pb_buf_addf(&decl, ", $in%d: ProductSetInput!", count) |
                  pb_buf_addf(&doc, " s%d: productSet(input: $in%d, synchronous: true) { product "
                                    "{ id handle variants(first: %d) { nodes { id sku "
                                    "inventoryItem { id } } } } userErrors { field message code "
                                    "} }",
                              count, count, nv);
            cost += create_cost(p);
            if (!(seqs[count] = pb_upload_intent(u, p, "create", err)))
                rc = -1;
            count++;
            i++;
        }
        struct pb_buf q = PB_BUF_INIT;
        struct gql g = {0};
        if (rc == 0 && (pb_journal_sync(&u->journal, err) < 0 ||
                        pb_buf_addf(&q, "mutation Create(%s) {%s }", decl.data + 2, doc.data) < 0))
            rc = -1;
        char label[64];
        snprintf(label, sizeof(label), "productSet x%d", count);
        if (rc == 0)
            rc = pb_shopify_gql(u, q.data, vars, cost, label, &g, err);
        pb_buf_release(&q);
        pb_buf_release(&doc);
        pb_buf_release(&decl);
        json_decref(vars);
        /* Unknown outcome: dropped after sending, or a 5xx; a refused connection sent
         * nothing, and a store that stopped answering cannot be asked either. */
        int lost = rc == 0 && !g.data && !u->res->auth_failed && !u->res->unreachable &&
                   ((g.http == 0 && g.curl_code != CURLE_COULDNT_CONNECT) || g.http >= 500);
        for (int k = 0; rc == 0 && k < count; k++) {
            struct pb_up_product *p = list[first + k];
            char key[16], ue[300];
            snprintf(key, sizeof(key), "s%d", k);
            json_t *payload = json_object_get(g.data, key);
            json_t *prod = json_object_get(payload, "product");
            if (!json_is_object(prod))
                prod = NULL;
            p->http = g.http;
            if (lost) {
                int r = resolve_by_handle(u, p, 1, err);
                if (r == -1) {
                    rc = -1;
                    break;
                }
                if (r == 1) {
                    pb_log(PB_LOG_INFO, "%s: '%s' was created although the answer was lost",
                           u->store->name, p->key);
                } else if (r == -2) {
                    p->failed = 1;
                    snprintf(p->error, sizeof(p->error),
                             "the answer was lost and the store has this product only in "
                             "part; check it by hand");
                } else if (p->tries++ < 3) {
                    again[nagain++] = p; /* not created: it goes again below */
                    continue;
                } else {
                    p->failed = 1;
                    snprintf(p->error, sizeof(p->error), "no answer from the store: %.250s",
                             g.error);
                }
            } else if (!prod) {
                p->failed = 1;
                const char *why = user_error(payload, ue, sizeof(ue));
                snprintf(p->error, sizeof(p->error), "%s",
                         why ? why : g.error[0] ? g.error : "not created");
            } else if (!json_string_value(json_object_get(prod, "id"))) {
                p->failed = 1;
                snprintf(p->error, sizeof(p->error), "the store answered without a product id");
            } else {
                const char *pid = json_string_value(json_object_get(prod, "id"));
                free(p->product_id);
                p->product_id = strdup(pid);
                size_t j;
                json_t *node;
                json_array_foreach(json_object_get(json_object_get(prod, "variants"), "nodes"),
                                   j, node) {
                    const char *sku = json_string_value(json_object_get(node, "sku"));
                    for (int v = 0; sku && v < p->n; v++)
                        if (!strcmp(sku, p->v[v].sku))
                            pb_upload_remember(
                                u, p, &p->v[v], pid,
                                json_string_value(json_object_get(node, "id")),
                                json_string_value(
                                    json_object_get(json_object_get(node, "inventoryItem"), "id")),
                                1, 1);
                }
            }
            if (pb_upload_outcome(u, p, seqs[k], "create", err) < 0)
                rc = -1;
        }
        pb_shopify_gql_release(&g);
        if (rc < 0 || u->res->auth_failed) {
            free(again);
            return rc < 0 ? -1
                          : pb_error_set(err, PB_ENOPERM, "%s: the store refused the access token",
                                         u->store->name);
        }
    }
    int rc = nagain ? shopify_create(u, again, nagain, err) : 0;
    free(again);
    return rc;
}

/* ---- update ---- */

static json_t *
update_variant(const struct pb_up_variant *v)
{
    json_t *o = json_pack("{s:s, s:o}", "id",
                          json_string_value(json_object_get(v->state, "variant_id")),
                          "inventoryItem", inventory_item(v));
    variant_money(o, v);
    return o;
}

static json_t *
new_variant(struct pb_upload *u, struct pb_up_variant *v)
{
    json_t *levels = json_array();
    const char *loc;
    json_t *q;
    json_object_foreach(pb_upload_qty(u, v), loc, q)
        json_array_append_new(levels, json_pack("{s:s, s:I}", "locationId", loc,
                                                "availableQuantity", json_integer_value(q)));
    json_t *o = json_pack("{s:o, s:o, s:o}", "optionValues", option_values(v), "inventoryItem",
                          inventory_item(v), "inventoryQuantities", levels);
    variant_money(o, v);
    return o;
}

/*
 * One request carries up to PER_REQUEST products, each as its own aliased mutations:
 * productUpdate (when product fields changed), productVariantsBulkUpdate (changed
 * variants), productVariantsBulkCreate (new variants).
 */
static int
shopify_update(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    if (ensure_location(u, err) < 0)
        return -1;
    int i = 0;
    while (i < n) {
        struct pb_buf doc = PB_BUF_INIT, decl = PB_BUF_INIT;
        json_t *vars = json_object();
        uint64_t *seqs = calloc(PER_REQUEST, sizeof(*seqs));
        int first = i, cost = 0, count = 0;
        if (!seqs)
            return pb_error_set(err, PB_EOS, "out of memory");
        while (i < n && count < PER_REQUEST) {
            struct pb_up_product *p = list[i];
            /* what this product's mutations cost: 10 each, 11 for a create that returns
             * inventory items; it goes in this request only if the total stays in bounds */
            int has_new = 0, has_upd = 0;
            for (int k = 0; k < p->n; k++) {
                has_new |= p->v[k].is_new;
                has_upd |= !p->v[k].is_new && p->v[k].fields_changed;
            }
            int need = (p->product_changed ? MUTATION_COST : 0) + (has_upd ? MUTATION_COST : 0) +
                       (has_new ? MUTATION_COST + 1 : 0);
            if (count && cost + need > MAX_COST)
                break;
            json_t *upd = json_array(), *add = json_array();
            int batch_full = 0;
            for (int k = 0; k < p->n; k++) {
                if (p->v[k].is_new)
                    json_array_append_new(add, new_variant(u, &p->v[k]));
                else if (p->v[k].fields_changed)
                    json_array_append_new(upd, update_variant(&p->v[k]));
            }
            batch_full = json_array_size(upd) > INPUT_LIMIT || json_array_size(add) > INPUT_LIMIT;
            if (batch_full) {
                p->failed = 1;
                snprintf(p->error, sizeof(p->error),
                         "more than %d changed variants in one product", INPUT_LIMIT);
            }
            seqs[count] = pb_upload_intent(u, p, "update", err);
            if (!seqs[count]) {
                json_decref(upd);
                json_decref(add);
                goto fail;
            }
            int rc = 0;
            if (!batch_full && p->product_changed) {
                struct pb_up_variant *h = &p->v[0];
                json_t *prod = json_pack("{s:s, s:s, s:o, s:s?, s:s?, s:o}", "id", p->product_id,
                                         "title", val(h, PB_PRODUCTS_TITLE), "descriptionHtml",
                                         html_of(val(h, PB_PRODUCTS_DESCRIPTION)), "vendor",
                                         val(h, PB_PRODUCTS_VENDOR), "productType",
                                         val(h, PB_PRODUCTS_PRODUCT_TYPE), "tags",
                                         tags_of(val(h, PB_PRODUCTS_TAGS)));
                char name[16];
                snprintf(name, sizeof(name), "p%d", count);
                json_object_set_new(vars, name, prod);
                rc |= pb_buf_addf(&decl, ", $p%d: ProductUpdateInput!", count) |
                      pb_buf_addf(&doc, " u%d: productUpdate(product: $p%d) { product { id } "
                                        "userErrors { field message } }",
                                  count, count);
                cost += MUTATION_COST;
            }
            if (!batch_full && json_array_size(upd)) {
                char name[16];
                snprintf(name, sizeof(name), "v%d", count);
                json_object_set(vars, name, upd);
                rc |= pb_buf_addf(&decl, ", $v%d: [ProductVariantsBulkInput!]!", count) |
                      pb_buf_addf(&doc, " b%d: productVariantsBulkUpdate(productId: \"%s\", "
                                        "variants: $v%d) { productVariants { id } userErrors "
                                        "{ field message code } }",
                                  count, p->product_id, count);
                cost += MUTATION_COST;
            }
            if (!batch_full && json_array_size(add)) {
                char name[16];
                snprintf(name, sizeof(name), "n%d", count);
                json_object_set(vars, name, add);
                rc |= pb_buf_addf(&decl, ", $n%d: [ProductVariantsBulkInput!]!", count) |
                      pb_buf_addf(&doc, " c%d: productVariantsBulkCreate(productId: \"%s\", "
                                        "variants: $n%d) { productVariants { id sku "
                                        "inventoryItem { id } } userErrors { field message "
                                        "code } }",
                                  count, p->product_id, count);
                cost += MUTATION_COST + 1;
            }
            json_decref(upd);
            json_decref(add);
            if (rc) {
                pb_error_set(err, PB_EOS, "out of memory");
                goto fail;
            }
            count++;
            i++;
        }
        if (pb_journal_sync(&u->journal, err) < 0)
            goto fail;
        struct gql g = {0};
        if (doc.len) {
            struct pb_buf q = PB_BUF_INIT;
            if (pb_buf_addf(&q, "mutation Update(%s) {%s }", decl.len ? decl.data + 2 : "",
                            doc.data) < 0) {
                pb_buf_release(&q);
                pb_error_set(err, PB_EOS, "out of memory");
                goto fail;
            }
            char label[64];
            snprintf(label, sizeof(label), "update %d products", count);
            int r = pb_shopify_gql(u, q.data, vars, cost, label, &g, err);
            pb_buf_release(&q);
            if (r < 0)
                goto fail;
        }
        for (int k = 0; k < count; k++) {
            struct pb_up_product *p = list[first + k];
            char key[16], ue[300];
            const char *why = NULL;
            p->http = g.http;
            if (!p->failed && doc.len && !g.data) {
                why = g.error[0] ? g.error : "no answer";
            }
            for (int m = 0; !p->failed && !why && m < 3; m++) {
                snprintf(key, sizeof(key), "%c%d", "ubc"[m], k);
                json_t *payload = json_object_get(g.data, key);
                if (payload)
                    why = user_error(payload, ue, sizeof(ue));
            }
            if (why && !p->failed) {
                p->failed = 1;
                snprintf(p->error, sizeof(p->error), "%s", why);
            }
            if (!p->failed) {
                snprintf(key, sizeof(key), "c%d", k);
                json_t *created = json_object_get(json_object_get(g.data, key), "productVariants");
                for (int v = 0; v < p->n; v++) {
                    struct pb_up_variant *var = &p->v[v];
                    if (var->is_new) {
                        size_t j;
                        json_t *node;
                        json_array_foreach(created, j, node) {
                            const char *sku = json_string_value(json_object_get(node, "sku"));
                            if (sku && !strcmp(sku, var->sku))
                                pb_upload_remember(
                                    u, p, var, p->product_id,
                                    json_string_value(json_object_get(node, "id")),
                                    json_string_value(json_object_get(
                                        json_object_get(node, "inventoryItem"), "id")),
                                    1, 1);
                        }
                    } else if (var->fields_changed || p->product_changed) {
                        pb_upload_remember(u, p, var, NULL, NULL, NULL, 1, 0);
                    }
                }
            }
            if (pb_upload_outcome(u, p, seqs[k], "update", err) < 0)
                goto fail;
        }
        pb_shopify_gql_release(&g);
        pb_buf_release(&doc);
        pb_buf_release(&decl);
        json_decref(vars);
        free(seqs);
        if (u->res->auth_failed)
            return pb_error_set(err, PB_ENOPERM, "%s: the store refused the access token",
                                u->store->name);
        continue;
    fail:
        pb_buf_release(&doc);
        pb_buf_release(&decl);
        json_decref(vars);
        free(seqs);
        return -1;
    }
    return 0;
}

/* ---- inventory ---- */

static const char SET_QTY[] =
    "mutation SetQuantities($input: InventorySetQuantitiesInput!) { inventorySetQuantities("
    "input: $input) @idempotent(key: \"%s\") { inventoryAdjustmentGroup { id } userErrors { "
    "field message code } } }";

static const char ACTIVATE[] =
    "mutation Activate($item: ID!, $loc: ID!) { inventoryActivate(inventoryItemId: $item, "
    "locationId: $loc) { inventoryLevel { id } userErrors { field message } } }";

struct qref {
    struct pb_up_product *p;
    struct pb_up_variant *v;
    const char *loc;
    json_int_t qty;
};

static int
shopify_inventory(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err)
{
    if (ensure_location(u, err) < 0)
        return -1;
    /* Every (item, location, quantity) that differs, in product order. */
    struct qref *refs = NULL;
    size_t nrefs = 0, cap = 0;
    for (int i = 0; i < n; i++) {
        struct pb_up_product *p = list[i];
        for (int k = 0; k < p->n; k++) {
            struct pb_up_variant *v = &p->v[k];
            if (!v->qty_changed || v->is_new || !v->state)
                continue;
            json_t *have = json_object_get(v->state, "qty");
            const char *loc;
            json_t *q;
            json_object_foreach(pb_upload_qty(u, v), loc, q) {
                json_t *h = json_object_get(have, loc);
                if (h && json_integer_value(h) == json_integer_value(q))
                    continue;
                if (nrefs == cap) {
                    cap = cap ? cap * 2 : 256;
                    struct qref *r = realloc(refs, cap * sizeof(*r));
                    if (!r) {
                        free(refs);
                        return pb_error_set(err, PB_EOS, "out of memory");
                    }
                    refs = r;
                }
                refs[nrefs++] = (struct qref){p, v, loc, json_integer_value(q)};
            }
        }
    }
    int rc = 0, activations = 0; /* of the chunk at hand */
    for (size_t at = 0; at < nrefs && rc == 0;) {
        size_t end = at + INPUT_LIMIT < nrefs ? at + INPUT_LIMIT : nrefs;
        /* a product's quantities stay in one request, so its outcome is one answer */
        while (end < nrefs && end > at && refs[end].p == refs[end - 1].p)
            end--;
        if (end == at)
            end = at + INPUT_LIMIT < nrefs ? at + INPUT_LIMIT : nrefs;
        json_t *qs = json_array();
        struct pb_sha256 key;
        pb_sha256_init(&key);
        pb_sha256_update(&key, u->o->batch_dir, strlen(u->o->batch_dir));
        if (activations) {
            /* after stocking items, a new request: Shopify answers a key it has seen with
             * the answer it gave then */
            char salt[32];
            int k = snprintf(salt, sizeof(salt), "|activated %d", activations);
            pb_sha256_update(&key, salt, (size_t)k);
        }
        for (size_t r = at; r < end; r++) {
            const char *item = json_string_value(json_object_get(refs[r].v->state,
                                                                 "inventory_item_id"));
            json_array_append_new(qs, json_pack("{s:s, s:s, s:I, s:n}", "inventoryItemId",
                                                item ? item : "", "locationId", refs[r].loc,
                                                "quantity", refs[r].qty, "changeFromQuantity"));
            char line[256];
            int k = snprintf(line, sizeof(line), "|%s|%s|%lld", item ? item : "", refs[r].loc,
                             (long long)refs[r].qty);
            pb_sha256_update(&key, line, (size_t)k);
        }
        /* The same quantities in the same batch are the same request: a retry after a lost
         * answer is recognised by Shopify and not applied twice. */
        char hex[65];
        pb_sha256_hex(&key, hex);
        hex[32] = '\0';
        struct pb_buf q = PB_BUF_INIT;
        uint64_t *seqs = calloc(end - at, sizeof(*seqs));
        if (!seqs || pb_buf_addf(&q, SET_QTY, hex) < 0) {
            free(seqs);
            json_decref(qs);
            pb_buf_release(&q);
            rc = pb_error_set(err, PB_EOS, "out of memory");
            break;
        }
        struct pb_up_product *last = NULL;
        for (size_t r = at; r < end; r++)
            if (refs[r].p != last) {
                last = refs[r].p;
                if (!(seqs[r - at] = pb_upload_intent(u, last, "inventory", err)))
                    rc = -1;
            }
        json_t *vars = json_pack("{s:{s:s, s:s, s:o}}", "input", "name", "on_hand", "reason",
                                 "correction", "quantities", qs);
        struct gql g = {0};
        if (rc == 0 && pb_journal_sync(&u->journal, err) < 0)
            rc = -1;
        if (rc == 0)
            rc = pb_shopify_gql(u, q.data, vars, MUTATION_COST, "inventorySetQuantities", &g, err);
        json_decref(vars);
        pb_buf_release(&q);
        json_t *payload = json_object_get(g.data, "inventorySetQuantities");
        /* Items not stocked at a location yet: activate them there, then send again. */
        size_t j;
        json_t *ue;
        int activated = 0;
        json_array_foreach(json_object_get(payload, "userErrors"), j, ue) {
            const char *code = json_string_value(json_object_get(ue, "code"));
            json_t *field = json_object_get(ue, "field");
            const char *ix = json_string_value(json_array_get(field, 2));
            long idx = ix ? strtol(ix, NULL, 10) : -1;
            if (rc == 0 && code && !strcmp(code, "ITEM_NOT_STOCKED_AT_LOCATION") && idx >= 0 &&
                at + (size_t)idx < end && activations < 2) {
                struct qref *rf = &refs[at + (size_t)idx];
                const char *item = json_string_value(json_object_get(rf->v->state,
                                                                     "inventory_item_id"));
                if (!item)
                    continue; /* nothing to activate with: it fails below with the error */
                struct gql a;
                json_t *av = json_pack("{s:s, s:s}", "item", item, "loc", rf->loc);
                rc = pb_shopify_gql(u, ACTIVATE, av, MUTATION_COST + 1, "inventoryActivate", &a, err);
                json_decref(av);
                char aw[300];
                if (rc == 0 && (!a.data || user_error(json_object_get(a.data, "inventoryActivate"),
                                                      aw, sizeof(aw))))
                    pb_log(PB_LOG_WARN, "%s: cannot stock %s at %s: %s", u->store->name,
                           rf->v->sku, rf->loc, a.data ? aw : a.error);
                else
                    activated = 1;
                pb_shopify_gql_release(&a);
            }
        }
        if (activated && rc == 0) {
            /* once more at most: a location that will not stock the item fails it below */
            activations++;
            pb_shopify_gql_release(&g);
            for (size_t r = at; r < end; r++)
                if (seqs[r - at])
                    json_object_del(u->journal.last, refs[r].p->key);
            free(seqs);
            continue; /* the same chunk again, now that the items are stocked */
        }
        char why[300] = "";
        if (!g.data)
            snprintf(why, sizeof(why), "%s", g.error[0] ? g.error : "no answer");
        else
            user_error(payload, why, sizeof(why));
        for (size_t r = at; r < end && rc == 0; r++) {
            struct pb_up_product *p = refs[r].p;
            p->http = g.http;
            if (why[0] && !p->failed) {
                p->failed = 1;
                snprintf(p->error, sizeof(p->error), "%s", why);
            }
            if (!why[0])
                pb_upload_remember(u, p, refs[r].v, NULL, NULL, NULL, 0, 1);
            if (seqs[r - at] && !p->failed)
                continue; /* its outcome after its last quantity */
        }
        last = NULL;
        for (size_t r = end; r-- > at && rc == 0;)
            if (refs[r].p != last) {
                last = refs[r].p;
                size_t firstref = r;
                while (firstref > at && refs[firstref - 1].p == last)
                    firstref--;
                if (seqs[firstref - at] &&
                    pb_upload_outcome(u, last, seqs[firstref - at], "inventory", err) < 0)
                    rc = -1;
            }
        pb_shopify_gql_release(&g);
        free(seqs);
        if (u->res->auth_failed && rc == 0)
            rc = pb_error_set(err, PB_ENOPERM, "%s: the store refused the access token",
                              u->store->name);
        at = end;
        activations = 0;
    }
    free(refs);
    return rc;
}

const struct pb_connector pb_connector_shopify = {
    .platform = "shopify",
    .check = check,
    .lookup = shopify_lookup,
    .create = shopify_create,
    .update = shopify_update,
    .inventory = shopify_inventory,
    .download = pb_shopify_download,
};
