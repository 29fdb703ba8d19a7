/* Inside the Shopify connector: one GraphQL request, shared by upload and download. */
#ifndef PB_SHOPIFY_INT_H
#define PB_SHOPIFY_INT_H

#include <jansson.h>

struct pb_upload;
struct pb_error;
struct pb_dl;

struct gql {
    json_t *data;     /* "data" of the answer (owned), NULL on failure */
    json_t *errors;   /* top-level "errors" (owned) */
    long http;
    int curl_code;
    char error[300];
};

/* Send a document; on return g->data is the answer's data or g->error says why not.
 * -1 only when the engine itself failed (err set). */
int pb_shopify_gql(struct pb_upload *u, const char *query, json_t *vars, double cost,
                   const char *label, struct gql *g, struct pb_error *err);
void pb_shopify_gql_release(struct gql *g);

/* Orders, refunds and customers (shopify_orders.c). */
int pb_shopify_download(struct pb_upload *u, struct pb_dl *dl, struct pb_error *err);

#endif
