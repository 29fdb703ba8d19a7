/*
 * Magento download: shipped orders, their credit memos and the customers of those orders,
 * through the REST search lists (GET /V1/orders, /V1/shipments, /V1/creditmemos).
 *
 * Orders: updated_at in [since, until) ("YYYY-MM-DD hh:mm:ss", UTC) and state complete or
 * closed (a full refund turns complete into closed and moves updated_at, so a shipped
 * order refunded before it was downloaded is closed by then; a closed order that never
 * shipped is skipped), sorted by updated_at then entity_id, pageSize always sent and
 * the pages counted from total_count (past the end Magento answers the last page again).
 * Records only ever leave such a window while it is read (a change moves updated_at to
 * now), so a total_count that changes between pages means a record may have been
 * skipped: the list is read again from page 1 (the sink keeps each record once).
 *
 * An order becomes an orders record, one row per item: a configurable line is two rows
 * in Magento, the parent (with the chosen child's SKU and all the money) and the child
 * (parent_item_id set, price 0), so the child is skipped.  Money is Magento's: price
 * before discount, the row's discount_amount (positive on items; the order's is negative
 * and also holds a shipping discount, which becomes order_discount), tax_amount,
 * shipping_amount and shipping_tax_amount, grand_total paid through payment.method.  The
 * ship date is the newest shipment's created_at, from one shipments search per page of
 * orders.  The customer of an order with a customer_id is made from the order itself.
 *
 * Credit memos: updated_at in the window, each a returns record (one row per refunded
 * item, configurable children skipped).  A memo names its order only by entity_id: the
 * orders read above give its number, currency and payment method; the others are read
 * in one search per page of memos.  A memo of an order that never shipped is skipped (it
 * never became a QBPOS receipt).  Whether the items went back to stock is not in a
 * Magento memo: [store] refund_restock (default yes) says it.  refund_shipping is the
 * shipping refunded with its tax, the way the transform books a receipt's shipping.
 */
#include "magento_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pb_schemas.h"
#include "posbridge/download.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/money.h"
#include "posbridge/rest.h"
#include "posbridge/timefmt.h"
#include "posbridge/upload.h"
#include "posbridge/banned.h"

#define PAGE 50           /* orders, memos and shipments per page */
#define IDS_PER_SEARCH 50 /* entity ids in one "in" filter */
#define RESTARTS 3        /* times a list that changed while read is read again */

/* The fields of an order a credit memo needs, when the order is read for it alone. */
static const char MEMO_ORDER_FIELDS[] =
    "items[entity_id,increment_id,state,order_currency_code,customer_email,payment[method],"
    "items[item_id,parent_item_id,qty_shipped]],total_count";

struct mgdl {
    struct pb_upload *u;
    struct pb_dl *dl;
    json_t *orders;   /* entity id -> {"n","c","e","m","ship","kids":{item id: true}} */
    json_t *shipped;  /* order id -> newest shipment created_at (one page of orders) */
    json_t *missing;  /* order ids a page of memos needs */
};

/* ---- pure helpers ---- */

void
pb_magento_time(int64_t epoch, char out[32])
{
    pb_time_format(epoch, out); /* YYYY-MM-DDThh:mm:ssZ */
    out[10] = ' ';
    out[19] = '\0';
}

int
pb_magento_cents(json_t *v, int64_t *cents)
{
    char b[64];
    const char *s, *why;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i > INT64_MAX / 100 || i < -INT64_MAX / 100)
            return -1;
        *cents = (int64_t)i * 100;
        return 0;
    }
    if (json_is_real(v)) {
        snprintf(b, sizeof(b), "%.6f", json_real_value(v));
        s = b;
    } else if (json_is_string(v)) {
        s = json_string_value(v);
    } else {
        return -1;
    }
    return pb_money_parse(s, strlen(s), cents, &why);
}

int
pb_magento_search_query(struct pb_buf *b, const struct pb_mg_filter *f, size_t nf,
                        const char *const *sort, size_t ns, int page_size, int page,
                        const char *fields)
{
    static const char G[] =
        "searchCriteria%%5Bfilter_groups%%5D%%5B%zu%%5D%%5Bfilters%%5D%%5B0%%5D";
    static const char S[] = "searchCriteria%%5BsortOrders%%5D%%5B%zu%%5D";
    char head[128];
    for (size_t i = 0; i < nf; i++) {
        snprintf(head, sizeof(head), G, i);
        if (pb_buf_addf(b, "%s%s%%5Bfield%%5D=", i ? "&" : "", head) < 0 ||
            pb_rest_escape(b, f[i].field) < 0 ||
            pb_buf_addf(b, "&%s%%5Bvalue%%5D=", head) < 0 || pb_rest_escape(b, f[i].value) < 0 ||
            pb_buf_addf(b, "&%s%%5Bcondition_type%%5D=%s", head, f[i].cond) < 0)
            return -1;
    }
    for (size_t i = 0; i < ns; i++) {
        snprintf(head, sizeof(head), S, i);
        if (pb_buf_addf(b, "%s%s%%5Bfield%%5D=", nf || i ? "&" : "", head) < 0 ||
            pb_rest_escape(b, sort[i]) < 0 || pb_buf_addf(b, "&%s%%5Bdirection%%5D=ASC", head) < 0)
            return -1;
    }
    if (pb_buf_addf(b, "%ssearchCriteria%%5BpageSize%%5D=%d&searchCriteria%%5BcurrentPage%%5D=%d",
                    nf || ns ? "&" : "", page_size, page) < 0)
        return -1;
    if (fields && (pb_buf_adds(b, "&fields=") < 0 || pb_rest_escape(b, fields) < 0))
        return -1;
    return 0;
}

int
pb_magento_street(json_t *street, struct pb_buf *first, struct pb_buf *rest)
{
    size_t i;
    json_t *l;
    if (json_is_string(street))
        return pb_buf_adds(first, json_string_value(street));
    json_array_foreach(street, i, l) {
        const char *s = json_string_value(l);
        if (!s || !*s)
            continue;
        struct pb_buf *b = first->len ? rest : first;
        if ((b == rest && rest->len && pb_buf_adds(rest, ", ") < 0) || pb_buf_adds(b, s) < 0)
            return -1;
    }
    return 0;
}

/* ---- reading lists ---- */

static const char *
store_code(const struct pb_upload *u)
{
    /* sales entities are read through a store view ("all" is for catalog writes) */
    return u->store->store_code ? u->store->store_code : "default";
}

static int
failed(struct mgdl *m, const char *what, const char *why, struct pb_error *err)
{
    struct pb_upload *u = m->u;
    if (u->res->auth_failed)
        return pb_error_set(err, PB_ENOPERM,
                            "%s: the store refused the credentials reading %s (%s): check the "
                            "token, or the integration's OAuth keys and its API resources "
                            "(Sales, Customers)",
                            u->store->name, what, why);
    return pb_error_set(err, u->res->temp_failed || u->res->unreachable ? PB_ETEMP : PB_EPROTO,
                        "%s: cannot read %s: %s", u->store->name, what, why);
}

typedef int (*page_fn)(struct mgdl *m, json_t *items, struct pb_error *err);

/*
 * Every page of one search.  The pages are counted from the first page's total_count;
 * a later page with another total means the list changed while read: it is read again
 * from the start (RESTARTS times at most).  0, or -1 with err (never a partial list).
 */
static int
search_all(struct mgdl *m, const char *path, const char *what, const struct pb_mg_filter *f,
           size_t nf, const char *const *sort, size_t ns, const char *fields, page_fn fn,
           struct pb_error *err)
{
    struct pb_upload *u = m->u;
    json_int_t total = -1;
    int restarts = 0;
    for (int page = 1;;) {
        struct pb_buf q = PB_BUF_INIT;
        char *url = NULL;
        if (pb_magento_search_query(&q, f, nf, sort, ns, PAGE, page, fields) < 0 ||
            !(url = pb_rest_url(u, "/rest/%s/V1%s?%s", store_code(u), path, q.data))) {
            pb_buf_release(&q);
            return pb_error_set(err, PB_EOS, "out of memory");
        }
        pb_buf_release(&q);
        struct pb_rest_req rq = {"GET", url, NULL, what, 0, 1};
        struct pb_rest rs;
        int r = pb_rest_one(u, &rq, &rs, err);
        free(url);
        if (r < 0)
            return -1;
        json_t *items = json_object_get(rs.json, "items");
        json_t *tc = json_object_get(rs.json, "total_count");
        if (!pb_rest_ok(&rs) || !json_is_array(items) || !json_is_integer(tc)) {
            r = failed(m, what, rs.error[0] ? rs.error : "an answer without items or total_count",
                       err);
            pb_rest_release(&rs);
            return r;
        }
        json_int_t t = json_integer_value(tc);
        if (total >= 0 && t != total) {
            pb_rest_release(&rs);
            if (++restarts > RESTARTS)
                return pb_error_set(err, PB_ETEMP, "%s: %s kept changing while read; try again",
                                    u->store->name, what);
            pb_log(PB_LOG_INFO, "%s: %s changed while read (%lld, now %lld): reading again",
                   u->store->name, what, (long long)total, (long long)t);
            total = -1;
            page = 1;
            continue;
        }
        total = t;
        r = fn(m, items, err);
        pb_rest_release(&rs);
        if (r < 0)
            return -1;
        if ((json_int_t)page * PAGE >= total)
            return 0; /* never past the end: Magento would answer the last page again */
        page++;
    }
}

/* "in" lists of up to IDS_PER_SEARCH ids from the keys of ids, each searched in full. */
static int
search_ids(struct mgdl *m, const char *path, const char *what, const char *field, json_t *ids,
           const char *fields, page_fn fn, struct pb_error *err)
{
    static const char *const by_id[] = {"entity_id"};
    const char *key;
    json_t *v;
    struct pb_buf list = PB_BUF_INIT;
    size_t n = 0, left = json_object_size(ids);
    json_object_foreach(ids, key, v) {
        if ((n && pb_buf_addch(&list, ',') < 0) || pb_buf_adds(&list, key) < 0) {
            pb_buf_release(&list);
            return pb_error_set(err, PB_EOS, "out of memory");
        }
        n++;
        left--;
        if (n < IDS_PER_SEARCH && left)
            continue;
        struct pb_mg_filter f = {field, "in", list.data};
        int r = search_all(m, path, what, &f, 1, by_id, 1, fields, fn, err);
        pb_buf_reset(&list);
        n = 0;
        if (r < 0) {
            pb_buf_release(&list);
            return -1;
        }
    }
    pb_buf_release(&list);
    return 0;
}

/* ---- orders ---- */

static const char *
str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void
address(struct pb_dl *dl, json_t *a, const int *fields)
{
    /* street, street2, city, state, postal code, country, phone */
    struct pb_buf s1 = PB_BUF_INIT, s2 = PB_BUF_INIT;
    if (!a)
        return;
    if (pb_magento_street(json_object_get(a, "street"), &s1, &s2) < 0)
        pb_dl_bad(dl, "street", "out of memory");
    pb_dl_set(dl, fields[0], s1.data);
    pb_dl_set(dl, fields[1], s2.data);
    pb_buf_release(&s1);
    pb_buf_release(&s2);
    pb_dl_set(dl, fields[2], str(a, "city"));
    json_t *rc = json_object_get(a, "region_code");
    pb_dl_set_json(dl, fields[3], json_is_string(rc) ? rc : json_object_get(a, "region"));
    pb_dl_set(dl, fields[4], str(a, "postcode"));
    pb_dl_set(dl, fields[5], str(a, "country_id"));
    if (fields[6] >= 0)
        pb_dl_set(dl, fields[6], str(a, "telephone"));
}

static void
set_cents(struct pb_dl *dl, int field, int64_t c)
{
    char b[32];
    pb_money_format(c, b);
    pb_dl_set(dl, field, b);
}

/* A money field: "" when absent, the record bad when not an exact amount. */
static int64_t
money(struct pb_dl *dl, json_t *o, const char *key, const char *field)
{
    int64_t c = 0;
    json_t *v = json_object_get(o, key);
    if (v && !json_is_null(v) && pb_magento_cents(v, &c) < 0) {
        char why[120];
        snprintf(why, sizeof(why), "%s is not an amount in cents", key);
        pb_dl_bad(dl, field, why);
    }
    return c;
}

/* The item rows that are configurable children (parent_item_id set): skipped. */
static int
is_child(json_t *it)
{
    json_t *p = json_object_get(it, "parent_item_id");
    return p && !json_is_null(p);
}

/* Remember what a credit memo of this order needs; 1 when the order shipped. */
static int
summarize(struct mgdl *m, json_t *o, struct pb_error *err)
{
    char ib[32];
    const char *id = pb_json_id(o, "entity_id", ib);
    const char *state = str(o, "state");
    int ship = state && !strcmp(state, "complete");
    json_t *kids = json_object();
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(o, "items"), i, it) {
        char kb[32];
        const char *k = pb_json_id(it, "item_id", kb);
        if (is_child(it)) {
            if (kids && k)
                json_object_set_new(kids, k, json_true());
        } else {
            json_t *qs = json_object_get(it, "qty_shipped");
            ship |= (json_is_number(qs) && json_number_value(qs) > 0);
        }
    }
    json_t *pay = json_object_get(o, "payment");
    json_t *s = json_pack("{s:s?, s:s?, s:s?, s:s?, s:b, s:o?}", "n", str(o, "increment_id"), "c",
                          str(o, "order_currency_code"), "e", str(o, "customer_email"), "m",
                          str(pay, "method"), "ship", ship, "kids", kids);
    if (!id)
        json_decref(s);
    else if (!s || json_object_set_new(m->orders, id, s) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    return ship;
}

static int
one_order(struct mgdl *m, json_t *o, struct pb_error *err)
{
    struct pb_dl *dl = m->dl;
    const char *store = m->u->store->name;
    char ib[32];
    const char *id = pb_json_id(o, "entity_id", ib);
    const char *upd = str(o, "updated_at");
    int ship = summarize(m, o, err);
    if (ship < 0)
        return -1;
    if (!ship)
        return 0; /* closed before it shipped: never a QBPOS sale */
    int r = pb_dl_begin(dl, PB_DL_ORDERS, id, upd);
    if (r < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    json_t *bill = json_object_get(o, "billing_address");
    json_t *sa = json_array_get(json_object_get(json_object_get(o, "extension_attributes"),
                                                "shipping_assignments"), 0);
    json_t *shipping = json_object_get(sa, "shipping");
    json_t *ship_addr = json_object_get(shipping, "address");
    json_t *cid = json_object_get(o, "customer_id");
    char cb[32];
    const char *customer = json_is_null(cid) ? NULL : pb_json_id(o, "customer_id", cb);
    if (r > 0) {
        pb_dl_set(dl, PB_ORDERS_STORE, store);
        pb_dl_set(dl, PB_ORDERS_ORDER_ID, id);
        pb_dl_set(dl, PB_ORDERS_ORDER_NUMBER, str(o, "increment_id"));
        pb_dl_set(dl, PB_ORDERS_CREATED_AT, str(o, "created_at"));
        pb_dl_set(dl, PB_ORDERS_UPDATED_AT, upd);
        const char *when = id ? json_string_value(json_object_get(m->shipped, id)) : NULL;
        pb_dl_set(dl, PB_ORDERS_SHIPPED_AT, when ? when : upd);
        pb_dl_set(dl, PB_ORDERS_CURRENCY, str(o, "order_currency_code"));
        pb_dl_set(dl, PB_ORDERS_CUSTOMER_ID, customer);
        pb_dl_set(dl, PB_ORDERS_CUSTOMER_EMAIL, str(o, "customer_email"));
        const char *first = str(o, "customer_firstname"), *last = str(o, "customer_lastname");
        pb_dl_set(dl, PB_ORDERS_CUSTOMER_FIRST_NAME, first ? first : str(bill, "firstname"));
        pb_dl_set(dl, PB_ORDERS_CUSTOMER_LAST_NAME, last ? last : str(bill, "lastname"));
        pb_dl_set(dl, PB_ORDERS_CUSTOMER_COMPANY, str(bill, "company"));
        pb_dl_set(dl, PB_ORDERS_CUSTOMER_PHONE, str(bill, "telephone"));
        static const int bf[] = {PB_ORDERS_BILL_STREET, PB_ORDERS_BILL_STREET2, PB_ORDERS_BILL_CITY,
                                 PB_ORDERS_BILL_STATE, PB_ORDERS_BILL_POSTAL_CODE,
                                 PB_ORDERS_BILL_COUNTRY, -1};
        static const int sf[] = {PB_ORDERS_SHIP_STREET, PB_ORDERS_SHIP_STREET2, PB_ORDERS_SHIP_CITY,
                                 PB_ORDERS_SHIP_STATE, PB_ORDERS_SHIP_POSTAL_CODE,
                                 PB_ORDERS_SHIP_COUNTRY, PB_ORDERS_SHIP_PHONE};
        address(dl, bill, bf);
        address(dl, ship_addr, sf);
        if (ship_addr) {
            struct pb_buf n = PB_BUF_INIT;
            const char *f = str(ship_addr, "firstname"), *l = str(ship_addr, "lastname");
            const char *sp = f && *f && l && *l ? " " : "";
            if (pb_buf_addf(&n, "%s%s%s", f ? f : "", sp, l ? l : "") < 0)
                pb_dl_bad(dl, "ship_full_name", "out of memory");
            pb_dl_set(dl, PB_ORDERS_SHIP_FULL_NAME, n.data);
            pb_buf_release(&n);
            pb_dl_set(dl, PB_ORDERS_SHIP_COMPANY, str(ship_addr, "company"));
        }
        const char *desc = str(o, "shipping_description");
        pb_dl_set(dl, PB_ORDERS_SHIP_METHOD, desc ? desc : str(shipping, "method"));
        set_cents(dl, PB_ORDERS_SHIPPING, money(dl, o, "shipping_amount", "shipping"));
        int64_t stax = money(dl, o, "shipping_tax_amount", "shipping_tax");
        if (stax)
            set_cents(dl, PB_ORDERS_SHIPPING_TAX, stax);
        pb_dl_set_json(dl, PB_ORDERS_TAX_TOTAL, json_object_get(o, "tax_amount"));
        pb_dl_set_json(dl, PB_ORDERS_TOTAL, json_object_get(o, "grand_total"));
        /* one payment per Magento order: its method took the grand total */
        json_t *pay = json_object_get(o, "payment");
        if (str(pay, "method")) {
            pb_dl_set(dl, PB_ORDERS_TENDER_01_GATEWAY, str(pay, "method"));
            pb_dl_set_json(dl, PB_ORDERS_TENDER_01_AMOUNT, json_object_get(o, "grand_total"));
        }
        /* the order's discount_amount is negative and holds the lines' discounts and the
         * shipping's: what the lines do not carry is an order discount */
        int64_t line_disc = 0;
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(o, "items"), i, it)
            if (!is_child(it))
                line_disc += money(dl, it, "discount_amount", "line_discount");
        int64_t rest = -money(dl, o, "discount_amount", "order_discount") - line_disc;
        if (rest > 0)
            set_cents(dl, PB_ORDERS_ORDER_DISCOUNT, rest);
        json_array_foreach(json_object_get(o, "items"), i, it) {
            const char *type = str(it, "product_type");
            if (is_child(it))
                continue; /* its configurable parent row carries the line */
            if (type && !strcmp(type, "bundle"))
                pb_dl_bad(dl, "line_sku", "a bundle product: its price is split over its parts, "
                                          "which posbridge does not read");
            pb_dl_line(dl);
            char lb[32];
            pb_dl_set(dl, PB_ORDERS_LINE_ID, pb_json_id(it, "item_id", lb));
            pb_dl_set(dl, PB_ORDERS_LINE_SKU, str(it, "sku"));
            pb_dl_set(dl, PB_ORDERS_LINE_TITLE, str(it, "name"));
            pb_dl_set_json(dl, PB_ORDERS_LINE_QTY, json_object_get(it, "qty_ordered"));
            pb_dl_set_json(dl, PB_ORDERS_LINE_PRICE, json_object_get(it, "price"));
            int64_t d = money(dl, it, "discount_amount", "line_discount");
            if (d)
                set_cents(dl, PB_ORDERS_LINE_DISCOUNT, d);
            set_cents(dl, PB_ORDERS_LINE_TAX, money(dl, it, "tax_amount", "line_tax"));
        }
        if (pb_dl_end(dl, err) < 0)
            return -1;
    }
    if (customer) {
        int b = pb_dl_begin(dl, PB_DL_CUSTOMERS, customer, upd);
        if (b < 0)
            return pb_error_set(err, PB_EOS, "out of memory");
        if (b > 0) {
            pb_dl_set(dl, PB_CUSTOMERS_STORE, store);
            pb_dl_set(dl, PB_CUSTOMERS_CUSTOMER_ID, customer);
            pb_dl_set(dl, PB_CUSTOMERS_EMAIL, str(o, "customer_email"));
            const char *first = str(o, "customer_firstname"), *last = str(o, "customer_lastname");
            pb_dl_set(dl, PB_CUSTOMERS_FIRST_NAME, first ? first : str(bill, "firstname"));
            pb_dl_set(dl, PB_CUSTOMERS_LAST_NAME, last ? last : str(bill, "lastname"));
            pb_dl_set(dl, PB_CUSTOMERS_COMPANY, str(bill, "company"));
            static const int cf[] = {PB_CUSTOMERS_STREET, PB_CUSTOMERS_STREET2, PB_CUSTOMERS_CITY,
                                     PB_CUSTOMERS_STATE, PB_CUSTOMERS_POSTAL_CODE,
                                     PB_CUSTOMERS_COUNTRY, PB_CUSTOMERS_PHONE};
            address(dl, bill, cf);
            if (pb_dl_end(dl, err) < 0)
                return -1;
        }
    }
    return 0;
}

static int
shipments_page(struct mgdl *m, json_t *items, struct pb_error *err)
{
    size_t i;
    json_t *s;
    json_array_foreach(items, i, s) {
        char ob[32];
        const char *oid = pb_json_id(s, "order_id", ob);
        const char *at = str(s, "created_at");
        const char *was = oid ? json_string_value(json_object_get(m->shipped, oid)) : NULL;
        if (oid && at && (!was || strcmp(at, was) > 0) &&
            json_object_set_new(m->shipped, oid, json_string(at)) < 0)
            return pb_error_set(err, PB_EOS, "out of memory");
    }
    return 0;
}

static int
orders_page(struct mgdl *m, json_t *items, struct pb_error *err)
{
    /* the ship dates of this page's orders, in one search */
    json_t *ids = json_object();
    size_t i;
    json_t *o;
    if (!ids)
        return pb_error_set(err, PB_EOS, "out of memory");
    json_object_clear(m->shipped);
    json_array_foreach(items, i, o) {
        char ib[32];
        const char *id = pb_json_id(o, "entity_id", ib);
        if (id)
            json_object_set_new(ids, id, json_true());
    }
    int r = search_ids(m, "/shipments", "shipments", "order_id", ids,
                       "items[order_id,created_at],total_count", shipments_page, err);
    json_decref(ids);
    if (r < 0)
        return -1;
    json_array_foreach(items, i, o)
        if (one_order(m, o, err) < 0)
            return -1;
    return 0;
}

/* ---- credit memos ---- */

static int
memo_orders_page(struct mgdl *m, json_t *items, struct pb_error *err)
{
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o)
        if (summarize(m, o, err) < 0)
            return -1;
    return 0;
}

static int
one_memo(struct mgdl *m, json_t *c, struct pb_error *err)
{
    struct pb_dl *dl = m->dl;
    char ib[32], ob[32];
    const char *id = pb_json_id(c, "entity_id", ib);
    const char *oid = pb_json_id(c, "order_id", ob);
    json_t *o = oid ? json_object_get(m->orders, oid) : NULL;
    if (o && !json_is_true(json_object_get(o, "ship")))
        return 0; /* its order never shipped, so never became a QBPOS sale */
    const char *upd = str(c, "updated_at");
    if (!upd)
        upd = str(c, "created_at");
    int r = pb_dl_begin(dl, PB_DL_RETURNS, id, upd);
    if (r < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    if (r == 0)
        return 0;
    if (!o)
        pb_dl_bad(dl, "order_id", "the store does not find the order of this credit memo");
    pb_dl_set(dl, PB_RETURNS_STORE, m->u->store->name);
    pb_dl_set(dl, PB_RETURNS_RETURN_ID, id);
    pb_dl_set(dl, PB_RETURNS_ORDER_ID, oid);
    pb_dl_set(dl, PB_RETURNS_ORDER_NUMBER, str(o, "n"));
    pb_dl_set(dl, PB_RETURNS_CREATED_AT, str(c, "created_at"));
    pb_dl_set(dl, PB_RETURNS_UPDATED_AT, upd);
    const char *cur = str(c, "order_currency_code");
    pb_dl_set(dl, PB_RETURNS_CURRENCY, cur ? cur : str(o, "c"));
    pb_dl_set(dl, PB_RETURNS_CUSTOMER_EMAIL, str(o, "e"));
    int64_t sh = money(dl, c, "shipping_amount", "refund_shipping") +
                 money(dl, c, "shipping_tax_amount", "refund_shipping");
    if (sh)
        set_cents(dl, PB_RETURNS_REFUND_SHIPPING, sh);
    pb_dl_set_json(dl, PB_RETURNS_REFUND_TOTAL, json_object_get(c, "grand_total"));
    if (str(o, "m")) {
        pb_dl_set(dl, PB_RETURNS_TENDER_01_GATEWAY, str(o, "m"));
        pb_dl_set_json(dl, PB_RETURNS_TENDER_01_AMOUNT, json_object_get(c, "grand_total"));
    }
    json_t *kids = json_object_get(o, "kids");
    const char *restock = m->u->store->no_restock ? "false" : "true";
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(c, "items"), i, it) {
        char lb[32];
        const char *line = pb_json_id(it, "order_item_id", lb);
        json_t *qty = json_object_get(it, "qty");
        if ((line && json_object_get(kids, line)) || is_child(it))
            continue; /* a configurable's child row: its parent row is the line */
        if (!json_is_number(qty) || json_number_value(qty) <= 0)
            continue; /* an item of the order this memo does not refund */
        pb_dl_line(dl);
        pb_dl_set(dl, PB_RETURNS_LINE_ID, line);
        pb_dl_set(dl, PB_RETURNS_LINE_SKU, str(it, "sku"));
        pb_dl_set(dl, PB_RETURNS_LINE_TITLE, str(it, "name"));
        pb_dl_set_json(dl, PB_RETURNS_LINE_QTY, qty);
        /* the unit price refunded: the row's discount taken off, as the total was */
        int64_t price = money(dl, it, "price", "line_price");
        int64_t disc = money(dl, it, "discount_amount", "line_price");
        if (disc) {
            char qb[64];
            int64_t units = 0;
            const char *why;
            snprintf(qb, sizeof(qb), "%.6f", json_number_value(qty));
            if (pb_dec_parse(qb, strlen(qb), PB_QTY_SCALE, &units, &why) == 0 && units > 0) {
                /* price - disc / qty, to the nearest cent */
                int64_t per = (disc * 10000 * 2 + units) / (2 * units);
                price -= per;
            }
        }
        set_cents(dl, PB_RETURNS_LINE_PRICE, price);
        set_cents(dl, PB_RETURNS_LINE_TAX, money(dl, it, "tax_amount", "line_tax"));
        pb_dl_set(dl, PB_RETURNS_RESTOCK, restock);
    }
    return pb_dl_end(dl, err) < 0 ? -1 : 0;
}

static int
memos_page(struct mgdl *m, json_t *items, struct pb_error *err)
{
    size_t i;
    json_t *c;
    json_object_clear(m->missing);
    json_array_foreach(items, i, c) {
        char ob[32];
        const char *oid = pb_json_id(c, "order_id", ob);
        if (oid && !json_object_get(m->orders, oid) &&
            json_object_set_new(m->missing, oid, json_true()) < 0)
            return pb_error_set(err, PB_EOS, "out of memory");
    }
    if (json_object_size(m->missing) &&
        search_ids(m, "/orders", "the orders of credit memos", "entity_id", m->missing,
                   MEMO_ORDER_FIELDS, memo_orders_page, err) < 0)
        return -1;
    json_array_foreach(items, i, c)
        if (one_memo(m, c, err) < 0)
            return -1;
    return 0;
}

int
pb_magento_download(struct pb_upload *u, struct pb_dl *dl, struct pb_error *err)
{
    struct mgdl m = {u, dl, json_object(), json_object(), json_object()};
    char since[32], until[32];
    int rc = -1;
    if (!m.orders || !m.shipped || !m.missing) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    pb_magento_time(pb_dl_since(dl), since);
    pb_magento_time(pb_dl_until(dl), until);
    static const char *const sort[] = {"updated_at", "entity_id"};
    struct pb_mg_filter of[] = {{"updated_at", "gteq", since},
                                {"updated_at", "lt", until},
                                {"state", "in", "complete,closed"}};
    if (search_all(&m, "/orders", "orders", of, 3, sort, 2, NULL, orders_page, err) < 0)
        goto out;
    struct pb_mg_filter cf[] = {{"updated_at", "gteq", since}, {"updated_at", "lt", until}};
    if (search_all(&m, "/creditmemos", "credit memos", cf, 2, sort, 2, NULL, memos_page, err) < 0)
        goto out;
    rc = 0;
out:
    json_decref(m.orders);
    json_decref(m.shipped);
    json_decref(m.missing);
    return rc;
}
