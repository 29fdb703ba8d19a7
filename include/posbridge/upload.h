/*
 * The upload stage: a batch's <store>/products.* -> the store's API, sending only what
 * changed since the catalog state, journaled so that a crash at any moment followed by a
 * re-run neither duplicates nor loses anything.
 *
 * Each product is planned against state/<store>/catalog.jsonl: create (no SKU known),
 * update (which fields changed, old -> new), inventory only, unchanged, or reject.  The
 * plan is written to BATCH/<store>/plan.csv; --dry-run stops there.  SKUs missing from the
 * state are looked up in the store first (zero or several matches: reject, never guess).
 * Every write has an intent line in BATCH/<store>/results.jsonl before it and an outcome
 * after; an intent without an outcome is resolved on the next run by looking the product
 * up before anything is sent again.
 */
#ifndef PB_UPLOAD_H
#define PB_UPLOAD_H

#include <jansson.h>
#include <stdint.h>

#include "posbridge/config.h"
#include "posbridge/http.h"
#include "posbridge/progress.h"
#include "posbridge/record.h"
#include "posbridge/state.h"

struct pb_error;

enum pb_up_action {
    PB_UP_UNCHANGED,
    PB_UP_CREATE,      /* a new product */
    PB_UP_UPDATE,      /* fields of a known product or its variants */
    PB_UP_INVENTORY,   /* quantities only */
    PB_UP_REJECT
};

/* One variant row of a product and what is known about it. */
struct pb_up_variant {
    struct pb_rec row;        /* the products record */
    const char *sku;          /* in row */
    json_t *state;            /* state entry, borrowed; NULL when unknown */
    int is_new;               /* not in the store yet (create it) */
    int fields_changed;       /* price, barcode, cost... differ from what was sent */
    int qty_changed;
    json_t *qty;              /* location id -> quantity wanted (owned) */
    char *remote_note;        /* --remote: how the store differs from what was sent */
};

struct pb_up_product {
    char *key;
    struct pb_up_variant *v;
    int n, cap;
    enum pb_up_action action;
    int product_changed;      /* title, description, vendor, type or tags differ */
    int pending;              /* an earlier run's write never reported back */
    char *product_id;         /* when known */
    char reason[300];
    /* outcome of this run */
    int done, failed, tries;
    long http;
    char error[300];
};

/* A platform connector: what upload needs from a store.  Each call handles many products
 * at once so a connector can batch as its API allows; it sets each product's done/failed,
 * http and error, and records remote ids in the state entries. */
struct pb_upload;
struct pb_buf;
struct pb_dl;
struct pb_connector {
    const char *platform;
    int concurrency;          /* requests in flight unless the store says (0: 1) */
    int one_quantity;         /* the store keeps one stock number per variant, no locations:
                                 pb_upload_qty gives {"stock": inventory_qty} whatever the
                                 quantity policy (per_store: the sum of the mapped stores) */
    /* Before any request: check the credentials (u->cred), choose the auth, set the
     * limiter, add derived secrets to u->redact.  NULL: a token is required. */
    int (*prepare)(struct pb_upload *u, struct pb_error *err);
    /* Append the authentication header line of a REST request ("Name: value"). */
    int (*auth)(struct pb_upload *u, const char *method, const char *url, struct pb_buf *hdr);
    /* Looks at every answer (user: the struct pb_upload): throttling, retries. */
    pb_http_check_fn check;
    /* Find SKUs in the store: for each product in list with no known ids, fill the state
     * entries of the variants found (ids), or set reason and action REJECT when a SKU is
     * found more than once or in another product.  Products not found stay CREATE.
     * With u->inspecting (dry run --remote), only note for each known variant how the
     * store differs from what was last sent (remote_note), changing nothing. */
    int (*lookup)(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err);
    int (*create)(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err);
    int (*update)(struct pb_upload *u, struct pb_up_product **list, int n, struct pb_error *err);
    int (*inventory)(struct pb_upload *u, struct pb_up_product **list, int n,
                     struct pb_error *err);
    /* download: every shipped order, refund and customer in the window of dl, fed to
     * the sink (download.h); every page fetched.  NULL: not available yet. */
    int (*download)(struct pb_upload *u, struct pb_dl *dl, struct pb_error *err);
};

struct pb_upload_opts {
    const char *batch_dir;
    const char *store;
    int dry_run;
    int remote;          /* with dry_run: compare the plan with the live store */
    int only;            /* 0 all, else 1 << action to limit to create/update/inventory */
    int replay;          /* only products whose last outcome failed or never came */
};

struct pb_upload_result {
    uint64_t created, updated, inventory, unchanged, rejected, failed;
    uint64_t requests, retries;
    double waited;       /* seconds waiting on rate limits */
    double cost;         /* query cost the store charged (Shopify), when it says */
    int auth_failed;     /* a 401/403 stopped the run */
    int temp_failed;     /* failures that a later run may fix */
    int unreachable;     /* the store did not answer at all: stop sending */
};

/* The shared state of one upload run; connectors see it. */
struct pb_upload {
    const struct pb_config *cfg;
    const struct pb_store_cfg *store;
    const struct pb_upload_opts *o;
    struct pb_state state;
    struct pb_journal journal;
    struct pb_http *http;
    struct pb_limiter limiter;
    struct pb_up_product *products;
    int nproducts;
    char *secret;            /* the store's token, = cred[PB_SECRET_TOKEN] */
    char *cred[PB_SECRET__COUNT]; /* every credential configured (wiped at the end) */
    char *redact[PB_SECRET__COUNT + 4]; /* strings never to print: cred, and forms of them
                                            a connector derives (NULL-terminated) */
    void *conn_state;        /* the connector's own (it frees it in its last step) */
    void (*conn_free)(struct pb_upload *u);
    const struct pb_connector *conn;
    struct pb_upload_result *res;
    char *primary_location;  /* when no location is configured */
    int inspecting;          /* lookup compares instead of adopting */
    struct pb_progress progress;
};

int pb_upload_run(const struct pb_config *cfg, const struct pb_upload_opts *o,
                  struct pb_upload_result *res, struct pb_error *err);

/* For connectors: the quantity wanted per location id of a variant (borrowed). */
json_t *pb_upload_qty(struct pb_upload *u, struct pb_up_variant *v);
/* For connectors: forget the quantities worked out so far (the location they go to has
 * just become known). */
void pb_upload_qty_forget(struct pb_upload *u);

/* For connectors: journal the intent for a product; 0 on error. */
uint64_t pb_upload_intent(struct pb_upload *u, struct pb_up_product *p, const char *op,
                          struct pb_error *err);
/* For connectors: journal the outcome of a product (ok or its error) and count it. */
int pb_upload_outcome(struct pb_upload *u, struct pb_up_product *p, uint64_t seq,
                      const char *op, struct pb_error *err);
/* Remember what was sent for a variant: its ids (may be NULL to keep), hash and row. */
int pb_upload_remember(struct pb_upload *u, struct pb_up_product *p, struct pb_up_variant *v,
                       const char *product_id, const char *variant_id,
                       const char *inventory_item_id, int fields, int qty);

/*
 * A session with a store (the part of struct pb_upload every network stage needs):
 * u->cfg, u->store and u->res set by the caller; resolves the credentials, lets the
 * connector prepare, starts the HTTP engine.  Close wipes the secrets.
 */
int pb_session_open(struct pb_upload *u, struct pb_error *err);
void pb_session_close(struct pb_upload *u);

/* For connectors: add a derived secret (an encoded header value) to the redaction list;
 * the string is copied and wiped at the end. */
int pb_upload_add_secret(struct pb_upload *u, const char *s);

extern const struct pb_connector pb_connector_shopify;
extern const struct pb_connector pb_connector_bigcommerce;
extern const struct pb_connector pb_connector_magento;
extern const struct pb_connector pb_connector_woocommerce;

#endif
