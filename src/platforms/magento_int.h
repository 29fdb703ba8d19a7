/*
 * Pure helpers of the Magento connector, exposed for the unit tests, and its download.
 */
#ifndef PB_MAGENTO_INT_H
#define PB_MAGENTO_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "posbridge/buf.h"
#include "posbridge/config.h"

/* A decimal string ("24.99", "0.5", "3") as a JSON number that prints back as the same
 * decimal (integers as integers, the others as the nearest double, which the REST layer
 * prints with 15 significant digits); NULL when s is not a decimal of at most 6 places. */
json_t *pb_magento_number(const char *s);

/* The store attribute code for an option name: option_attributes when it names one,
 * else the name lowercased.  malloc'd; NULL when out of memory. */
char *pb_magento_attr_code(const struct pb_store_cfg *st, const char *option);

/* A URL key piece: lowercase ASCII letters and digits, other runs turned into one '-',
 * none at either end.  malloc'd; NULL when out of memory. */
char *pb_magento_slug(const char *s);

/* The SKU an operation of a bulk was about, from its detailed status ("serialized_data"
 * holds the original body as JSON text inside JSON text); malloc'd, NULL when it cannot
 * tell. */
char *pb_magento_op_sku(json_t *op);

/* ---- the download (magento_orders.c) ---- */

struct pb_upload;
struct pb_dl;
struct pb_error;

int pb_magento_download(struct pb_upload *u, struct pb_dl *dl, struct pb_error *err);

/* An instant as a Magento filter value, "YYYY-MM-DD hh:mm:ss" (UTC). */
void pb_magento_time(int64_t epoch, char out[32]);

/* Money as Magento sends it (a JSON number, an integer, a decimal string) in cents,
 * exactly; -1 when it is not an amount or has fractions of a cent. */
int pb_magento_cents(json_t *v, int64_t *cents);

/* One searchCriteria filter; each goes in its own filter group (groups are AND). */
struct pb_mg_filter {
    const char *field, *cond, *value;
};

/* The query of a search list (without the '?'): the filters, the sort fields (ASC), the
 * page size (always sent) and page, and a fields= selection when not NULL. */
int pb_magento_search_query(struct pb_buf *b, const struct pb_mg_filter *f, size_t nf,
                            const char *const *sort, size_t ns, int page_size, int page,
                            const char *fields);

/* An address's street (a list of lines, or a string): the first line in first, the
 * others joined with ", " in rest. */
int pb_magento_street(json_t *street, struct pb_buf *first, struct pb_buf *rest);

#endif
