/*
 * The HTTP engine over libcurl's multi interface, and the rate limiter.
 * See include/posbridge/http.h.
 */
#include "posbridge/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "curl_api.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/banned.h"

/* ---- time and the limiter ---- */

double
pb_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
sleep_for(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec t;
    t.tv_sec = (time_t)seconds;
    t.tv_nsec = (long)((seconds - (double)t.tv_sec) * 1e9);
    while (nanosleep(&t, &t) < 0 && errno == EINTR)
        ;
}

void
pb_limiter_init(struct pb_limiter *l, double max, double rate)
{
    memset(l, 0, sizeof(*l));
    l->avail = l->max = max;
    l->rate = rate;
    l->stamp = pb_now();
}

static void
refill(struct pb_limiter *l, double now)
{
    if (l->rate > 0 && now > l->stamp) {
        l->avail += (now - l->stamp) * l->rate;
        if (l->avail > l->max)
            l->avail = l->max;
    }
    l->stamp = now;
}

void
pb_limiter_take(struct pb_limiter *l, double cost)
{
    double now = pb_now();
    if (l->pause_until > now) {
        l->waited += l->pause_until - now;
        sleep_for(l->pause_until - now);
        now = pb_now();
    }
    if (l->rate <= 0 || cost <= 0)
        return;
    if (cost > l->max)
        cost = l->max; /* a request larger than the bucket waits for a full one */
    refill(l, now);
    if (l->avail < cost) {
        double wait = (cost - l->avail) / l->rate;
        l->waited += wait;
        sleep_for(wait);
        refill(l, pb_now());
    }
    l->avail -= cost;
}

void
pb_limiter_update(struct pb_limiter *l, double avail, double max, double rate)
{
    double now = pb_now();
    if (max > 0)
        l->max = max;
    if (rate >= 0)
        l->rate = rate;
    l->avail = avail < l->max ? avail : l->max;
    l->stamp = now;
}

void
pb_limiter_refund(struct pb_limiter *l, double points)
{
    l->avail += points;
    if (l->avail > l->max)
        l->avail = l->max;
}

void
pb_limiter_pause(struct pb_limiter *l, double seconds)
{
    double until = pb_now() + seconds;
    if (until > l->pause_until)
        l->pause_until = until;
}

/* ---- responses ---- */

void
pb_http_resp_init(struct pb_http_resp *r)
{
    memset(r, 0, sizeof(*r));
    pb_buf_init(&r->body, 0);
    r->retry_after = -1;
    r->call_used = r->call_max = -1;
    r->rl_left = r->rl_quota = r->rl_reset_ms = r->rl_window_ms = -1;
    r->wp_total = r->wp_pages = -1;
}

void
pb_http_resp_release(struct pb_http_resp *r)
{
    pb_buf_release(&r->body);
    free(r->link_next);
    r->link_next = NULL;
}

/* Forget the last attempt's answer, keeping the attempt count. */
static void
resp_reset(struct pb_http_resp *r, size_t max)
{
    int attempts = r->attempts;
    pb_http_resp_release(r);
    pb_http_resp_init(r);
    r->body.max = max;
    r->attempts = attempts;
}

/* ---- the engine ---- */

struct slot {
    CURL *easy;
    struct curl_slist *hdrs;
    size_t idx;
    int busy;
    int too_big;
    double start;
    char errbuf[CURL_ERROR_SIZE];
};

struct pb_http {
    struct pb_http_opts o;
    CURLM *multi;
    struct slot *slots;
    int nslots;
    char **secrets;
    int nsecrets;
    uint64_t requests, retries;
    int budget;
    uint64_t rng;
};

static double
jitter(struct pb_http *h)
{
    h->rng ^= h->rng << 13;
    h->rng ^= h->rng >> 7;
    h->rng ^= h->rng << 17;
    return (double)(h->rng >> 11) / 9007199254740992.0; /* [0, 1) */
}

int
pb_http_url_allowed(const char *url, struct pb_error *err)
{
    if (!strncasecmp(url, "https://", 8))
        return 0;
    if (!strncasecmp(url, "http://", 7)) {
        const char *host = url + 7;
        static const char *const loopback[] = {"127.0.0.1", "localhost", "[::1]"};
        for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
            size_t n = strlen(loopback[i]);
            if (!strncasecmp(host, loopback[i], n) &&
                (host[n] == ':' || host[n] == '/' || host[n] == '\0'))
                return 0;
        }
        return pb_error_set(err, PB_ECONFIG,
                            "'%s': plain http is allowed only to this machine (127.0.0.1); "
                            "use https",
                            url);
    }
    return pb_error_set(err, PB_ECONFIG, "'%s' is not an https URL", url);
}

struct pb_http *
pb_http_new(const struct pb_http_opts *o, struct pb_error *err)
{
    struct pb_http *h = calloc(1, sizeof(*h));
    if (!h) {
        pb_error_set(err, PB_EOS, "out of memory");
        return NULL;
    }
    h->o = *o;
    if (h->o.concurrency <= 0)
        h->o.concurrency = 4;
    if (h->o.connect_timeout_ms <= 0)
        h->o.connect_timeout_ms = 10000;
    if (h->o.timeout_ms <= 0)
        h->o.timeout_ms = 120000;
    if (!h->o.max_response)
        h->o.max_response = (size_t)64 << 20;
    if (h->o.max_attempts <= 0)
        h->o.max_attempts = 6;
    if (h->o.retry_budget <= 0)
        h->o.retry_budget = 200;
    if (h->o.backoff_base <= 0)
        h->o.backoff_base = 0.5;
    if (h->o.backoff_cap <= 0)
        h->o.backoff_cap = 30;
    h->budget = h->o.retry_budget;
    h->rng = (((uint64_t)getpid() * 0x9e3779b97f4a7c15ull) ^ (uint64_t)(pb_now() * 1e6)) | 1;
    for (const char *const *s = o->secrets; s && *s; s++)
        h->nsecrets++;
    h->secrets = calloc((size_t)h->nsecrets + 1, sizeof(char *));
    h->slots = calloc((size_t)h->o.concurrency, sizeof(struct slot));
    h->multi = curl_multi_init();
    if (!h->secrets || !h->slots || !h->multi)
        goto oom;
    for (int i = 0; i < h->nsecrets; i++)
        if (!(h->secrets[i] = strdup(o->secrets[i])))
            goto oom;
    h->nslots = h->o.concurrency;
    for (int i = 0; i < h->nslots; i++)
        if (!(h->slots[i].easy = curl_easy_init()))
            goto oom;
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)h->o.concurrency);
    return h;
oom:
    pb_http_free(h);
    pb_error_set(err, PB_EOS, "out of memory");
    return NULL;
}

void
pb_http_free(struct pb_http *h)
{
    if (!h)
        return;
    for (int i = 0; h->slots && i < h->nslots; i++) {
        if (h->slots[i].busy)
            curl_multi_remove_handle(h->multi, h->slots[i].easy);
        curl_easy_cleanup(h->slots[i].easy);
        curl_slist_free_all(h->slots[i].hdrs);
    }
    if (h->multi)
        curl_multi_cleanup(h->multi);
    for (int i = 0; h->secrets && i < h->nsecrets; i++) {
        memset(h->secrets[i], 0, strlen(h->secrets[i]));
        free(h->secrets[i]);
    }
    free(h->secrets);
    free(h->slots);
    free(h);
}

void
pb_http_counts(const struct pb_http *h, uint64_t *requests, uint64_t *retries)
{
    *requests = h->requests;
    *retries = h->retries;
}

int
pb_http_redact(const struct pb_http *h, const char *s, size_t n, struct pb_buf *out)
{
    size_t i = 0;
    while (i < n) {
        int hit = -1;
        for (int k = 0; k < h->nsecrets; k++) {
            size_t sl = strlen(h->secrets[k]);
            if (sl && sl <= n - i && !memcmp(s + i, h->secrets[k], sl)) {
                hit = k;
                break;
            }
        }
        if (hit >= 0) {
            if (pb_buf_add(out, "***", 3) < 0)
                return -1;
            i += strlen(h->secrets[hit]);
        } else if (pb_buf_addch(out, s[i++]) < 0) {
            return -1;
        }
    }
    return 0;
}

static void
trace(const struct pb_http *h, const char *what, const char *s, size_t n)
{
    if (pb_log_level < PB_LOG_DEBUG) /* -vv */
        return;
    struct pb_buf b = PB_BUF_INIT;
    size_t shown = n > 4000 ? 4000 : n;
    if (pb_http_redact(h, s, shown, &b) == 0)
        pb_log(PB_LOG_DEBUG, "%s: %s %s%s", h->o.name, what, b.data, shown < n ? " ..." : "");
    pb_buf_release(&b);
}

/* ---- callbacks ---- */

struct xfer {
    struct pb_http_resp *rs;
    struct slot *slot;
};

static size_t
on_body(char *p, size_t size, size_t nmemb, void *user)
{
    struct xfer *x = user;
    size_t n = size * nmemb;
    if (pb_buf_add(&x->rs->body, p, n) < 0) {
        x->slot->too_big = 1;
        return 0; /* aborts the transfer */
    }
    return n;
}

static long
header_long(const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);
    return end == v ? -1 : n;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *user)
{
    struct xfer *x = user;
    struct pb_http_resp *r = x->rs;
    size_t n = size * nmemb;
    char line[2048];
    size_t k = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
    memcpy(line, p, k);
    line[k] = '\0';
    while (k && (line[k - 1] == '\r' || line[k - 1] == '\n'))
        line[--k] = '\0';
    char *colon = strchr(line, ':');
    if (!colon)
        return n;
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    const char *name = line;
    if (!strcasecmp(name, "Retry-After") || !strcasecmp(name, "X-Retry-After")) {
        char *end;
        double s = strtod(v, &end); /* seconds; an HTTP date is treated as 1 s */
        double secs = end == v ? 1 : s;
        if (secs > r->retry_after)
            r->retry_after = secs;
    } else if (!strcasecmp(name, "X-Shopify-Shop-Api-Call-Limit")) {
        int used, max;
        if (sscanf(v, "%d/%d", &used, &max) == 2)
            r->call_used = used, r->call_max = max;
    } else if (!strcasecmp(name, "X-Rate-Limit-Requests-Left")) {
        r->rl_left = header_long(v);
    } else if (!strcasecmp(name, "X-Rate-Limit-Requests-Quota")) {
        r->rl_quota = header_long(v);
    } else if (!strcasecmp(name, "X-Rate-Limit-Time-Reset-Ms")) {
        r->rl_reset_ms = header_long(v);
    } else if (!strcasecmp(name, "X-Rate-Limit-Time-Window-Ms")) {
        r->rl_window_ms = header_long(v);
    } else if (!strcasecmp(name, "X-WP-Total")) {
        r->wp_total = header_long(v);
    } else if (!strcasecmp(name, "X-WP-TotalPages")) {
        r->wp_pages = header_long(v);
    } else if (!strcasecmp(name, "X-Shopify-API-Version")) {
        snprintf(r->api_version, sizeof(r->api_version), "%s", v);
    } else if (!strcasecmp(name, "Link")) {
        /* <url>; rel="next", <url>; rel="previous" */
        for (char *s = v; (s = strchr(s, '<')) != NULL;) {
            char *e = strchr(s, '>');
            if (!e)
                break;
            const char *rel = strstr(e, "rel=");
            char *comma = strchr(e, ',');
            if (rel && (!comma || rel < comma) &&
                (!strncmp(rel + 4, "\"next\"", 6) || !strncmp(rel + 4, "next", 4))) {
                free(r->link_next);
                r->link_next = strndup(s + 1, (size_t)(e - s - 1));
                break;
            }
            s = e + 1;
        }
    }
    return n;
}

/* ---- scheduling ---- */

struct job {
    double not_before;
    int state; /* 0 waiting, 1 running, 2 finished */
    struct xfer x;
};

static int
start(struct pb_http *h, struct slot *sl, const struct pb_http_req *rq,
      struct pb_http_resp *rs, struct job *j, struct pb_error *err)
{
    CURL *e = sl->easy;
    curl_easy_reset(e);
    curl_slist_free_all(sl->hdrs);
    sl->hdrs = NULL;
    for (const char *const *hd = rq->headers; hd && *hd; hd++) {
        struct curl_slist *n = curl_slist_append(sl->hdrs, *hd);
        if (!n)
            return pb_error_set(err, PB_EOS, "out of memory");
        sl->hdrs = n;
    }
    /* No "Expect: 100-continue" round trip before each body. */
    struct curl_slist *n = curl_slist_append(sl->hdrs, "Expect:");
    if (!n)
        return pb_error_set(err, PB_EOS, "out of memory");
    sl->hdrs = n;
    resp_reset(rs, h->o.max_response);
    rs->attempts++;
    sl->too_big = 0;
    sl->errbuf[0] = '\0';
    j->x.rs = rs;
    j->x.slot = sl;
    int loop = pb_http_url_allowed(rq->url, NULL) == 0 && strncasecmp(rq->url, "https", 5);
    curl_easy_setopt(e, CURLOPT_URL, rq->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, loop ? "http" : "https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl->hdrs);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->o.timeout_ms);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, sl->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &j->x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &j->x);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "posbridge/" PB_VERSION);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)sl);
    if (rq->once)
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    if (!strcmp(rq->method, "GET")) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        if (strcmp(rq->method, "POST"))
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq->method);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    }
    if (h->o.limiter)
        pb_limiter_take(h->o.limiter, rq->cost);
    if (pb_log_level >= PB_LOG_DEBUG) {
        char what[600];
        snprintf(what, sizeof(what), "> %s %s (%zu bytes)", rq->method, rq->url, rq->body_len);
        trace(h, what, rq->body ? rq->body : "", rq->body_len);
    }
    sl->start = pb_now();
    sl->busy = 1;
    j->state = 1;
    h->requests++;
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
        return pb_error_set(err, PB_ESOFTWARE, "cannot start a transfer");
    return 0;
}

/* The default rules: 2xx-4xx settle, 408, 429, 5xx and broken connections are retried. */
static enum pb_http_verdict
default_check(const struct pb_http_resp *rs)
{
    if (rs->status == 0)
        return PB_HTTP_RETRY;
    if (rs->status == 408 || rs->status == 429 || rs->status == 500 || rs->status == 502 ||
        rs->status == 503 || rs->status == 504)
        return PB_HTTP_RETRY;
    return PB_HTTP_DONE;
}

static int
transient(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_COULDNT_RESOLVE_HOST:
        return 1;
    default:
        return 0;
    }
}

static void
finish(struct pb_http *h, struct slot *sl, CURLcode cc, const struct pb_http_req *rq,
       struct pb_http_resp *rs, struct job *j)
{
    long status = 0;
    curl_easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(h->multi, sl->easy);
    sl->busy = 0;
    rs->elapsed = pb_now() - sl->start;
    rs->curl_code = (int)cc;
    rs->status = cc == CURLE_OK ? status : 0;
    if (cc != CURLE_OK)
        snprintf(rs->error, sizeof(rs->error), "%s",
                 sl->too_big ? "the answer is larger than the size limit"
                 : sl->errbuf[0] ? sl->errbuf
                                 : curl_easy_strerror(cc));
    if (pb_log_level >= PB_LOG_DEBUG) {
        char what[400];
        snprintf(what, sizeof(what), "< %ld %s (%.3fs, %zu bytes)%s%s", rs->status,
                 rq->label ? rq->label : rq->url, rs->elapsed, rs->body.len,
                 rs->error[0] ? ": " : "", rs->error);
        trace(h, what, rs->body.data, rs->body.len);
    }
    double wait = 0;
    enum pb_http_verdict v;
    if (cc != CURLE_OK && (sl->too_big || !transient(cc)))
        v = PB_HTTP_FAIL;
    else if (h->o.check) /* the connector decides, for dropped connections too */
        v = h->o.check(h->o.check_user, rq, rs, &wait);
    else
        v = cc != CURLE_OK ? PB_HTTP_RETRY : default_check(rs);
    if (v == PB_HTTP_RETRY && rs->retry_after > 0 && h->o.limiter)
        pb_limiter_pause(h->o.limiter, rs->retry_after); /* everyone waits */
    if (v == PB_HTTP_RETRY && (rs->attempts >= h->o.max_attempts || h->budget <= 0)) {
        pb_log(PB_LOG_WARN, "%s: %s: giving up after %d attempts%s", h->o.name,
               rq->label ? rq->label : rq->url, rs->attempts,
               h->budget <= 0 ? " (the run's retry budget is spent)" : "");
        v = PB_HTTP_FAIL;
    }
    if (v != PB_HTTP_RETRY) {
        j->state = 2;
        return;
    }
    h->budget--;
    h->retries++;
    double cap = h->o.backoff_base * (double)(1u << (rs->attempts < 16 ? rs->attempts : 16));
    if (cap > h->o.backoff_cap)
        cap = h->o.backoff_cap;
    double backoff = cap * (0.5 + 0.5 * jitter(h)); /* jittered, never less than half */
    if (wait > backoff)
        backoff = wait;
    if (rs->retry_after > backoff)
        backoff = rs->retry_after;
    pb_log(PB_LOG_INFO, "%s: %s: %s; retrying in %.1fs", h->o.name,
           rq->label ? rq->label : rq->url,
           rs->status ? (rs->status == 200 ? "throttled" : "temporary failure") : rs->error,
           backoff);
    if (rs->status && rs->status != 200)
        pb_log(PB_LOG_DEBUG, "%s: HTTP %ld", h->o.name, rs->status);
    j->not_before = pb_now() + backoff;
    j->state = 0;
}

int
pb_http_run(struct pb_http *h, const struct pb_http_req *reqs, struct pb_http_resp *resps,
            size_t n, struct pb_error *err)
{
    struct job *jobs = calloc(n ? n : 1, sizeof(*jobs));
    int rc = -1;
    if (!jobs)
        return pb_error_set(err, PB_EOS, "out of memory");
    for (size_t i = 0; i < n; i++)
        resps[i].attempts = 0;
    size_t next = 0;
    for (;;) {
        /* Start what may start. */
        double now = pb_now(), soonest = -1;
        for (int s = 0; s < h->nslots; s++) {
            if (h->slots[s].busy)
                continue;
            size_t pick = n;
            for (size_t k = 0; k < n; k++) {
                size_t i = (next + k) % n;
                if (jobs[i].state != 0)
                    continue;
                if (jobs[i].not_before <= now) {
                    pick = i;
                    break;
                }
            }
            if (pick == n)
                break;
            next = (pick + 1) % n;
            h->slots[s].idx = pick;
            if (start(h, &h->slots[s], &reqs[pick], &resps[pick], &jobs[pick], err) < 0)
                goto out;
        }
        int running = 0;
        for (int s = 0; s < h->nslots; s++)
            running += h->slots[s].busy;
        for (size_t i = 0; i < n; i++)
            if (jobs[i].state == 0 && (soonest < 0 || jobs[i].not_before < soonest))
                soonest = jobs[i].not_before;
        if (!running) {
            if (soonest < 0)
                break; /* all finished */
            sleep_for(soonest - pb_now());
            continue;
        }
        int still;
        if (curl_multi_perform(h->multi, &still) != CURLM_OK) {
            pb_error_set(err, PB_ESOFTWARE, "the HTTP engine failed");
            goto out;
        }
        CURLMsg *m;
        int q, freed = 0;
        while ((m = curl_multi_info_read(h->multi, &q)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct slot *sl = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
            size_t i = sl->idx;
            finish(h, sl, m->data.result, &reqs[i], &resps[i], &jobs[i]);
            freed = 1;
        }
        /* A slot came free: give it the next request before waiting on the others, or the
         * slots take turns and only one request is ever in flight. */
        if (freed)
            continue;
        if (still) {
            int timeout = 100;
            if (soonest > 0) {
                double ms = (soonest - pb_now()) * 1000;
                if (ms < timeout)
                    timeout = ms < 1 ? 1 : (int)ms;
            }
            curl_multi_poll(h->multi, NULL, 0, timeout, NULL);
        }
    }
    rc = 0;
out:
    for (int s = 0; s < h->nslots; s++)
        if (h->slots[s].busy) {
            curl_multi_remove_handle(h->multi, h->slots[s].easy);
            h->slots[s].busy = 0;
        }
    free(jobs);
    return rc;
}

int
pb_http_one(struct pb_http *h, const struct pb_http_req *rq, struct pb_http_resp *rs,
            struct pb_error *err)
{
    return pb_http_run(h, rq, rs, 1, err);
}
