/*
 * The transform stage, inbound: a sales batch's orders.* and returns.* -> qbpos/receipts.*,
 * one QBPOS sales receipt per shipped order and one return receipt per refund.
 *
 * - SKU -> QBPOS item: the newest export's items (by the configured SKU field), then the
 *   catalog state of the store (the ListID sent with each variant).  An order with an
 *   unknown SKU is rejected alone, naming the SKU; the others go on.
 * - Payment gateway -> QBPOS tender through the mapping tables (field tender, e.g.
 *   "tender,shopify_payments,CreditCard:Visa"; "*" for any other gateway).
 * - Shipping (with its tax) -> ShippingInformation/Shipping; order discounts -> Discount.
 * - Customers by e-mail: one ledger key per address ("email:ann@example.com"), so the same
 *   person from two stores is one QBPOS customer, added once.
 * - Balance: QBPOS recomputes a receipt (lines, discounts, its own tax by tax code,
 *   shipping) and refuses it when the tenders differ (20004).  The same sum is done here
 *   with [qbpos] tax_rates; a difference of a few cents of rounding is taken off the
 *   largest tender with a warning, a larger one rejects the order with both totals named.
 */
#include "posbridge/transform.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "pb_schemas.h"
#include "posbridge/atomic.h"
#include "posbridge/batch.h"
#include "posbridge/config.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/maps.h"
#include "posbridge/money.h"
#include "posbridge/rejects.h"
#include "posbridge/staged.h"
#include "posbridge/state.h"
#include "posbridge/timefmt.h"
#include "posbridge/banned.h"

#define TOLERANCE 5 /* cents of rounding taken off a tender */
#define NT 20
#define QTY_ONE 10000 /* quantities are fixed point with PB_QTY_SCALE decimals */

struct group {
    char *key;
    struct pb_rec *rows;
    int n, cap;
    int bad;
};

struct groups {
    struct group *v;
    int n, cap;
    json_t *index;
};

struct inb {
    const struct pb_config *cfg;
    struct pb_batch batch;
    json_t *items;              /* sku -> {"list_id", "tax_code", "desc"} */
    json_t *states;             /* store -> sku -> list_id, loaded on first use */
    struct pb_maps *maps[PB_MAX_STORES];
    struct pb_rejects rejects;
    struct pb_rec *out;         /* receipt rows built */
    int nout, capout;
    struct pb_inbound_result *res;
    char *file;                 /* the file being read, relative to the batch */
};

/* ---- reading ---- */

/* The staged file of a kind in dir, and its name (both malloc'd), or NULL. */
static char *
find_file(const char *dir, const char *kind, char **rel)
{
    char *path = pb_staged_find(dir, kind);
    if (path && !(*rel = strdup(strrchr(path, '/') + 1))) {
        free(path);
        return NULL;
    }
    return path;
}

static struct group *
group_for(struct groups *g, const char *key)
{
    json_t *ix = json_object_get(g->index, key);
    if (ix)
        return &g->v[json_integer_value(ix)];
    if (g->n == g->cap) {
        int cap = g->cap ? 2 * g->cap : 64;
        struct group *v = realloc(g->v, (size_t)cap * sizeof(*v));
        if (!v)
            return NULL;
        g->v = v;
        g->cap = cap;
    }
    struct group *x = &g->v[g->n];
    memset(x, 0, sizeof(*x));
    if (!(x->key = strdup(key)) || json_object_set_new(g->index, key, json_integer(g->n)) < 0)
        return NULL;
    g->n++;
    return x;
}

static void
groups_release(struct groups *g)
{
    for (int i = 0; i < g->n; i++) {
        for (int k = 0; k < g->v[i].n; k++)
            pb_rec_release(&g->v[i].rows[k]);
        free(g->v[i].rows);
        free(g->v[i].key);
    }
    free(g->v);
    json_decref(g->index);
    memset(g, 0, sizeof(*g));
}

/* Read a kind's file into groups by (store, id field). */
static int
read_groups(struct inb *in, const char *path, const char *rel, const struct pb_schema *s,
            int store_f, int id_f, struct groups *g, struct pb_error *err)
{
    struct pb_read_opts ro = {PB_READ_STAGED, "UTC", -1, rel, 1, NULL, NULL};
    struct pb_reader *rd = pb_reader_open(path, s, &ro, err);
    struct pb_rec rec;
    int rc = -1;
    if (!rd || pb_rec_init(&rec, s, err) < 0) {
        pb_reader_close(rd, NULL);
        return -1;
    }
    for (;;) {
        struct pb_error bad;
        pb_error_init(&bad);
        int r = pb_reader_next(rd, &rec, &bad, err);
        if (r < 0)
            goto out;
        if (r == PB_READ_EOF)
            break;
        const char *store = pb_rec_get(&rec, store_f, NULL), *id = pb_rec_get(&rec, id_f, NULL);
        struct pb_buf key = PB_BUF_INIT;
        if (pb_buf_addf(&key, "%s\x1f%s", store ? store : "", id ? id : "") < 0) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
        struct group *x = group_for(g, key.data);
        pb_buf_release(&key);
        if (!x) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
        if (r == PB_READ_REJECT) {
            /* One bad line spoils its order: a receipt missing a line is wrong money. */
            pb_log_error(PB_LOG_ERROR, &bad);
            if (pb_rejects_add(&in->rejects, &bad, &rec, err) < 0)
                goto out;
            if (!x->bad)
                in->res->rejected++;
            x->bad = 1;
            continue;
        }
        if (x->n == x->cap) {
            int cap = x->cap ? 2 * x->cap : 4;
            struct pb_rec *v = realloc(x->rows, (size_t)cap * sizeof(*v));
            if (!v) {
                pb_error_set(err, PB_EOS, "out of memory");
                goto out;
            }
            x->rows = v;
            x->cap = cap;
        }
        if (pb_rec_init(&x->rows[x->n], s, err) < 0)
            goto out;
        x->n++;
        if (pb_rec_copy(&x->rows[x->n - 1], &rec) < 0) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
        x->rows[x->n - 1].file = NULL;
    }
    rc = 0;
out:
    if (pb_reader_close(rd, rc == 0 ? err : NULL) < 0)
        rc = -1;
    pb_rec_release(&rec);
    return rc;
}

/* ---- what QBPOS knows: items of the newest export, and the catalog state ---- */

static int
cmp_desc(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

static int
load_items(struct inb *in, struct pb_error *err)
{
    char *bdir = pb_config_path(in->cfg, "batches");
    DIR *d = bdir ? opendir(bdir) : NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    in->items = json_object();
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **v = realloc(names, cap * sizeof(*v));
            if (!v)
                break;
            names = v;
        }
        names[n++] = strdup(de->d_name);
    }
    if (d)
        closedir(d);
    qsort(names, n, sizeof(*names), cmp_desc);
    int field = in->cfg->sku == PB_SKU_ALU ? PB_ITEMS_ALU
                : in->cfg->sku == PB_SKU_ITEM_NUMBER ? PB_ITEMS_ITEM_NUMBER : PB_ITEMS_UPC;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct pb_buf dir = PB_BUF_INIT;
        char *rel = NULL, *path = NULL;
        if (!names[i] || pb_buf_addf(&dir, "%s/%s", bdir, names[i]) < 0 ||
            !(path = find_file(dir.data, "items", &rel))) {
            pb_buf_release(&dir);
            continue;
        }
        struct pb_read_opts ro = {PB_READ_STAGED, "UTC", -1, path, 1, NULL, NULL};
        struct pb_rec rec;
        struct pb_reader *rd = pb_reader_open(path, &pb_schema_items, &ro, err);
        if (!rd || pb_rec_init(&rec, &pb_schema_items, err) < 0) {
            pb_reader_close(rd, NULL);
            rc = -1;
        } else {
            for (;;) {
                struct pb_error bad;
                pb_error_init(&bad);
                int r = pb_reader_next(rd, &rec, &bad, err);
                if (r < 0)
                    rc = -1;
                if (r <= 0)
                    break;
                const char *sku = pb_rec_get(&rec, field, NULL);
                const char *lid = pb_rec_get(&rec, PB_ITEMS_LIST_ID, NULL);
                if (r != PB_READ_OK || !sku || !lid || json_object_get(in->items, sku))
                    continue;
                const char *tc = pb_rec_get(&rec, PB_ITEMS_TAX_CODE, NULL);
                const char *desc = pb_rec_get(&rec, PB_ITEMS_DESC1, NULL);
                json_object_set_new(in->items, sku,
                                    json_pack("{s:s, s:s?, s:s?}", "list_id", lid, "tax_code", tc,
                                              "desc", desc));
            }
            if (pb_reader_close(rd, rc == 0 ? err : NULL) < 0)
                rc = -1;
            pb_rec_release(&rec);
            pb_log(PB_LOG_INFO, "transform: QBPOS items from %s", path);
        }
        free(rel);
        free(path);
        pb_buf_release(&dir);
        break; /* the newest export only */
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(bdir);
    return rc;
}

/* The ListID sent with a SKU to a store, from its catalog state (NULL when unknown). */
static const char *
state_list_id(struct inb *in, const char *store, const char *sku)
{
    json_t *st = json_object_get(in->states, store);
    if (!st) {
        struct pb_state s;
        struct pb_error e;
        char *dir = pb_config_path(in->cfg, "state");
        struct pb_buf p = PB_BUF_INIT;
        memset(&s, 0, sizeof(s));
        pb_error_init(&e);
        st = json_object();
        if (dir && pb_buf_addf(&p, "%s/%s/catalog.jsonl", dir, store) == 0 &&
            pb_state_load(&s, p.data, &e) == 0) {
            const char *k;
            json_t *v;
            json_object_foreach(s.by_sku, k, v) {
                const char *lid = json_string_value(
                    json_object_get(pb_state_row(v), "qbpos_list_id"));
                if (lid)
                    json_object_set_new(st, k, json_string(lid));
            }
        }
        pb_state_release(&s);
        pb_buf_release(&p);
        free(dir);
        json_object_set_new(in->states, store, st);
    }
    return json_string_value(json_object_get(st, sku));
}

/* ---- building receipts ---- */

static struct pb_rec *
new_row(struct inb *in, struct pb_error *err)
{
    if (in->nout == in->capout) {
        int cap = in->capout ? 2 * in->capout : 64;
        struct pb_rec *v = realloc(in->out, (size_t)cap * sizeof(*v));
        if (!v) {
            pb_error_set(err, PB_EOS, "out of memory");
            return NULL;
        }
        in->out = v;
        in->capout = cap;
    }
    if (pb_rec_init(&in->out[in->nout], &pb_schema_receipts, err) < 0)
        return NULL;
    return &in->out[in->nout++];
}

static int
set(struct pb_rec *r, int f, const char *v, size_t maxlen)
{
    if (!v || !*v)
        return 0;
    size_t n = strlen(v);
    if (maxlen && n > maxlen) {
        /* cut at a character boundary: QBPOS has field limits, the web does not */
        n = maxlen;
        while (n && ((unsigned char)v[n] & 0xC0) == 0x80)
            n--;
    }
    return pb_rec_set(r, f, v, n);
}

static int
set_money(struct pb_rec *r, int f, int64_t cents)
{
    char buf[32];
    pb_money_format(cents, buf);
    return pb_rec_set(r, f, buf, strlen(buf));
}

static int64_t
money_of(const struct pb_rec *r, int f)
{
    int64_t c = 0;
    return pb_rec_money(r, f, &c) == 0 ? c : 0;
}

/* Half away from zero, as QBPOS rounds. */
static int64_t
round_div(int64_t a, int64_t b)
{
    return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

struct line {
    const char *list_id, *sku, *desc, *tax_code;
    int64_t qty;       /* fixed point, PB_QTY_SCALE */
    int64_t price, discount, net, rate;
};

struct tender {
    char type[16];
    char card[17];
    int64_t amount;
};

struct draft {
    const char *store, *key_kind, *id, *number;
    int is_return;
    struct line *lines;
    int nlines;
    struct tender t[NT];
    int nt;
    int64_t shipping, discount, web_total;
    char date[11];
};

static const char *const tender_types[] = {"Cash", "Check", "CreditCard", "DebitCard",
                                           "GiftCard", "Account", "Gift", "Deposit"};

/* gateway -> tender; NULL with *why when the map does not say. */
static int
tender_of(struct inb *in, const struct pb_store_cfg *sc, int si, const char *gateway,
          struct tender *t, char *why, size_t whylen)
{
    size_t len = strlen(gateway);
    int mapped = 0;
    const char *to = pb_maps_apply(in->maps[si], PB_MAP_TENDER, gateway, &len, &mapped);
    if (!mapped) {
        snprintf(why, whylen,
                 "payment gateway '%s' has no QBPOS tender: add a row 'tender,%s,...' (or "
                 "'tender,*,...') to a mapping table of store '%s'",
                 gateway, gateway, sc->name);
        return -1;
    }
    char val[128];
    snprintf(val, sizeof(val), "%.*s", (int)len, to);
    char *colon = strchr(val, ':');
    if (colon)
        *colon = '\0';
    memset(t, 0, sizeof(*t));
    for (size_t k = 0; k < sizeof(tender_types) / sizeof(tender_types[0]); k++)
        if (!strcmp(val, tender_types[k]))
            snprintf(t->type, sizeof(t->type), "%s", tender_types[k]);
    if (!t->type[0]) {
        snprintf(why, whylen,
                 "the tender map gives '%.60s' for gateway '%.60s': not a QBPOS tender (Cash, "
                 "Check, CreditCard:NAME, DebitCard, GiftCard, Account, Gift, Deposit)",
                 val, gateway);
        return -1;
    }
    if (!strcmp(t->type, "CreditCard")) {
        if (!colon || !colon[1] || strlen(colon + 1) > 16) {
            snprintf(why, whylen,
                     "the tender map gives CreditCard for gateway '%.60s' without a card name of "
                     "1 to 16 characters (e.g. CreditCard:Visa)",
                     gateway);
            return -1;
        }
        memcpy(t->card, colon + 1, strlen(colon + 1) + 1);
    }
    return 0;
}

static int
store_index(const struct pb_config *cfg, const char *name)
{
    for (int i = 0; i < cfg->nstores; i++)
        if (!strcmp(cfg->stores[i].name, name))
            return i;
    return -1;
}

static int
reject(struct inb *in, const struct group *g, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
reject(struct inb *in, const struct group *g, const char *field, const char *fmt, ...)
{
    struct pb_error bad, err;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pb_error_init(&bad);
    pb_error_init(&err);
    pb_error_at(&bad, PB_EDATA, in->file, g->rows[0].line, -1, g->rows[0].record_no, field, "%s",
                msg);
    pb_log_error(PB_LOG_ERROR, &bad);
    in->res->rejected++;
    if (pb_rejects_add(&in->rejects, &bad, &g->rows[0], &err) < 0) {
        pb_log_error(PB_LOG_ERROR, &err);
        return -1;
    }
    return 0;
}

/*
 * QBPOS's own sum of a receipt (see the file head); -1 with the tax code that has no
 * configured rate.
 */
static int
pos_total(const struct inb *in, struct draft *d, int64_t *total, const char **missing)
{
    int64_t subtotal = 0, tax = 0;
    for (int i = 0; i < d->nlines; i++) {
        struct line *l = &d->lines[i];
        int64_t ext = round_div(l->price * l->qty, QTY_ONE);
        l->net = ext - l->discount;
        subtotal += l->net;
        const char *code = l->tax_code ? l->tax_code : "Tax";
        int nontax = 0;
        for (int k = 0; k < in->cfg->nontaxable_codes.n; k++)
            nontax |= !strcasecmp(code, in->cfg->nontaxable_codes.v[k]);
        if (pb_config_tax_rate(in->cfg, code, &l->rate) != 0) {
            if (!nontax) {
                *missing = code;
                return -1;
            }
            l->rate = 0;
        }
    }
    int64_t left = d->discount;
    for (int i = 0; i < d->nlines; i++) {
        struct line *l = &d->lines[i];
        int64_t share = i == d->nlines - 1 ? left
                        : subtotal ? round_div(d->discount * l->net, subtotal) : 0;
        left -= share;
        tax += round_div((l->net - share) * l->rate, 10000);
    }
    *total = subtotal - d->discount + tax + d->shipping;
    return 0;
}

static int
emit_rows(struct inb *in, const struct group *g, const struct draft *d,
          const struct pb_store_cfg *sc, struct pb_error *err)
{
    const struct pb_rec *o = &g->rows[0];
    int ret = d->is_return;
    char key[300];
    snprintf(key, sizeof(key), "%s:%s:%s", d->store, d->key_kind, d->id);
    const char *email = pb_rec_get(o, ret ? PB_RETURNS_CUSTOMER_EMAIL : PB_ORDERS_CUSTOMER_EMAIL,
                                   NULL);
    char ckey[200] = "";
    if (email) {
        size_t k = (size_t)snprintf(ckey, sizeof(ckey), "email:%s", email);
        for (size_t i = 6; i < k && i < sizeof(ckey); i++)
            if (ckey[i] >= 'A' && ckey[i] <= 'Z')
                ckey[i] = (char)(ckey[i] + 32);
    }
    for (int i = 0; i < d->nlines; i++) {
        const struct line *l = &d->lines[i];
        struct pb_rec *r = new_row(in, err);
        char qty[32];
        if (!r)
            return -1;
        pb_qty_format(l->qty, qty);
        int bad = set(r, PB_RECEIPTS_RECEIPT_KEY, key, 200) || set(r, PB_RECEIPTS_TYPE, ret ? "Return" : "Sales", 0) ||
                  set(r, PB_RECEIPTS_WEB_STORE, d->store, 0) || set(r, PB_RECEIPTS_WEB_NUMBER, d->number, 200) ||
                  set(r, PB_RECEIPTS_TXN_DATE, d->date, 0) ||
                  set(r, PB_RECEIPTS_CASHIER, sc->cashier ? sc->cashier : sc->name, 16) ||
                  set(r, PB_RECEIPTS_LINE_LIST_ID, l->list_id, 0) || set(r, PB_RECEIPTS_LINE_SKU, l->sku, 20) ||
                  set(r, PB_RECEIPTS_LINE_DESC, l->desc, 30) || set(r, PB_RECEIPTS_LINE_QTY, qty, 0) ||
                  set_money(r, PB_RECEIPTS_LINE_PRICE, l->price) ||
                  (l->discount && set_money(r, PB_RECEIPTS_LINE_DISCOUNT, l->discount)) ||
                  set(r, PB_RECEIPTS_LINE_TAX_CODE, l->tax_code, 0) ||
                  (d->shipping && set_money(r, PB_RECEIPTS_SHIPPING, d->shipping)) ||
                  (d->discount && set_money(r, PB_RECEIPTS_DISCOUNT, d->discount));
        if (!bad && sc->qbpos_store != 1) {
            char sn[8];
            snprintf(sn, sizeof(sn), "%d", sc->qbpos_store);
            bad = set(r, PB_RECEIPTS_STORE_NUMBER, sn, 0);
        }
        if (!bad && ckey[0] && !ret) {
            const char *last = pb_rec_get(o, PB_ORDERS_CUSTOMER_LAST_NAME, NULL);
            if (!last)
                last = pb_rec_get(o, PB_ORDERS_CUSTOMER_COMPANY, NULL);
            if (!last)
                last = email;
            bad = set(r, PB_RECEIPTS_CUSTOMER_KEY, ckey, 200) ||
                  set(r, PB_RECEIPTS_CUSTOMER_FIRST_NAME, pb_rec_get(o, PB_ORDERS_CUSTOMER_FIRST_NAME, NULL), 30) ||
                  set(r, PB_RECEIPTS_CUSTOMER_LAST_NAME, last, 30) ||
                  set(r, PB_RECEIPTS_CUSTOMER_COMPANY, pb_rec_get(o, PB_ORDERS_CUSTOMER_COMPANY, NULL), 41) ||
                  set(r, PB_RECEIPTS_CUSTOMER_EMAIL, email, 99) ||
                  set(r, PB_RECEIPTS_CUSTOMER_PHONE, pb_rec_get(o, PB_ORDERS_CUSTOMER_PHONE, NULL), 40);
            static const int from[] = {PB_ORDERS_BILL_STREET, PB_ORDERS_BILL_STREET2, PB_ORDERS_BILL_CITY,
                                       PB_ORDERS_BILL_STATE, PB_ORDERS_BILL_POSTAL_CODE, PB_ORDERS_BILL_COUNTRY,
                                       PB_ORDERS_SHIP_FULL_NAME, PB_ORDERS_SHIP_COMPANY, PB_ORDERS_SHIP_STREET,
                                       PB_ORDERS_SHIP_STREET2, PB_ORDERS_SHIP_CITY, PB_ORDERS_SHIP_STATE,
                                       PB_ORDERS_SHIP_POSTAL_CODE, PB_ORDERS_SHIP_COUNTRY, PB_ORDERS_SHIP_PHONE,
                                       PB_ORDERS_SHIP_METHOD};
            static const int to[] = {PB_RECEIPTS_BILL_STREET, PB_RECEIPTS_BILL_STREET2, PB_RECEIPTS_BILL_CITY,
                                     PB_RECEIPTS_BILL_STATE, PB_RECEIPTS_BILL_POSTAL_CODE, PB_RECEIPTS_BILL_COUNTRY,
                                     PB_RECEIPTS_SHIP_FULL_NAME, PB_RECEIPTS_SHIP_COMPANY, PB_RECEIPTS_SHIP_STREET,
                                     PB_RECEIPTS_SHIP_STREET2, PB_RECEIPTS_SHIP_CITY, PB_RECEIPTS_SHIP_STATE,
                                     PB_RECEIPTS_SHIP_POSTAL_CODE, PB_RECEIPTS_SHIP_COUNTRY, PB_RECEIPTS_SHIP_PHONE,
                                     PB_RECEIPTS_SHIP_BY};
            for (size_t k = 0; !bad && k < sizeof(from) / sizeof(from[0]); k++)
                bad = set(r, to[k], pb_rec_get(o, from[k], NULL),
                          (size_t)r->schema->fields[to[k]].maxlen);
        }
        for (int k = 0; !bad && k < d->nt; k++) {
            bad = set(r, PB_RECEIPTS_TENDER_01_TYPE + k, d->t[k].type, 0) ||
                  set(r, PB_RECEIPTS_TENDER_01_CARD_NAME + k, d->t[k].card, 16) ||
                  set_money(r, PB_RECEIPTS_TENDER_01_AMOUNT + k, d->t[k].amount);
        }
        if (bad)
            return pb_error_set(err, PB_EOS, "out of memory");
    }
    return 0;
}

/* One order or refund -> receipt rows, or a reject.  -1 only on a system error. */
static int
build(struct inb *in, const struct group *g, int is_return, struct pb_error *err)
{
    const struct pb_rec *o = &g->rows[0];
    /* field numbers differ between orders and returns */
    const int F_STORE = is_return ? PB_RETURNS_STORE : PB_ORDERS_STORE;
    const int F_SKU = is_return ? PB_RETURNS_LINE_SKU : PB_ORDERS_LINE_SKU;
    const int F_TITLE = is_return ? PB_RETURNS_LINE_TITLE : PB_ORDERS_LINE_TITLE;
    const int F_QTY = is_return ? PB_RETURNS_LINE_QTY : PB_ORDERS_LINE_QTY;
    const int F_PRICE = is_return ? PB_RETURNS_LINE_PRICE : PB_ORDERS_LINE_PRICE;
    const int F_GW = is_return ? PB_RETURNS_TENDER_01_GATEWAY : PB_ORDERS_TENDER_01_GATEWAY;
    const int F_AMT = is_return ? PB_RETURNS_TENDER_01_AMOUNT : PB_ORDERS_TENDER_01_AMOUNT;
    const int F_TOTAL = is_return ? PB_RETURNS_REFUND_TOTAL : PB_ORDERS_TOTAL;
    const int F_DATE = is_return ? PB_RETURNS_CREATED_AT : PB_ORDERS_SHIPPED_AT;
    struct draft d;
    memset(&d, 0, sizeof(d));
    d.is_return = is_return;
    d.store = pb_rec_get(o, F_STORE, NULL);
    d.key_kind = is_return ? "return" : "order";
    d.id = pb_rec_get(o, is_return ? PB_RETURNS_RETURN_ID : PB_ORDERS_ORDER_ID, NULL);
    d.number = pb_rec_get(o, PB_ORDERS_ORDER_NUMBER, NULL);
    if (is_return)
        d.number = pb_rec_get(o, PB_RETURNS_ORDER_NUMBER, NULL);
    int si = store_index(in->cfg, d.store);
    if (si < 0)
        return reject(in, g, "store", "store '%s' is not in the configuration", d.store);
    const struct pb_store_cfg *sc = &in->cfg->stores[si];
    const char *cur = pb_rec_get(o, is_return ? PB_RETURNS_CURRENCY : PB_ORDERS_CURRENCY, NULL);
    if (cur && strcasecmp(cur, in->cfg->currency))
        return reject(in, g, "currency", "%s %s is in %s; QBPOS keeps %s", d.key_kind, d.number,
                      cur, in->cfg->currency);
    if (!in->maps[si]) {
        if (!(in->maps[si] = pb_maps_new(in->cfg->maps_ci)))
            return pb_error_set(err, PB_EOS, "out of memory");
        for (int i = 0; i < in->cfg->maps.n; i++)
            if (pb_maps_load(in->maps[si], in->cfg->maps.v[i], err) < 0)
                return -1;
        for (int i = 0; i < sc->maps.n; i++)
            if (pb_maps_load(in->maps[si], sc->maps.v[i], err) < 0)
                return -1;
    }
    int64_t when = 0;
    const char *ts = pb_rec_get(o, F_DATE, NULL);
    if (!ts)
        ts = pb_rec_get(o, is_return ? PB_RETURNS_UPDATED_AT : PB_ORDERS_CREATED_AT, NULL);
    const char *why;
    if (ts && pb_time_parse(ts, strlen(ts), NULL, 0, &when, &why) == 0)
        pb_time_local_date(when, in->cfg->qbpos_tz, d.date);
    d.lines = calloc((size_t)g->n, sizeof(*d.lines));
    if (!d.lines)
        return pb_error_set(err, PB_EOS, "out of memory");
    int rc = 0;
    for (int i = 0; i < g->n; i++) {
        const struct pb_rec *r = &g->rows[i];
        const char *sku = pb_rec_get(r, F_SKU, NULL);
        int64_t qty = 0;
        if (is_return && !sku && pb_rec_qty(r, F_QTY, &qty) != 0)
            continue; /* money only, no item back */
        if (!sku) {
            rc = reject(in, g, "line_sku", "%s %s: line %ld has no SKU; QBPOS needs an item for "
                        "every line", d.key_kind, d.number, r->line);
            goto out;
        }
        struct line *l = &d.lines[d.nlines++];
        json_t *it = json_object_get(in->items, sku);
        l->sku = sku;
        l->list_id = json_string_value(json_object_get(it, "list_id"));
        l->tax_code = json_string_value(json_object_get(it, "tax_code"));
        l->desc = json_string_value(json_object_get(it, "desc"));
        if (!l->desc)
            l->desc = pb_rec_get(r, F_TITLE, NULL);
        if (!l->list_id)
            l->list_id = state_list_id(in, d.store, sku);
        if (!l->list_id) {
            rc = reject(in, g, "line_sku",
                        "%s %s: SKU '%s' is not a QBPOS item (not in the newest export nor "
                        "in what was sent to store '%s')",
                        d.key_kind, d.number, sku, d.store);
            goto out;
        }
        if (pb_rec_qty(r, F_QTY, &l->qty) != 0 || l->qty <= 0) {
            rc = reject(in, g, "line_qty", "%s %s: SKU '%s' has no positive quantity",
                        d.key_kind, d.number, sku);
            goto out;
        }
        l->price = money_of(r, F_PRICE);
        l->discount = money_of(r, is_return ? PB_RETURNS_LINE_DISCOUNT : PB_ORDERS_LINE_DISCOUNT);
    }
    if (!d.nlines) {
        rc = reject(in, g, NULL, "%s %s has no item lines: nothing for QBPOS to record",
                    d.key_kind, d.number);
        goto out;
    }
    d.shipping = is_return ? money_of(o, PB_RETURNS_REFUND_SHIPPING)
                           : money_of(o, PB_ORDERS_SHIPPING) + money_of(o, PB_ORDERS_SHIPPING_TAX);
    d.discount = is_return ? 0 : money_of(o, PB_ORDERS_ORDER_DISCOUNT);
    d.web_total = money_of(o, F_TOTAL);
    char why2[400];
    for (int k = 0; k < NT; k++) {
        const char *gw = pb_rec_get(o, F_GW + k, NULL);
        int64_t amt = money_of(o, F_AMT + k);
        if (!gw && !amt)
            continue;
        if (tender_of(in, sc, si, gw ? gw : "", &d.t[d.nt], why2, sizeof(why2)) < 0) {
            rc = reject(in, g, "tender_01_gateway", "%s %s: %s", d.key_kind, d.number, why2);
            goto out;
        }
        d.t[d.nt++].amount = amt;
    }
    if (!d.nt) {
        /* the platform named no payment: the whole total, through the default row */
        if (tender_of(in, sc, si, "", &d.t[0], why2, sizeof(why2)) < 0) {
            rc = reject(in, g, "tender_01_gateway", "%s %s: no payment given and %s", d.key_kind,
                        d.number, why2);
            goto out;
        }
        d.t[0].amount = d.web_total;
        d.nt = 1;
    }
    int64_t total, paid = 0;
    const char *missing = NULL;
    if (pos_total(in, &d, &total, &missing) < 0) {
        rc = reject(in, g, "line_sku", "%s %s: tax code '%s' has no rate in [qbpos] tax_rates, "
                    "so the receipt cannot be balanced the way QBPOS checks it",
                    d.key_kind, d.number, missing);
        goto out;
    }
    for (int k = 0; k < d.nt; k++)
        paid += d.t[k].amount;
    int64_t diff = total - paid;
    if (diff) {
        char a[32], b[32];
        pb_money_format(paid, a);
        pb_money_format(total, b);
        if (diff > TOLERANCE || diff < -TOLERANCE) {
            rc = reject(in, g, "total",
                        "%s %s: the web store took %s but QBPOS would total %s with its tax "
                        "rates; check [qbpos] tax_rates, or edit qbpos/receipts by hand",
                        d.key_kind, d.number, a, b);
            goto out;
        }
        int big = 0;
        for (int k = 1; k < d.nt; k++)
            big = d.t[k].amount > d.t[big].amount ? k : big;
        d.t[big].amount += diff;
        pb_log(PB_LOG_WARN, "%s %s: web total %s, QBPOS total %s: the %s tender takes the "
               "rounding difference", d.key_kind, d.number, a, b, d.t[big].type);
        in->res->adjusted++;
    }
    rc = emit_rows(in, g, &d, sc, err);
    if (rc == 0)
        in->res->receipts++;
out:
    free(d.lines);
    return rc;
}

int
pb_transform_inbound(const struct pb_config *cfg, const char *batch_dir,
                     struct pb_inbound_result *res, struct pb_error *err)
{
    struct inb in;
    struct groups orders = {0}, returns = {0};
    char *opath = NULL, *orel = NULL, *rpath = NULL, *rrel = NULL, *qdir = NULL, *out = NULL;
    struct pb_columns cols;
    int rc = -1, rejects_open = 0, cols_open = 0;
    memset(&in, 0, sizeof(in));
    memset(res, 0, sizeof(*res));
    in.cfg = cfg;
    in.res = res;
    orders.index = json_object();
    returns.index = json_object();
    in.states = json_object();
    if (pb_batch_open(&in.batch, batch_dir, err) < 0)
        goto done;
    opath = find_file(batch_dir, "orders", &orel);
    rpath = find_file(batch_dir, "returns", &rrel);
    if (!opath && !rpath) {
        pb_error_set(err, PB_ENOINPUT, "'%s' has no orders or returns", batch_dir);
        goto done;
    }
    qdir = pb_batch_file(&in.batch, "qbpos");
    struct pb_buf b = PB_BUF_INIT;
    if (!qdir || pb_mkdirs(qdir, 0755, err) < 0 || pb_buf_addf(&b, "%s/rejects.csv", qdir) < 0)
        goto done;
    if (pb_rejects_init(&in.rejects, b.data, "transform", err) < 0) {
        pb_buf_release(&b);
        goto done;
    }
    pb_buf_release(&b);
    rejects_open = 1;
    if (load_items(&in, err) < 0)
        goto done;
    if (opath) {
        in.file = orel;
        if (read_groups(&in, opath, orel, &pb_schema_orders, PB_ORDERS_STORE, PB_ORDERS_ORDER_ID,
                        &orders, err) < 0)
            goto done;
        for (int i = 0; i < orders.n; i++) {
            res->orders++;
            if (!orders.v[i].bad && build(&in, &orders.v[i], 0, err) < 0)
                goto done;
        }
    }
    if (rpath) {
        in.file = rrel;
        if (read_groups(&in, rpath, rrel, &pb_schema_returns, PB_RETURNS_STORE,
                        PB_RETURNS_RETURN_ID, &returns, err) < 0)
            goto done;
        for (int i = 0; i < returns.n; i++) {
            res->returns++;
            if (!returns.v[i].bad && build(&in, &returns.v[i], 1, err) < 0)
                goto done;
        }
    }
    /* Write every receipt row, columns as used. */
    if (pb_columns_init(&cols, &pb_schema_receipts) < 0) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto done;
    }
    cols_open = 1;
    for (int i = 0; i < in.nout; i++)
        if (pb_columns_note(&cols, &in.out[i]) < 0) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto done;
        }
    const char *ext = cfg->format == PB_ENC_CSV ? "csv" : "jsonl";
    struct pb_buf rel = PB_BUF_INIT;
    if (pb_buf_addf(&rel, "qbpos/receipts.%s%s", ext, cfg->gzip ? ".gz" : "") < 0 ||
        !(out = pb_batch_file(&in.batch, rel.data))) {
        pb_buf_release(&rel);
        pb_error_set(err, PB_EOS, "out of memory");
        goto done;
    }
    struct pb_writer *w = pb_writer_open(out, &pb_schema_receipts, cfg->format, cfg->gzip, &cols,
                                         err);
    if (!w) {
        pb_buf_release(&rel);
        goto done;
    }
    for (int i = 0; i < in.nout; i++)
        if (pb_writer_put(w, &in.out[i], err) < 0) {
            pb_writer_abort(w);
            pb_buf_release(&rel);
            goto done;
        }
    char sha[65], rsha[65];
    uint64_t count;
    json_t *stage = pb_batch_stage(&in.batch, "transform");
    if (pb_writer_commit(w, sha, &count, err) < 0 ||
        pb_batch_add_output(stage, rel.data, sha, count, err) < 0 ||
        pb_rejects_commit(&in.rejects, rsha, err) < 0) {
        pb_buf_release(&rel);
        goto done;
    }
    pb_buf_release(&rel);
    if (in.rejects.count &&
        pb_batch_add_output(stage, "qbpos/rejects.csv", rsha, in.rejects.count, err) < 0)
        goto done;
    json_object_set_new(stage, "orders", json_integer((json_int_t)res->orders));
    json_object_set_new(stage, "returns", json_integer((json_int_t)res->returns));
    json_object_set_new(stage, "receipts", json_integer((json_int_t)res->receipts));
    json_object_set_new(stage, "rejected", json_integer((json_int_t)res->rejected));
    rc = pb_batch_save(&in.batch, err);
done:
    if (cols_open)
        pb_columns_release(&cols);
    if (rejects_open)
        pb_rejects_release(&in.rejects);
    for (int i = 0; i < in.nout; i++)
        pb_rec_release(&in.out[i]);
    free(in.out);
    for (int i = 0; i < PB_MAX_STORES; i++)
        pb_maps_free(in.maps[i]);
    groups_release(&orders);
    groups_release(&returns);
    json_decref(in.items);
    json_decref(in.states);
    pb_batch_release(&in.batch);
    free(opath);
    free(orel);
    free(rpath);
    free(rrel);
    free(qdir);
    free(out);
    return rc;
}
