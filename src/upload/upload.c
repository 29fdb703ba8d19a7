/*
 * The upload stage driver: read a store's products, plan against the catalog state, write
 * the plan, then let the platform's connector send what changed.  See upload.h.
 */
#include "posbridge/upload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pb_schemas.h"
#include "posbridge/atomic.h"
#include "posbridge/batch.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/rejects.h"
#include "posbridge/staged.h"
#include "posbridge/transform.h"
#include "posbridge/banned.h"

static const struct pb_connector *
connector_for(enum pb_platform_id p)
{
    switch (p) {
    case PB_SHOPIFY: return &pb_connector_shopify;
    case PB_BIGCOMMERCE: return &pb_connector_bigcommerce;
    case PB_MAGENTO: return &pb_connector_magento;
    case PB_WOOCOMMERCE: return &pb_connector_woocommerce;
    default: return NULL;
    }
}

static char *
join3(const char *a, const char *b, const char *c)
{
    struct pb_buf p = PB_BUF_INIT;
    if (pb_buf_addf(&p, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "") < 0)
        return NULL;
    return pb_buf_detach(&p, NULL);
}

/* ---- reading the products ---- */

static struct pb_up_product *
product_for(struct pb_upload *u, json_t *index, const char *key)
{
    json_t *ix = json_object_get(index, key);
    if (ix)
        return &u->products[json_integer_value(ix)];
    if ((u->nproducts & (u->nproducts - 1)) == 0 || u->nproducts == 0) {
        size_t cap = u->nproducts ? (size_t)u->nproducts * 2 : 64;
        struct pb_up_product *v = realloc(u->products, cap * sizeof(*v));
        if (!v)
            return NULL;
        u->products = v;
    }
    struct pb_up_product *p = &u->products[u->nproducts];
    memset(p, 0, sizeof(*p));
    if (!(p->key = strdup(key)))
        return NULL;
    json_object_set_new(index, key, json_integer(u->nproducts));
    u->nproducts++;
    return p;
}

/*
 * The products file, grouped by product.  A row that does not validate (a hand edit) is
 * refused by itself: logged with its position and written to <store>/rejects-upload.csv
 * with the row as read.
 */
static int
read_products(struct pb_upload *u, const char *dir, const char *path, const char *rel,
              struct pb_error *err)
{
    struct pb_read_opts ro = {PB_READ_STAGED, "UTC", -1, rel, 1, NULL, NULL};
    struct pb_reader *rd = pb_reader_open(path, &pb_schema_products, &ro, err);
    struct pb_rec rec;
    struct pb_rejects rj;
    char *rjpath = join3(dir, "rejects-upload.csv", NULL);
    json_t *index = json_object();
    int rc = -1;
    memset(&rj, 0, sizeof(rj));
    if (!rd || !index || !rjpath || pb_rec_init(&rec, &pb_schema_products, err) < 0) {
        if (!rjpath)
            pb_error_set(err, PB_EOS, "out of memory");
        pb_reader_close(rd, NULL);
        json_decref(index);
        free(rjpath);
        return -1;
    }
    if (pb_rejects_init(&rj, rjpath, "upload", err) < 0)
        goto out;
    for (;;) {
        struct pb_error bad;
        pb_error_init(&bad);
        int r = pb_reader_next(rd, &rec, &bad, err);
        if (r < 0)
            goto out;
        if (r == PB_READ_EOF)
            break;
        if (r == PB_READ_REJECT) {
            /* A hand edit that does not validate: refuse that row, say where. */
            pb_log_error(PB_LOG_ERROR, &bad);
            if (pb_rejects_add(&rj, &bad, &rec, err) < 0)
                goto out;
            u->res->rejected++;
            continue;
        }
        size_t kn;
        const char *key = pb_rec_get(&rec, PB_PRODUCTS_PRODUCT_KEY, &kn);
        struct pb_up_product *p = product_for(u, index, key);
        if (!p) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
        if (p->n == p->cap) {
            int cap = p->cap ? p->cap * 2 : 4;
            struct pb_up_variant *v = realloc(p->v, (size_t)cap * sizeof(*v));
            if (!v) {
                pb_error_set(err, PB_EOS, "out of memory");
                goto out;
            }
            p->v = v;
            p->cap = cap;
        }
        struct pb_up_variant *v = &p->v[p->n];
        memset(v, 0, sizeof(*v));
        if (pb_rec_init(&v->row, &pb_schema_products, err) < 0 || pb_rec_copy(&v->row, &rec) < 0) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
        v->sku = pb_rec_get(&v->row, PB_PRODUCTS_SKU, NULL);
        p->n++;
    }
    char sha[65];
    if (pb_rejects_commit(&rj, sha, err) < 0)
        goto out;
    if (!rj.count && unlink(rjpath) < 0 && errno != ENOENT) {
        /* the refusals of an earlier run, all fixed since */
        pb_error_sys(err, PB_EIO, errno, "cannot remove '%s'", rjpath);
        goto out;
    }
    rc = 0;
out:
    if (pb_reader_close(rd, rc == 0 ? err : NULL) < 0)
        rc = -1;
    pb_rejects_release(&rj);
    pb_rec_release(&rec);
    json_decref(index);
    free(rjpath);
    return rc;
}

/* ---- quantities and state ---- */

json_t *
pb_upload_qty(struct pb_upload *u, struct pb_up_variant *v)
{
    if (v->qty)
        return v->qty;
    json_t *q = json_object();
    const struct pb_store_cfg *s = u->store;
    if (u->conn && u->conn->one_quantity) {
        int64_t x;
        if (pb_rec_int(&v->row, PB_PRODUCTS_INVENTORY_QTY, &x) == 0)
            json_object_set_new(q, "stock", json_integer((json_int_t)x));
    } else if (s->pricing.qty == PB_QTY_PER_STORE) {
        for (int n = 1; n <= PB_QBPOS_STORES; n++) {
            int64_t x;
            if (!s->location[n] || pb_rec_int(&v->row, PB_PRODUCTS_LOCATION_QTY_01 + n - 1, &x))
                continue;
            json_object_set_new(q, s->location[n], json_integer((json_int_t)x));
        }
    } else {
        int64_t x;
        const char *loc = s->default_location ? s->default_location : u->primary_location;
        json_t *had = v->state ? json_object_get(v->state, "qty") : NULL;
        /* The store's primary location is known once the session is open (the plan is
         * made before): until then, the location this SKU's quantity last went to. */
        if (!loc && json_object_size(had) == 1)
            loc = json_object_iter_key(json_object_iter(had));
        if (loc && pb_rec_int(&v->row, PB_PRODUCTS_INVENTORY_QTY, &x) == 0)
            json_object_set_new(q, loc, json_integer((json_int_t)x));
    }
    v->qty = q;
    return q;
}

void
pb_upload_qty_forget(struct pb_upload *u)
{
    for (int p = 0; p < u->nproducts; p++)
        for (int k = 0; k < u->products[p].n; k++) {
            json_decref(u->products[p].v[k].qty);
            u->products[p].v[k].qty = NULL;
        }
}

static json_t *
row_json(const struct pb_rec *r)
{
    json_t *o = json_object();
    for (int f = 0; f < r->schema->nfields; f++) {
        size_t n;
        const char *v = pb_rec_get(r, f, &n);
        if (v && f != PB_PRODUCTS_CONTENT_HASH && f != PB_PRODUCTS_INVENTORY_QTY &&
            !(f >= PB_PRODUCTS_LOCATION_QTY_01 && f <= PB_PRODUCTS_LOCATION_QTY_20))
            json_object_set_new(o, r->schema->fields[f].name, json_stringn(v, n));
    }
    return o;
}

int
pb_upload_remember(struct pb_upload *u, struct pb_up_product *p, struct pb_up_variant *v,
                   const char *product_id, const char *variant_id,
                   const char *inventory_item_id, int fields, int qty)
{
    json_t *e = pb_state_entry(&u->state, v->sku);
    if (!e)
        return -1;
    json_object_set_new(e, "product_key", json_string(p->key));
    if (product_id)
        json_object_set_new(e, "product_id", json_string(product_id));
    if (variant_id)
        json_object_set_new(e, "variant_id", json_string(variant_id));
    if (inventory_item_id)
        json_object_set_new(e, "inventory_item_id", json_string(inventory_item_id));
    if (fields) {
        char hex[17];
        pb_products_row_hash(&v->row, hex);
        json_object_set_new(e, "hash", json_string(hex));
        json_object_set_new(e, "row", row_json(&v->row));
    }
    if (qty)
        json_object_set(e, "qty", pb_upload_qty(u, v));
    v->state = e;
    pb_state_touch(&u->state, v->sku);
    return 0;
}

/* ---- journal helpers ---- */

uint64_t
pb_upload_intent(struct pb_upload *u, struct pb_up_product *p, const char *op,
                 struct pb_error *err)
{
    json_t *skus = json_array();
    for (int i = 0; i < p->n; i++)
        json_array_append_new(skus, json_string(p->v[i].sku));
    return pb_journal_intent(&u->journal, op, p->key, json_pack("{s:o}", "skus", skus), err);
}

int
pb_upload_outcome(struct pb_upload *u, struct pb_up_product *p, uint64_t seq, const char *op,
                  struct pb_error *err)
{
    json_t *extra;
    if (p->failed) {
        extra = json_pack("{s:s, s:I, s:s}", "status", "failed", "http", (json_int_t)p->http,
                          "error", p->error);
        pb_log(PB_LOG_WARN, "%s: %s '%s' failed: %s", u->store->name, op, p->key, p->error);
    } else {
        json_t *ids = json_object();
        for (int i = 0; i < p->n; i++) {
            json_t *e = p->v[i].state;
            if (!e)
                continue;
            /* Enough to rebuild the state entry if the run dies before saving it. */
            json_object_set_new(ids, p->v[i].sku,
                                json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}", "product",
                                          json_object_get(e, "product_id"), "variant",
                                          json_object_get(e, "variant_id"), "inventory_item",
                                          json_object_get(e, "inventory_item_id"), "hash",
                                          json_object_get(e, "hash"), "qty",
                                          json_object_get(e, "qty")));
        }
        extra = json_pack("{s:s, s:I, s:o}", "status", "ok", "http", (json_int_t)p->http,
                          "ids", ids);
    }
    pb_progress_add(&u->progress, 1);
    return pb_journal_outcome(&u->journal, seq, op, p->key, extra, err);
}

static int
set_if_differs(json_t *e, const char *name, const char *v)
{
    const char *had = json_string_value(json_object_get(e, name));
    if (had && !strcmp(had, v))
        return 0;
    json_object_set_new(e, name, json_string(v));
    return 1;
}

/*
 * Outcomes this batch already journaled carry remote ids: put them in the state first, so
 * a run that died before saving the state does not create anything twice.
 */
static void
absorb_journal(struct pb_upload *u)
{
    const char *key;
    json_t *line;
    json_object_foreach(u->journal.last, key, line) {
        const char *status = json_string_value(json_object_get(line, "status"));
        if (!status || strcmp(status, "ok"))
            continue;
        json_t *ids = json_object_get(line, "ids");
        const char *sku;
        json_t *v;
        json_object_foreach(ids, sku, v) {
            const char *pid = json_string_value(json_object_get(v, "product"));
            const char *vid = json_string_value(json_object_get(v, "variant"));
            const char *iid = json_string_value(json_object_get(v, "inventory_item"));
            if (!vid)
                continue;
            /* This batch's outcomes are at least as new as the saved state. */
            json_t *e = pb_state_entry(&u->state, sku);
            if (!e)
                continue;
            json_t *hash = json_object_get(v, "hash"), *qty = json_object_get(v, "qty");
            /* usually the saved state has all this already: change (and save) only what
             * differs */
            int changed = 0;
            changed |= set_if_differs(e, "product_key", key);
            if (pid)
                changed |= set_if_differs(e, "product_id", pid);
            changed |= set_if_differs(e, "variant_id", vid);
            if (iid)
                changed |= set_if_differs(e, "inventory_item_id", iid);
            if (json_is_string(hash) &&
                !json_equal(hash, json_object_get(e, "hash"))) {
                json_object_set(e, "hash", hash);
                json_object_del(e, "row"); /* what was sent before is not known any more */
                changed = 1;
            }
            if (json_is_object(qty) && !json_equal(qty, json_object_get(e, "qty"))) {
                json_object_set(e, "qty", qty);
                changed = 1;
            }
            if (changed)
                pb_state_touch(&u->state, sku);
        }
    }
}

/* ---- planning ---- */

static const char *const product_fields[] = {"title", "description", "vendor", "product_type",
                                             "category", "tags", "handle", NULL};

static int
is_product_field(const char *name)
{
    for (int i = 0; product_fields[i]; i++)
        if (!strcmp(name, product_fields[i]))
            return 1;
    return 0;
}

/* "price: 24.99 -> 19.99; qty@loc: 3 -> 5" for the plan. */
static void
describe(struct pb_upload *u, struct pb_up_variant *v, struct pb_buf *out)
{
    pb_buf_reset(out);
    if (v->state && v->fields_changed) {
        json_t *old = pb_state_row(v->state);
        for (int f = 0; f < v->row.schema->nfields; f++) {
            const char *name = v->row.schema->fields[f].name;
            if (f == PB_PRODUCTS_CONTENT_HASH || f == PB_PRODUCTS_INVENTORY_QTY ||
                (f >= PB_PRODUCTS_LOCATION_QTY_01 && f <= PB_PRODUCTS_LOCATION_QTY_20) ||
                f == PB_PRODUCTS_STATUS)
                continue;
            size_t n;
            const char *now = pb_rec_get(&v->row, f, &n);
            const char *was = json_string_value(json_object_get(old, name));
            if ((!now && !was) || (now && was && strlen(was) == n && !memcmp(was, now, n)))
                continue;
            if (pb_buf_addf(out, "%s%s: %s -> %.*s", out->len ? "; " : "", name,
                            was ? was : "(none)", now ? (int)n : 6, now ? now : "(none)") < 0)
                return;
        }
    }
    if (v->qty_changed) {
        json_t *want = pb_upload_qty(u, v), *had = v->state ? json_object_get(v->state, "qty") : NULL;
        const char *loc;
        json_t *q;
        json_object_foreach(want, loc, q) {
            json_t *h = json_object_get(had, loc);
            if (h && json_integer_value(h) == json_integer_value(q))
                continue;
            if (h) {
                if (pb_buf_addf(out, "%sqty@%s: %lld -> %lld", out->len ? "; " : "", loc,
                                (long long)json_integer_value(h),
                                (long long)json_integer_value(q)) < 0)
                    return;
            } else if (pb_buf_addf(out, "%sqty@%s: %lld", out->len ? "; " : "", loc,
                                   (long long)json_integer_value(q)) < 0) {
                return;
            }
        }
    }
}

static void
plan_product(struct pb_upload *u, struct pb_up_product *p)
{
    int known = 0;
    const char *pid = NULL;
    p->product_changed = 0;
    for (int i = 0; i < p->n; i++) {
        struct pb_up_variant *v = &p->v[i];
        v->is_new = v->fields_changed = v->qty_changed = 0;
        v->state = pb_state_get(&u->state, v->sku);
        if (v->state && !json_object_get(v->state, "variant_id"))
            v->state = NULL;
        if (v->state) {
            known++;
            const char *k = json_string_value(json_object_get(v->state, "product_key"));
            const char *id = json_string_value(json_object_get(v->state, "product_id"));
            if (k && strcmp(k, p->key)) {
                snprintf(p->reason, sizeof(p->reason),
                         "SKU '%s' was sent as part of product '%s'; a SKU cannot move "
                         "between products",
                         v->sku, k);
                p->action = PB_UP_REJECT;
                return;
            }
            if (id && pid && strcmp(id, pid)) {
                snprintf(p->reason, sizeof(p->reason),
                         "its SKUs belong to different products in the store");
                p->action = PB_UP_REJECT;
                return;
            }
            pid = id ? id : pid;
        }
    }
    json_t *last = pb_journal_last(&u->journal, p->key);
    const char *kind = json_string_value(json_object_get(last, "kind"));
    p->pending = kind && !strcmp(kind, "intent");
    if (!known) {
        p->action = PB_UP_CREATE;
        for (int i = 0; i < p->n; i++)
            p->v[i].is_new = 1;
        return;
    }
    free(p->product_id);
    p->product_id = pid ? strdup(pid) : NULL;
    int fields = 0, qty = 0;
    for (int i = 0; i < p->n; i++) {
        struct pb_up_variant *v = &p->v[i];
        if (!v->state) {
            v->is_new = 1;
            fields = 1;
            continue;
        }
        char hex[17];
        pb_products_row_hash(&v->row, hex);
        const char *had = json_string_value(json_object_get(v->state, "hash"));
        if (!had || strcmp(had, hex)) {
            v->fields_changed = 1;
            fields = 1;
            json_t *old = pb_state_row(v->state);
            for (int f = 0; f < v->row.schema->nfields && !p->product_changed; f++) {
                const char *name = v->row.schema->fields[f].name;
                if (!is_product_field(name))
                    continue;
                size_t n;
                const char *now = pb_rec_get(&v->row, f, &n);
                const char *was = json_string_value(json_object_get(old, name));
                if ((now == NULL) != (was == NULL) ||
                    (now && (strlen(was) != n || memcmp(was, now, n))))
                    p->product_changed = 1;
            }
        }
        json_t *want = pb_upload_qty(u, v), *have = json_object_get(v->state, "qty");
        if (!json_equal(want, have) && json_object_size(want)) {
            /* only locations we send count: an unmapped location is not ours to change */
            const char *loc;
            json_t *q;
            json_object_foreach(want, loc, q) {
                json_t *h = json_object_get(have, loc);
                if (!h || json_integer_value(h) != json_integer_value(q))
                    v->qty_changed = 1;
            }
            qty |= v->qty_changed;
        }
    }
    p->action = fields ? PB_UP_UPDATE : qty ? PB_UP_INVENTORY : PB_UP_UNCHANGED;
}

static const char *
action_name(enum pb_up_action a)
{
    static const char *const names[] = {"unchanged", "create", "update", "inventory", "reject"};
    return names[a];
}

static int
write_plan(struct pb_upload *u, const char *dir, struct pb_error *err)
{
    struct pb_columns cols;
    struct pb_rec r;
    struct pb_buf changes = PB_BUF_INIT;
    char *path = join3(dir, "plan.csv", NULL);
    int rc = -1;
    if (!path || pb_columns_init(&cols, &pb_schema_plan) < 0 ||
        pb_rec_init(&r, &pb_schema_plan, err) < 0) {
        free(path);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    struct pb_writer *w = pb_writer_open(path, &pb_schema_plan, PB_ENC_CSV, 0, &cols, err);
    if (!w)
        goto out;
    for (int i = 0; i < u->nproducts; i++) {
        struct pb_up_product *p = &u->products[i];
        for (int k = 0; k < p->n; k++) {
            struct pb_up_variant *v = &p->v[k];
            enum pb_up_action a = p->action;
            if (a == PB_UP_UPDATE && !v->is_new && !v->fields_changed)
                a = v->qty_changed ? PB_UP_INVENTORY : (p->product_changed ? PB_UP_UPDATE
                                                                            : PB_UP_UNCHANGED);
            if (a == PB_UP_UPDATE && v->is_new)
                a = PB_UP_CREATE;
            describe(u, v, &changes);
            const char *an = action_name(a);
            pb_rec_clear(&r);
            const char *reason = v->remote_note ? v->remote_note : p->reason;
            if (pb_rec_set(&r, PB_PLAN_PRODUCT_KEY, p->key, strlen(p->key)) < 0 ||
                pb_rec_set(&r, PB_PLAN_SKU, v->sku, strlen(v->sku)) < 0 ||
                pb_rec_set(&r, PB_PLAN_ACTION, an, strlen(an)) < 0 ||
                (changes.len && pb_rec_set(&r, PB_PLAN_CHANGES, changes.data, changes.len) < 0) ||
                (reason[0] && pb_rec_set(&r, PB_PLAN_REASON, reason, strlen(reason)) < 0)) {
                pb_error_set(err, PB_EOS, "out of memory");
                goto out;
            }
            if (pb_writer_put(w, &r, err) < 0)
                goto out;
        }
    }
    char sha[65];
    struct pb_writer *ww = w;
    w = NULL;
    rc = pb_writer_commit(ww, sha, NULL, err);
out:
    pb_writer_abort(w);
    pb_columns_release(&cols);
    pb_rec_release(&r);
    pb_buf_release(&changes);
    free(path);
    return rc;
}

/* The products file transform wrote for this store (or a hand-made one beside it). */
static char *
products_file(const char *dir, const char **rel)
{
    static const char *const names[] = {"products.csv", "products.jsonl", "products.csv.gz",
                                        "products.jsonl.gz"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        char *p = join3(dir, names[k], NULL);
        if (p && access(p, F_OK) == 0) {
            *rel = names[k];
            return p;
        }
        free(p);
    }
    return NULL;
}

/* Every credential the store has configured; a token is required unless the connector
 * says what it needs. */
static int
resolve_credentials(struct pb_upload *u, struct pb_error *err)
{
    int nr = 0;
    for (int k = 0; k < PB_SECRET__COUNT; k++) {
        if (!u->store->secret_ref[k])
            continue;
        if (!(u->cred[k] = pb_config_secret(u->store, k, err)))
            return -1;
        u->redact[nr++] = u->cred[k];
    }
    u->secret = u->cred[PB_SECRET_TOKEN];
    if (!u->conn->prepare && !u->secret)
        return pb_error_set(err, PB_ECONFIG, "store '%s' has no token", u->store->name);
    return 0;
}

int
pb_session_open(struct pb_upload *u, struct pb_error *err)
{
    if (!u->conn && !(u->conn = connector_for(u->store->platform)))
        return pb_error_set(err, PB_EUNAVAIL, "%s is not available yet",
                            pb_platform_name(u->store->platform));
    if (pb_http_url_allowed(u->store->base_url, err) < 0 || resolve_credentials(u, err) < 0)
        return -1;
    pb_limiter_init(&u->limiter, 2000, 100); /* until the store says otherwise */
    if (u->conn->prepare && u->conn->prepare(u, err) < 0)
        return -1;
    pb_upload_qty_forget(u); /* prepare may have found where the quantities go */
    struct pb_http_opts ho = {0};
    ho.name = u->store->name;
    ho.concurrency = u->store->concurrency ? u->store->concurrency
                     : u->conn->concurrency ? u->conn->concurrency : 1;
    ho.secrets = (const char *const *)u->redact;
    ho.limiter = &u->limiter;
    ho.check = u->conn->check;
    ho.check_user = u;
    return (u->http = pb_http_new(&ho, err)) ? 0 : -1;
}

void
pb_session_close(struct pb_upload *u)
{
    if (u->http)
        pb_http_free(u->http);
    u->http = NULL;
    if (u->conn_free)
        u->conn_free(u);
    u->conn_free = NULL;
    for (int k = 0; u->redact[k]; k++) {
        int mine = 1;
        for (int c = 0; c < PB_SECRET__COUNT; c++)
            mine &= u->redact[k] != u->cred[c] || !u->cred[c];
        if (mine) {
            memset(u->redact[k], 0, strlen(u->redact[k]));
            free(u->redact[k]);
        }
        u->redact[k] = NULL;
    }
    for (int k = 0; k < PB_SECRET__COUNT; k++)
        if (u->cred[k]) {
            memset(u->cred[k], 0, strlen(u->cred[k]));
            free(u->cred[k]);
            u->cred[k] = NULL;
        }
    u->secret = NULL;
}

int
pb_upload_add_secret(struct pb_upload *u, const char *s)
{
    int n = 0;
    while (u->redact[n])
        n++;
    if (n + 1 >= (int)(sizeof(u->redact) / sizeof(u->redact[0])))
        return -1;
    return (u->redact[n] = strdup(s)) ? 0 : -1;
}

static int
run_step(struct pb_upload *u, enum pb_up_action want,
         int (*fn)(struct pb_upload *, struct pb_up_product **, int, struct pb_error *),
         struct pb_error *err)
{
    if (u->o->only && !(u->o->only & (1 << want)))
        return 0;
    struct pb_up_product **list = malloc(((size_t)u->nproducts + 1) * sizeof(*list));
    if (!list)
        return pb_error_set(err, PB_EOS, "out of memory");
    int n = 0;
    for (int i = 0; i < u->nproducts; i++) {
        struct pb_up_product *p = &u->products[i];
        int wants_inventory = want == PB_UP_INVENTORY && (p->action == PB_UP_INVENTORY ||
                                                          p->action == PB_UP_UPDATE);
        if (p->failed)
            continue; /* the lookup or an earlier step failed: nothing more this run */
        if (p->action == want || wants_inventory)
            list[n++] = p;
    }
    int rc = n ? fn(u, list, n, err) : 0;
    free(list);
    if (rc == 0)
        rc = pb_journal_sync(&u->journal, err);
    return rc;
}

int
pb_upload_run(const struct pb_config *cfg, const struct pb_upload_opts *o,
              struct pb_upload_result *res, struct pb_error *err)
{
    struct pb_upload u;
    struct pb_batch batch;
    char *dir = NULL, *ppath = NULL, *spath = NULL, *jpath = NULL;
    const char *prel = NULL;
    int rc = -1;
    uint64_t first_seq = UINT64_MAX;
    memset(&u, 0, sizeof(u));
    memset(&batch, 0, sizeof(batch));
    memset(res, 0, sizeof(*res));
    u.cfg = cfg;
    u.o = o;
    u.res = res;
    if (!(u.store = pb_config_store(cfg, o->store)))
        return pb_error_set(err, PB_EUSAGE, "no store '%s' in the configuration", o->store);
    if (!(u.conn = connector_for(u.store->platform)))
        return pb_error_set(err, PB_EUNAVAIL, "uploading to %s is not available yet",
                            pb_platform_name(u.store->platform));
    if (pb_http_url_allowed(u.store->base_url, err) < 0)
        return -1;
    if (pb_batch_open(&batch, o->batch_dir, err) < 0)
        return -1;
    dir = join3(o->batch_dir, u.store->name, NULL);
    if (!dir || !(ppath = products_file(dir, &prel))) {
        pb_error_set(err, PB_ENOINPUT, "'%s' has no products for store '%s'; run transform first",
                     o->batch_dir, u.store->name);
        goto out;
    }
    spath = pb_config_path(cfg, "state");
    char *sfile = spath ? join3(spath, u.store->name, "catalog.jsonl") : NULL;
    free(spath);
    spath = sfile;
    jpath = join3(dir, "results.jsonl", NULL);
    if (!spath || !jpath) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    struct pb_buf rel = PB_BUF_INIT;
    if (pb_buf_addf(&rel, "%s/%s", u.store->name, prel) < 0 ||
        read_products(&u, dir, ppath, rel.data, err) < 0) {
        pb_buf_release(&rel);
        goto out;
    }
    pb_buf_release(&rel);
    if (pb_state_load(&u.state, spath, err) < 0 || pb_journal_open(&u.journal, jpath, err) < 0)
        goto out;
    first_seq = u.journal.seq + 1; /* the journal's lines from this run on */
    absorb_journal(&u);

    for (int i = 0; i < u.nproducts; i++)
        plan_product(&u, &u.products[i]);
    if (o->replay) {
        /* Only what failed or never finished in this batch. */
        for (int i = 0; i < u.nproducts; i++) {
            struct pb_up_product *p = &u.products[i];
            json_t *last = pb_journal_last(&u.journal, p->key);
            const char *kind = json_string_value(json_object_get(last, "kind"));
            const char *status = json_string_value(json_object_get(last, "status"));
            /* never tried, in flight when the run died, or failed */
            int redo = !last || !kind || !strcmp(kind, "intent") ||
                       (status && strcmp(status, "ok"));
            if (!redo && p->action != PB_UP_REJECT)
                p->action = PB_UP_UNCHANGED;
        }
    }
    if (write_plan(&u, dir, err) < 0)
        goto out;
    if (o->dry_run && !o->remote) {
        rc = 0;
        goto out;
    }

    /* The network from here on. */
    int need = 0;
    for (int i = 0; i < u.nproducts; i++)
        need |= u.products[i].action != PB_UP_UNCHANGED && u.products[i].action != PB_UP_REJECT;
    if (!need && !o->remote) {
        rc = 0;
        goto out;
    }
    if (pb_session_open(&u, err) < 0)
        goto out;
    /* Which creates are really new: look up their SKUs first. */
    int creates = 0;
    for (int i = 0; i < u.nproducts; i++)
        creates += u.products[i].action == PB_UP_CREATE;
    if (run_step(&u, PB_UP_CREATE, u.conn->lookup, err) < 0)
        goto out;
    if (o->dry_run) {
        /* --remote: the plan again, now knowing what the store has, with every known
         * variant compared with the store (edited by hand, deleted, duplicated). */
        for (int i = 0; i < u.nproducts; i++)
            if (u.products[i].action == PB_UP_CREATE && u.products[i].product_id)
                plan_product(&u, &u.products[i]);
        u.inspecting = 1;
        struct pb_up_product **all = malloc(((size_t)u.nproducts + 1) * sizeof(*all));
        int na = 0;
        for (int i = 0; all && i < u.nproducts; i++)
            if (u.products[i].action != PB_UP_CREATE && u.products[i].action != PB_UP_REJECT)
                all[na++] = &u.products[i];
        rc = all ? (na ? u.conn->lookup(&u, all, na, err) : 0)
                 : pb_error_set(err, PB_EOS, "out of memory");
        free(all);
        if (rc == 0)
            rc = write_plan(&u, dir, err);
        goto out;
    }
    for (int i = 0; i < u.nproducts; i++) {
        struct pb_up_product *p = &u.products[i];
        if (p->action == PB_UP_CREATE && p->product_id) {
            /* Found in the store: it exists already (made by hand, or by a run that died
             * before it could record it).  Adopt it and send only the differences. */
            pb_log(PB_LOG_INFO, "%s: '%s' is already in the store: updating it instead",
                   u.store->name, p->key);
            plan_product(&u, p);
        }
    }
    /* The plan again: the lookup may have found products or refused some (with no
     * creates there was no lookup, and the plan written above stands). */
    if (creates && write_plan(&u, dir, err) < 0)
        goto out;
    int todo = 0;
    for (int i = 0; i < u.nproducts; i++)
        todo += u.products[i].action == PB_UP_CREATE || u.products[i].action == PB_UP_UPDATE ||
                u.products[i].action == PB_UP_INVENTORY;
    pb_progress_start(&u.progress, u.store->name, (uint64_t)todo);
    if (run_step(&u, PB_UP_CREATE, u.conn->create, err) < 0 ||
        run_step(&u, PB_UP_UPDATE, u.conn->update, err) < 0 ||
        run_step(&u, PB_UP_INVENTORY, u.conn->inventory, err) < 0)
        goto out;
    rc = 0;
out:
    pb_progress_end(&u.progress);
    for (int i = 0; i < u.nproducts; i++) {
        const struct pb_up_product *p = &u.products[i];
        if (p->failed) {
            res->failed++;
            continue;
        }
        if (rc != 0 && (p->action == PB_UP_CREATE || p->action == PB_UP_UPDATE ||
                        p->action == PB_UP_INVENTORY)) {
            /* the run stopped: only what the store confirmed in this run counts as done */
            json_t *last = pb_journal_last(&u.journal, p->key);
            const char *st = json_string_value(json_object_get(last, "status"));
            if (!st || strcmp(st, "ok") ||
                (uint64_t)json_integer_value(json_object_get(last, "seq")) < first_seq)
                continue;
        }
        switch (p->action) {
        case PB_UP_CREATE: res->created++; break;
        case PB_UP_UPDATE: res->updated++; break;
        case PB_UP_INVENTORY: res->inventory++; break;
        case PB_UP_UNCHANGED: res->unchanged++; break;
        case PB_UP_REJECT: res->rejected++; break;
        }
    }
    if (u.http)
        pb_http_counts(u.http, &res->requests, &res->retries);
    res->waited = u.limiter.waited;
    if (u.journal.fp && pb_journal_close(&u.journal, rc == 0 ? err : NULL) < 0)
        rc = -1;
    if (u.state.by_sku && pb_state_save(&u.state, rc == 0 ? err : NULL) < 0)
        rc = -1;
    pb_state_release(&u.state);
    for (int i = 0; i < u.nproducts; i++) {
        struct pb_up_product *p = &u.products[i];
        for (int k = 0; k < p->n; k++) {
            pb_rec_release(&p->v[k].row);
            json_decref(p->v[k].qty);
            free(p->v[k].remote_note);
        }
        free(p->v);
        free(p->key);
        free(p->product_id);
    }
    free(u.products);
    pb_session_close(&u);
    free(u.primary_location);
    pb_batch_release(&batch);
    free(dir);
    free(ppath);
    free(spath);
    free(jpath);
    return rc;
}
