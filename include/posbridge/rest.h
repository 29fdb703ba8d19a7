/*
 * JSON over HTTP for the REST connectors (BigCommerce, WooCommerce, Magento): one place
 * that builds the request (the connector's auth header, JSON body), sends it through the
 * upload's HTTP engine, parses the answer with a size cap, and turns a failure into one
 * line a retailer can read, with the flags the upload summary needs (refused credentials,
 * a store that does not answer, a failure a later run may fix).
 */
#ifndef PB_REST_H
#define PB_REST_H

#include <jansson.h>

#include "posbridge/upload.h"

struct pb_rest_req {
    const char *method;     /* GET, POST, PUT, DELETE */
    const char *url;        /* the whole URL */
    json_t *body;           /* borrowed; NULL: no body */
    const char *label;      /* for logs and the engine's check */
    int once;               /* a create not safe to repeat blindly (see pb_http_req) */
    double cost;            /* limiter points (0: 1) */
};
/* Bodies go out with JSON_REAL_PRECISION(15): a price held as the nearest double prints
 * back as the decimal it came from (24.99, not 24.989999999999998). */

struct pb_rest {
    long http;              /* 0: no answer */
    int curl_code;
    json_t *json;           /* the parsed answer (owned), NULL when empty or not JSON */
    long wp_total, wp_pages;/* X-WP-Total / X-WP-TotalPages, -1 when absent */
    long rl_left, rl_quota, rl_reset_ms, rl_window_ms; /* X-Rate-Limit-*, -1 when absent */
    char *link_next;        /* Link rel="next" (owned) */
    int lost;               /* sent, and no way to know whether it happened (no answer, 5xx) */
    char error[400];        /* why it failed ("" on 2xx) */
};

/* Send n requests (at most the engine's concurrency at a time).  Each r[i] gets its
 * answer; -1 only when the engine itself failed (err).  Sets u->res->auth_failed on
 * 401/403, unreachable when nothing answers, temp_failed on 429/5xx/no answer. */
int pb_rest_run(struct pb_upload *u, const struct pb_rest_req *rq, struct pb_rest *r, size_t n,
                struct pb_error *err);
int pb_rest_one(struct pb_upload *u, const struct pb_rest_req *rq, struct pb_rest *r,
                struct pb_error *err);
void pb_rest_release(struct pb_rest *r);
static inline int
pb_rest_ok(const struct pb_rest *r)
{
    return r->http >= 200 && r->http < 300;
}

/* base_url without trailing slashes + the printf-formatted rest; malloc'd or NULL. */
char *pb_rest_url(const struct pb_upload *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s percent-encoded for a URL path segment or query value. */
int pb_rest_escape(struct pb_buf *b, const char *s);

/* A field of an object as a string: strings as they are, integers in decimal; NULL else.
 * buf holds the digits. */
const char *pb_json_id(json_t *o, const char *key, char buf[32]);

#endif
