/*
 * WooCommerce download: completed orders, their refunds and their customers, through the
 * REST API v3.
 *
 * GET /orders?status=completed,refunded&modified_after=..&modified_before=..
 * &dates_are_gmt=true&orderby=modified&order=asc&per_page=100&page=N, every page until
 * X-WP-TotalPages (or a short page when a host strips the headers).  The dates are GMT
 * without a zone (with a zone WordPress converts them to site time first); modified_after
 * is strict, so it is sent a second early.  Adding a refund moves the order's modified
 * date, so refunds come with their order.  While the pages are read, an order changed
 * meanwhile leaves the window (its new date is past its end) and the orders after it move
 * one place up: when X-WP-Total drops, the pages it could have moved from are read again
 * (the sink keeps each record once).
 *
 * Shipped means completed: WooCommerce core has no shipment, date_completed_gmt is when
 * the order was completed.  A refunded order that was completed first still counts (its
 * refunds become returns); one never completed is skipped, with its refunds.
 *
 * Money is WooCommerce's decimal strings (dp 2).  A line's unit price is subtotal /
 * quantity (before discounts; the API's price is a JSON number after discounts), its
 * discount subtotal - total (coupons are spread over the lines by WooCommerce), its tax
 * total_tax.  Shipping is shipping_total and shipping_tax; a negative fee (a discount
 * given as a fee) is the order discount; a positive fee has no place in a QBPOS receipt
 * and sends the order to rejects.csv.  The payment is payment_method (the gateway id)
 * for the order total.
 *
 * Refunds: GET /orders/{id}/refunds for the orders whose refunds[] is not empty.  Refund
 * lines have negative quantities and totals (made positive); the unit price refunded is
 * total / quantity (a line whose total does not divide becomes two rows, a cent apart);
 * refund_shipping is the shipping refunded with its tax (as an order's shipping and its
 * tax are one amount on the receipt); refund_total is the refund's amount, paid back
 * through the order's payment_method.  WooCommerce does not say afterwards whether a
 * refund restocked its items (api_restock is only a request flag): restock is taken as
 * true.  A refund has no modified date: its date_created_gmt stands for it.
 *
 * Customers: registered ones (customer_id > 0) from the order's billing address, as of
 * the order's modified date; guests exist only on their orders.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pb_schemas.h"
#include "posbridge/buf.h"
#include "posbridge/download.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/money.h"
#include "posbridge/rest.h"
#include "posbridge/timefmt.h"
#include "posbridge/upload.h"
#include "woocommerce_int.h"
#include "posbridge/banned.h"

#define PAGE 100
#define REREADS 20  /* times the pages may be read again before giving up on this run */

/* ---- pure arithmetic ---- */

int
pb_woo_line_price(int64_t subtotal, int64_t total, int64_t qty, int64_t *price,
                  int64_t *discount)
{
    if (qty <= 0 || subtotal < 0 || total < 0)
        return -1;
    int64_t p = subtotal / qty + (subtotal % qty != 0);
    int64_t d = p * qty - total;
    if (d < 0)
        return -1;
    *price = p;
    *discount = d;
    return 0;
}

int
pb_woo_split(int64_t amount, int64_t qty, int64_t *lo, int64_t *n_hi)
{
    if (qty <= 0 || amount < 0)
        return -1;
    *lo = amount / qty;
    *n_hi = amount % qty;
    return 0;
}

void
pb_woo_gmt(int64_t epoch, char out[32])
{
    pb_time_format(epoch, out);
    size_t n = strlen(out);
    if (n && out[n - 1] == 'Z')
        out[n - 1] = '\0';
}

/* ---- reading ---- */

static const char *
str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : NULL;
}

/* A money string in cents; 0 when absent; -1 (with the record marked) when unreadable. */
static int
cents(struct pb_dl *dl, json_t *o, const char *key, const char *field, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    const char *why;
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    const char *s = json_string_value(v);
    if (!s || pb_money_parse(s, strlen(s), out, &why) < 0) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s is not an amount in cents", key);
        pb_dl_bad(dl, field, msg);
        return -1;
    }
    return 0;
}

static void
set_cents(struct pb_dl *dl, int field, int64_t c)
{
    char b[32];
    pb_money_format(c, b);
    pb_dl_set(dl, field, b);
}

static void
set_int(struct pb_dl *dl, int field, long long v)
{
    char b[32];
    snprintf(b, sizeof(b), "%lld", v);
    pb_dl_set(dl, field, b);
}

static int
read_failed(struct pb_upload *u, const char *what, const char *why, struct pb_error *err)
{
    int code = u->res->auth_failed ? PB_ENOPERM
               : u->res->temp_failed || u->res->unreachable ? PB_ETEMP : PB_EPROTO;
    if (u->res->auth_failed)
        return pb_error_set(err, code, "%s: the store refused the API keys (%s): check "
                                       "consumer_key, consumer_secret and their read permission",
                            u->store->name, why);
    return pb_error_set(err, code, "%s: cannot read %s: %s", u->store->name, what, why);
}

/* street, street2, city, state, postal code, country, phone of a WooCommerce address */
static void
address(struct pb_dl *dl, json_t *a, const int *fields)
{
    static const char *const keys[] = {"address_1", "address_2", "city", "state",
                                       "postcode",  "country",   "phone"};
    for (int k = 0; k < 7; k++)
        if (fields[k] >= 0)
            pb_dl_set(dl, fields[k], str(a, keys[k]));
}

/* "first last" of an address; NULL when both are empty. */
static char *
full_name(json_t *a)
{
    const char *f = str(a, "first_name"), *l = str(a, "last_name");
    if (!f && !l)
        return NULL;
    struct pb_buf b = PB_BUF_INIT;
    if (pb_buf_addf(&b, "%s%s%s", f ? f : "", f && l ? " " : "", l ? l : "") < 0) {
        pb_buf_release(&b);
        return NULL;
    }
    return pb_buf_detach(&b, NULL);
}

/* Was it ever completed (shipped)?  Completed and refunded orders with a completion date. */
static int
shipped(json_t *o)
{
    const char *st = str(o, "status");
    return st && (!strcmp(st, "completed") || !strcmp(st, "refunded")) &&
           str(o, "date_completed_gmt");
}

static int
one_order(struct pb_upload *u, struct pb_dl *dl, json_t *o, const char *id,
          struct pb_error *err)
{
    const char *upd = str(o, "date_modified_gmt");
    int r = pb_dl_begin(dl, PB_DL_ORDERS, id, upd);
    if (r < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    if (r == 0)
        return pb_dl_end(dl, err);
    json_t *bill = json_object_get(o, "billing"), *ship = json_object_get(o, "shipping");
    char buf[32];
    const char *cid = pb_json_id(o, "customer_id", buf);
    pb_dl_set(dl, PB_ORDERS_STORE, u->store->name);
    pb_dl_set(dl, PB_ORDERS_ORDER_ID, id);
    pb_dl_set_json(dl, PB_ORDERS_ORDER_NUMBER, json_object_get(o, "number"));
    pb_dl_set(dl, PB_ORDERS_CREATED_AT, str(o, "date_created_gmt"));
    pb_dl_set(dl, PB_ORDERS_UPDATED_AT, upd);
    pb_dl_set(dl, PB_ORDERS_SHIPPED_AT, str(o, "date_completed_gmt"));
    pb_dl_set(dl, PB_ORDERS_CURRENCY, str(o, "currency"));
    if (cid && strcmp(cid, "0"))
        pb_dl_set(dl, PB_ORDERS_CUSTOMER_ID, cid);
    pb_dl_set(dl, PB_ORDERS_CUSTOMER_EMAIL, str(bill, "email"));
    pb_dl_set(dl, PB_ORDERS_CUSTOMER_FIRST_NAME, str(bill, "first_name"));
    pb_dl_set(dl, PB_ORDERS_CUSTOMER_LAST_NAME, str(bill, "last_name"));
    pb_dl_set(dl, PB_ORDERS_CUSTOMER_COMPANY, str(bill, "company"));
    pb_dl_set(dl, PB_ORDERS_CUSTOMER_PHONE, str(bill, "phone"));
    static const int bf[] = {PB_ORDERS_BILL_STREET, PB_ORDERS_BILL_STREET2, PB_ORDERS_BILL_CITY,
                             PB_ORDERS_BILL_STATE, PB_ORDERS_BILL_POSTAL_CODE,
                             PB_ORDERS_BILL_COUNTRY, -1};
    static const int sf[] = {PB_ORDERS_SHIP_STREET, PB_ORDERS_SHIP_STREET2, PB_ORDERS_SHIP_CITY,
                             PB_ORDERS_SHIP_STATE, PB_ORDERS_SHIP_POSTAL_CODE,
                             PB_ORDERS_SHIP_COUNTRY, PB_ORDERS_SHIP_PHONE};
    address(dl, bill, bf);
    address(dl, ship, sf);
    char *name = full_name(ship);
    pb_dl_set(dl, PB_ORDERS_SHIP_FULL_NAME, name);
    free(name);
    pb_dl_set(dl, PB_ORDERS_SHIP_COMPANY, str(ship, "company"));
    pb_dl_set(dl, PB_ORDERS_SHIP_METHOD,
              str(json_array_get(json_object_get(o, "shipping_lines"), 0), "method_title"));
    int64_t c;
    if (cents(dl, o, "shipping_total", "shipping", &c) == 0)
        set_cents(dl, PB_ORDERS_SHIPPING, c);
    if (cents(dl, o, "shipping_tax", "shipping_tax", &c) == 0 && c)
        set_cents(dl, PB_ORDERS_SHIPPING_TAX, c);
    /* fees: a negative one is a discount on the whole order; a positive one has no place */
    int64_t fee_discount = 0;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(o, "fee_lines"), i, f) {
        if (cents(dl, f, "total", "order_discount", &c) < 0)
            continue;
        if (c < 0) {
            fee_discount -= c;
        } else if (c > 0) {
            char msg[300], a[32];
            pb_money_format(c, a);
            snprintf(msg, sizeof(msg), "a fee of %s ('%.100s'): a QBPOS receipt has no place "
                                       "for a charge that is not an item or shipping",
                     a, str(f, "name") ? str(f, "name") : "");
            pb_dl_bad(dl, "order_discount", msg);
        }
    }
    if (fee_discount)
        set_cents(dl, PB_ORDERS_ORDER_DISCOUNT, fee_discount);
    pb_dl_set(dl, PB_ORDERS_TAX_TOTAL, str(o, "total_tax"));
    pb_dl_set(dl, PB_ORDERS_TOTAL, str(o, "total"));
    const char *gw = str(o, "payment_method");
    if (gw) {
        pb_dl_set(dl, PB_ORDERS_TENDER_01_GATEWAY, gw);
        pb_dl_set(dl, PB_ORDERS_TENDER_01_AMOUNT, str(o, "total"));
    }
    json_t *li;
    json_array_foreach(json_object_get(o, "line_items"), i, li) {
        json_t *q = json_object_get(li, "quantity");
        int64_t sub, tot, price, disc;
        pb_dl_line(dl);
        pb_dl_set(dl, PB_ORDERS_LINE_ID, pb_json_id(li, "id", buf));
        pb_dl_set(dl, PB_ORDERS_LINE_SKU, str(li, "sku"));
        pb_dl_set(dl, PB_ORDERS_LINE_TITLE, str(li, "name"));
        pb_dl_set_json(dl, PB_ORDERS_LINE_QTY, q);
        if (cents(dl, li, "subtotal", "line_price", &sub) < 0 ||
            cents(dl, li, "total", "line_discount", &tot) < 0)
            continue;
        if (!json_is_integer(q) ||
            pb_woo_line_price(sub, tot, json_integer_value(q), &price, &disc) < 0) {
            pb_dl_bad(dl, "line_price", "a line's quantity, subtotal and total do not make a "
                                        "unit price and a discount");
            continue;
        }
        set_cents(dl, PB_ORDERS_LINE_PRICE, price);
        if (disc)
            set_cents(dl, PB_ORDERS_LINE_DISCOUNT, disc);
        pb_dl_set(dl, PB_ORDERS_LINE_TAX, str(li, "total_tax"));
    }
    return pb_dl_end(dl, err);
}

/* One refund of an order as a returns record. */
static int
one_refund(struct pb_upload *u, struct pb_dl *dl, json_t *o, const char *oid, json_t *rf,
           struct pb_error *err)
{
    char buf[32], rbuf[32], lbuf[32];
    const char *rid = pb_json_id(rf, "id", rbuf);
    const char *when = str(rf, "date_created_gmt");
    int b = pb_dl_begin(dl, PB_DL_RETURNS, rid, when);
    if (b < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    if (b == 0)
        return pb_dl_end(dl, err);
    pb_dl_set(dl, PB_RETURNS_STORE, u->store->name);
    pb_dl_set(dl, PB_RETURNS_RETURN_ID, rid);
    pb_dl_set(dl, PB_RETURNS_ORDER_ID, oid);
    pb_dl_set_json(dl, PB_RETURNS_ORDER_NUMBER, json_object_get(o, "number"));
    pb_dl_set(dl, PB_RETURNS_CREATED_AT, when);
    pb_dl_set(dl, PB_RETURNS_UPDATED_AT, when);
    pb_dl_set(dl, PB_RETURNS_CURRENCY, str(o, "currency"));
    pb_dl_set(dl, PB_RETURNS_CUSTOMER_EMAIL, str(json_object_get(o, "billing"), "email"));
    /* shipping refunded, with its tax: negative on the refund */
    int64_t ship = 0, c;
    size_t i;
    json_t *sl;
    json_array_foreach(json_object_get(rf, "shipping_lines"), i, sl) {
        if (cents(dl, sl, "total", "refund_shipping", &c) == 0)
            ship -= c;
        if (cents(dl, sl, "total_tax", "refund_shipping", &c) == 0)
            ship -= c;
    }
    if (ship)
        set_cents(dl, PB_RETURNS_REFUND_SHIPPING, ship);
    pb_dl_set(dl, PB_RETURNS_REFUND_TOTAL, str(rf, "amount"));
    const char *gw = str(o, "payment_method");
    if (gw) {
        pb_dl_set(dl, PB_RETURNS_TENDER_01_GATEWAY, gw);
        pb_dl_set(dl, PB_RETURNS_TENDER_01_AMOUNT, str(rf, "amount"));
    }
    json_t *li;
    json_array_foreach(json_object_get(rf, "line_items"), i, li) {
        /* the order line it refunds: meta _refunded_item_id */
        const char *item = NULL;
        size_t k;
        json_t *m;
        json_array_foreach(json_object_get(li, "meta_data"), k, m) {
            const char *key = str(m, "key");
            if (key && !strcmp(key, "_refunded_item_id"))
                item = pb_json_id(m, "value", buf);
        }
        json_t *q = json_object_get(li, "quantity");
        int64_t tot, tax, lo = 0, hi = 0;
        if (cents(dl, li, "total", "line_price", &tot) < 0 ||
            cents(dl, li, "total_tax", "line_tax", &tax) < 0)
            continue;
        if (!json_is_integer(q)) {
            pb_dl_bad(dl, "line_qty", "a refunded line's quantity is not a whole number");
            continue;
        }
        int64_t qty = -json_integer_value(q);
        int rows = 1;
        if (qty > 0 && pb_woo_split(-tot, qty, &lo, &hi) < 0) {
            pb_dl_bad(dl, "line_price", "a refunded line's total is not a refund");
            continue;
        }
        if (qty > 0 && hi)
            rows = 2; /* hi units a cent dearer than the others */
        for (int row = 0; row < rows; row++) {
            pb_dl_line(dl);
            pb_dl_set(dl, PB_RETURNS_LINE_ID, item ? item : pb_json_id(li, "id", lbuf));
            pb_dl_set(dl, PB_RETURNS_LINE_TITLE, str(li, "name"));
            if (qty <= 0) {
                /* money only (quantity 0): no item comes back */
                set_cents(dl, PB_RETURNS_LINE_PRICE, -tot);
                set_cents(dl, PB_RETURNS_LINE_TAX, -tax);
                continue;
            }
            pb_dl_set(dl, PB_RETURNS_LINE_SKU, str(li, "sku"));
            if (rows == 1) {
                set_int(dl, PB_RETURNS_LINE_QTY, (long long)qty);
                set_cents(dl, PB_RETURNS_LINE_PRICE, lo);
            } else {
                set_int(dl, PB_RETURNS_LINE_QTY, (long long)(row ? qty - hi : hi));
                set_cents(dl, PB_RETURNS_LINE_PRICE, row ? lo : lo + 1);
            }
            if (row == 0)
                set_cents(dl, PB_RETURNS_LINE_TAX, -tax);
            pb_dl_set(dl, PB_RETURNS_RESTOCK, "true");
        }
    }
    return pb_dl_end(dl, err);
}

static int
one_customer(struct pb_upload *u, struct pb_dl *dl, json_t *o, struct pb_error *err)
{
    char buf[32];
    const char *cid = pb_json_id(o, "customer_id", buf);
    if (!cid || !strcmp(cid, "0"))
        return 0; /* a guest */
    json_t *bill = json_object_get(o, "billing");
    const char *upd = str(o, "date_modified_gmt");
    int b = pb_dl_begin(dl, PB_DL_CUSTOMERS, cid, upd);
    if (b < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    if (b == 0)
        return pb_dl_end(dl, err);
    pb_dl_set(dl, PB_CUSTOMERS_STORE, u->store->name);
    pb_dl_set(dl, PB_CUSTOMERS_CUSTOMER_ID, cid);
    pb_dl_set(dl, PB_CUSTOMERS_EMAIL, str(bill, "email"));
    pb_dl_set(dl, PB_CUSTOMERS_FIRST_NAME, str(bill, "first_name"));
    pb_dl_set(dl, PB_CUSTOMERS_LAST_NAME, str(bill, "last_name"));
    pb_dl_set(dl, PB_CUSTOMERS_COMPANY, str(bill, "company"));
    pb_dl_set(dl, PB_CUSTOMERS_PHONE, str(bill, "phone"));
    static const int cf[] = {PB_CUSTOMERS_STREET, PB_CUSTOMERS_STREET2, PB_CUSTOMERS_CITY,
                             PB_CUSTOMERS_STATE, PB_CUSTOMERS_POSTAL_CODE, PB_CUSTOMERS_COUNTRY,
                             -1};
    address(dl, bill, cf);
    pb_dl_set(dl, PB_CUSTOMERS_UPDATED_AT, upd);
    return pb_dl_end(dl, err);
}

/*
 * The refunds of these orders (GET /orders/{id}/refunds, every page), fetched together:
 * out[i] gets order i's refunds (a new array).  -1 with err when one cannot be read.
 */
static int
fetch_refunds(struct pb_upload *u, json_t **orders, size_t n, json_t **out, struct pb_error *err)
{
    struct pb_rest_req *rq = calloc(n + 1, sizeof(*rq));
    struct pb_rest *r = calloc(n + 1, sizeof(*r));
    char **urls = calloc(n + 1, sizeof(*urls));
    long *page = calloc(n + 1, sizeof(*page));
    size_t *ix = calloc(n + 1, sizeof(*ix));
    int rc = -1, failed = 0;
    if (!rq || !r || !urls || !page || !ix) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = json_array();
        page[i] = 1;
    }
    size_t todo = n;
    while (todo) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (!page[i])
                continue;
            char id[32], rest[128];
            snprintf(rest, sizeof(rest), "/orders/%s/refunds?per_page=%d&page=%ld",
                     pb_json_id(orders[i], "id", id), PAGE, page[i]);
            if (!(urls[k] = pb_woo_url(u, rest))) {
                pb_error_set(err, PB_EOS, "out of memory");
                goto out;
            }
            rq[k] = (struct pb_rest_req){"GET", urls[k], NULL, "refunds", 0, 1};
            ix[k++] = i;
        }
        if (pb_woo_send(u, rq, r, k, err) < 0)
            goto out;
        for (size_t j = 0; j < k; j++) {
            size_t i = ix[j];
            if (!pb_rest_ok(&r[j]) || !json_is_array(r[j].json)) {
                if (!failed++)
                    read_failed(u, "an order's refunds",
                                r[j].error[0] ? r[j].error : "not a list of refunds", err);
                continue;
            }
            json_array_extend(out[i], r[j].json);
            size_t got = json_array_size(r[j].json);
            int more = r[j].wp_pages >= 0 ? page[i] < r[j].wp_pages : got == PAGE;
            if (more && got) {
                page[i]++;
            } else {
                page[i] = 0;
                todo--;
            }
        }
        for (size_t j = 0; j < k; j++) {
            pb_rest_release(&r[j]);
            free(urls[j]);
            urls[j] = NULL;
        }
        if (failed)
            goto out;
    }
    rc = 0;
out:
    for (size_t j = 0; r && j < n + 1; j++)
        pb_rest_release(&r[j]);
    for (size_t j = 0; urls && j < n + 1; j++)
        free(urls[j]);
    free(rq);
    free(r);
    free(urls);
    free(page);
    free(ix);
    return rc;
}

/* One page of orders into the sink: orders, then their refunds, then their customers. */
static int
one_page(struct pb_upload *u, struct pb_dl *dl, json_t *list, struct pb_error *err)
{
    size_t n = json_array_size(list), nr = 0, i;
    json_t **with = calloc(n + 1, sizeof(*with)), **refunds = calloc(n + 1, sizeof(*refunds));
    json_t *o;
    int rc = -1;
    if (!with || !refunds) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    json_array_foreach(list, i, o) {
        if (!shipped(o))
            continue; /* never completed: not shipped, nothing for QBPOS */
        char id[32];
        const char *oid = pb_json_id(o, "id", id);
        if (one_order(u, dl, o, oid, err) < 0)
            goto out;
        if (json_array_size(json_object_get(o, "refunds")))
            with[nr++] = o;
    }
    if (nr && fetch_refunds(u, with, nr, refunds, err) < 0)
        goto out;
    for (size_t k = 0; k < nr; k++) {
        char id[32];
        const char *oid = pb_json_id(with[k], "id", id);
        size_t j;
        json_t *rf;
        json_array_foreach(refunds[k], j, rf) {
            if (one_refund(u, dl, with[k], oid, rf, err) < 0)
                goto out;
        }
    }
    json_array_foreach(list, i, o) {
        if (shipped(o) && one_customer(u, dl, o, err) < 0)
            goto out;
    }
    rc = 0;
out:
    for (size_t k = 0; refunds && k < nr; k++)
        json_decref(refunds[k]);
    free(with);
    free(refunds);
    return rc;
}

int
pb_woo_download(struct pb_upload *u, struct pb_dl *dl, struct pb_error *err)
{
    char after[32], before[32];
    pb_woo_gmt(pb_dl_since(dl) - 1, after); /* modified_after is strict */
    pb_woo_gmt(pb_dl_until(dl), before);    /* modified_before too: the window's end */
    long page = 1, total = -1;
    int rereads = 0;
    for (;;) {
        char rest[300];
        snprintf(rest, sizeof(rest),
                 "/orders?status=completed,refunded&modified_after=%s&modified_before=%s"
                 "&dates_are_gmt=true&orderby=modified&order=asc&per_page=%d&page=%ld",
                 after, before, PAGE, page);
        char *url = pb_woo_url(u, rest);
        if (!url)
            return pb_error_set(err, PB_EOS, "out of memory");
        struct pb_rest_req rq = {"GET", url, NULL, "orders", 0, 1};
        struct pb_rest r;
        memset(&r, 0, sizeof(r));
        int rc = pb_woo_send(u, &rq, &r, 1, err);
        free(url);
        if (rc < 0)
            return -1;
        if (!pb_rest_ok(&r) || !json_is_array(r.json)) {
            /* never a partial window: the cursor stays where it was */
            read_failed(u, "orders", r.error[0] ? r.error : "not a list of orders", err);
            pb_rest_release(&r);
            return -1;
        }
        size_t got = json_array_size(r.json);
        rc = one_page(u, dl, r.json, err);
        long pages = r.wp_pages, now_total = r.wp_total;
        pb_rest_release(&r);
        if (rc < 0)
            return -1;
        if (total >= 0 && now_total >= 0 && now_total < total) {
            /* orders changed meanwhile left the window; the ones after them moved up */
            long back = (total - now_total + PAGE - 1) / PAGE;
            if (++rereads > REREADS)
                return pb_error_set(err, PB_ETEMP, "%s: the orders kept changing while they "
                                                   "were read; the next run tries again",
                                    u->store->name);
            pb_log(PB_LOG_INFO, "%s: %ld orders changed while the pages were read; reading "
                                "%ld page(s) again",
                   u->store->name, total - now_total, back);
            total = now_total;
            page = page - back > 1 ? page - back : 1;
            continue;
        }
        total = now_total;
        if (pages >= 0 ? page >= pages : got < PAGE)
            return 0;
        if (!got)
            return 0;
        page++;
    }
}
