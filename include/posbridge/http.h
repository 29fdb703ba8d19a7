/*
 * The HTTP engine every connector uses: libcurl's multi interface with keep-alive and
 * gzip, at most `concurrency` requests in flight per store, a rate limiter fed by the
 * platform's own signals, retries with capped exponential backoff and jitter on 408,
 * 429, 5xx, timeouts and dropped connections (within a retry budget for the whole run),
 * connect and total timeouts, a cap on response size, TLS verification always on, plain
 * HTTP only to a loopback address, and traces at -vv with every secret replaced by ***.
 */
#ifndef PB_HTTP_H
#define PB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "posbridge/buf.h"

struct pb_error;

/*
 * A leaky-bucket estimate of what the remote allows: `avail` points now, refilling at
 * `rate` per second up to `max`.  Connectors feed it what the platform says (Shopify's
 * throttleStatus, X-Shopify-Shop-Api-Call-Limit, BigCommerce's X-Rate-Limit-*); the
 * engine takes a request's cost from it before sending, waiting when it must.
 */
struct pb_limiter {
    double avail, max, rate; /* rate 0: unlimited */
    double stamp;            /* when avail was last right (monotonic seconds) */
    double pause_until;      /* a Retry-After in force */
    double waited;           /* seconds spent waiting, for the summary */
};

void pb_limiter_init(struct pb_limiter *l, double max, double rate);
/* Wait until cost points are available, then take them. */
void pb_limiter_take(struct pb_limiter *l, double cost);
/* The platform says: avail of max, refilling at rate per second (rate < 0: unchanged). */
void pb_limiter_update(struct pb_limiter *l, double avail, double max, double rate);
/* Give back points (a request cost less than it was charged). */
void pb_limiter_refund(struct pb_limiter *l, double points);
/* Send nothing for the next `seconds` (Retry-After, or an unsignalled 429). */
void pb_limiter_pause(struct pb_limiter *l, double seconds);
/* Monotonic seconds. */
double pb_now(void);

struct pb_http_req {
    const char *method;           /* GET, POST, PUT, DELETE */
    const char *url;
    const char *const *headers;   /* NULL-terminated "Name: value" */
    const char *body;
    size_t body_len;
    double cost;                  /* limiter points it takes (0: none) */
    const char *label;            /* for logs: "productSet GAT/Harbor Tub" */
    int once;                     /* not safe to repeat: a fresh connection, so libcurl
                                     never re-sends it by itself on a dead kept-alive one */
};

struct pb_http_resp {
    long status;                  /* 0 when no answer */
    struct pb_buf body;
    double retry_after;           /* seconds, < 0 when absent */
    int call_used, call_max;      /* X-Shopify-Shop-Api-Call-Limit, -1 when absent */
    long rl_left, rl_quota, rl_reset_ms, rl_window_ms; /* X-Rate-Limit-*, -1 when absent */
    long wp_total, wp_pages;      /* X-WP-Total, X-WP-TotalPages, -1 when absent */
    char *link_next;              /* Link: <...>; rel="next" (malloc'd) */
    char api_version[32];         /* X-Shopify-API-Version */
    int attempts;
    int curl_code;                /* CURLcode of the last attempt */
    char error[256];              /* libcurl's message for the last attempt */
    double elapsed;               /* seconds, last attempt */
};

void pb_http_resp_init(struct pb_http_resp *r);
void pb_http_resp_release(struct pb_http_resp *r);

/* What to do with an answer. */
enum pb_http_verdict { PB_HTTP_DONE, PB_HTTP_RETRY, PB_HTTP_FAIL };

/*
 * A connector's look at each answer before the engine decides.  It may feed the limiter
 * and ask for a retry (a GraphQL "THROTTLED" arrives as HTTP 200), setting *wait to the
 * seconds to wait first (0: the engine's backoff).  NULL: the default rules.
 */
typedef enum pb_http_verdict (*pb_http_check_fn)(void *user, const struct pb_http_req *rq,
                                                 const struct pb_http_resp *rs, double *wait);

struct pb_http_opts {
    const char *name;             /* the store, for logs */
    int concurrency;              /* requests in flight (default 4) */
    long connect_timeout_ms;      /* default 10 s */
    long timeout_ms;              /* whole request, default 120 s */
    size_t max_response;          /* bytes, default 64 MiB */
    int max_attempts;             /* per request, default 6 */
    int retry_budget;             /* retries for the whole run, default 200 */
    double backoff_base;          /* seconds, default 0.5 */
    double backoff_cap;           /* seconds, default 30 */
    const char *const *secrets;   /* strings never to print (NULL-terminated) */
    struct pb_limiter *limiter;   /* may be NULL */
    pb_http_check_fn check;
    void *check_user;
};

struct pb_http;

/* Set up an engine; -1 with PB_ECONFIG for a URL scheme it will not use. */
struct pb_http *pb_http_new(const struct pb_http_opts *o, struct pb_error *err);
void pb_http_free(struct pb_http *h);

/* Refuse anything but https, and http to 127.0.0.1, ::1 or localhost. */
int pb_http_url_allowed(const char *url, struct pb_error *err);

/*
 * Run n requests, at most `concurrency` at a time, each with its retries.  Every
 * resps[i] ends with the last answer (or the transport error) of reqs[i].  Returns 0 when
 * every request ran to a verdict (check each status), or -1 with err only for a failure of
 * the engine itself.  A request that used up its attempts or the run's retry budget has
 * its last answer in resps and resps[i].status 0 or the failing status.
 */
int pb_http_run(struct pb_http *h, const struct pb_http_req *reqs, struct pb_http_resp *resps,
                size_t n, struct pb_error *err);

/* Convenience: one request. */
int pb_http_one(struct pb_http *h, const struct pb_http_req *rq, struct pb_http_resp *rs,
                struct pb_error *err);

/* Requests made (attempts included) and retries, for the summary. */
void pb_http_counts(const struct pb_http *h, uint64_t *requests, uint64_t *retries);

/* Append s with every secret of the engine replaced by "***". */
int pb_http_redact(const struct pb_http *h, const char *s, size_t n, struct pb_buf *out);

#endif
