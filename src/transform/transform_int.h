/* Private to src/transform: one store's output while the stage runs, and the builder. */
#ifndef PB_TRANSFORM_INT_H
#define PB_TRANSFORM_INT_H

#include <stdint.h>

#include "posbridge/buf.h"

#include "posbridge/config.h"
#include "posbridge/maps.h"
#include "posbridge/record.h"
#include "posbridge/rejects.h"
#include "posbridge/staged.h"

/* What a platform accepts; checked before any network. 0 means no limit. */
struct pb_limits {
    int max_variants;
    int max_title;   /* characters */
    int max_sku;     /* characters */
    int max_barcode; /* characters */
    int sku_ci;      /* SKUs must differ ignoring case */
};

const struct pb_limits *pb_limits_for(enum pb_platform_id p);

/* A set of SKUs already used in one store's file, with the product that took each.  A
 * slot is 8 bytes (the set is looked up at random, and its memory is new: its size is
 * what costs): the low half of the key's hash and where the key is in `keys`, which keeps
 * before each key the number of the style that took it in `owners`. */
struct pb_skuslot {
    uint32_t hash, key; /* key: its offset in keys + 1, 0 for an empty slot */
};

struct pb_skuset {
    struct pb_skuslot *slot;
    size_t n, cap;
    char *keys; /* per SKU: its owner (a style number, 4 bytes), then the SKU as compared
                 * and a NUL */
    size_t keys_len, keys_cap;
    const struct pb_style *owners;
};

/* Per-product scratch, grown as needed and reused. */
struct pb_scratch {
    int *ok;
    void *var;
    size_t *keys; /* where each item's SKU went in the set's keys */
    uint64_t *khash;
    int cap;
    struct pb_buf tags;
};

void pb_scratch_free(struct pb_scratch *sc);

struct pb_store_out {
    const struct pb_store_cfg *cfg;
    const struct pb_limits *lim;
    struct pb_maps *maps;
    char *dir;          /* <batch>/<store> */
    char *relpath;      /* <store>/products.csv */
    struct pb_writer *w;
    struct pb_columns cols;
    struct pb_rejects rejects;
    struct pb_skuset skus;
    int group;          /* the stores whose rows it shares (transform.c) */
    int qgroup;         /* and those whose quantities it shares */
    uint64_t products, variants, rejected_products, rejected_items;
    struct pb_scratch scratch;
};

/* One QBPOS style: the items of a product. */
struct pb_style {
    char *key;       /* product_key */
    char *handle;
    uint64_t hash;   /* of key */
    uint32_t keylen;
    uint32_t n;      /* items */
    uint32_t first, last; /* its items in the transform's list of them, + 1 */
};

/*
 * A style's rows are built once for a group of stores whose rows differ only in their
 * quantities (same maps, price levels and status on create), ahead of the stores' checks
 * and on any thread; each store then writes them around its own quantities.  The parts
 * are spans of one buffer: the product's fields, then per item its variant's fields and
 * its last fields (the ListID, the item number and the content hash).
 */
struct pb_seg {
    uint32_t off, len;
};

/* A value a mapping table had no row for, met building an option: each store of the group
 * counts it again (pb_maps_note_unmapped) in the order the stores' products are written. */
struct pb_unmapped_use {
    int field; /* enum pb_map_field */
    const char *v;
    size_t len;
};

struct pb_uses {
    struct pb_unmapped_use *v;
    size_t n, cap;
};

/* What the platform checks need and is the same for every store of a group, worked out
 * once by the build: per item of the style (only those with a SKU are set). */
struct pb_facts {
    int *dup_of;         /* the first earlier item with the same options, or -1 */
    uint32_t *sku_chars; /* the SKU's length in characters */
    size_t title_chars;
    int differ[5];       /* per shared field (check_agreement): the first item whose value
                          * is not the first item's, or -1 */
    size_t use_from, use_to; /* its unmapped option values in uses */
};

struct pb_built {
    const char *base;              /* the group's buffer */
    struct pb_seg product;
    struct pb_seg *variant, *tail; /* per item; empty for an item without a SKU */
    struct pb_facts facts;         /* per-item arrays with room for the style */
    struct pb_uses *uses;          /* the chunk's, for the group */
    /* and for one store of the group: */
    const char *qbase;             /* the store's buffer */
    const struct pb_seg *qty;      /* per item: its quantities' part */
    const uint64_t *skuhash;       /* per item: its SKU's hash as the store compares SKUs */
};

/* What one thread needs to build for one group. */
struct pb_builder {
    const struct pb_store_cfg *sc; /* the group's first store */
    struct pb_maps *maps;          /* the thread's own copy, only looked up */
    const struct pb_writer *w;     /* the first store's writer: how fields are encoded */
    struct pb_rec row;
    struct pb_scratch scratch;
};

/* Build the parts of style st's rows onto out.  items[0..n) are its items in file order;
 * bl->variant and bl->tail have room for n. */
int pb_product_build(struct pb_builder *b, const struct pb_config *cfg, const struct pb_style *st,
                     struct pb_rec *items, int n, struct pb_buf *out, struct pb_built *bl,
                     struct pb_error *err);

/* The quantities' part of each item's row for store so, onto out (any thread).  Stores
 * with the same quantity settings and columns get the same (pb_product_same_qty). */
int pb_product_qty(const struct pb_store_out *so, const struct pb_config *cfg,
                   const struct pb_rec *items, int n, struct pb_buf *out, struct pb_seg *qty,
                   struct pb_error *err);
int pb_product_same_qty(const struct pb_store_cfg *a, const struct pb_store_cfg *b);

/* The hash of each item's SKU as a store compares SKUs: h[0] with case, h[1] without. */
void pb_product_skuhash(const struct pb_config *cfg, const struct pb_rec *items, int n,
                        uint64_t *h0, uint64_t *h1);

/* Where the slots of the items' SKUs are in so's set, asked for ahead of time. */
void pb_product_prefetch(const struct pb_store_out *so, const uint64_t *skuhash, int n);

/*
 * One style's product for one store: the platform's checks, the SKUs' uniqueness, and the
 * rows from the parts built for its group and its quantities, or its rejects.  -1 only
 * on an environment error.
 */
int pb_product_write(struct pb_store_out *so, const struct pb_config *cfg,
                     const struct pb_style *st, struct pb_rec *items, int n,
                     const struct pb_built *bl, struct pb_error *err);

/* Reject one item for a store (writes its rejects row). */
int pb_product_reject_item(struct pb_store_out *so, const struct pb_rec *item,
                           const char *field, const char *reason, struct pb_error *err);

/* Fold the value s[0..n) into the running content hash h (see products.content_hash). */
uint64_t pb_content_hash(uint64_t h, const char *s, size_t n);

/* URL handle of a product key: lower-case ASCII letters, digits and dashes. */
char *pb_slug(const char *s, size_t len);

/* Room for n more SKUs at once (the set grows by itself, rehashing as it goes). */
int pb_skuset_reserve(struct pb_skuset *s, size_t n);
void pb_skuset_free(struct pb_skuset *s);

#endif
