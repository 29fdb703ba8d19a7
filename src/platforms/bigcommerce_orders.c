/*
 * BigCommerce download: shipped orders (Orders v2), their refunds (v3 payment actions)
 * and the customers of those orders (Customers v3).
 *
 * Which orders: v2 takes one status_id a query, so one query each for 2 Shipped, and for
 * 10 Completed, 14 Partially Refunded and 4 Refunded keeping only the orders with a
 * date_shipped (shipped, then completed or refunded before this download saw them as
 * Shipped: a refund moves an order out of status 2 and moves its date_modified, so
 * without these its sale would never reach QBPOS).  Cancelled, awaiting, partially
 * shipped and digital orders without a shipment are left out.  Each query is read
 * `min_date_modified <= date_modified <= max_date_modified` (the window, its end
 * exclusive), sorted by id and paged by min_id = the last id + 1 with limit=250: an
 * order changed while the pages are read leaves the window without shifting the next
 * page past an order never seen (page=N would).  A query ends at a short page or at
 * v2's 204 with an empty body; the four first pages go out together.
 *
 * Per order: /products (lines: sku, quantity, price_ex_tax as the unit price,
 * applied_discounts as the line's discount, total_tax as its tax), /shipping_addresses
 * (ship-to and method) and v3 /transactions (purchase and capture events that are ok:
 * the tenders; none: payment_provider_id or payment_method for the whole total).  v2
 * money is a 4-decimal string, rounded to the cent; v2 dates are RFC 2822, written as
 * UTC ISO-8601.  Order discounts: discount_amount + coupon_discount less what
 * applied_discounts already put on the lines.  Shipping is shipping_cost_ex_tax plus the
 * handling and gift-wrapping costs (QBPOS has no other place for them), with their tax.
 *
 * Refunds: GET /v3/orders/payment_actions/refunds?created:min=&created:max= (every page
 * of meta.pagination).  A PRODUCT item points at an order product (item_id): its SKU,
 * the unit price after discounts before tax, the line's tax pro rata.  SHIPPING, HANDLING
 * and GIFT_WRAPPING items are refund_shipping.  The API has no restock flag ("you cannot
 * return items to inventory that you refunded via API"), so every returned line says
 * restock=true.  Tenders: the payments not declined (provider_id, amount).  A refund of
 * an order never shipped is left out (no sale of it went to QBPOS); the order of a refund
 * is read by id when the window did not bring it.
 *
 * Customers: GET /v3/customers?id:in=...&include=addresses, up to 250 ids a request, at
 * most 3 at a time (the customers endpoints' concurrency limit).  A guest (customer_id 0)
 * has no customers record; the order carries the billing address's name and e-mail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigcommerce_int.h"
#include "pb_schemas.h"
#include "posbridge/download.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/money.h"
#include "posbridge/rest.h"
#include "posbridge/timefmt.h"
#include "posbridge/upload.h"
#include "posbridge/banned.h"

#define ORDER_PAGE 250         /* v2's largest page */
#define MAX_ORDER_PAGES 4000   /* a million orders in one window is not a store we believe */
#define CUSTOMERS_PER_GET 250  /* ids per id:in (the page holds them all) */
#define CUSTOMER_GETS 3        /* "Limit of 3 concurrent requests" on customers */

static const int STATUSES[] = {2, 10, 14, 4};
#define NSTATUS (sizeof(STATUSES) / sizeof(STATUSES[0]))

/* ---- pure helpers (bigcommerce_int.h) ---- */

static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char
lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static const char *
spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* min..max digits, and no digit right after. */
static int
digits(const char **pp, int min, int max, int *out)
{
    const char *p = *pp;
    int n = 0, v = 0;
    while (*p >= '0' && *p <= '9' && n < max) {
        v = v * 10 + (*p++ - '0');
        n++;
    }
    if (n < min || (*p >= '0' && *p <= '9'))
        return -1;
    *out = v;
    *pp = p;
    return 0;
}

int
pb_bc_rfc2822(const char *s, int64_t *epoch)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s)
        return -1;
    const char *p = spaces(s);
    if (is_alpha(*p)) { /* the weekday */
        int n = 0;
        while (is_alpha(*p) && n < 10)
            p++, n++;
        p = spaces(p);
        if (*p++ != ',')
            return -1;
        p = spaces(p);
    }
    int day, mon = -1, year, hh, mm, ss = 0;
    if (digits(&p, 1, 2, &day) < 0 || (*p != ' ' && *p != '\t'))
        return -1;
    p = spaces(p);
    if (!is_alpha(p[0]) || !is_alpha(p[1]) || !is_alpha(p[2]) || is_alpha(p[3]))
        return -1;
    for (int k = 0; k < 12; k++)
        if (lower(p[0]) == months[3 * k] && lower(p[1]) == months[3 * k + 1] &&
            lower(p[2]) == months[3 * k + 2])
            mon = k;
    if (mon < 0)
        return -1;
    p = spaces(p + 3);
    if (digits(&p, 4, 4, &year) < 0 || (*p != ' ' && *p != '\t'))
        return -1;
    p = spaces(p);
    if (digits(&p, 2, 2, &hh) < 0 || *p++ != ':' || digits(&p, 2, 2, &mm) < 0)
        return -1;
    if (*p == ':' && (p++, digits(&p, 2, 2, &ss) < 0))
        return -1;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day < 1 || day > mdays[mon] || (mon == 1 && day == 29 && !leap) || hh > 23 ||
        mm > 59 || ss > 60)
        return -1;
    if (ss == 60)
        ss = 59; /* a leap second: the second before */
    if (*p != ' ' && *p != '\t')
        return -1;
    p = spaces(p);
    int off = 0;
    if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, z;
        if (digits(&p, 4, 4, &z) < 0 || z / 100 > 23 || z % 100 > 59)
            return -1;
        off = sign * ((z / 100) * 3600 + (z % 100) * 60);
    } else {
        static const char *const zones[] = {"GMT", "UTC", "UT", "Z"};
        size_t k, n = 0;
        while (is_alpha(p[n]))
            n++;
        for (k = 0; k < 4; k++) {
            size_t zl = strlen(zones[k]), i;
            for (i = 0; i < zl && i < n && lower(p[i]) == lower(zones[k][i]); i++)
                ;
            if (i == zl && n == zl)
                break;
        }
        if (k == 4)
            return -1;
        p += n;
    }
    if (*spaces(p))
        return -1;
    *epoch = days_from_civil(year, mon + 1, day) * 86400 + hh * 3600 + mm * 60 + ss - off;
    return 0;
}

int
pb_bc_cents(const char *s, int64_t *cents)
{
    int64_t v;
    const char *why;
    if (!s || pb_dec_parse(s, strlen(s), 4, &v, &why) < 0)
        return -1;
    int64_t q = v / 100, r = v % 100;
    if (r >= 50)
        q++;
    else if (r <= -50)
        q--;
    *cents = q;
    return 0;
}

/* ---- values ---- */

/* A money value: a v2 string ("24.9900") or a v3 number.  -1 when absent or not one. */
static int
money(json_t *v, int64_t *c)
{
    char b[64];
    if (json_is_string(v))
        return pb_bc_cents(json_string_value(v), c);
    if (json_is_integer(v)) {
        *c = (int64_t)json_integer_value(v) * 100;
        return 0;
    }
    if (json_is_real(v)) {
        snprintf(b, sizeof(b), "%.4f", json_real_value(v));
        return pb_bc_cents(b, c);
    }
    return -1;
}

/* The amount, 0 when absent or empty. */
static int64_t
money0(json_t *v)
{
    int64_t c = 0;
    return money(v, &c) == 0 ? c : 0;
}

static void
set_cents(struct pb_dl *dl, int field, int64_t c)
{
    char b[32];
    pb_money_format(c, b);
    pb_dl_set(dl, field, b);
}

static void
set_money(struct pb_dl *dl, int field, json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    int64_t c;
    if (!v || json_is_null(v))
        return;
    if (money(v, &c) < 0) {
        char why[120];
        snprintf(why, sizeof(why), "%s is not an amount", key);
        pb_dl_bad(dl, key, why);
        return;
    }
    set_cents(dl, field, c);
}

/* A v2 date as UTC ISO-8601; -1 when empty or unreadable. */
static int
v2_time(json_t *v, char out[32])
{
    int64_t t;
    if (pb_bc_rfc2822(json_string_value(v), &t) < 0)
        return -1;
    pb_time_format(t, out);
    return 0;
}

static void
set_v2_date(struct pb_dl *dl, int field, json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    char b[32];
    if (!s || !*s)
        return;
    if (v2_time(json_object_get(o, key), b) < 0) {
        char why[120];
        snprintf(why, sizeof(why), "%s '%.40s' is not an RFC 2822 date", key, s);
        pb_dl_bad(dl, key, why);
        return;
    }
    pb_dl_set(dl, field, b);
}

static void
set_str(struct pb_dl *dl, int field, json_t *o, const char *key)
{
    pb_dl_set_json(dl, field, json_object_get(o, key));
}

/* Time t as "YYYY-MM-DDThh:mm:ss+00:00", percent-encoded for a query. */
static int
query_time(struct pb_buf *b, int64_t t)
{
    char iso[32];
    pb_time_format(t, iso);
    size_t n = strlen(iso);
    if (n && iso[n - 1] == 'Z')
        iso[n - 1] = '\0';
    char full[48];
    snprintf(full, sizeof(full), "%s+00:00", iso);
    return pb_rest_escape(b, full);
}

static int
read_failed(struct pb_upload *u, const char *what, const struct pb_rest *r, const char *why,
            struct pb_error *err)
{
    int code = u->res->auth_failed ? PB_ENOPERM
               : u->res->temp_failed || u->res->unreachable ? PB_ETEMP : PB_EPROTO;
    if (!why)
        why = r && r->error[0] ? r->error : "an answer of a shape BigCommerce does not give";
    return pb_error_set(err, code, "%s: cannot read %s: %s", u->store->name, what, why);
}

static int
oom(struct pb_error *err)
{
    return pb_error_set(err, PB_EOS, "out of memory");
}

/* Shipped: status Shipped, or a date_shipped (then completed or refunded). */
static int
shipped(json_t *o)
{
    const char *ds = json_string_value(json_object_get(o, "date_shipped"));
    if (json_is_true(json_object_get(o, "is_deleted")))
        return 0;
    return json_integer_value(json_object_get(o, "status_id")) == 2 || (ds && *ds);
}

/* ---- reading ---- */

/*
 * Every order of the wanted statuses modified in the window -> orders (id -> order,
 * marked "_listed"), ids in the order met.
 */
static int
list_orders(struct pb_upload *u, struct pb_dl *dl, json_t *orders, json_t *ids,
            struct pb_error *err)
{
    struct pb_buf win = PB_BUF_INIT;
    long long next[NSTATUS];
    int active[NSTATUS];
    int rc = -1;
    if (pb_buf_adds(&win, "&min_date_modified=") < 0 || query_time(&win, pb_dl_since(dl)) < 0 ||
        pb_buf_adds(&win, "&max_date_modified=") < 0 ||
        query_time(&win, pb_dl_until(dl) - 1) < 0) {
        pb_buf_release(&win);
        return oom(err);
    }
    for (size_t k = 0; k < NSTATUS; k++) {
        next[k] = 0;
        active[k] = 1;
    }
    for (int round = 0;; round++) {
        char *urls[NSTATUS];
        struct pb_rest_req rq[NSTATUS];
        struct pb_rest rs[NSTATUS];
        size_t who[NSTATUS], n = 0;
        int failed = 0;
        for (size_t k = 0; k < NSTATUS; k++) {
            if (!active[k])
                continue;
            char minid[40] = "";
            if (next[k])
                snprintf(minid, sizeof(minid), "&min_id=%lld", next[k]);
            urls[n] = pb_rest_url(u, "/v2/orders?status_id=%d%s&sort=id:asc&limit=%d%s",
                                  STATUSES[k], win.data, ORDER_PAGE, minid);
            if (!urls[n]) {
                for (size_t i = 0; i < n; i++)
                    free(urls[i]);
                oom(err);
                goto out;
            }
            rq[n] = (struct pb_rest_req){"GET", urls[n], NULL, "getOrders", 0, 1};
            who[n++] = k;
        }
        if (!n)
            break;
        if (round == MAX_ORDER_PAGES) {
            for (size_t i = 0; i < n; i++)
                free(urls[i]);
            pb_error_set(err, PB_EPROTO, "%s: more than %d pages of orders in one window",
                         u->store->name, MAX_ORDER_PAGES);
            goto out;
        }
        int r = pb_rest_run(u, rq, rs, n, err);
        for (size_t i = 0; i < n; i++)
            free(urls[i]);
        if (r < 0)
            goto out;
        for (size_t i = 0; i < n; i++) {
            size_t k = who[i];
            json_t *arr = rs[i].json, *o;
            if (failed)
                continue;
            if (!pb_rest_ok(&rs[i]) || rs[i].error[0] || (arr && !json_is_array(arr))) {
                read_failed(u, "orders", &rs[i], NULL, err);
                failed = 1;
                continue;
            }
            /* 204, empty body: no order (more) */
            size_t j, got = arr ? json_array_size(arr) : 0;
            long long top = next[k];
            json_array_foreach(arr, j, o) {
                char b[32];
                const char *id = pb_json_id(o, "id", b);
                if (!id)
                    continue;
                long long v = strtoll(id, NULL, 10);
                if (v >= top)
                    top = v + 1;
                if (json_object_get(orders, id))
                    continue;
                json_object_set_new(o, "_listed", json_true());
                if (json_object_set(orders, id, o) < 0 || json_array_append_new(ids, json_string(id)) < 0) {
                    oom(err);
                    failed = 1;
                    break;
                }
            }
            if (got < ORDER_PAGE || top <= next[k])
                active[k] = 0;
            else
                next[k] = top;
        }
        for (size_t i = 0; i < n; i++)
            pb_rest_release(&rs[i]);
        if (failed)
            goto out;
    }
    rc = 0;
out:
    pb_buf_release(&win);
    return rc;
}

/* The refunds made in the window. */
static int
list_refunds(struct pb_upload *u, struct pb_dl *dl, json_t *refunds, struct pb_error *err)
{
    struct pb_buf b = PB_BUF_INIT;
    char why[400] = "";
    long http = 0;
    int rc;
    char *base = pb_rest_url(u, "/v3/orders/payment_actions/refunds?created:min=");
    if (!base || pb_buf_adds(&b, base) < 0 || query_time(&b, pb_dl_since(dl)) < 0 ||
        pb_buf_adds(&b, "&created:max=") < 0 || query_time(&b, pb_dl_until(dl) - 1) < 0 ||
        pb_buf_addf(&b, "&limit=%d", ORDER_PAGE) < 0) {
        free(base);
        pb_buf_release(&b);
        return oom(err);
    }
    free(base);
    char *url = b.data;
    rc = pb_bc_get_pages(u, &url, 1, "getOrdersRefunds", refunds, 0, why, sizeof(why), &http, err);
    pb_buf_release(&b);
    if (rc == 1)
        return read_failed(u, "refunds", NULL, why, err);
    return rc < 0 ? -1 : 0;
}

/* The orders refunds point at that the window did not bring, by id (404: left out,
 * the refund is rejected naming it). */
static int
fetch_refund_orders(struct pb_upload *u, json_t *refunds, json_t *orders, struct pb_error *err)
{
    json_t *want = json_array(), *rf;
    size_t i;
    int rc = -1;
    if (!want)
        return oom(err);
    json_array_foreach(refunds, i, rf) {
        char b[32];
        const char *oid = pb_json_id(rf, "order_id", b);
        if (!oid || json_object_get(orders, oid))
            continue;
        size_t k;
        json_t *w;
        int dup = 0;
        json_array_foreach(want, k, w) dup |= !strcmp(json_string_value(w), oid);
        if (!dup)
            json_array_append_new(want, json_string(oid));
    }
    size_t n = json_array_size(want);
    struct pb_rest_req *rq = calloc(n + 1, sizeof(*rq));
    struct pb_rest *rs = calloc(n + 1, sizeof(*rs));
    char **urls = calloc(n + 1, sizeof(*urls));
    if (!rq || !rs || !urls) {
        oom(err);
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (!(urls[i] = pb_rest_url(u, "/v2/orders/%s", json_string_value(json_array_get(want, i))))) {
            oom(err);
            goto out;
        }
        rq[i] = (struct pb_rest_req){"GET", urls[i], NULL, "getOrder", 0, 1};
    }
    if (n && pb_rest_run(u, rq, rs, n, err) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        if (rs[i].http == 404)
            continue;
        if (!pb_rest_ok(&rs[i]) || !json_is_object(rs[i].json)) {
            read_failed(u, "a refunded order", &rs[i], NULL, err);
            goto out;
        }
        if (json_object_set(orders, json_string_value(json_array_get(want, i)), rs[i].json) < 0) {
            oom(err);
            goto out;
        }
    }
    rc = 0;
out:
    for (i = 0; i < n; i++) {
        if (rs)
            pb_rest_release(&rs[i]);
        if (urls)
            free(urls[i]);
    }
    free(rq);
    free(rs);
    free(urls);
    json_decref(want);
    return rc;
}

enum sub_kind { SUB_PRODUCTS, SUB_ADDRESS, SUB_TRANSACTIONS };

struct sub {
    json_t *o;          /* the order (borrowed) */
    const char *id;
    enum sub_kind kind;
    int page;
};

/* A refund's order needs its lines; a listed one its lines, address and payments. */
static int
needs_lines(json_t *o)
{
    return shipped(o) && (json_is_true(json_object_get(o, "_listed")) ||
                          json_is_true(json_object_get(o, "_refunded")));
}

/* The products, shipping address and transactions of the orders that need them, all
 * requests at once; products past a full page read on. */
static int
fetch_details(struct pb_upload *u, json_t *orders, struct pb_error *err)
{
    size_t cap = 3 * json_object_size(orders) + 1, n = 0;
    struct sub *subs = calloc(cap, sizeof(*subs));
    const char *id;
    json_t *o;
    int rc = -1;
    if (!subs)
        return oom(err);
    json_object_foreach(orders, id, o) {
        if (!needs_lines(o))
            continue;
        json_object_set_new(o, "_products", json_array());
        subs[n++] = (struct sub){o, id, SUB_PRODUCTS, 1};
        if (json_is_true(json_object_get(o, "_listed"))) {
            subs[n++] = (struct sub){o, id, SUB_ADDRESS, 1};
            subs[n++] = (struct sub){o, id, SUB_TRANSACTIONS, 1};
        }
    }
    while (n) {
        struct pb_rest_req *rq = calloc(n, sizeof(*rq));
        struct pb_rest *rs = calloc(n, sizeof(*rs));
        char **urls = calloc(n, sizeof(*urls));
        size_t more = 0;
        int failed = 0;
        if (!rq || !rs || !urls) {
            free(rq);
            free(rs);
            free(urls);
            oom(err);
            goto out;
        }
        for (size_t i = 0; i < n && !failed; i++) {
            struct sub *s = &subs[i];
            static const char *const labels[] = {"getOrderProducts", "getOrderShippingAddresses",
                                                 "getOrderTransactions"};
            urls[i] = s->kind == SUB_PRODUCTS
                          ? pb_rest_url(u, "/v2/orders/%s/products?limit=%d&page=%d", s->id,
                                        ORDER_PAGE, s->page)
                      : s->kind == SUB_ADDRESS
                          ? pb_rest_url(u, "/v2/orders/%s/shipping_addresses", s->id)
                          : pb_rest_url(u, "/v3/orders/%s/transactions", s->id);
            failed = !urls[i];
            rq[i] = (struct pb_rest_req){"GET", urls[i], NULL, labels[s->kind], 0, 1};
        }
        if (failed)
            oom(err);
        else if (pb_rest_run(u, rq, rs, n, err) < 0)
            failed = 1;
        for (size_t i = 0; i < n && !failed; i++) {
            struct sub *s = &subs[i];
            json_t *j = rs[i].json;
            char what[80];
            snprintf(what, sizeof(what), "order %s's %s", s->id,
                     s->kind == SUB_PRODUCTS  ? "products"
                     : s->kind == SUB_ADDRESS ? "shipping address"
                                              : "transactions");
            if (!pb_rest_ok(&rs[i]) || rs[i].error[0]) {
                read_failed(u, what, &rs[i], NULL, err);
                failed = 1;
                break;
            }
            if (s->kind == SUB_TRANSACTIONS) {
                json_t *data = json_object_get(j, "data");
                if (j && !json_is_array(data)) {
                    read_failed(u, what, &rs[i], NULL, err);
                    failed = 1;
                    break;
                }
                /* 204: none */
                json_object_set_new(s->o, "_transactions", data ? json_incref(data) : json_array());
                continue;
            }
            if (j && !json_is_array(j)) {
                read_failed(u, what, &rs[i], NULL, err);
                failed = 1;
                break;
            }
            if (s->kind == SUB_ADDRESS) {
                if (json_array_size(j))
                    json_object_set(s->o, "_ship", json_array_get(j, 0));
                continue;
            }
            json_array_extend(json_object_get(s->o, "_products"), j);
            if (json_array_size(j) >= ORDER_PAGE)
                subs[more++] = (struct sub){s->o, s->id, SUB_PRODUCTS, s->page + 1};
        }
        for (size_t i = 0; i < n; i++) {
            pb_rest_release(&rs[i]);
            free(urls[i]);
        }
        free(rq);
        free(rs);
        free(urls);
        if (failed)
            goto out;
        n = more;
    }
    rc = 0;
out:
    free(subs);
    return rc;
}

/* The customers of the listed shipped orders -> customers (id -> customer, with the
 * billing address of one of their orders as "_bill"). */
static int
fetch_customers(struct pb_upload *u, json_t *orders, json_t *ids, json_t *customers,
                struct pb_error *err)
{
    json_t *cids = json_array(), *v;
    size_t i;
    int rc = -1;
    if (!cids)
        return oom(err);
    json_array_foreach(ids, i, v) {
        json_t *o = json_object_get(orders, json_string_value(v));
        json_int_t cid = json_integer_value(json_object_get(o, "customer_id"));
        char key[32];
        if (!shipped(o) || cid <= 0)
            continue;
        snprintf(key, sizeof(key), "%lld", (long long)cid);
        if (json_object_get(customers, key))
            continue;
        json_t *c = json_pack("{s:O?}", "_bill", json_object_get(o, "billing_address"));
        if (!c || json_object_set_new(customers, key, c) < 0 ||
            json_array_append_new(cids, json_string(key)) < 0) {
            oom(err);
            goto out;
        }
    }
    size_t n = json_array_size(cids);
    for (size_t at = 0; at < n;) {
        char *urls[CUSTOMER_GETS];
        size_t nu = 0;
        json_t *found = json_array();
        char why[400] = "";
        long http = 0;
        while (at < n && nu < CUSTOMER_GETS) {
            struct pb_buf b = PB_BUF_INIT;
            int bad = pb_buf_adds(&b, "/v3/customers?id:in=") < 0;
            for (size_t k = 0; k < CUSTOMERS_PER_GET && at < n; k++, at++)
                bad |= pb_buf_addf(&b, "%s%s", k ? "," : "",
                                   json_string_value(json_array_get(cids, at))) < 0;
            bad |= pb_buf_addf(&b, "&include=addresses&limit=%d", CUSTOMERS_PER_GET) < 0;
            urls[nu] = bad ? NULL : pb_rest_url(u, "%s", b.data);
            pb_buf_release(&b);
            if (!urls[nu]) {
                for (size_t k = 0; k < nu; k++)
                    free(urls[k]);
                json_decref(found);
                oom(err);
                goto out;
            }
            nu++;
        }
        int r = found ? pb_bc_get_pages(u, urls, nu, "getCustomers", found, 0, why, sizeof(why),
                                        &http, err)
                      : (oom(err), -1);
        for (size_t k = 0; k < nu; k++)
            free(urls[k]);
        if (r == 1)
            read_failed(u, "customers", NULL, why, err);
        if (r != 0) {
            json_decref(found);
            goto out;
        }
        json_t *c;
        size_t k;
        json_array_foreach(found, k, c) {
            char b[32];
            const char *id = pb_json_id(c, "id", b);
            json_t *have = id ? json_object_get(customers, id) : NULL;
            if (have)
                json_object_update_missing(c, have), json_object_set(customers, id, c);
        }
        json_decref(found);
    }
    rc = 0;
out:
    json_decref(cids);
    return rc;
}

/* ---- records ---- */

static void
address(struct pb_dl *dl, json_t *a, const int *f)
{
    /* street, street2, city, state, postal code, country */
    static const char *const keys[] = {"street_1", "street_2", "city", "state", "zip",
                                       "country_iso2"};
    for (int k = 0; k < 6; k++)
        set_str(dl, f[k], a, keys[k]);
}

static int64_t
line_discount(json_t *p)
{
    int64_t d = 0;
    size_t i;
    json_t *ad;
    json_array_foreach(json_object_get(p, "applied_discounts"), i, ad) d += money0(json_object_get(ad, "amount"));
    return d;
}

static int
emit_order(struct pb_upload *u, struct pb_dl *dl, json_t *o, json_t *customers,
           struct pb_error *err)
{
    char idb[32], upd[32];
    const char *id = pb_json_id(o, "id", idb);
    int have = v2_time(json_object_get(o, "date_modified"), upd) == 0;
    int r = pb_dl_begin(dl, PB_DL_ORDERS, id, have ? upd : NULL);
    if (r < 0)
        return oom(err);
    if (r == 0)
        return 0;
    json_t *bill = json_object_get(o, "billing_address"), *ship = json_object_get(o, "_ship");
    json_int_t cid = json_integer_value(json_object_get(o, "customer_id"));
    char cb[32];
    snprintf(cb, sizeof(cb), "%lld", (long long)cid);
    json_t *cust = cid > 0 ? json_object_get(customers, cb) : NULL;
    pb_dl_set(dl, PB_ORDERS_STORE, u->store->name);
    pb_dl_set(dl, PB_ORDERS_ORDER_ID, id);
    pb_dl_set(dl, PB_ORDERS_ORDER_NUMBER, id);
    set_v2_date(dl, PB_ORDERS_CREATED_AT, o, "date_created");
    pb_dl_set(dl, PB_ORDERS_UPDATED_AT, have ? upd : NULL);
    set_v2_date(dl, PB_ORDERS_SHIPPED_AT, o, "date_shipped");
    set_str(dl, PB_ORDERS_CURRENCY, o, "currency_code");
    if (cid > 0)
        pb_dl_set(dl, PB_ORDERS_CUSTOMER_ID, cb);
    /* the billing address names the buyer (a guest has nothing else); the account's
     * details where the address leaves them out */
    static const char *const who[] = {"email", "first_name", "last_name", "company", "phone"};
    static const int whof[] = {PB_ORDERS_CUSTOMER_EMAIL, PB_ORDERS_CUSTOMER_FIRST_NAME,
                               PB_ORDERS_CUSTOMER_LAST_NAME, PB_ORDERS_CUSTOMER_COMPANY,
                               PB_ORDERS_CUSTOMER_PHONE};
    for (int k = 0; k < 5; k++) {
        const char *v = json_string_value(json_object_get(bill, who[k]));
        if (!v || !*v)
            v = json_string_value(json_object_get(cust, who[k]));
        pb_dl_set(dl, whof[k], v);
    }
    static const int bf[] = {PB_ORDERS_BILL_STREET, PB_ORDERS_BILL_STREET2, PB_ORDERS_BILL_CITY,
                             PB_ORDERS_BILL_STATE, PB_ORDERS_BILL_POSTAL_CODE,
                             PB_ORDERS_BILL_COUNTRY};
    static const int sf[] = {PB_ORDERS_SHIP_STREET, PB_ORDERS_SHIP_STREET2, PB_ORDERS_SHIP_CITY,
                             PB_ORDERS_SHIP_STATE, PB_ORDERS_SHIP_POSTAL_CODE,
                             PB_ORDERS_SHIP_COUNTRY};
    address(dl, bill, bf);
    if (ship) {
        const char *fn = json_string_value(json_object_get(ship, "first_name"));
        const char *ln = json_string_value(json_object_get(ship, "last_name"));
        char full[300];
        snprintf(full, sizeof(full), "%s%s%s", fn ? fn : "", fn && *fn && ln && *ln ? " " : "",
                 ln ? ln : "");
        pb_dl_set(dl, PB_ORDERS_SHIP_FULL_NAME, full);
        set_str(dl, PB_ORDERS_SHIP_COMPANY, ship, "company");
        address(dl, ship, sf);
        set_str(dl, PB_ORDERS_SHIP_PHONE, ship, "phone");
        set_str(dl, PB_ORDERS_SHIP_METHOD, ship, "shipping_method");
    }
    /* shipping, with the handling and gift-wrapping charges: all before tax */
    int64_t shipping = 0, shipping_tax = 0;
    static const char *const charges[] = {"shipping_cost", "handling_cost", "wrapping_cost"};
    for (int k = 0; k < 3; k++) {
        char ex[40], tx[40];
        int64_t a, t;
        snprintf(ex, sizeof(ex), "%s_ex_tax", charges[k]);
        snprintf(tx, sizeof(tx), "%s_tax", charges[k]);
        json_t *ev = json_object_get(o, ex), *tv = json_object_get(o, tx);
        if ((ev && money(ev, &a) < 0) || (tv && money(tv, &t) < 0)) {
            pb_dl_bad(dl, ex, "a charge is not an amount");
            continue;
        }
        shipping += ev ? a : 0;
        shipping_tax += tv ? t : 0;
    }
    set_cents(dl, PB_ORDERS_SHIPPING, shipping);
    if (shipping_tax)
        set_cents(dl, PB_ORDERS_SHIPPING_TAX, shipping_tax);
    set_money(dl, PB_ORDERS_TAX_TOTAL, o, "total_tax");
    set_money(dl, PB_ORDERS_TOTAL, o, "total_inc_tax");
    /* payments: what was taken */
    int nt = 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(o, "_transactions"), i, t) {
        const char *ev = json_string_value(json_object_get(t, "event"));
        const char *st = json_string_value(json_object_get(t, "status"));
        if (!ev || (strcmp(ev, "purchase") && strcmp(ev, "capture")) || (st && strcmp(st, "ok")))
            continue;
        if (nt == 20) {
            pb_dl_bad(dl, "tender_20_gateway", "more than 20 payments");
            break;
        }
        set_str(dl, PB_ORDERS_TENDER_01_GATEWAY + nt, t, "gateway");
        set_money(dl, PB_ORDERS_TENDER_01_AMOUNT + nt, t, "amount");
        nt++;
    }
    if (!nt) {
        const char *pm = json_string_value(json_object_get(o, "payment_provider_id"));
        if (!pm || !*pm)
            pm = json_string_value(json_object_get(o, "payment_method"));
        if (pm && *pm) {
            pb_dl_set(dl, PB_ORDERS_TENDER_01_GATEWAY, pm);
            set_money(dl, PB_ORDERS_TENDER_01_AMOUNT, o, "total_inc_tax");
        }
    }
    /* what of the order discounts applied_discounts did not put on the lines stays on
     * the order (set before the lines: every row carries it) */
    int64_t on_lines = 0;
    json_t *p;
    json_array_foreach(json_object_get(o, "_products"), i, p) on_lines += line_discount(p);
    int64_t od = money0(json_object_get(o, "discount_amount")) +
                 money0(json_object_get(o, "coupon_discount")) - on_lines;
    if (od > 0)
        set_cents(dl, PB_ORDERS_ORDER_DISCOUNT, od);
    json_array_foreach(json_object_get(o, "_products"), i, p) {
        int64_t disc = line_discount(p);
        pb_dl_line(dl);
        set_str(dl, PB_ORDERS_LINE_ID, p, "id");
        set_str(dl, PB_ORDERS_LINE_SKU, p, "sku");
        set_str(dl, PB_ORDERS_LINE_TITLE, p, "name");
        set_str(dl, PB_ORDERS_LINE_QTY, p, "quantity");
        set_money(dl, PB_ORDERS_LINE_PRICE, p, "price_ex_tax");
        if (disc)
            set_cents(dl, PB_ORDERS_LINE_DISCOUNT, disc);
        set_money(dl, PB_ORDERS_LINE_TAX, p, "total_tax");
    }
    return pb_dl_end(dl, err);
}

static int
emit_refund(struct pb_upload *u, struct pb_dl *dl, json_t *rf, json_t *orders,
            struct pb_error *err)
{
    char rb[32], ob[32], created[32];
    const char *rid = pb_json_id(rf, "id", rb), *oid = pb_json_id(rf, "order_id", ob);
    const char *cs = json_string_value(json_object_get(rf, "created"));
    int64_t t;
    const char *why;
    int have = cs && pb_time_parse(cs, strlen(cs), "UTC", 1, &t, &why) == 0;
    if (have)
        pb_time_format(t, created);
    json_t *o = oid ? json_object_get(orders, oid) : NULL;
    if (o && !shipped(o)) {
        pb_log(PB_LOG_INFO, "%s: refund %s of order %s left out: the order was never shipped",
               u->store->name, rid ? rid : "?", oid);
        return 0;
    }
    int r = pb_dl_begin(dl, PB_DL_RETURNS, rid, have ? created : NULL);
    if (r < 0)
        return oom(err);
    if (r == 0)
        return 0;
    pb_dl_set(dl, PB_RETURNS_STORE, u->store->name);
    pb_dl_set(dl, PB_RETURNS_RETURN_ID, rid);
    pb_dl_set(dl, PB_RETURNS_ORDER_ID, oid);
    pb_dl_set(dl, PB_RETURNS_ORDER_NUMBER, oid);
    pb_dl_set(dl, PB_RETURNS_CREATED_AT, have ? created : NULL);
    pb_dl_set(dl, PB_RETURNS_UPDATED_AT, have ? created : NULL);
    if (!o) {
        char w[120];
        snprintf(w, sizeof(w), "its order %s is not in the store", oid ? oid : "(none)");
        pb_dl_bad(dl, "order_id", w);
        return pb_dl_end(dl, err);
    }
    set_str(dl, PB_RETURNS_CURRENCY, o, "currency_code");
    set_str(dl, PB_RETURNS_CUSTOMER_EMAIL, json_object_get(o, "billing_address"), "email");
    set_money(dl, PB_RETURNS_REFUND_TOTAL, rf, "total_amount");
    int nt = 0;
    size_t i;
    json_t *pay;
    json_array_foreach(json_object_get(rf, "payments"), i, pay) {
        if (json_is_true(json_object_get(pay, "is_declined")) || nt == 20)
            continue;
        set_str(dl, PB_RETURNS_TENDER_01_GATEWAY + nt, pay, "provider_id");
        set_money(dl, PB_RETURNS_TENDER_01_AMOUNT + nt, pay, "amount");
        nt++;
    }
    int64_t ship = 0;
    int has_ship = 0;
    json_t *it;
    json_array_foreach(json_object_get(rf, "items"), i, it) {
        const char *type = json_string_value(json_object_get(it, "item_type"));
        if (type && (!strcmp(type, "SHIPPING") || !strcmp(type, "HANDLING") ||
                     !strcmp(type, "GIFT_WRAPPING"))) {
            ship += money0(json_object_get(it, "requested_amount"));
            has_ship = 1;
        }
    }
    if (has_ship)
        set_cents(dl, PB_RETURNS_REFUND_SHIPPING, ship);
    json_array_foreach(json_object_get(rf, "items"), i, it) {
        const char *type = json_string_value(json_object_get(it, "item_type"));
        if (!type || strcmp(type, "PRODUCT"))
            continue; /* shipping above; ORDER and FEE are money only, in the total */
        char ib[32];
        const char *item = pb_json_id(it, "item_id", ib);
        json_t *p = NULL, *x;
        size_t k;
        json_array_foreach(json_object_get(o, "_products"), k, x) {
            char pb[32];
            const char *pid = pb_json_id(x, "id", pb);
            if (item && pid && !strcmp(pid, item))
                p = x;
        }
        pb_dl_line(dl);
        pb_dl_set(dl, PB_RETURNS_LINE_ID, item);
        if (!p) {
            char w[120];
            snprintf(w, sizeof(w), "order %s has no product %s", oid, item ? item : "(none)");
            pb_dl_bad(dl, "line_id", w);
            continue;
        }
        json_int_t q = json_integer_value(json_object_get(it, "quantity"));
        json_int_t bought = json_integer_value(json_object_get(p, "quantity"));
        set_str(dl, PB_RETURNS_LINE_SKU, p, "sku");
        set_str(dl, PB_RETURNS_LINE_TITLE, p, "name");
        set_str(dl, PB_RETURNS_LINE_QTY, it, "quantity");
        if (q > 0 && bought > 0) {
            /* what a unit was sold for after its discounts, before tax; the line's tax
             * pro rata */
            int64_t net = money0(json_object_get(p, "total_ex_tax")) - line_discount(p);
            int64_t tax = money0(json_object_get(p, "total_tax"));
            set_cents(dl, PB_RETURNS_LINE_PRICE, (net * 2 + bought) / (2 * bought));
            set_cents(dl, PB_RETURNS_LINE_TAX, (tax * q * 2 + bought) / (2 * bought));
        }
        pb_dl_set(dl, PB_RETURNS_RESTOCK, "true");
    }
    return pb_dl_end(dl, err);
}

static int
emit_customer(struct pb_upload *u, struct pb_dl *dl, const char *id, json_t *c,
              struct pb_error *err)
{
    if (!json_object_get(c, "id"))
        return 0; /* the store has it no more: the order says who it was */
    int r = pb_dl_begin(dl, PB_DL_CUSTOMERS, id,
                        json_string_value(json_object_get(c, "date_modified")));
    if (r < 0)
        return oom(err);
    if (r == 0)
        return 0;
    pb_dl_set(dl, PB_CUSTOMERS_STORE, u->store->name);
    pb_dl_set(dl, PB_CUSTOMERS_CUSTOMER_ID, id);
    set_str(dl, PB_CUSTOMERS_EMAIL, c, "email");
    set_str(dl, PB_CUSTOMERS_FIRST_NAME, c, "first_name");
    set_str(dl, PB_CUSTOMERS_LAST_NAME, c, "last_name");
    set_str(dl, PB_CUSTOMERS_COMPANY, c, "company");
    set_str(dl, PB_CUSTOMERS_PHONE, c, "phone");
    static const int f[] = {PB_CUSTOMERS_STREET, PB_CUSTOMERS_STREET2, PB_CUSTOMERS_CITY,
                            PB_CUSTOMERS_STATE, PB_CUSTOMERS_POSTAL_CODE, PB_CUSTOMERS_COUNTRY};
    json_t *a = json_array_get(json_object_get(c, "addresses"), 0);
    if (a) {
        static const char *const keys[] = {"address1", "address2", "city", "state_or_province",
                                           "postal_code", "country_code"};
        for (int k = 0; k < 6; k++)
            set_str(dl, f[k], a, keys[k]);
    } else {
        address(dl, json_object_get(c, "_bill"), f);
    }
    set_str(dl, PB_CUSTOMERS_UPDATED_AT, c, "date_modified");
    return pb_dl_end(dl, err);
}

int
pb_bc_download(struct pb_upload *u, struct pb_dl *dl, struct pb_error *err)
{
    json_t *orders = json_object(), *ids = json_array(), *refunds = json_array();
    json_t *customers = json_object();
    int rc = -1;
    if (!orders || !ids || !refunds || !customers) {
        oom(err);
        goto out;
    }
    if (list_orders(u, dl, orders, ids, err) < 0 || list_refunds(u, dl, refunds, err) < 0 ||
        fetch_refund_orders(u, refunds, orders, err) < 0)
        goto out;
    size_t i;
    json_t *v;
    json_array_foreach(refunds, i, v) {
        char b[32];
        const char *oid = pb_json_id(v, "order_id", b);
        json_t *o = oid ? json_object_get(orders, oid) : NULL;
        if (o)
            json_object_set_new(o, "_refunded", json_true());
    }
    if (fetch_details(u, orders, err) < 0 || fetch_customers(u, orders, ids, customers, err) < 0)
        goto out;
    json_array_foreach(ids, i, v) {
        json_t *o = json_object_get(orders, json_string_value(v));
        if (shipped(o) && emit_order(u, dl, o, customers, err) < 0)
            goto out;
    }
    json_array_foreach(refunds, i, v)
        if (emit_refund(u, dl, v, orders, err) < 0)
            goto out;
    const char *cid;
    json_object_foreach(customers, cid, v)
        if (emit_customer(u, dl, cid, v, err) < 0)
            goto out;
    rc = 0;
out:
    json_decref(orders);
    json_decref(ids);
    json_decref(refunds);
    json_decref(customers);
    return rc;
}
