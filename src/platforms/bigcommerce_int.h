/*
 * The pure parts of the BigCommerce connector, for its unit tests.
 */
#ifndef PB_BIGCOMMERCE_INT_H
#define PB_BIGCOMMERCE_INT_H

#include <jansson.h>
#include <stddef.h>

/* json_dumps flags for every body: 15 significant digits print a decimal of up to 13
 * integer digits exactly ("24.99", never "24.989999999999998"). */
#define PB_BC_DUMP JSON_REAL_PRECISION(15)

/*
 * An exact decimal string ("24.99", "0.75", "12") as a JSON number that prints back as
 * the same value under PB_BC_DUMP: an integer when it has no fraction, else a real.
 * NULL when s is not a decimal with at most 6 fractional digits.
 */
json_t *pb_bc_number(const char *s, size_t n);

/* BigCommerce SKUs are unique ignoring letter case: the same SKU for the store. */
int pb_bc_sku_same(const char *a, const char *b);

/* "23" or "23, 24" -> [23, 24]; NULL when any part is not a positive integer id. */
json_t *pb_bc_categories(const char *s);

#endif
