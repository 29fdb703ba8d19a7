/*
 * One QBPOS style -> one web product for one store: options, prices, quantities, the
 * platform's limits, and the rows (or rejects) that result.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <strings.h>

#include "pb_schemas.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/money.h"
#include "posbridge/transform.h"
#include "transform_int.h"
#include "posbridge/banned.h"

/* Shopify: 2,048 variants, 255-character title and SKU.  BigCommerce: 600 variant SKUs
 * per product, 250-character name, UPC up to 14, SKUs unique ignoring case.  Magento: SKU
 * up to 64, unique ignoring case (its database collation).  WooCommerce: SKUs unique. */
static const struct pb_limits limits[] = {
    [PB_SHOPIFY] = {2048, 255, 255, 255, 0},
    [PB_BIGCOMMERCE] = {600, 250, 255, 14, 1},
    [PB_WOOCOMMERCE] = {0, 0, 0, 0, 0},
    [PB_MAGENTO] = {0, 255, 64, 0, 1},
};

const struct pb_limits *
pb_limits_for(enum pb_platform_id p)
{
    return &limits[p];
}

/* ---- small helpers ---- */

static size_t
chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xc0) != 0x80;
    return c;
}

char *
pb_slug(const char *s, size_t len)
{
    /* Latin-1 letters folded to ASCII, so "Café" and "Jalapeño" make readable handles. */
    static const char *const fold[64] = {
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
        "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
        "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "y",
    };
    struct pb_buf b = PB_BUF_INIT;
    int dash = 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *add = NULL;
        char one[2] = {0, 0};
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            one[0] = (char)c;
            add = one;
        } else if (c >= 'A' && c <= 'Z') {
            one[0] = (char)(c - 'A' + 'a');
            add = one;
        } else if (c == 0xc3 && i + 1 < len) {
            unsigned char d = (unsigned char)s[++i];
            if (d >= 0x80 && d <= 0xbf)
                add = fold[d - 0x80];
        } else if (c >= 0x80) {
            while (i + 1 < len && ((unsigned char)s[i + 1] & 0xc0) == 0x80)
                i++; /* other non-ASCII letters: dropped */
            continue;
        } else if (c == '\'' || c == 0x60) {
            continue; /* "Sailor's" -> "sailors" */
        }
        if (add && *add) {
            if (pb_buf_adds(&b, add) < 0)
                goto oom;
            dash = 0;
        } else if (!dash) {
            if (pb_buf_addch(&b, '-') < 0)
                goto oom;
            dash = 1;
        }
    }
    while (b.len && b.data[b.len - 1] == '-')
        pb_buf_truncate(&b, b.len - 1);
    if (b.len > 200)
        pb_buf_truncate(&b, 200);
    if (!b.len && pb_buf_adds(&b, "item") < 0)
        goto oom;
    return pb_buf_detach(&b, NULL);
oom:
    pb_buf_release(&b);
    return NULL;
}

uint64_t
pb_content_hash(uint64_t h, const char *s, size_t n)
{
    /* Eight bytes at a time, each word multiplied in; the length closes every value, so
     * ("ab","c") and ("a","bc") differ.  Not cryptographic: it spots changes. */
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    /* The last 0-7 bytes, as a little-endian load of them would give, from loads that
     * stay inside the value (overlapping ones put the same bytes in the same places). */
    uint64_t w = 0;
    size_t r = n - i;
    const unsigned char *t = (const unsigned char *)s + i;
    if (r && n >= 8) {
        memcpy(&w, s + n - 8, 8);
        w >>= 8 * (8 - r);
    } else if (r >= 4) {
        uint32_t a, b;
        memcpy(&a, t, 4);
        memcpy(&b, t + r - 4, 4);
        w = a | (uint64_t)b << (8 * (r - 4));
    } else if (r) {
        w = t[0] | (uint64_t)t[r / 2] << (8 * (r / 2)) | (uint64_t)t[r - 1] << (8 * (r - 1));
    }
    h = (h ^ w ^ ((uint64_t)n << 56)) * k;
    h ^= h >> 32;
    return h;
}

/* The content hash over fields [from, to) of a row, continuing from h. */
static uint64_t
row_hash_fields(const struct pb_rec *row, int from, int to, uint64_t h)
{
    /* Every field but the quantities and the hash itself. */
    size_t k;
    for (int f = from; f < to; f++) {
        if (f == PB_PRODUCTS_INVENTORY_QTY || f == PB_PRODUCTS_CONTENT_HASH ||
            (f >= PB_PRODUCTS_LOCATION_QTY_01 && f <= PB_PRODUCTS_LOCATION_QTY_20))
            continue;
        const char *fv = pb_rec_get(row, f, &k);
        h = pb_content_hash(h, fv ? fv : "", fv ? k : 0);
    }
    return h;
}

#define ROW_HASH_SEED 0x243f6a8885a308d3ull

static void
row_hash_hex(uint64_t h, char hex[17])
{
    for (int x = 15; x >= 0; x--, h >>= 4)
        hex[x] = "0123456789abcdef"[h & 15];
    hex[16] = '\0';
}

void
pb_products_row_hash(const struct pb_rec *row, char hex[17])
{
    row_hash_hex(row_hash_fields(row, 0, row->schema->nfields, ROW_HASH_SEED), hex);
}

/* The hash of a SKU as the set keeps it (lower-cased when ci). */
static uint64_t
sku_hash(const char *s, size_t n, int ci)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (ci && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 1099511628211ull;
    }
    return h;
}

void
pb_skuset_free(struct pb_skuset *s)
{
    free(s->keys);
    free(s->slot);
    memset(s, 0, sizeof(*s));
}

/* A copy of the SKU (lower-cased when the platform ignores case) at the end of the set's
 * keys, after its owner: the copy's offset, or SIZE_MAX out of memory (or past what a
 * slot can say). */
static size_t
sku_norm(struct pb_skuset *s, const char *sku, size_t n, int ci, uint32_t owner)
{
    size_t need = 4 + n + 1;
    if (s->keys_len + need > s->keys_cap) {
        size_t cap = s->keys_cap ? s->keys_cap : 65536;
        while (s->keys_len + need > cap)
            cap *= 2;
        char *k = cap < UINT32_MAX ? realloc(s->keys, cap) : NULL;
        if (!k)
            return SIZE_MAX;
        s->keys = k;
        s->keys_cap = cap;
    }
    memcpy(s->keys + s->keys_len, &owner, 4);
    size_t at = s->keys_len + 4;
    char *k = s->keys + at;
    s->keys_len += need;
    for (size_t i = 0; i < n; i++) {
        char c = sku[i];
        k[i] = ci && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    k[n] = '\0';
    return at;
}

/* Slot for the key at offset `at` of the set's keys: where it is, or the empty slot where
 * it would go. */
static size_t
sku_slot(const struct pb_skuset *s, size_t at, uint64_t h)
{
    size_t j = (size_t)h & (s->cap - 1);
    const char *key = s->keys + at;
    while (s->slot[j].key &&
           (s->slot[j].hash != (uint32_t)h || strcmp(s->keys + s->slot[j].key - 1, key) != 0))
        j = (j + 1) & (s->cap - 1);
    return j;
}

/*
 * A zeroed slot array.  A big one is asked for in huge pages: the slots are looked up
 * at random, and with small pages nearly every lookup also misses the TLB.
 */
static struct pb_skuslot *
slots_alloc(size_t cap)
{
    size_t bytes = cap * sizeof(struct pb_skuslot);
    const size_t huge = 2u << 20;
    if (bytes < huge / 2)
        return calloc(cap, sizeof(struct pb_skuslot));
    void *p = NULL;
    bytes = (bytes + huge - 1) & ~(huge - 1);
    if (posix_memalign(&p, huge, bytes) != 0)
        return NULL;
    madvise(p, bytes, MADV_HUGEPAGE); /* a hint: small pages work too */
    memset(p, 0, bytes);
    return p;
}

static int
sku_grow(struct pb_skuset *s, size_t more)
{
    if (s->cap && (s->n + more) * 2 <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 1024;
    while ((s->n + more) * 2 > cap)
        cap *= 2;
    if (cap > (size_t)UINT32_MAX + 1)
        return -1; /* a slot's hash places it only so far */
    struct pb_skuslot *slot = slots_alloc(cap);
    if (!slot)
        return -1;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i].key) {
            size_t j = (size_t)s->slot[i].hash & (cap - 1);
            while (slot[j].key)
                j = (j + 1) & (cap - 1);
            slot[j] = s->slot[i];
        }
    free(s->slot);
    s->slot = slot;
    s->cap = cap;
    return 0;
}

int
pb_skuset_reserve(struct pb_skuset *s, size_t n)
{
    return sku_grow(s, n);
}

/* ---- rejects ---- */

int
pb_product_reject_item(struct pb_store_out *so, const struct pb_rec *item, const char *field,
                       const char *reason, struct pb_error *err)
{
    struct pb_error why;
    pb_error_init(&why);
    pb_error_at(&why, PB_EDATA, item->file, item->line, -1, item->record_no, field, "%s",
                reason);
    so->rejected_items++;
    return pb_rejects_add(&so->rejects, &why, item, err);
}

/* A product key as a message shows it: at most 80 bytes, cut between characters. */
#define KEY_SHOWN 80
static const char *
shown_key(const char *key, char out[KEY_SHOWN + 4])
{
    size_t n = strlen(key);
    if (n <= KEY_SHOWN)
        return key;
    n = KEY_SHOWN;
    while (n && ((unsigned char)key[n] & 0xc0) == 0x80)
        n--; /* key[n] would continue a character */
    memcpy(out, key, n);
    memcpy(out + n, "...", 4);
    return out;
}

static int
reject_product(struct pb_store_out *so, const struct pb_style *st, struct pb_rec *items,
               const int *ok, int n, const char *field, const char *reason,
               struct pb_error *err)
{
    char msg[400];
    char shown[KEY_SHOWN + 4];
    snprintf(msg, sizeof(msg), "product '%s' rejected for %s: %s", shown_key(st->key, shown),
             pb_platform_name(so->cfg->platform), reason);
    pb_log(PB_LOG_WARN, "%s: %s", so->cfg->name, msg);
    so->rejected_products++;
    for (int i = 0; i < n; i++)
        if (ok[i] && pb_product_reject_item(so, &items[i], field, msg, err) < 0)
            return -1;
    return 0;
}

/* ---- values ---- */

static const char *
get(const struct pb_rec *r, int f, size_t *n)
{
    const char *v = pb_rec_get(r, f, n);
    if (!v)
        *n = 0;
    return v;
}

static int
price_field(int level)
{
    switch (level) {
    case 1: return PB_ITEMS_PRICE1;
    case 2: return PB_ITEMS_PRICE2;
    case 3: return PB_ITEMS_PRICE3;
    case 4: return PB_ITEMS_PRICE4;
    case 5: return PB_ITEMS_PRICE5;
    case PB_PRICE_WEB: return PB_ITEMS_WEB_PRICE;
    case PB_PRICE_MSRP: return PB_ITEMS_MSRP;
    }
    return -1;
}

static int
sku_field(enum pb_sku_field f)
{
    return f == PB_SKU_ALU ? PB_ITEMS_ALU : f == PB_SKU_UPC ? PB_ITEMS_UPC : PB_ITEMS_ITEM_NUMBER;
}

/* Whole units from a fixed-point quantity, after the safety buffer, never negative. */
static int64_t
publishable(int64_t q, const struct pb_pricing *p)
{
    q -= p->safety_buffer;
    if (q <= 0)
        return 0;
    const int64_t unit = 10000; /* PB_QTY_SCALE */
    switch (p->rounding) {
    case PB_ROUND_DOWN: return q / unit;
    case PB_ROUND_UP: return (q + unit - 1) / unit;
    case PB_ROUND_NEAREST: return (q + unit / 2) / unit;
    }
    return q / unit;
}

static int64_t
qty_of(const struct pb_rec *r, int f)
{
    int64_t q;
    return pb_rec_qty(r, f, &q) == 0 ? q : 0;
}

/* An option value: the item's field (or x_ column) through the map for that option. */
static int
option_value(struct pb_maps *maps, const struct pb_rec *r, const struct pb_config *cfg, int axis,
             const char **out, size_t *n, struct pb_uses *uses)
{
    const char *v = NULL;
    *n = 0;
    *out = NULL;
    if (axis == 0)
        v = get(r, PB_ITEMS_ATTRIBUTE, n);
    else if (axis == 1)
        v = get(r, PB_ITEMS_SIZE, n);
    else if (cfg->option3_field) {
        int f = pb_schema_field(r->schema, cfg->option3_field, strlen(cfg->option3_field));
        if (f >= 0) {
            v = get(r, f, n);
        } else {
            for (size_t k = 0; k < r->nextra; k++)
                if (!strcmp(pb_rec_extra_name(r, k), cfg->option3_field))
                    v = pb_rec_extra_value(r, k, n);
        }
    }
    if (!v || !*n)
        return 0;
    int mapped;
    static const enum pb_map_field mf[3] = {PB_MAP_ATTRIBUTE, PB_MAP_SIZE, PB_MAP_OPTION3};
    size_t vn = *n;
    *out = pb_maps_apply(maps, mf[axis], v, n, &mapped);
    if (mapped || !pb_maps_has(maps, mf[axis]))
        return 0;
    if (uses->n == uses->cap) {
        size_t cap = uses->cap ? uses->cap * 2 : 64;
        struct pb_unmapped_use *u = realloc(uses->v, cap * sizeof(*u));
        if (!u)
            return -1;
        uses->v = u;
        uses->cap = cap;
    }
    uses->v[uses->n++] = (struct pb_unmapped_use){mf[axis], v, vn};
    return 0;
}

static int
set(struct pb_rec *row, int f, const char *v, size_t n)
{
    return v && n ? pb_rec_set(row, f, v, n) : 0;
}

static int
set_s(struct pb_rec *row, int f, const char *v)
{
    return v ? set(row, f, v, strlen(v)) : 0;
}

/* "Tub, Beach, Harbor" -> tags through the tag map (empty drops one), without repeats. */
static int
tags_of(struct pb_maps *maps, const struct pb_rec *r, struct pb_buf *out)
{
    size_t n;
    const char *kw = get(r, PB_ITEMS_KEYWORDS, &n);
    pb_buf_reset(out);
    while (kw && n) {
        const char *comma = memchr(kw, ',', n);
        size_t k = comma ? (size_t)(comma - kw) : n;
        const char *t = kw;
        size_t tl = k;
        while (tl && (*t == ' ' || *t == '\t'))
            t++, tl--;
        while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
            tl--;
        int mapped;
        if (tl)
            t = pb_maps_apply(maps, PB_MAP_TAG, t, &tl, &mapped);
        if (tl) {
            /* skip repeats */
            int dup = 0;
            for (const char *p = out->data; p && *p;) {
                const char *e = strstr(p, ", ");
                size_t pl = e ? (size_t)(e - p) : strlen(p);
                if (pl == tl && !memcmp(p, t, tl))
                    dup = 1;
                p = e ? e + 2 : NULL;
            }
            if (!dup && ((out->len && pb_buf_add(out, ", ", 2) < 0) || pb_buf_add(out, t, tl) < 0))
                return -1;
        }
        if (!comma)
            break;
        n -= k + 1;
        kw = comma + 1;
    }
    return 0;
}

/* Product-level fields that should agree across a style: per field, the first item whose
 * value is not the first item's, or -1. */
static const int shared[5] = {PB_ITEMS_MANUFACTURER, PB_ITEMS_VENDOR_CODE, PB_ITEMS_TAX_CODE,
                              PB_ITEMS_WEB_DESC, PB_ITEMS_KEYWORDS};

static void
agreement(const struct pb_rec *items, const int *ok, int n, int first, int differ[5])
{
    for (size_t s = 0; s < 5; s++) {
        size_t an, bn;
        const char *a = get(&items[first], shared[s], &an);
        differ[s] = -1;
        for (int i = first + 1; i < n && differ[s] < 0; i++) {
            if (!ok[i])
                continue;
            const char *b = get(&items[i], shared[s], &bn);
            if (!(an == bn && (!an || !memcmp(a, b, an))))
                differ[s] = i;
        }
    }
}

/* Say which fields style st's items disagree on (agreement), for store so. */
static void
warn_disagreement(const struct pb_store_out *so, const struct pb_style *st,
                  const struct pb_rec *items, int first, const int differ[5])
{
    char shown[KEY_SHOWN + 4];
    for (size_t s = 0; s < 5; s++) {
        int i = differ[s];
        if (i < 0)
            continue;
        size_t an, bn, x, y;
        const char *a = get(&items[first], shared[s], &an);
        const char *b = get(&items[i], shared[s], &bn);
        const char *na = get(&items[first], PB_ITEMS_ITEM_NUMBER, &x);
        const char *nb = get(&items[i], PB_ITEMS_ITEM_NUMBER, &y);
        pb_log(PB_LOG_WARN,
               "%s: style '%s': items %.*s and %.*s differ in '%s' ('%.*s' vs '%.*s'); "
               "using item %.*s's",
               so->cfg->name, shown_key(st->key, shown), (int)x, na ? na : "", (int)y, nb ? nb : "",
               items->schema->fields[shared[s]].name, (int)an, a ? a : "", (int)bn, b ? b : "",
               (int)x, na ? na : "");
    }
}

struct variant {
    const char *opt[3];
    size_t optn[3];
    const char *sku;
    size_t skun;
};

/* Room for a style of n items in the per-product scratch. */
static int
scratch_for(struct pb_scratch *sc, int n)
{
    if (n <= sc->cap)
        return 0;
    int cap = n > 64 ? n : 64;
    int *o2 = realloc(sc->ok, (size_t)cap * sizeof(int));
    if (o2)
        sc->ok = o2;
    void *v2 = realloc(sc->var, (size_t)cap * sizeof(struct variant));
    if (v2)
        sc->var = v2;
    size_t *k2 = realloc(sc->keys, (size_t)cap * sizeof(size_t));
    if (k2)
        sc->keys = k2;
    uint64_t *h2 = realloc(sc->khash, (size_t)cap * sizeof(uint64_t));
    if (h2)
        sc->khash = h2;
    if (!o2 || !v2 || !k2 || !h2)
        return -1;
    sc->cap = cap;
    return 0;
}

void
pb_scratch_free(struct pb_scratch *sc)
{
    free(sc->ok);
    free(sc->var);
    free(sc->keys);
    free(sc->khash);
    pb_buf_release(&sc->tags);
    memset(sc, 0, sizeof(*sc));
}

/* The option values of the items that have a SKU, through the maps; which axes are used.
 * The values the maps had no row for go on uses.  -1: out of memory. */
static int
options_of(struct pb_maps *maps, const struct pb_config *cfg, struct pb_rec *items, int n,
           const int *ok, struct variant *var, int axis_used[3], struct pb_uses *uses)
{
    for (int i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        for (int a = 0; a < 3; a++) {
            if (option_value(maps, &items[i], cfg, a, &var[i].opt[a], &var[i].optn[a], uses) < 0)
                return -1;
            axis_used[a] |= var[i].opt[a] != NULL;
        }
    }
    return 0;
}

/* Per item with a SKU: the first earlier one with the same options, or -1. */
static void
duplicates(const int *ok, int n, const struct variant *var, int *dup_of)
{
    for (int i = 0; i < n; i++) {
        dup_of[i] = -1;
        if (!ok[i])
            continue;
        for (int j = 0; j < i && dup_of[i] < 0; j++) {
            if (!ok[j])
                continue;
            int same = 1;
            for (int a = 0; a < 3 && same; a++)
                same = var[i].optn[a] == var[j].optn[a] &&
                       (!var[i].optn[a] || !memcmp(var[i].opt[a], var[j].opt[a], var[i].optn[a]));
            if (same)
                dup_of[i] = j;
        }
    }
}

/* The product's vendor as the item gives it (before the vendor map). */
static const char *
vendor_of(const struct pb_config *cfg, const struct pb_rec *head, size_t *n)
{
    const char *v = cfg->vendor_from_manufacturer ? get(head, PB_ITEMS_MANUFACTURER, n) : NULL;
    return v ? v : get(head, PB_ITEMS_VENDOR_CODE, n);
}

/* The fields up to status are the product's, the same in each of its rows; the
 * quantities are each store's; the rest are the variant's. */
#define PRODUCT_END (PB_PRODUCTS_STATUS + 1)
#define QTY_FROM PB_PRODUCTS_INVENTORY_QTY
#define QTY_END PB_PRODUCTS_QBPOS_LIST_ID

static int
put_seg(const struct pb_writer *w, const struct pb_rec *row, int from, int to,
        struct pb_buf *out, struct pb_seg *seg)
{
    size_t at = out->len;
    if (pb_writer_encode(w, row, from, to, out) < 0 || out->len - at > UINT32_MAX ||
        at > UINT32_MAX)
        return -1;
    seg->off = (uint32_t)at;
    seg->len = (uint32_t)(out->len - at);
    return 0;
}

int
pb_product_build(struct pb_builder *b, const struct pb_config *cfg, const struct pb_style *st,
                 struct pb_rec *items, int n, struct pb_buf *out, struct pb_built *bl,
                 struct pb_error *err)
{
    const struct pb_pricing *pr = &b->sc->pricing;
    struct pb_scratch *sc = &b->scratch;
    if (scratch_for(sc, n) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    int *ok = sc->ok, first = -1;
    struct variant *var = sc->var;
    memset(var, 0, (size_t)n * sizeof(*var));
    memset(bl->variant, 0, (size_t)n * sizeof(*bl->variant));
    memset(bl->tail, 0, (size_t)n * sizeof(*bl->tail));
    memset(&bl->product, 0, sizeof(bl->product));
    bl->facts.use_from = bl->facts.use_to = bl->uses->n;
    int sf = sku_field(cfg->sku);
    for (int i = 0; i < n; i++) {
        var[i].sku = get(&items[i], sf, &var[i].skun);
        ok[i] = var[i].sku != NULL;
        if (ok[i] && first < 0)
            first = i;
    }
    if (first < 0)
        return 0;
    int axis_used[3] = {0, 0, 0};
    struct pb_facts *fx = &bl->facts;
    if (options_of(b->maps, cfg, items, n, ok, var, axis_used, bl->uses) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    fx->use_to = bl->uses->n;
    /* What each store's checks need, once for all of them. */
    duplicates(ok, n, var, fx->dup_of);
    for (int i = 0; i < n; i++)
        fx->sku_chars[i] = ok[i] ? (uint32_t)chars(var[i].sku, var[i].skun) : 0;
    agreement(items, ok, n, first, fx->differ);
    const char *opt_names[3] = {cfg->attribute_option, cfg->size_option, cfg->option3_name};

    /* Product-level values from the first item. */
    const struct pb_rec *head = &items[first];
    size_t tn = 0, dn = 0, vn = 0, cn = 0, ptn = 0;
    const char *title = get(head, PB_ITEMS_DESC1, &tn);
    fx->title_chars = title ? chars(title, tn) : 0;
    const char *desc = get(head, PB_ITEMS_WEB_DESC, &dn);
    if (!desc)
        desc = get(head, PB_ITEMS_DESC2, &dn);
    const char *vendor = vendor_of(cfg, head, &vn);
    int mapped;
    if (vendor)
        vendor = pb_maps_apply(b->maps, PB_MAP_VENDOR, vendor, &vn, &mapped);
    const char *dept = get(head, PB_ITEMS_DEPARTMENT_CODE, &ptn);
    const char *ptype = NULL, *category = NULL;
    size_t deptn = ptn;
    if (dept) {
        size_t k = ptn;
        ptype = pb_maps_apply(b->maps, PB_MAP_DEPARTMENT, dept, &k, &mapped);
        if (!mapped) {
            size_t nn;
            const char *name = get(head, PB_ITEMS_DEPARTMENT_NAME, &nn);
            if (name)
                ptype = name, k = nn;
        }
        ptn = k;
        if (pb_maps_has(b->maps, PB_MAP_CATEGORY)) {
            cn = deptn;
            category = pb_maps_apply(b->maps, PB_MAP_CATEGORY, dept, &cn, &mapped);
        }
    }
    struct pb_buf *tags = &sc->tags;
    if (tags_of(b->maps, head, tags) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    const char *status = b->sc->new_hidden ? "draft" : "active";
    int pf = price_field(pr->price_level);
    int cf = pr->compare_level ? price_field(pr->compare_level) : -1;

    struct pb_rec *row = &b->row;
    uint64_t prefix = 0;
    for (int i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        const struct pb_rec *it = &items[i];
        size_t k;
        const char *v;
        pb_rec_clear(row);
        int e = 0;
        /* The product's fields are encoded and hashed once, with its first row. */
        if (i == first)
            e = set_s(row, PB_PRODUCTS_PRODUCT_KEY, st->key) |
                set_s(row, PB_PRODUCTS_HANDLE, st->handle) |
                set(row, PB_PRODUCTS_TITLE, title, tn) | set(row, PB_PRODUCTS_DESCRIPTION, desc, dn) |
                set(row, PB_PRODUCTS_VENDOR, vendor, vn) |
                set(row, PB_PRODUCTS_PRODUCT_TYPE, ptype, ptn) |
                set(row, PB_PRODUCTS_CATEGORY, category, cn) |
                set(row, PB_PRODUCTS_TAGS, tags->data, tags->len) |
                set_s(row, PB_PRODUCTS_STATUS, status);
        int slot = 0;
        static const int names[3] = {PB_PRODUCTS_OPTION1_NAME, PB_PRODUCTS_OPTION2_NAME,
                                     PB_PRODUCTS_OPTION3_NAME};
        for (int a = 0; a < 3; a++) {
            if (!axis_used[a] || !opt_names[a])
                continue;
            const char *ov = var[i].opt[a];
            size_t on = var[i].optn[a];
            if (!ov)
                ov = "Default", on = 7;
            e |= set_s(row, names[slot], opt_names[a]) | set(row, names[slot] + 1, ov, on);
            slot++;
        }
        e |= set(row, PB_PRODUCTS_SKU, var[i].sku, var[i].skun);
        v = get(it, PB_ITEMS_UPC, &k);
        e |= set(row, PB_PRODUCTS_BARCODE, v, k);
        int64_t price = 0, compare;
        pb_rec_money(it, pf, &price);
        v = get(it, pf, &k);
        e |= set(row, PB_PRODUCTS_PRICE, v, k);
        if (cf >= 0 && pb_rec_money(it, cf, &compare) == 0 && compare > price) {
            v = get(it, cf, &k);
            e |= set(row, PB_PRODUCTS_COMPARE_AT_PRICE, v, k);
        }
        v = get(it, PB_ITEMS_COST, &k);
        e |= set(row, PB_PRODUCTS_COST, v, k);
        v = get(it, PB_ITEMS_WEIGHT, &k);
        e |= set(row, PB_PRODUCTS_WEIGHT, v, k);
        v = get(it, PB_ITEMS_TAX_CODE, &k);
        int taxable = 1;
        for (int t = 0; v && t < cfg->nontaxable_codes.n; t++)
            if (strlen(cfg->nontaxable_codes.v[t]) == k &&
                !strncasecmp(cfg->nontaxable_codes.v[t], v, k))
                taxable = 0;
        if (v)
            e |= set_s(row, PB_PRODUCTS_TAXABLE, taxable ? "true" : "false");
        v = get(it, PB_ITEMS_LIST_ID, &k);
        e |= set(row, PB_PRODUCTS_QBPOS_LIST_ID, v, k);
        v = get(it, PB_ITEMS_ITEM_NUMBER, &k);
        e |= set(row, PB_PRODUCTS_QBPOS_ITEM_NUMBER, v, k);

        /* The content hash leaves the quantities out, so every store of the group has the
         * same; the product's part of it is worked out once. */
        char hex[17];
        if (i == first)
            prefix = row_hash_fields(row, 0, PRODUCT_END, ROW_HASH_SEED);
        row_hash_hex(row_hash_fields(row, PRODUCT_END, row->schema->nfields, prefix), hex);
        e |= set(row, PB_PRODUCTS_CONTENT_HASH, hex, 16);
        if (e || (i == first && put_seg(b->w, row, 0, PRODUCT_END, out, &bl->product) < 0) ||
            put_seg(b->w, row, PRODUCT_END, QTY_FROM, out, &bl->variant[i]) < 0 ||
            put_seg(b->w, row, QTY_END, row->schema->nfields, out, &bl->tail[i]) < 0)
            return pb_error_set(err, PB_EOS, "out of memory");
    }
    return 0;
}

int
pb_product_write(struct pb_store_out *so, const struct pb_config *cfg,
                 const struct pb_style *st, struct pb_rec *items, int n,
                 const struct pb_built *bl, struct pb_error *err)
{
    const struct pb_pricing *pr = &so->cfg->pricing;
    const struct pb_limits *lim = so->lim;
    int first = -1, nok = 0;
    char reason[300];
    struct pb_scratch *sc = &so->scratch;
    if (scratch_for(sc, n) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    int *ok = sc->ok;
    struct variant *var = sc->var;
    size_t *keys = sc->keys;
    uint64_t *khash = sc->khash;
    memset(ok, 0, (size_t)n * sizeof(int));
    memset(var, 0, (size_t)n * sizeof(*var));

    /* Items without a SKU cannot be sold online: reject them alone. */
    int sf = sku_field(cfg->sku);
    for (int i = 0; i < n; i++) {
        var[i].sku = get(&items[i], sf, &var[i].skun);
        khash[i] = bl->skuhash[i];
        if (!var[i].sku) {
            snprintf(reason, sizeof(reason), "no SKU: the item's '%s' is empty",
                     items->schema->fields[sf].name);
            if (pb_product_reject_item(so, &items[i], items->schema->fields[sf].name, reason,
                                       err) < 0)
                return -1;
            continue;
        }
        ok[i] = 1;
        nok++;
        if (first < 0)
            first = i;
    }
    if (!nok)
        return 0;
    const struct pb_rec *head = &items[first];
    const struct pb_facts *fx = &bl->facts;

    /* The option values the maps had no row for (the build met them) count for this
     * store too. */
    for (size_t u = fx->use_from; u < fx->use_to; u++) {
        const struct pb_unmapped_use *use = &bl->uses->v[u];
        pb_maps_note_unmapped(so->maps, (enum pb_map_field)use->field, use->v, use->len);
    }

    /* The platform's limits, before any network. */
    size_t tn;
    const char *title = get(head, PB_ITEMS_DESC1, &tn);
    if (!title)
        return reject_product(so, st, items, ok, n, "desc1", "the item name is empty", err);
    if (lim->max_variants && nok > lim->max_variants) {
        snprintf(reason, sizeof(reason), "%d variants; at most %d are allowed", nok,
                 lim->max_variants);
        return reject_product(so, st, items, ok, n, NULL, reason, err);
    }
    if (lim->max_title && fx->title_chars > (size_t)lim->max_title) {
        snprintf(reason, sizeof(reason), "the title is longer than %d characters",
                 lim->max_title);
        return reject_product(so, st, items, ok, n, "desc1", reason, err);
    }
    int pf = price_field(pr->price_level);
    for (int i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        size_t k;
        const char *in = get(&items[i], PB_ITEMS_ITEM_NUMBER, &k);
        if (!pb_rec_has(&items[i], pf)) {
            snprintf(reason, sizeof(reason), "item %.*s has no price ('%s' is empty)", (int)k,
                     in ? in : "?", items->schema->fields[pf].name);
            return reject_product(so, st, items, ok, n, items->schema->fields[pf].name,
                                  reason, err);
        }
        if (lim->max_sku && fx->sku_chars[i] > (uint32_t)lim->max_sku) {
            snprintf(reason, sizeof(reason), "SKU '%.*s' is longer than %d characters",
                     (int)var[i].skun, var[i].sku, lim->max_sku);
            return reject_product(so, st, items, ok, n, "sku", reason, err);
        }
        size_t bn;
        const char *bc = get(&items[i], PB_ITEMS_UPC, &bn);
        if (lim->max_barcode && bc && bn > (size_t)lim->max_barcode) {
            snprintf(reason, sizeof(reason), "barcode '%.*s' is longer than %d characters",
                     (int)bn, bc, lim->max_barcode);
            return reject_product(so, st, items, ok, n, "upc", reason, err);
        }
        /* Two variants with the same options cannot both exist. */
        int j = fx->dup_of[i];
        if (j >= 0) {
            size_t k2;
            const char *in2 = get(&items[j], PB_ITEMS_ITEM_NUMBER, &k2);
            snprintf(reason, sizeof(reason),
                     "items %.*s and %.*s have the same options; give them a different "
                     "attribute or size",
                     (int)k2, in2 ? in2 : "?", (int)k, in ? in : "?");
            return reject_product(so, st, items, ok, n, NULL, reason, err);
        }
    }
    /* SKUs unique in the store (ignoring case where the platform does). */
    if (sku_grow(&so->skus, (size_t)n) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    struct pb_skuset *set = &so->skus;
    size_t mark = set->keys_len;
    for (int i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        if ((keys[i] = sku_norm(set, var[i].sku, var[i].skun, lim->sku_ci,
                                (uint32_t)(st - set->owners))) == SIZE_MAX)
            return pb_error_set(err, PB_EOS, "out of memory");
        const char *clash = NULL;
        size_t j = sku_slot(set, keys[i], khash[i]);
        if (set->slot[j].key) {
            uint32_t owner;
            memcpy(&owner, set->keys + set->slot[j].key - 1 - 4, 4);
            clash = set->owners[owner].key;
        }
        for (int k = 0; k < i && !clash; k++)
            if (ok[k] && khash[k] == khash[i] && !strcmp(set->keys + keys[k], set->keys + keys[i]))
                clash = st->key;
        if (clash) {
            char shown[KEY_SHOWN + 4];
            snprintf(reason, sizeof(reason), "SKU '%.*s' is already used by product '%s'%s",
                     (int)var[i].skun, var[i].sku, shown_key(clash, shown),
                     lim->sku_ci ? " (SKUs are compared ignoring case)" : "");
            set->keys_len = mark; /* give back this product's keys */
            return reject_product(so, st, items, ok, n, "sku", reason, err);
        }
    }
    for (int i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        size_t j = sku_slot(set, keys[i], khash[i]);
        set->slot[j] = (struct pb_skuslot){(uint32_t)khash[i], (uint32_t)keys[i] + 1};
        set->n++;
    }
    warn_disagreement(so, st, items, first, fx->differ);

    /* The maps remember the product's values they had no row for (the summary lists
     * them); the values themselves are in the built rows. */
    size_t vn, dn;
    int mapped;
    const char *vendor = vendor_of(cfg, head, &vn);
    if (vendor)
        pb_maps_apply(so->maps, PB_MAP_VENDOR, vendor, &vn, &mapped);
    const char *dept = get(head, PB_ITEMS_DEPARTMENT_CODE, &dn);
    if (dept) {
        size_t k = dn;
        pb_maps_apply(so->maps, PB_MAP_DEPARTMENT, dept, &k, &mapped);
        if (pb_maps_has(so->maps, PB_MAP_CATEGORY))
            pb_maps_apply(so->maps, PB_MAP_CATEGORY, dept, &dn, &mapped);
    }

    /* The rows: the built parts around this store's quantities. */
    for (int i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        const struct pb_part parts[4] = {
            {bl->base + bl->product.off, bl->product.len},
            {bl->base + bl->variant[i].off, bl->variant[i].len},
            {bl->qbase + bl->qty[i].off, bl->qty[i].len},
            {bl->base + bl->tail[i].off, bl->tail[i].len},
        };
        if (pb_writer_put_parts(so->w, parts, 4, err) < 0)
            return -1;
        so->variants++;
    }
    so->products++;
    return 0;
}

int
pb_product_qty(const struct pb_store_out *so, const struct pb_config *cfg,
               const struct pb_rec *items, int n, struct pb_buf *out, struct pb_seg *qty,
               struct pb_error *err)
{
    const struct pb_pricing *pr = &so->cfg->pricing;
    int sf = sku_field(cfg->sku);
    int64_t v[QTY_END - QTY_FROM];
    unsigned char has[QTY_END - QTY_FROM];
    for (int i = 0; i < n; i++) {
        const struct pb_rec *it = &items[i];
        size_t k;
        qty[i] = (struct pb_seg){0, 0};
        if (!get(it, sf, &k))
            continue;
        memset(has, 0, sizeof(has));
        int64_t total = 0;
        if (pr->qty == PB_QTY_PER_STORE) {
            for (int s = 1; s <= PB_QBPOS_STORES; s++) {
                if (!so->cfg->location[s])
                    continue;
                int64_t q = publishable(qty_of(it, PB_ITEMS_ON_HAND_STORE_01 + s - 1), pr);
                total += q;
                v[PB_PRODUCTS_LOCATION_QTY_01 + s - 1 - QTY_FROM] = q;
                has[PB_PRODUCTS_LOCATION_QTY_01 + s - 1 - QTY_FROM] = 1;
            }
        } else if (pr->qty == PB_QTY_STORE) {
            total = publishable(qty_of(it, PB_ITEMS_ON_HAND_STORE_01 + pr->qty_store - 1), pr);
        } else {
            int64_t q;
            if (pb_rec_qty(it, PB_ITEMS_AVAILABLE_QTY, &q) != 0 &&
                pb_rec_qty(it, PB_ITEMS_QTY_ON_HAND, &q) != 0)
                q = 0;
            total = publishable(q, pr);
        }
        v[PB_PRODUCTS_INVENTORY_QTY - QTY_FROM] = total;
        has[PB_PRODUCTS_INVENTORY_QTY - QTY_FROM] = 1;
        size_t at = out->len;
        if (pb_writer_encode_ints(so->w, QTY_FROM, QTY_END, v, has, out) < 0 ||
            at > UINT32_MAX || out->len - at > UINT32_MAX)
            return pb_error_set(err, PB_EOS, "out of memory");
        qty[i] = (struct pb_seg){(uint32_t)at, (uint32_t)(out->len - at)};
    }
    return 0;
}

int
pb_product_same_qty(const struct pb_store_cfg *a, const struct pb_store_cfg *b)
{
    const struct pb_pricing *p = &a->pricing, *q = &b->pricing;
    if (p->qty != q->qty || p->safety_buffer != q->safety_buffer || p->rounding != q->rounding ||
        (p->qty == PB_QTY_STORE && p->qty_store != q->qty_store))
        return 0;
    /* Per store, the same stores have a column (the location ids may differ). */
    for (int s = 1; p->qty == PB_QTY_PER_STORE && s <= PB_QBPOS_STORES; s++)
        if (!a->location[s] != !b->location[s])
            return 0;
    return 1;
}

void
pb_product_skuhash(const struct pb_config *cfg, const struct pb_rec *items, int n,
                   uint64_t *h0, uint64_t *h1)
{
    int sf = sku_field(cfg->sku);
    for (int i = 0; i < n; i++) {
        size_t k;
        const char *v = get(&items[i], sf, &k);
        h0[i] = v ? sku_hash(v, k, 0) : 0;
        h1[i] = v ? sku_hash(v, k, 1) : 0;
    }
}

void
pb_product_prefetch(const struct pb_store_out *so, const uint64_t *skuhash, int n)
{
    for (int i = 0; so->skus.cap && i < n; i++)
        __builtin_prefetch(&so->skus.slot[skuhash[i] & (so->skus.cap - 1)]);
}
