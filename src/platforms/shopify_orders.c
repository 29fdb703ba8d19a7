/*
 * Shopify download: shipped orders, their refunds and their customers, through the
 * GraphQL orders connection.
 *
 * One query, paged by cursor: orders with fulfillment_status:shipped whose updated_at is
 * in the window, sorted by UPDATED_AT (a refund bumps its order's updated_at, so refunds
 * come with their order).  Each order becomes an orders record (one row per line item),
 * each of its refunds a returns record, its customer a customers record.  Money is
 * Shopify's decimal strings in shop currency; discounts are per line (Shopify allocates
 * order discounts to the lines), shipping is the discounted shipping lines and their tax,
 * payments are the successful SALE and CAPTURE transactions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_schemas.h"
#include "posbridge/download.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/money.h"
#include "posbridge/upload.h"
#include "shopify_int.h"
#include "posbridge/banned.h"


/* Five orders a page keeps the requested cost under Shopify's 1,000 per query; an order
 * with more lines (or a refund with more lines) than a page holds is read on by itself. */
#define LINE_FIELDS                                                                      \
    "id sku title quantity originalUnitPriceSet { shopMoney { amount } } "               \
    "discountAllocations { allocatedAmountSet { shopMoney { amount } } } "               \
    "taxLines { priceSet { shopMoney { amount } } }"
#define REFUND_LINE_FIELDS                                                               \
    "lineItem { id sku title } quantity restockType priceSet { shopMoney { amount } } "  \
    "subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } }"
static const char ORDERS[] =
    "query Orders($q: String!, $after: String) { orders(first: 5, after: $after, sortKey: "
    "UPDATED_AT, query: $q) { pageInfo { hasNextPage endCursor } nodes { id name createdAt "
    "updatedAt cancelledAt test currencyCode email displayFulfillmentStatus "
    "customer { id firstName lastName phone updatedAt } "
    "billingAddress { firstName lastName company address1 address2 city provinceCode zip "
    "countryCodeV2 phone } shippingAddress { name company address1 address2 city provinceCode "
    "zip countryCodeV2 phone } totalTaxSet { shopMoney { amount } } totalPriceSet { shopMoney "
    "{ amount } } fulfillments(first: 3) { createdAt } "
    "shippingLines(first: 2) { nodes { title discountedPriceSet { shopMoney { amount } } "
    "taxLines { priceSet { shopMoney { amount } } } } } "
    "lineItems(first: 10) { pageInfo { hasNextPage endCursor } nodes { " LINE_FIELDS " } } "
    "transactions(first: 10) { gateway kind status amountSet { shopMoney { amount } } } "
    "refunds(first: 5) { id createdAt updatedAt totalRefundedSet { shopMoney { amount } } "
    "refundLineItems(first: 5) { pageInfo { hasNextPage endCursor } nodes { " REFUND_LINE_FIELDS
    " } } transactions(first: 3) { nodes { gateway kind status amountSet { shopMoney { amount } "
    "} } } } } } }";
static const char MORE_LINES[] =
    "query Lines($id: ID!, $after: String) { order(id: $id) { lineItems(first: 100, after: "
    "$after) { pageInfo { hasNextPage endCursor } nodes { " LINE_FIELDS " } } } }";
static const char MORE_REFUND_LINES[] =
    "query RefundLines($id: ID!, $after: String) { refund(id: $id) { refundLineItems(first: "
    "100, after: $after) { pageInfo { hasNextPage endCursor } nodes { " REFUND_LINE_FIELDS
    " } } } }";
#define ORDERS_COST 1000

static json_t *
amount(json_t *set)
{
    return json_object_get(json_object_get(set, "shopMoney"), "amount");
}

/* Sum of taxLines[].priceSet amounts, exactly. */
static int64_t
tax_sum(json_t *lines)
{
    int64_t sum = 0, c;
    size_t i;
    json_t *t;
    const char *why;
    json_array_foreach(lines, i, t) {
        const char *a = json_string_value(amount(json_object_get(t, "priceSet")));
        if (a && pb_money_parse(a, strlen(a), &c, &why) == 0)
            sum += c;
    }
    return sum;
}

/* Every node of a connection: the page at hand, then the rest read by id.  NULL (err set
 * or the reason in *why) when a page cannot be read. */
static json_t *
all_nodes(struct pb_upload *u, json_t *conn, const char *query, const char *id,
          const char *root, const char *field, char *why, size_t whylen, struct pb_error *err)
{
    json_t *nodes = json_array();
    json_array_extend(nodes, json_object_get(conn, "nodes"));
    json_t *pi = json_object_get(conn, "pageInfo");
    char *after = json_is_true(json_object_get(pi, "hasNextPage")) &&
                          json_string_value(json_object_get(pi, "endCursor"))
                      ? strdup(json_string_value(json_object_get(pi, "endCursor")))
                      : NULL;
    while (after) {
        struct gql g;
        json_t *vars = json_pack("{s:s, s:s}", "id", id, "after", after);
        int r = pb_shopify_gql(u, query, vars, 2 + 100 * 4, "more lines", &g, err);
        json_decref(vars);
        free(after);
        after = NULL;
        if (r < 0 || !g.data) {
            if (r == 0)
                snprintf(why, whylen, "%s", g.error);
            pb_shopify_gql_release(&g);
            json_decref(nodes);
            return NULL;
        }
        json_t *c = json_object_get(json_object_get(g.data, root), field);
        json_array_extend(nodes, json_object_get(c, "nodes"));
        pi = json_object_get(c, "pageInfo");
        if (json_is_true(json_object_get(pi, "hasNextPage")) &&
            json_string_value(json_object_get(pi, "endCursor")))
            after = strdup(json_string_value(json_object_get(pi, "endCursor")));
        pb_shopify_gql_release(&g);
    }
    return nodes;
}

static int
read_failed(struct pb_upload *u, const char *what, const char *why, struct pb_error *err)
{
    int code = u->res->auth_failed ? PB_ENOPERM
               : u->res->temp_failed || u->res->unreachable ? PB_ETEMP : PB_EPROTO;
    return pb_error_set(err, code, "%s: cannot read %s: %s", u->store->name, what, why);
}

static void
set_cents(struct pb_dl *dl, int field, int64_t c)
{
    char b[32];
    pb_money_format(c, b);
    pb_dl_set(dl, field, b);
}

static void
address(struct pb_dl *dl, json_t *a, const int *fields)
{
    /* street, street2, city, state, postal code, country, phone */
    static const char *const keys[] = {"address1", "address2", "city", "provinceCode", "zip",
                                       "countryCodeV2", "phone"};
    for (int k = 0; k < 7; k++)
        if (fields[k] >= 0)
            pb_dl_set_json(dl, fields[k], json_object_get(a, keys[k]));
}

static int
one_order(struct pb_upload *u, struct pb_dl *dl, json_t *o, struct pb_error *err)
{
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *upd = json_string_value(json_object_get(o, "updatedAt"));
    const char *fs = json_string_value(json_object_get(o, "displayFulfillmentStatus"));
    if (json_is_true(json_object_get(o, "test")) || json_string_value(json_object_get(o, "cancelledAt")))
        return 0; /* test orders and cancelled ones never reach QBPOS */
    if (!fs || strcmp(fs, "FULFILLED"))
        return 0; /* not shipped (yet): its fulfilment will bump updated_at */
    json_t *cust = json_object_get(o, "customer");
    json_t *bill = json_object_get(o, "billingAddress"), *ship = json_object_get(o, "shippingAddress");
    int r = pb_dl_begin(dl, PB_DL_ORDERS, id, upd);
    if (r < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    if (r > 0) {
        pb_dl_set(dl, PB_ORDERS_STORE, u->store->name);
        pb_dl_set(dl, PB_ORDERS_ORDER_ID, id);
        pb_dl_set_json(dl, PB_ORDERS_ORDER_NUMBER, json_object_get(o, "name"));
        pb_dl_set_json(dl, PB_ORDERS_CREATED_AT, json_object_get(o, "createdAt"));
        pb_dl_set(dl, PB_ORDERS_UPDATED_AT, upd);
        /* shipped: the latest fulfilment */
        const char *shipped = NULL;
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(o, "fulfillments"), i, f) {
            const char *t = json_string_value(json_object_get(f, "createdAt"));
            if (t && (!shipped || strcmp(t, shipped) > 0))
                shipped = t;
        }
        pb_dl_set(dl, PB_ORDERS_SHIPPED_AT, shipped);
        pb_dl_set_json(dl, PB_ORDERS_CURRENCY, json_object_get(o, "currencyCode"));
        pb_dl_set_json(dl, PB_ORDERS_CUSTOMER_ID, json_object_get(cust, "id"));
        pb_dl_set_json(dl, PB_ORDERS_CUSTOMER_EMAIL, json_object_get(o, "email"));
        json_t *first = json_object_get(cust, "firstName"), *last = json_object_get(cust, "lastName");
        pb_dl_set_json(dl, PB_ORDERS_CUSTOMER_FIRST_NAME, json_is_string(first) ? first : json_object_get(bill, "firstName"));
        pb_dl_set_json(dl, PB_ORDERS_CUSTOMER_LAST_NAME, json_is_string(last) ? last : json_object_get(bill, "lastName"));
        pb_dl_set_json(dl, PB_ORDERS_CUSTOMER_COMPANY, json_object_get(bill, "company"));
        pb_dl_set_json(dl, PB_ORDERS_CUSTOMER_PHONE, json_object_get(cust, "phone"));
        static const int bf[] = {PB_ORDERS_BILL_STREET, PB_ORDERS_BILL_STREET2, PB_ORDERS_BILL_CITY,
                                 PB_ORDERS_BILL_STATE, PB_ORDERS_BILL_POSTAL_CODE, PB_ORDERS_BILL_COUNTRY, -1};
        static const int sf[] = {PB_ORDERS_SHIP_STREET, PB_ORDERS_SHIP_STREET2, PB_ORDERS_SHIP_CITY,
                                 PB_ORDERS_SHIP_STATE, PB_ORDERS_SHIP_POSTAL_CODE, PB_ORDERS_SHIP_COUNTRY,
                                 PB_ORDERS_SHIP_PHONE};
        address(dl, bill, bf);
        address(dl, ship, sf);
        pb_dl_set_json(dl, PB_ORDERS_SHIP_FULL_NAME, json_object_get(ship, "name"));
        pb_dl_set_json(dl, PB_ORDERS_SHIP_COMPANY, json_object_get(ship, "company"));
        int64_t shipping = 0, shipping_tax = 0, c;
        const char *why, *method = NULL;
        json_t *sl;
        json_array_foreach(json_object_get(json_object_get(o, "shippingLines"), "nodes"), i, sl) {
            const char *a = json_string_value(amount(json_object_get(sl, "discountedPriceSet")));
            if (a && pb_money_parse(a, strlen(a), &c, &why) == 0)
                shipping += c;
            else if (a)
                pb_dl_bad(dl, "shipping", "a shipping price is not an amount");
            shipping_tax += tax_sum(json_object_get(sl, "taxLines"));
            if (!method)
                method = json_string_value(json_object_get(sl, "title"));
        }
        pb_dl_set(dl, PB_ORDERS_SHIP_METHOD, method);
        set_cents(dl, PB_ORDERS_SHIPPING, shipping);
        if (shipping_tax)
            set_cents(dl, PB_ORDERS_SHIPPING_TAX, shipping_tax);
        pb_dl_set_json(dl, PB_ORDERS_TAX_TOTAL, amount(json_object_get(o, "totalTaxSet")));
        pb_dl_set_json(dl, PB_ORDERS_TOTAL, amount(json_object_get(o, "totalPriceSet")));
        /* payments: what was taken, not what was only authorised */
        int nt = 0;
        json_t *t;
        json_array_foreach(json_object_get(o, "transactions"), i, t) {
            const char *kind = json_string_value(json_object_get(t, "kind"));
            const char *st = json_string_value(json_object_get(t, "status"));
            if (!kind || !st || strcmp(st, "SUCCESS") || (strcmp(kind, "SALE") && strcmp(kind, "CAPTURE")))
                continue;
            if (nt == 20) {
                pb_dl_bad(dl, "tender_20_gateway", "more than 20 payments");
                break;
            }
            pb_dl_set_json(dl, PB_ORDERS_TENDER_01_GATEWAY + nt, json_object_get(t, "gateway"));
            pb_dl_set_json(dl, PB_ORDERS_TENDER_01_AMOUNT + nt, amount(json_object_get(t, "amountSet")));
            nt++;
        }
        char why2[300] = "";
        json_t *lines = all_nodes(u, json_object_get(o, "lineItems"), MORE_LINES, id, "order",
                                  "lineItems", why2, sizeof(why2), err), *li;
        if (!lines) {
            pb_dl_end(dl, err);
            return why2[0] ? read_failed(u, "an order's lines", why2, err) : -1;
        }
        json_array_foreach(lines, i, li) {
            int64_t disc = 0;
            size_t d;
            json_t *da;
            json_array_foreach(json_object_get(li, "discountAllocations"), d, da) {
                const char *a = json_string_value(amount(json_object_get(da, "allocatedAmountSet")));
                if (a && pb_money_parse(a, strlen(a), &c, &why) == 0)
                    disc += c;
            }
            pb_dl_line(dl);
            pb_dl_set_json(dl, PB_ORDERS_LINE_ID, json_object_get(li, "id"));
            pb_dl_set_json(dl, PB_ORDERS_LINE_SKU, json_object_get(li, "sku"));
            pb_dl_set_json(dl, PB_ORDERS_LINE_TITLE, json_object_get(li, "title"));
            pb_dl_set_json(dl, PB_ORDERS_LINE_QTY, json_object_get(li, "quantity"));
            pb_dl_set_json(dl, PB_ORDERS_LINE_PRICE, amount(json_object_get(li, "originalUnitPriceSet")));
            if (disc)
                set_cents(dl, PB_ORDERS_LINE_DISCOUNT, disc);
            set_cents(dl, PB_ORDERS_LINE_TAX, tax_sum(json_object_get(li, "taxLines")));
        }
        json_decref(lines);
        if (pb_dl_end(dl, err) < 0)
            return -1;
    }
    /* its refunds */
    size_t i;
    json_t *rf;
    json_array_foreach(json_object_get(o, "refunds"), i, rf) {
        const char *rid = json_string_value(json_object_get(rf, "id"));
        const char *rup = json_string_value(json_object_get(rf, "updatedAt"));
        int b = pb_dl_begin(dl, PB_DL_RETURNS, rid, rup ? rup : json_string_value(json_object_get(rf, "createdAt")));
        if (b < 0)
            return pb_error_set(err, PB_EOS, "out of memory");
        if (b == 0)
            continue;
        pb_dl_set(dl, PB_RETURNS_STORE, u->store->name);
        pb_dl_set(dl, PB_RETURNS_RETURN_ID, rid);
        pb_dl_set(dl, PB_RETURNS_ORDER_ID, id);
        pb_dl_set_json(dl, PB_RETURNS_ORDER_NUMBER, json_object_get(o, "name"));
        pb_dl_set_json(dl, PB_RETURNS_CREATED_AT, json_object_get(rf, "createdAt"));
        pb_dl_set(dl, PB_RETURNS_UPDATED_AT, rup ? rup : json_string_value(json_object_get(rf, "createdAt")));
        pb_dl_set_json(dl, PB_RETURNS_CURRENCY, json_object_get(o, "currencyCode"));
        pb_dl_set_json(dl, PB_RETURNS_CUSTOMER_EMAIL, json_object_get(o, "email"));
        pb_dl_set_json(dl, PB_RETURNS_REFUND_TOTAL, amount(json_object_get(rf, "totalRefundedSet")));
        int nt = 0;
        size_t k;
        json_t *t;
        json_array_foreach(json_object_get(json_object_get(rf, "transactions"), "nodes"), k, t) {
            const char *st = json_string_value(json_object_get(t, "status"));
            if (!st || strcmp(st, "SUCCESS") || nt == 20)
                continue;
            pb_dl_set_json(dl, PB_RETURNS_TENDER_01_GATEWAY + nt, json_object_get(t, "gateway"));
            pb_dl_set_json(dl, PB_RETURNS_TENDER_01_AMOUNT + nt, amount(json_object_get(t, "amountSet")));
            nt++;
        }
        char why3[300] = "";
        json_t *rls = all_nodes(u, json_object_get(rf, "refundLineItems"), MORE_REFUND_LINES, rid,
                                "refund", "refundLineItems", why3, sizeof(why3), err), *rl;
        if (!rls) {
            pb_dl_end(dl, err);
            return why3[0] ? read_failed(u, "a refund's lines", why3, err) : -1;
        }
        json_array_foreach(rls, k, rl) {
            json_t *li = json_object_get(rl, "lineItem");
            const char *rt = json_string_value(json_object_get(rl, "restockType"));
            pb_dl_line(dl);
            pb_dl_set_json(dl, PB_RETURNS_LINE_ID, json_object_get(li, "id"));
            pb_dl_set_json(dl, PB_RETURNS_LINE_SKU, json_object_get(li, "sku"));
            pb_dl_set_json(dl, PB_RETURNS_LINE_TITLE, json_object_get(li, "title"));
            pb_dl_set_json(dl, PB_RETURNS_LINE_QTY, json_object_get(rl, "quantity"));
            pb_dl_set_json(dl, PB_RETURNS_LINE_PRICE, amount(json_object_get(rl, "priceSet")));
            /* what the units cost after their discounts is what comes back */
            const char *up = json_string_value(amount(json_object_get(rl, "priceSet")));
            const char *sub = json_string_value(amount(json_object_get(rl, "subtotalSet")));
            int64_t unit, subtotal;
            const char *w;
            json_int_t q = json_integer_value(json_object_get(rl, "quantity"));
            if (up && sub && pb_money_parse(up, strlen(up), &unit, &w) == 0 &&
                pb_money_parse(sub, strlen(sub), &subtotal, &w) == 0 && unit * q > subtotal)
                set_cents(dl, PB_RETURNS_LINE_DISCOUNT, unit * q - subtotal);
            pb_dl_set_json(dl, PB_RETURNS_LINE_TAX, amount(json_object_get(rl, "totalTaxSet")));
            pb_dl_set(dl, PB_RETURNS_RESTOCK, rt && strcmp(rt, "NO_RESTOCK") ? "true" : "false");
        }
        json_decref(rls);
        if (pb_dl_end(dl, err) < 0)
            return -1;
    }
    /* its customer */
    const char *cid = json_string_value(json_object_get(cust, "id"));
    if (cid) {
        int b = pb_dl_begin(dl, PB_DL_CUSTOMERS, cid, json_string_value(json_object_get(cust, "updatedAt")));
        if (b < 0)
            return pb_error_set(err, PB_EOS, "out of memory");
        if (b > 0) {
            pb_dl_set(dl, PB_CUSTOMERS_STORE, u->store->name);
            pb_dl_set(dl, PB_CUSTOMERS_CUSTOMER_ID, cid);
            pb_dl_set_json(dl, PB_CUSTOMERS_EMAIL, json_object_get(o, "email"));
            pb_dl_set_json(dl, PB_CUSTOMERS_FIRST_NAME, json_object_get(cust, "firstName"));
            pb_dl_set_json(dl, PB_CUSTOMERS_LAST_NAME, json_object_get(cust, "lastName"));
            pb_dl_set_json(dl, PB_CUSTOMERS_PHONE, json_object_get(cust, "phone"));
            pb_dl_set_json(dl, PB_CUSTOMERS_COMPANY, json_object_get(bill, "company"));
            static const int cf[] = {PB_CUSTOMERS_STREET, PB_CUSTOMERS_STREET2, PB_CUSTOMERS_CITY,
                                     PB_CUSTOMERS_STATE, PB_CUSTOMERS_POSTAL_CODE, PB_CUSTOMERS_COUNTRY, -1};
            address(dl, bill, cf);
            pb_dl_set_json(dl, PB_CUSTOMERS_UPDATED_AT, json_object_get(cust, "updatedAt"));
            if (pb_dl_end(dl, err) < 0)
                return -1;
        }
    }
    return 0;
}

int
pb_shopify_download(struct pb_upload *u, struct pb_dl *dl, struct pb_error *err)
{
    char q[256];
    char *after = NULL;
    snprintf(q, sizeof(q), "fulfillment_status:shipped updated_at:>='%s' updated_at:<'%s'",
             pb_dl_since_text(dl), pb_dl_until_text(dl));
    for (;;) {
        struct gql g;
        json_t *vars = json_pack("{s:s, s:s?}", "q", q, "after", after);
        int r = pb_shopify_gql(u, ORDERS, vars, ORDERS_COST, "orders", &g, err);
        json_decref(vars);
        free(after);
        after = NULL;
        if (r < 0)
            return -1;
        if (!g.data) {
            /* never a partial window: the cursor stays where it was */
            read_failed(u, "orders", g.error, err);
            pb_shopify_gql_release(&g);
            return -1;
        }
        json_t *conn = json_object_get(g.data, "orders"), *o;
        size_t i;
        json_array_foreach(json_object_get(conn, "nodes"), i, o) {
            if (one_order(u, dl, o, err) < 0) {
                pb_shopify_gql_release(&g);
                return -1;
            }
        }
        json_t *pi = json_object_get(conn, "pageInfo");
        const char *end = json_string_value(json_object_get(pi, "endCursor"));
        if (json_is_true(json_object_get(pi, "hasNextPage")) && end)
            after = strdup(end);
        pb_shopify_gql_release(&g);
        if (!after)
            return 0;
    }
}
