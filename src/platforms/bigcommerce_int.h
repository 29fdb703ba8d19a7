/*
 * The pure parts of the BigCommerce connector, for its unit tests.
 */
#ifndef PB_BIGCOMMERCE_INT_H
#define PB_BIGCOMMERCE_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * A v2 date, RFC 2822 ("Wed, 10 Jan 2018 21:05:30 +0000"; the weekday and the seconds
 * optional; zones +hhmm/-hhmm, GMT, UT, UTC, Z) -> seconds since the epoch.  -1 when it
 * is not one (v2 writes "" for a date not set).
 */
int pb_bc_rfc2822(const char *s, int64_t *epoch);

/* v2 money ("24.9900", "-3.1", "0") -> cents, half away from zero past the second
 * decimal (v2 keeps four).  -1 when it is not a decimal. */
int pb_bc_cents(const char *s, int64_t *cents);

/* ---- inside the connector (not pure): shared by upload and download ---- */
struct pb_upload;
struct pb_dl;
struct pb_error;

/*
 * GET each of urls (each with a query string) and every further page meta.pagination
 * announces; the data items go to out.  When stop_above > 0 and the first url has more
 * pages than that, stop there and return 2.  0 done, 1 failed (why, *http), -1 engine
 * error (err).
 */
int pb_bc_get_pages(struct pb_upload *u, char **urls, size_t n, const char *label, json_t *out,
                    int stop_above, char *why, size_t whylen, long *http, struct pb_error *err);

/* Shipped orders, their refunds and customers (bigcommerce_orders.c). */
int pb_bc_download(struct pb_upload *u, struct pb_dl *dl, struct pb_error *err);

#endif
