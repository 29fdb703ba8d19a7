/*
 * The outbound transform stage driver: read the batch's items once into a spool with an
 * index of styles, then build each style's product once for each group of stores that
 * share their rows (and its quantities once for each group that shares those), and write
 * it for every selected store.
 * See include/posbridge/transform.h.
 */
#include "posbridge/transform.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pb_schemas.h"
#include "posbridge/atomic.h"
#include "posbridge/batch.h"
#include "posbridge/config.h"
#include "posbridge/digest.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/progress.h"
#include "posbridge/spool.h"
#include "transform_int.h"
#include "posbridge/banned.h"

/* Strings that live as long as the stage, in blocks that never move. */
struct arena {
    char **block;
    size_t nblocks, used; /* bytes used of the last block */
};
#define ARENA_BLOCK (64 * 1024)

/* A NUL-terminated copy of s[0, n) in a; NULL when out of memory. */
static char *
arena_dup(struct arena *a, const char *s, size_t n)
{
    if (!a->nblocks || a->used + n + 1 > ARENA_BLOCK) {
        /* A string longer than a block gets one of its own, which it fills. */
        size_t size = n + 1 > ARENA_BLOCK ? n + 1 : ARENA_BLOCK;
        char **v = realloc(a->block, (a->nblocks + 1) * sizeof(*v));
        if (!v)
            return NULL;
        a->block = v;
        if (!(v[a->nblocks] = malloc(size)))
            return NULL;
        a->nblocks++;
        a->used = 0;
    }
    char *d = a->block[a->nblocks - 1] + a->used;
    memcpy(d, s, n);
    d[n] = '\0';
    a->used += n + 1;
    return d;
}

static void
arena_free(struct arena *a)
{
    for (size_t i = 0; i < a->nblocks; i++)
        free(a->block[i]);
    free(a->block);
    memset(a, 0, sizeof(*a));
}

struct tf {
    const struct pb_config *cfg;
    struct pb_batch batch;
    struct pb_store_out stores[PB_MAX_STORES];
    int nstores;
    int group_rep[PB_MAX_STORES]; /* per group of stores with the same rows: its first */
    int ngroups;
    int qgroup_rep[PB_MAX_STORES]; /* the same for the quantities */
    int nqgroups;
    struct pb_spool spool;
    struct pb_digest_group *hash; /* the stores' products files, hashed on one thread */
    /* styles: a vector in first-seen order, and a hash index into it */
    struct pb_style *styles;
    size_t nstyles, styles_cap;
    uint32_t *index; /* style number + 1, 0 = empty */
    size_t index_cap;
    /* the online items: where each is in the spool, and the next of its style (+ 1) */
    uint64_t *item_off;
    uint32_t *item_next;
    size_t nitems, items_cap;
    struct arena text; /* the styles' keys and handles */
    size_t *chunk_at; /* pass 2: the first style of each chunk, and nstyles */
    size_t nchunks;
};

/* Seconds since *t0, and restart the clock. */
static double
elapsed(struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double d = (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
    *t0 = t1;
    return d;
}

static uint64_t
hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static int
index_grow(struct tf *t)
{
    if (t->index_cap && (t->nstyles + 1) * 2 <= t->index_cap)
        return 0;
    size_t cap = t->index_cap ? t->index_cap * 2 : 4096;
    uint32_t *ix = calloc(cap, sizeof(*ix));
    if (!ix)
        return -1;
    for (size_t s = 0; s < t->nstyles; s++) {
        size_t j = t->styles[s].hash & (cap - 1);
        while (ix[j])
            j = (j + 1) & (cap - 1);
        ix[j] = (uint32_t)s + 1;
    }
    free(t->index);
    t->index = ix;
    t->index_cap = cap;
    return 0;
}

/* The style of key (n bytes, hashed h), added if new. */
static struct pb_style *
style_for(struct tf *t, const char *key, size_t n, uint64_t h)
{
    if (index_grow(t) < 0)
        return NULL;
    size_t j = h & (t->index_cap - 1);
    while (t->index[j]) {
        struct pb_style *s = &t->styles[t->index[j] - 1];
        if (s->hash == h && s->keylen == n && !memcmp(s->key, key, n))
            return s;
        j = (j + 1) & (t->index_cap - 1);
    }
    if (t->nstyles == t->styles_cap) {
        size_t cap = t->styles_cap ? t->styles_cap * 2 : 1024;
        struct pb_style *v = realloc(t->styles, cap * sizeof(*v));
        if (!v)
            return NULL;
        t->styles = v;
        t->styles_cap = cap;
    }
    struct pb_style *s = &t->styles[t->nstyles];
    memset(s, 0, sizeof(*s));
    if (n > UINT32_MAX || !(s->key = arena_dup(&t->text, key, n)))
        return NULL;
    /* Its slug now, while the other core builds records; assign_handles makes the slugs
     * that came out the same unique. */
    char *slug = pb_slug(key, n);
    s->handle = slug ? arena_dup(&t->text, slug, strlen(slug)) : NULL;
    free(slug);
    if (!s->handle)
        return NULL;
    s->hash = h;
    s->keylen = (uint32_t)n;
    t->index[j] = (uint32_t)++t->nstyles;
    return s;
}

/* Room for n elements of size bytes in the array *v (v is a pointer to it). */
static int
room_for(void *v, size_t size, size_t n)
{
    void **p = v;
    void *q = realloc(*p, n * size);
    if (q)
        *p = q;
    return q ? 0 : -1;
}

static int
style_add(struct tf *t, struct pb_style *s, uint64_t off)
{
    if (t->nitems == t->items_cap) {
        size_t cap = t->items_cap ? t->items_cap * 2 : 4096;
        if (room_for(&t->item_off, sizeof(*t->item_off), cap) < 0 ||
            room_for(&t->item_next, sizeof(*t->item_next), cap) < 0)
            return -1;
        t->items_cap = cap;
    }
    if (t->nitems >= UINT32_MAX || s->n == UINT32_MAX)
        return -1;
    uint32_t k = (uint32_t)t->nitems++;
    t->item_off[k] = off;
    t->item_next[k] = 0;
    if (s->last)
        t->item_next[s->last - 1] = k + 1;
    else
        s->first = k + 1;
    s->last = k + 1;
    s->n++;
    return 0;
}

/* The style key, appended to k: department (code, else its ListID) and the item name,
 * whitespace folded. */
static int
style_key(struct pb_buf *k, const struct pb_rec *r)
{
    size_t dn = 0, nn = 0;
    const char *d = pb_rec_get(r, PB_ITEMS_DEPARTMENT_CODE, &dn);
    if (!d)
        d = pb_rec_get(r, PB_ITEMS_DEPARTMENT_LIST_ID, &dn);
    const char *name = pb_rec_get(r, PB_ITEMS_DESC1, &nn);
    if (d && pb_buf_add(k, d, dn) < 0)
        return -1;
    if (pb_buf_addch(k, '/') < 0)
        return -1;
    if (!name) {
        /* No name: the item stands alone (and is refused later for having no title). */
        const char *num = pb_rec_get(r, PB_ITEMS_ITEM_NUMBER, &nn);
        return pb_buf_adds(k, "#") < 0 ? -1 : pb_buf_add(k, num ? num : "", nn);
    }
    int space = 1;
    for (size_t i = 0; i < nn; i++) {
        char c = name[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = 1;
            continue;
        }
        if (space && k->data[k->len - 1] != '/' && pb_buf_addch(k, ' ') < 0)
            return -1;
        space = 0;
        if (pb_buf_addch(k, c) < 0)
            return -1;
    }
    return 0;
}

static int
in_list(const struct pb_strlist *l, const char *v, size_t n)
{
    for (int i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == n && !memcmp(l->v[i], v, n))
            return 1;
    return 0;
}

/* Is this item meant for the web stores? */
static int
online(const struct pb_config *cfg, const struct pb_rec *r)
{
    int web;
    if (cfg->web_items_only && (pb_rec_bool(r, PB_ITEMS_IS_WEB_ITEM, &web) != 0 || !web))
        return 0;
    size_t n;
    const char *d = pb_rec_get(r, PB_ITEMS_DEPARTMENT_CODE, &n);
    if (cfg->departments.n && (!d || !in_list(&cfg->departments, d, n)))
        return 0;
    if (d && in_list(&cfg->exclude_departments, d, n))
        return 0;
    return 1;
}

/*
 * What pass 1 works out from an item on the thread that built it (pb_read_opts.built), at
 * the head of rec->aux; then come the style key's bytes and, unless spooled is 0, the
 * record as the spool keeps it.
 */
struct prep {
    uint64_t hash;   /* of the style key */
    uint32_t keylen;
    uint8_t online, spooled;
};

static int
prep_item(void *user, struct pb_rec *rec, int kind)
{
    const struct pb_config *cfg = user;
    struct prep p;
    memset(&p, 0, sizeof(p));
    struct pb_buf *a = &rec->aux;
    if (kind != PB_READ_OK || !online(cfg, rec))
        return pb_buf_add(a, &p, sizeof(p));
    if (pb_buf_add(a, &p, sizeof(p)) < 0 || style_key(a, rec) < 0)
        return -1;
    p.online = 1;
    p.keylen = (uint32_t)(a->len - sizeof(p));
    p.hash = hash(a->data + sizeof(p), p.keylen);
    struct pb_error e;
    pb_error_init(&e);
    size_t at = a->len;
    /* A record the spool refuses is put again in file order, to fail there with why. */
    p.spooled = pb_spool_encode(rec, 0, a, &e) == 0;
    if (!p.spooled)
        pb_buf_truncate(a, at);
    memcpy(a->data, &p, sizeof(p));
    return 0;
}

/* Styles by key (for those whose handles came out the same). */
static int
cmp_style_key(const void *a, const void *b)
{
    const struct pb_style *x = *(const struct pb_style *const *)a;
    const struct pb_style *y = *(const struct pb_style *const *)b;
    return strcmp(x->key, y->key);
}

/* Handles: an index of the styles' slugs, by slug. */
struct slugs {
    uint32_t *tab; /* style number + 1 of a slug's first style, 0 = empty */
    size_t cap;
    uint64_t *h;   /* per style: its slug's hash */
};

/* The first style whose slug is s (hashed h), or -1; *at is where it is or would go. */
static long
slug_find(const struct tf *t, const struct slugs *sl, const char *s, uint64_t h, size_t *at)
{
    size_t j = h & (sl->cap - 1);
    for (; sl->tab[j]; j = (j + 1) & (sl->cap - 1)) {
        uint32_t o = sl->tab[j] - 1;
        if (sl->h[o] == h && !strcmp(t->styles[o].handle, s)) {
            *at = j;
            return o;
        }
    }
    *at = j;
    return -1;
}

/*
 * Each style's handle is the slug of its key (style_for).  Styles whose slugs are the
 * same keep it in the order of their keys: the first as it is, the next ones with "-2",
 * "-3" and so on, skipping a suffix that makes another style's slug.  No sort of every
 * style: only the styles that share a slug are put in order.
 */
static int
assign_handles(struct tf *t)
{
    size_t n = t->nstyles, cap = 16, at;
    while (cap < 2 * n)
        cap *= 2;
    struct slugs sl = {calloc(cap, sizeof(uint32_t)), cap, malloc((n + 1) * sizeof(uint64_t))};
    uint32_t *next = malloc((n + 1) * sizeof(*next)); /* the next style of a slug, + 1 */
    char **renamed = calloc(n + 1, sizeof(*renamed)); /* given once the index is done with */
    struct pb_style **group = NULL;
    size_t group_cap = 0;
    int rc = -1;
    if (!sl.tab || !sl.h || !next || !renamed)
        goto out;
    for (size_t s = 0; s < n; s++) {
        struct pb_style *st = &t->styles[s];
        sl.h[s] = hash(st->handle, strlen(st->handle));
        long o = slug_find(t, &sl, st->handle, sl.h[s], &at);
        next[s] = 0;
        if (o < 0) {
            sl.tab[at] = (uint32_t)s + 1;
        } else { /* into the slug's list, behind its first style */
            next[s] = next[o];
            next[o] = (uint32_t)s + 1;
        }
    }
    for (size_t s = 0; s < n; s++) {
        if (!next[s] || slug_find(t, &sl, t->styles[s].handle, sl.h[s], &at) != (long)s)
            continue;
        size_t m = 0;
        for (uint32_t k = (uint32_t)s + 1; k; k = next[k - 1]) {
            if (m == group_cap) {
                size_t c = group_cap ? 2 * group_cap : 16;
                struct pb_style **g = realloc(group, c * sizeof(*g));
                if (!g)
                    goto out;
                group = g;
                group_cap = c;
            }
            group[m++] = &t->styles[k - 1];
        }
        qsort(group, m, sizeof(*group), cmp_style_key);
        /* The first in key order may not be the style the slug was indexed for. */
        const char *slug = t->styles[s].handle;
        size_t suffix = 2;
        for (size_t k = 1; k < m; k++) {
            struct pb_buf b = PB_BUF_INIT;
            for (;; suffix++) {
                pb_buf_reset(&b);
                if (pb_buf_addf(&b, "%s-%zu", slug, suffix) < 0) {
                    pb_buf_release(&b);
                    goto out;
                }
                if (slug_find(t, &sl, b.data, hash(b.data, b.len), &at) < 0)
                    break;
            }
            suffix++;
            renamed[group[k] - t->styles] = arena_dup(&t->text, b.data, b.len);
            pb_buf_release(&b);
            if (!renamed[group[k] - t->styles])
                goto out;
        }
    }
    for (size_t s = 0; s < n; s++)
        if (renamed[s])
            t->styles[s].handle = renamed[s];
    rc = 0;
out:
    free(renamed);
    free(sl.tab);
    free(sl.h);
    free(next);
    free(group);
    return rc;
}

/* The batch's export stage record (NULL when there is none). */
static const json_t *
export_stage(const struct pb_batch *b)
{
    return json_object_get(json_object_get(b->manifest, "stages"), "export");
}

/* The batch's items file: the one export recorded, else the first that exists. */
static char *
items_file(const struct pb_batch *b, const char **rel)
{
    static const char *const names[] = {"items.csv", "items.jsonl", "items.csv.gz",
                                        "items.jsonl.gz"};
    json_t *outs = json_object_get(export_stage(b), "outputs");
    size_t i;
    json_t *o;
    json_array_foreach(outs, i, o) {
        const char *p = json_string_value(json_object_get(o, "path"));
        for (size_t k = 0; p && k < sizeof(names) / sizeof(names[0]); k++)
            if (!strcmp(p, names[k])) {
                char *path = pb_batch_file(b, p);
                if (path && access(path, F_OK) == 0) {
                    *rel = names[k];
                    return path;
                }
                free(path);
            }
    }
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        char *path = pb_batch_file(b, names[k]);
        if (path && access(path, F_OK) == 0) {
            *rel = names[k];
            return path;
        }
        free(path);
    }
    return NULL;
}

static const char *
export_digest(const struct pb_batch *b, const char *rel)
{
    return json_string_value(json_object_get(pb_batch_output(export_stage(b), rel), "blake3"));
}

/* The store's mapping tables: the [transform] ones, then its own. */
static struct pb_maps *
maps_for(const struct pb_config *cfg, const struct pb_store_cfg *sc, struct pb_error *err)
{
    struct pb_maps *m = pb_maps_new(cfg->maps_ci);
    if (!m) {
        pb_error_set(err, PB_EOS, "out of memory");
        return NULL;
    }
    for (int i = 0; i < cfg->maps.n; i++)
        if (pb_maps_load(m, cfg->maps.v[i], err) < 0)
            goto bad;
    for (int i = 0; i < sc->maps.n; i++)
        if (pb_maps_load(m, sc->maps.v[i], err) < 0)
            goto bad;
    return m;
bad:
    pb_maps_free(m);
    return NULL;
}

/* Do two stores get the same rows but for their quantities? */
static int
same_rows(const struct pb_store_cfg *a, const struct pb_store_cfg *b)
{
    if (a->maps.n != b->maps.n || a->new_hidden != b->new_hidden ||
        a->pricing.price_level != b->pricing.price_level ||
        a->pricing.compare_level != b->pricing.compare_level)
        return 0;
    for (int i = 0; i < a->maps.n; i++)
        if (strcmp(a->maps.v[i], b->maps.v[i]) != 0)
            return 0;
    return 1;
}

/* Store number `store`'s group among the *n groups whose first stores are rep[]: the
 * first whose first store is the `same` as it, else a new one. */
static int
group_of(const struct tf *t, int *rep, int *n, int store,
         int (*same)(const struct pb_store_cfg *, const struct pb_store_cfg *))
{
    for (int g = 0; g < *n; g++)
        if (same(t->stores[rep[g]].cfg, t->stores[store].cfg))
            return g;
    rep[*n] = store;
    return (*n)++;
}

static int
store_open(struct tf *t, struct pb_store_out *so, const struct pb_store_cfg *sc,
           struct pb_error *err)
{
    const struct pb_config *cfg = t->cfg;
    const char *ext = cfg->format == PB_ENC_CSV ? "csv" : "jsonl";
    struct pb_buf b = PB_BUF_INIT;
    memset(so, 0, sizeof(*so));
    so->cfg = sc;
    so->lim = pb_limits_for(sc->platform);
    if (!(so->maps = maps_for(cfg, sc, err)))
        return -1;
    so->group = group_of(t, t->group_rep, &t->ngroups, (int)(so - t->stores), same_rows);
    so->qgroup =
        group_of(t, t->qgroup_rep, &t->nqgroups, (int)(so - t->stores), pb_product_same_qty);
    so->dir = pb_batch_file(&t->batch, sc->name);
    if (!so->dir || pb_buf_addf(&b, "%s/products.%s%s", sc->name, ext, cfg->gzip ? ".gz" : "") < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    so->relpath = pb_buf_detach(&b, NULL);
    if (pb_mkdirs(so->dir, 0755, err) < 0)
        return -1;
    if (pb_columns_init(&so->cols, &pb_schema_products) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    if (sc->pricing.qty == PB_QTY_PER_STORE)
        for (int s = 1; s <= PB_QBPOS_STORES; s++)
            if (sc->location[s])
                so->cols.use[PB_PRODUCTS_LOCATION_QTY_01 + s - 1] = 1;
    char *path = pb_batch_file(&t->batch, so->relpath);
    char *rpath = NULL;
    if (path && pb_buf_addf(&b, "%s/rejects.csv", so->dir) == 0)
        rpath = pb_buf_detach(&b, NULL);
    if (!path || !rpath || pb_rejects_init(&so->rejects, rpath, "transform", err) < 0) {
        free(path);
        free(rpath);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    so->w = pb_writer_open_in(t->hash, path, &pb_schema_products, cfg->format, cfg->gzip,
                              &so->cols, err);
    free(path);
    free(rpath);
    return so->w ? 0 : -1;
}

static void
store_release(struct pb_store_out *so)
{
    pb_writer_abort(so->w);
    pb_rejects_release(&so->rejects);
    pb_columns_release(&so->cols);
    pb_maps_free(so->maps);
    pb_skuset_free(&so->skus);
    pb_scratch_free(&so->scratch);
    free(so->dir);
    free(so->relpath);
    memset(so, 0, sizeof(*so));
}

struct unmapped_ctx {
    json_t *obj;
    const char *store;
    struct pb_buf line;
    unsigned shown;
};

static void
note_unmapped(void *user, const char *field, const char *value, unsigned long count)
{
    struct unmapped_ctx *u = user;
    json_t *arr = json_object_get(u->obj, field);
    if (!arr) {
        arr = json_array();
        json_object_set_new(u->obj, field, arr);
    }
    json_array_append_new(arr, json_pack("{s:s, s:I}", "value", value, "count",
                                         (json_int_t)count));
    if (u->shown++ < 12 &&
        pb_buf_addf(&u->line, "%s %s '%s' (%lu)", u->line.len ? "," : "", field, value, count) < 0)
        return;
}

/* Stage outputs of later stages that were built from the old products file. */
static void
mark_stale(const struct pb_store_out *so, json_t *rec)
{
    static const char *const later[] = {"plan.csv", "results.jsonl"};
    json_t *stale = json_array();
    for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
        struct pb_buf p = PB_BUF_INIT;
        if (pb_buf_addf(&p, "%s/%s", so->dir, later[i]) == 0 && access(p.data, F_OK) == 0) {
            json_array_append_new(stale, json_string(later[i]));
            pb_log(PB_LOG_WARN, "%s: %s was made from the previous products file; run upload "
                                "again",
                   so->cfg->name, later[i]);
        }
        pb_buf_release(&p);
    }
    json_object_set_new(rec, "stale", stale);
}

/*
 * Pass 2.  The styles go in chunks through a ring of RING slots.  Building threads take
 * the next chunk whose slot is free and build its styles' rows, once per group of stores
 * (pb_product_build), and their quantities once per group of stores with the same
 * quantity settings (pb_product_qty), reading the items from the spool.  This thread
 * takes the chunks in order and writes each style for each store (pb_product_write): the
 * checks, the SKU
 * sets, the rejects and the log come in one order however many threads build.  While
 * its next chunk is not built, this thread builds one too.
 */
#define CHUNK_STYLES 256
#define CHUNK_ITEMS 1024 /* a chunk ends at either; a bigger style is a chunk alone */
#define RING 4

struct tf_chunk {
    size_t number;     /* which chunk the slot holds */
    int built, failed;
    struct pb_error err;
    struct pb_rec *items; /* the chunk's items, style after style */
    size_t items_cap;
    size_t first[CHUNK_STYLES + 1]; /* per style of the chunk: its first item */
    struct pb_seg product[PB_MAX_STORES][CHUNK_STYLES];
    struct pb_seg *variant[PB_MAX_STORES], *tail[PB_MAX_STORES]; /* per group, per item */
    int *dup_of[PB_MAX_STORES];          /* per group, per item: pb_facts */
    uint32_t *sku_chars[PB_MAX_STORES];
    struct pb_facts facts[PB_MAX_STORES][CHUNK_STYLES]; /* per group, per style */
    struct pb_uses uses[PB_MAX_STORES];  /* per group */
    struct pb_seg *qty[PB_MAX_STORES];  /* per quantities group, per item */
    uint64_t *skuhash[2];               /* per item: with case, without */
    size_t segs_cap;
    struct pb_buf out[PB_MAX_STORES];  /* per group: the parts */
    struct pb_buf qout[PB_MAX_STORES]; /* per quantities group: their parts */
};

struct tf_worker {
    struct tf *t;
    const char *irel;
    struct pb_spool_cursor cur;
    struct pb_builder b[PB_MAX_STORES]; /* per group */
};

struct tf_ring {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct tf_chunk *slot; /* RING of them */
    size_t next;      /* the chunk the next building thread takes */
    size_t committed; /* chunks written */
    int stop;
};

static int
worker_init(struct tf_worker *w, struct tf *t, const char *irel, struct pb_error *err)
{
    memset(w, 0, sizeof(*w));
    w->t = t;
    w->irel = irel;
    for (int g = 0; g < t->ngroups; g++) {
        struct pb_builder *b = &w->b[g];
        const struct pb_store_out *rep = &t->stores[t->group_rep[g]];
        b->sc = rep->cfg;
        b->w = rep->w;
        if (!(b->maps = maps_for(t->cfg, rep->cfg, err)) ||
            pb_rec_init(&b->row, &pb_schema_products, err) < 0)
            return -1;
    }
    return 0;
}

static void
worker_release(struct tf_worker *w)
{
    for (int g = 0; g < PB_MAX_STORES; g++) {
        pb_maps_free(w->b[g].maps);
        if (w->b[g].row.schema)
            pb_rec_release(&w->b[g].row);
        pb_scratch_free(&w->b[g].scratch);
    }
    pb_spool_cursor_release(&w->cur);
}

static void
chunk_release(struct tf_chunk *c)
{
    for (size_t k = 0; k < c->items_cap; k++)
        pb_rec_release(&c->items[k]);
    free(c->items);
    for (int g = 0; g < PB_MAX_STORES; g++) {
        free(c->variant[g]);
        free(c->tail[g]);
        free(c->dup_of[g]);
        free(c->sku_chars[g]);
        free(c->uses[g].v);
        free(c->qty[g]);
        pb_buf_release(&c->out[g]);
        pb_buf_release(&c->qout[g]);
    }
    free(c->skuhash[0]);
    free(c->skuhash[1]);
}

static int
chunk_room(struct tf_chunk *c, int ngroups, int nqgroups, size_t n, struct pb_error *err)
{
    if (n > c->items_cap) {
        struct pb_rec *v = realloc(c->items, n * sizeof(*v));
        if (!v)
            return pb_error_set(err, PB_EOS, "out of memory");
        c->items = v;
        for (size_t k = c->items_cap; k < n; k++) {
            if (pb_rec_init(&c->items[k], &pb_schema_items, err) < 0)
                return -1;
            c->items_cap = k + 1;
        }
    }
    if (n > c->segs_cap) {
        int e = room_for(&c->skuhash[0], sizeof(uint64_t), n) |
                room_for(&c->skuhash[1], sizeof(uint64_t), n);
        for (int g = 0; g < ngroups; g++)
            e |= room_for(&c->variant[g], sizeof(struct pb_seg), n) |
                 room_for(&c->tail[g], sizeof(struct pb_seg), n) |
                 room_for(&c->dup_of[g], sizeof(int), n) |
                 room_for(&c->sku_chars[g], sizeof(uint32_t), n);
        for (int k = 0; k < nqgroups; k++)
            e |= room_for(&c->qty[k], sizeof(struct pb_seg), n);
        if (e)
            return pb_error_set(err, PB_EOS, "out of memory");
        c->segs_cap = n;
    }
    return 0;
}

/* Read chunk c's items and build their rows for every group. */
static int
chunk_build(struct tf_worker *w, struct tf_chunk *c, struct pb_error *err)
{
    struct tf *t = w->t;
    size_t from = t->chunk_at[c->number], to = t->chunk_at[c->number + 1];
    size_t n = 0;
    for (size_t s = from; s < to; s++)
        n += t->styles[s].n;
    if (chunk_room(c, t->ngroups, t->nqgroups, n, err) < 0)
        return -1;
    for (int g = 0; g < t->ngroups; g++) {
        pb_buf_reset(&c->out[g]);
        c->uses[g].n = 0;
    }
    for (int k = 0; k < t->nqgroups; k++)
        pb_buf_reset(&c->qout[k]);
    size_t k = 0;
    for (size_t s = from; s < to; s++) {
        const struct pb_style *st = &t->styles[s];
        c->first[s - from] = k;
        uint32_t i = 0;
        for (uint32_t it = st->first; it; it = t->item_next[it - 1], i++) {
            int fi;
            if (pb_spool_read_at(&t->spool, &w->cur, t->item_off[it - 1], &c->items[k + i],
                                 &fi, err) < 0)
                return -1;
            c->items[k + i].file = w->irel;
        }
        for (int g = 0; g < t->ngroups; g++) {
            struct pb_built bl = {.variant = c->variant[g] + k, .tail = c->tail[g] + k,
                                  .uses = &c->uses[g]};
            bl.facts.dup_of = c->dup_of[g] + k;
            bl.facts.sku_chars = c->sku_chars[g] + k;
            if (pb_product_build(&w->b[g], t->cfg, st, &c->items[k], (int)st->n, &c->out[g],
                                 &bl, err) < 0)
                return -1;
            c->product[g][s - from] = bl.product;
            c->facts[g][s - from] = bl.facts;
        }
        for (int q = 0; q < t->nqgroups; q++)
            if (pb_product_qty(&t->stores[t->qgroup_rep[q]], t->cfg, &c->items[k], (int)st->n,
                               &c->qout[q], c->qty[q] + k, err) < 0)
                return -1;
        pb_product_skuhash(t->cfg, &c->items[k], (int)st->n, c->skuhash[0] + k,
                           c->skuhash[1] + k);
        k += st->n;
    }
    c->first[to - from] = k;
    return 0;
}

/* Take the next chunk whose slot is free, build it, and say so; 0 when there is none. */
static int
build_next(struct tf_worker *w, struct tf_ring *r)
{
    if (r->stop || r->next >= w->t->nchunks || r->next >= r->committed + RING)
        return 0;
    struct tf_chunk *c = &r->slot[r->next % RING];
    c->number = r->next++;
    pthread_mutex_unlock(&r->mu);
    pb_error_init(&c->err);
    c->failed = chunk_build(w, c, &c->err) < 0;
    pthread_mutex_lock(&r->mu);
    c->built = 1;
    pthread_cond_broadcast(&r->cv);
    return 1;
}

struct tf_builder_arg {
    struct tf_worker *w;
    struct tf_ring *r;
};

static void *
builder_run(void *arg)
{
    struct tf_builder_arg *a = arg;
    struct tf_ring *r = a->r;
    pthread_mutex_lock(&r->mu);
    while (!r->stop && r->next < a->w->t->nchunks)
        if (!build_next(a->w, r))
            pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Write a built chunk's styles to every store, in order. */
static int
chunk_write(struct tf *t, struct tf_chunk *c, struct pb_error *err)
{
    size_t from = t->chunk_at[c->number], to = t->chunk_at[c->number + 1];
    for (size_t s = 0; from + s < to; s++) {
        const struct pb_style *st = &t->styles[from + s];
        size_t k = c->first[s];
        int last = from + s + 1 == to;
        for (int i = 0; i < t->nstores; i++) {
            struct pb_store_out *so = &t->stores[i];
            int g = so->group;
            const uint64_t *h = c->skuhash[so->lim->sku_ci != 0];
            /* The SKU set is far bigger than the cache: the next style's slots are asked
             * for now, so they are there when its turn comes. */
            if (!last)
                pb_product_prefetch(so, h + c->first[s + 1], (int)t->styles[from + s + 1].n);
            const struct pb_built bl = {.base = c->out[g].data,
                                        .product = c->product[g][s],
                                        .variant = c->variant[g] + k,
                                        .tail = c->tail[g] + k,
                                        .facts = c->facts[g][s],
                                        .uses = &c->uses[g],
                                        .qbase = c->qout[so->qgroup].data,
                                        .qty = c->qty[so->qgroup] + k,
                                        .skuhash = h + k};
            if (pb_product_write(so, t->cfg, st, &c->items[k], (int)st->n, &bl, err) < 0)
                return -1;
        }
    }
    return 0;
}

/* Chunks of up to CHUNK_STYLES styles and about CHUNK_ITEMS items: what the ring holds
 * stays small whatever the styles' sizes. */
static int
plan_chunks(struct tf *t)
{
    if (!(t->chunk_at = malloc((t->nstyles + 1) * sizeof(*t->chunk_at))))
        return -1;
    for (size_t s = 0, items = 0; s < t->nstyles; s++) {
        if (s == 0 || s - t->chunk_at[t->nchunks - 1] == CHUNK_STYLES ||
            items + t->styles[s].n > CHUNK_ITEMS) {
            t->chunk_at[t->nchunks++] = s;
            items = 0;
        }
        items += t->styles[s].n;
    }
    t->chunk_at[t->nchunks] = t->nstyles;
    return 0;
}

static int
online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

static int
build_stores(struct tf *t, const char *irel, struct pb_progress *progress,
             struct pb_error *err)
{
    struct tf_worker w[9];
    struct tf_builder_arg arg[9];
    pthread_t th[9];
    int started[9] = {0};
    int nth = online_cpus(), rc = -1;
    struct tf_ring r;
    memset(&r, 0, sizeof(r));
    memset(w, 0, sizeof(w));
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    if (plan_chunks(t) < 0 || !(r.slot = calloc(RING, sizeof(*r.slot)))) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto done;
    }
    if (pb_spool_seal(&t->spool, err) < 0)
        goto done;
    /* w[0] is this thread's. */
    for (int i = 0; i <= nth; i++)
        if (worker_init(&w[i], t, irel, err) < 0)
            goto done;
    for (int i = 1; i <= nth; i++) {
        arg[i] = (struct tf_builder_arg){&w[i], &r};
        started[i] = pthread_create(&th[i], NULL, builder_run, &arg[i]) == 0;
    }
    pthread_mutex_lock(&r.mu);
    for (size_t n = 0; n < t->nchunks; n++) {
        struct tf_chunk *c = &r.slot[n % RING];
        while (!(c->built && c->number == n))
            if (!build_next(&w[0], &r))
                pthread_cond_wait(&r.cv, &r.mu);
        pthread_mutex_unlock(&r.mu);
        if (c->failed) {
            *err = c->err;
            pthread_mutex_lock(&r.mu);
            break;
        }
        int wrc = chunk_write(t, c, err);
        pthread_mutex_lock(&r.mu);
        if (wrc < 0)
            break;
        c->built = 0;
        r.committed++;
        pthread_cond_broadcast(&r.cv);
        pb_progress_add(progress, t->chunk_at[n + 1] - t->chunk_at[n]);
    }
    rc = r.committed == t->nchunks ? 0 : -1;
    r.stop = 1;
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);
done:
    for (int i = 1; i <= nth; i++)
        if (started[i])
            pthread_join(th[i], NULL);
    for (int i = 0; i <= nth; i++)
        worker_release(&w[i]);
    if (r.slot)
        for (int i = 0; i < RING; i++)
            chunk_release(&r.slot[i]);
    free(r.slot);
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
    return rc;
}

/* Pass 1 for one record read: refused, not for the web, or spooled into its style. */
static int
take_item(struct tf *t, struct pb_transform_result *res, const struct pb_rec *rec,
          const struct pb_error *bad, int kind, struct pb_error *err)
{
    res->items++;
    if (kind == PB_READ_REJECT) {
        res->rejected_items++;
        for (int s = 0; s < t->nstores; s++) {
            t->stores[s].rejected_items++;
            if (pb_rejects_add(&t->stores[s].rejects, bad, rec, err) < 0)
                return -1;
        }
        return 0;
    }
    struct prep p;
    if (rec->aux.len < sizeof(p))
        return pb_error_set(err, PB_EOS, "an item was read without its preparation");
    memcpy(&p, rec->aux.data, sizeof(p));
    if (!p.online) {
        res->filtered++;
        return 0;
    }
    res->online++;
    const char *key = rec->aux.data + sizeof(p);
    struct pb_style *st;
    if (!(st = style_for(t, key, p.keylen, p.hash)) ||
        style_add(t, st, pb_spool_tell(&t->spool)) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    if (!p.spooled)
        return pb_spool_put(&t->spool, rec, 0, err);
    size_t head = sizeof(p) + p.keylen;
    return pb_spool_put_encoded(&t->spool, rec->aux.data + head, rec->aux.len - head, err);
}

static void *
spool_closer(void *arg)
{
    pb_spool_close(arg);
    return NULL;
}

struct reserve {
    struct tf *t;
    size_t n;
    int rc;
};

/* Room in every store's SKU set for n SKUs. */
static void *
reserve_skus(void *arg)
{
    struct reserve *rv = arg;
    for (int s = 0; s < rv->t->nstores; s++) {
        rv->t->stores[s].skus.owners = rv->t->styles;
        if (pb_skuset_reserve(&rv->t->stores[s].skus, rv->n) < 0)
            rv->rc = -1;
    }
    return NULL;
}

/* Records read at once in pass 1. */
#define READ_MANY 1024

int
pb_transform_run(const struct pb_config *cfg, const struct pb_transform_opts *o,
                 struct pb_transform_result *res, struct pb_error *err)
{
    struct tf t;
    struct pb_reader *rd = NULL;
    struct pb_digest_job *job = NULL;
    char *ipath = NULL;
    const char *irel = NULL;
    int rc = -1;
    struct pb_progress progress;
    memset(&t, 0, sizeof(t));
    memset(&progress, 0, sizeof(progress));
    memset(res, 0, sizeof(*res));
    t.cfg = cfg;
    pthread_t closer;
    int closing = 0; /* the spool is being closed on `closer` */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    if (pb_batch_open(&t.batch, o->batch_dir, err) < 0)
        goto out;
    const char *kind = json_string_value(json_object_get(t.batch.manifest, "kind"));
    if (!kind || strcmp(kind, "catalog") != 0) {
        pb_error_set(err, PB_EUSAGE, "'%s' is a %s batch; transform takes a catalog batch",
                     o->batch_dir, kind ? kind : "unknown");
        goto out;
    }
    /* Which stores.  Without a hashing group each file is hashed on a thread of its own. */
    t.hash = pb_digest_group_new();
    for (int i = 0; i < cfg->nstores; i++) {
        int want = o->nstores == 0;
        for (int k = 0; k < o->nstores; k++)
            want |= !strcmp(o->stores[k], cfg->stores[i].name);
        if (want && store_open(&t, &t.stores[t.nstores++], &cfg->stores[i], err) < 0)
            goto out;
    }
    for (int k = 0; k < o->nstores; k++)
        if (!pb_config_store(cfg, o->stores[k])) {
            pb_error_set(err, PB_EUSAGE, "no store '%s' in the configuration", o->stores[k]);
            goto out;
        }
    if (!t.nstores) {
        pb_error_set(err, PB_ECONFIG, "no stores are configured ([store NAME] sections)");
        goto out;
    }

    /* Pass 1: items -> spool, styles indexed; bad rows refused for every store. */
    if (!(ipath = items_file(&t.batch, &irel))) {
        pb_error_set(err, PB_ENOINPUT, "'%s' has no items file", o->batch_dir);
        goto out;
    }
    /* Positions name the file as the batch does, so rejects read the same anywhere.  The
     * records are built on every core; what is done with them stays in file order. */
    struct pb_read_opts ro = {PB_READ_STAGED, cfg->qbpos_tz ? cfg->qbpos_tz : "UTC", -1, irel,
                              online_cpus(), prep_item, (void *)cfg};
    /* Has the items file been edited since export?  Not if it is the very file export
     * wrote (its identity in the manifest); else it is hashed in the cores' idle moments
     * while it is read, and what is left on the group's thread beside the products files. */
    const char *was = export_digest(&t.batch, irel);
    int untouched = was && pb_batch_same_identity(&t.batch, export_stage(&t.batch), irel);
    if (untouched)
        pb_log(PB_LOG_DEBUG, "transform: %s is the file export wrote (same inode, size and "
                             "times): its digest is the manifest's", irel);
    else
        job = pb_digest_file_start_idle(ipath);
    if (!(rd = pb_reader_open(ipath, &pb_schema_items, &ro, err)) ||
        pb_spool_open(&t.spool, t.batch.dir, err) < 0)
        goto out;
    for (;;) {
        struct pb_rec *recs;
        struct pb_error *bads;
        int *kinds;
        int got = pb_reader_next_many(rd, &recs, &bads, &kinds, READ_MANY, err);
        if (got < 0)
            goto out;
        if (got == 0)
            break;
        for (int i = 0; i < got; i++)
            if (take_item(&t, res, &recs[i], &bads[i], kinds[i], err) < 0)
                goto out;
    }
    if (pb_reader_close(rd, err) < 0) {
        rd = NULL;
        goto out;
    }
    rd = NULL;
    pb_log(PB_LOG_DEBUG, "transform: read %llu items into %zu styles in %.3fs",
           (unsigned long long)res->items, t.nstyles, elapsed(&t0));
    /* Pass 2: chunks of styles built on every core and written in order (build_stores);
     * each store's SKU set has room for every item from the start.  The sets' memory is
     * made ready on another thread while this one gives the styles their handles. */
    struct reserve rv = {&t, (size_t)res->online, 0};
    pthread_t rth;
    int rstarted = pthread_create(&rth, NULL, reserve_skus, &rv) == 0;
    if (!rstarted)
        reserve_skus(&rv);
    int hrc = assign_handles(&t);
    if (rstarted)
        pthread_join(rth, NULL);
    if (hrc < 0 || rv.rc < 0) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    pb_digest_file_move(job, t.hash);
    pb_progress_start(&progress, "transform", (uint64_t)t.nstyles);
    if (build_stores(&t, irel, &progress, err) < 0)
        goto out;
    /* The spool is read no more: the kernel drops its pages on another thread while this
     * one commits. */
    closing = pthread_create(&closer, NULL, spool_closer, &t.spool) == 0;
    for (int s = 0; s < t.nstores; s++)
        pb_writer_writeback(t.stores[s].w);

    pb_progress_end(&progress);
    pb_log(PB_LOG_DEBUG, "transform: built and wrote every store in %.3fs", elapsed(&t0));
    /* Commit every store's files, then the manifest. */
    json_t *stage = pb_batch_stage(&t.batch, "transform");
    json_t *stores = json_object();
    json_t *input = json_object(); /* filled in when the items file's hash is in */
    json_object_set_new(stage, "input", input);
    json_object_set_new(stage, "stores", stores);
    json_array_clear(json_object_get(stage, "outputs"));
    res->nstores = t.nstores;
    for (int s = 0; s < t.nstores; s++) {
        struct pb_store_out *so = &t.stores[s];
        char sha[65], rsha[65];
        uint64_t count;
        struct pb_writer *w = so->w;
        so->w = NULL;
        if (pb_writer_commit(w, sha, &count, err) < 0 ||
            pb_batch_add_output(stage, so->relpath, sha, count, err) < 0)
            goto out;
        struct pb_buf rrel = PB_BUF_INIT;
        if (pb_rejects_commit(&so->rejects, rsha, err) < 0 ||
            pb_buf_addf(&rrel, "%s/rejects.csv", so->cfg->name) < 0) {
            pb_buf_release(&rrel);
            goto out;
        }
        if (!rsha[0]) {
            unlink(so->rejects.path); /* a rejects file from an earlier run is stale now */
        } else if (pb_batch_add_output(stage, rrel.data, rsha, so->rejects.count, err) < 0) {
            pb_buf_release(&rrel);
            goto out;
        }
        pb_buf_release(&rrel);
        struct unmapped_ctx u = {json_object(), so->cfg->name, PB_BUF_INIT, 0};
        pb_maps_unmapped(so->maps, note_unmapped, &u);
        json_t *rec_s = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o}", "platform",
                                  pb_platform_name(so->cfg->platform), "products",
                                  (json_int_t)so->products, "variants", (json_int_t)so->variants,
                                  "rejected_products", (json_int_t)so->rejected_products,
                                  "rejected_items", (json_int_t)so->rejected_items, "unmapped",
                                  u.obj);
        mark_stale(so, rec_s);
        json_object_set_new(stores, so->cfg->name, rec_s);
        if (u.line.len)
            pb_log(PB_LOG_WARN, "%s: values with no mapping (sent as they are):%s%s",
                   so->cfg->name, u.line.data, u.shown > 12 ? ", ..." : "");
        pb_buf_release(&u.line);
        struct pb_transform_store_result *r = &res->stores[s];
        r->name = so->cfg->name;
        r->products = so->products;
        r->variants = so->variants;
        r->rejected_products = so->rejected_products;
        r->rejected_items = so->rejected_items;
    }
    /* The products files are finished, so the items file has the group's thread to
     * itself. */
    char hex[65];
    if (untouched) {
        snprintf(hex, sizeof(hex), "%s", was);
    } else {
        struct pb_digest_job *j = job;
        job = NULL;
        if (pb_digest_file_join(j, hex, NULL, err) < 0)
            goto out;
    }
    res->items_edited = was && strcmp(was, hex) != 0;
    if (res->items_edited)
        pb_log(PB_LOG_WARN, "%s changed since export (edited by hand): re-validated; %llu "
                            "rows refused",
               irel, (unsigned long long)res->rejected_items);
    json_object_set_new(input, "path", json_string(irel));
    json_object_set_new(input, "blake3", json_string(hex));
    json_object_set_new(input, "edited", json_boolean(res->items_edited));
    if (pb_batch_save(&t.batch, err) < 0)
        goto out;
    pb_log(PB_LOG_DEBUG, "transform: committed in %.3fs", elapsed(&t0));
    rc = 0;
out:
    pb_progress_end(&progress);
    /* The writers' streams leave the group, then the items file's job is joined. */
    for (int s = 0; s < t.nstores; s++)
        store_release(&t.stores[s]);
    if (job) {
        char h[65];
        pb_digest_file_join(job, h, NULL, NULL);
    }
    pb_reader_close(rd, NULL);
    if (closing)
        pthread_join(closer, NULL);
    pb_spool_close(&t.spool);
    pb_digest_group_free(t.hash);
    arena_free(&t.text);
    free(t.item_off);
    free(t.item_next);
    free(t.styles);
    free(t.index);
    free(t.chunk_at);
    pb_batch_release(&t.batch);
    free(ipath);
    return rc;
}
