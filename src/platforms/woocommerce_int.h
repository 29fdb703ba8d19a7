/* Inside the WooCommerce connector: what upload (woocommerce.c) and download
 * (woocommerce_orders.c) share, and the download's pure arithmetic (unit-tested). */
#ifndef PB_WOOCOMMERCE_INT_H
#define PB_WOOCOMMERCE_INT_H

#include <stddef.h>
#include <stdint.h>

struct pb_upload;
struct pb_error;
struct pb_dl;
struct pb_rest_req;
struct pb_rest;

/* pb_rest_run, and with OAuth a request whose nonce may be spent (500, no answer) signed
 * again and sent once more; creates (once) never.  -1 only when the engine failed. */
int pb_woo_send(struct pb_upload *u, const struct pb_rest_req *rq, struct pb_rest *r, size_t n,
                struct pb_error *err);
/* base_url + "/wp-json/wc/v3" + rest; malloc'd or NULL. */
char *pb_woo_url(const struct pb_upload *u, const char *rest);

/* Orders, refunds and customers (woocommerce_orders.c). */
int pb_woo_download(struct pb_upload *u, struct pb_dl *dl, struct pb_error *err);

/*
 * A line's unit price before discount and its whole discount, in cents, from WooCommerce's
 * subtotal (before discounts) and total (after) for qty units: price = subtotal / qty when
 * that is a whole number of cents; otherwise the cent above, and the discount takes the
 * difference, so that price * qty - discount is the line's total exactly.  -1 when qty is
 * not positive or the amounts cannot be put that way (negative).
 */
int pb_woo_line_price(int64_t subtotal, int64_t total, int64_t qty, int64_t *price,
                      int64_t *discount);
/*
 * A refunded amount over qty units as at most two unit prices: *n_hi units at *lo + 1
 * cent and the others at *lo (*n_hi is 0 when it divides).  -1 when qty is not positive
 * or amount is negative.
 */
int pb_woo_split(int64_t amount, int64_t qty, int64_t *lo, int64_t *n_hi);
/* An epoch time as WooCommerce takes a GMT date with dates_are_gmt: "YYYY-MM-DDThh:mm:ss",
 * no zone (a zone would make WordPress convert it to site time first). */
void pb_woo_gmt(int64_t epoch, char out[32]);

#endif
