/*
 * The transform stage, outbound: a catalog batch's items -> <store>/products.csv|jsonl
 * for each configured store, applying the retailer's settings and mapping tables:
 * which items go online, which field is the SKU, which price levels, the quantity
 * policy, value maps; QBPOS styles (same department and item name) become products whose
 * variants carry up to three options.  Each platform's limits are checked here, before
 * any network: a product that breaks one is rejected whole, with the reason.
 *
 * Streams: items are spooled once with an index of styles, then the styles are built in
 * chunks (at most 256 styles or about 1,024 items, or one bigger style) and written in
 * turn, so memory holds a few chunks plus the index.  A style's rows are built once for
 * the stores that share them (all but the quantities).  Deterministic: the same items and
 * configuration give byte-identical files, however many cores build them.
 */
#ifndef PB_TRANSFORM_H
#define PB_TRANSFORM_H

#include <stdint.h>

struct pb_config;
struct pb_error;

struct pb_transform_opts {
    const char *batch_dir;
    const char *const *stores; /* names; NULL or empty: every configured store */
    int nstores;
};

struct pb_transform_store_result {
    const char *name;
    uint64_t products, variants;
    uint64_t rejected_products, rejected_items;
};

struct pb_transform_result {
    uint64_t items, online, filtered, rejected_items;
    int nstores;
    struct pb_transform_store_result stores[32];
    int items_edited; /* the items file changed since export */
};

struct pb_rec;
/* The content_hash of a products row: 16 hex digits over every field but the quantities. */
void pb_products_row_hash(const struct pb_rec *row, char hex[17]);

/* Inbound: a sales batch's orders.* and returns.* -> qbpos/receipts.* (see inbound.c). */
struct pb_inbound_result {
    uint64_t orders, returns, receipts, rejected;
    uint64_t adjusted;   /* receipts whose tender took a few cents of tax rounding */
};
int pb_transform_inbound(const struct pb_config *cfg, const char *batch_dir,
                         struct pb_inbound_result *res, struct pb_error *err);

int pb_transform_run(const struct pb_config *cfg, const struct pb_transform_opts *o,
                     struct pb_transform_result *res, struct pb_error *err);

#endif
