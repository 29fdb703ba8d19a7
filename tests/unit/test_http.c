/* The rate limiter, the URL rule and secret redaction of the HTTP engine. */
#include "net/curl_api.h"
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "posbridge/err.h"
#include "posbridge/http.h"

static void
test_limiter_waits_for_points(void)
{
    struct pb_limiter l;
    pb_limiter_init(&l, 100, 1000); /* 100 points, 1000 per second */
    double t0 = pb_now();
    pb_limiter_take(&l, 100);  /* all of them: no wait */
    CHECK(pb_now() - t0 < 0.05);
    pb_limiter_take(&l, 50);   /* 50 more: 50 ms */
    double d = pb_now() - t0;
    CHECK(d >= 0.045 && d < 0.5);
    CHECK(l.waited >= 0.045);
}

static void
test_limiter_follows_the_platform(void)
{
    struct pb_limiter l;
    pb_limiter_init(&l, 2000, 100);
    pb_limiter_update(&l, 10, 1000, 2000); /* the store says: 10 of 1000, 2000/s */
    CHECK(l.max == 1000 && l.rate == 2000);
    double t0 = pb_now();
    pb_limiter_take(&l, 110); /* 100 missing at 2000/s: 50 ms */
    double d = pb_now() - t0;
    CHECK(d >= 0.045 && d < 0.5);
    pb_limiter_update(&l, 5000, -1, -1); /* never more than the bucket */
    CHECK(l.avail == 1000);
    pb_limiter_refund(&l, 10);
    CHECK(l.avail == 1000);
}

static void
test_limiter_pause(void)
{
    struct pb_limiter l;
    pb_limiter_init(&l, 10, 0); /* unlimited, but a Retry-After holds everyone */
    pb_limiter_pause(&l, 0.06);
    double t0 = pb_now();
    pb_limiter_take(&l, 1);
    CHECK(pb_now() - t0 >= 0.05);
    t0 = pb_now();
    pb_limiter_take(&l, 1000);
    CHECK(pb_now() - t0 < 0.05);
}

static void
test_url_rule(void)
{
    static const struct {
        const char *url;
        int ok;
    } cases[] = {
        {"https://shop.myshopify.com/admin", 1}, {"HTTPS://x.example.com", 1},
        {"http://127.0.0.1:8080/x", 1},          {"http://localhost/x", 1},
        {"http://[::1]:9/", 1},                   {"http://localhost", 1},
        {"http://shop.example.com/", 0},          {"http://127.0.0.1.evil.com/", 0},
        {"http://localhost.example.com/", 0},     {"ftp://x/", 0},
        {"file:///etc/passwd", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pb_error e;
        pb_error_init(&e);
        int rc = pb_http_url_allowed(cases[i].url, &e);
        CHECK((rc == 0) == cases[i].ok);
        if (!cases[i].ok)
            CHECK(e.code == PB_ECONFIG);
    }
}

static void
test_redact(void)
{
    const char *secrets[] = {"shpat_secret", "cs_other", NULL};
    struct pb_http_opts o = {0};
    struct pb_error e;
    pb_error_init(&e);
    o.name = "t";
    o.secrets = secrets;
    struct pb_http *h = pb_http_new(&o, &e);
    CHECK(h != NULL);
    if (!h)
        return;
    struct pb_buf b = PB_BUF_INIT;
    const char *s = "X-Shopify-Access-Token: shpat_secret; key=cs_other&shpat_secretshpat_secret";
    CHECK(pb_http_redact(h, s, strlen(s), &b) == 0);
    CHECK_STR(b.data, "X-Shopify-Access-Token: ***; key=***&******");
    CHECK(strstr(b.data, "secret") == NULL);
    pb_buf_release(&b);
    pb_http_free(h);
}

static void
test_refused_connection_is_retried_then_reported(void)
{
    /* Nothing listens on port 9 of loopback: every attempt is refused. */
    struct pb_http_opts o = {0};
    struct pb_error e;
    pb_error_init(&e);
    o.name = "t";
    o.max_attempts = 3;
    o.backoff_base = 0.01;
    o.backoff_cap = 0.02;
    struct pb_http *h = pb_http_new(&o, &e);
    CHECK(h != NULL);
    if (!h)
        return;
    struct pb_http_req rq = {"GET", "http://127.0.0.1:9/", NULL, NULL, 0, 0, "probe", 0};
    struct pb_http_resp rs;
    pb_http_resp_init(&rs);
    CHECK(pb_http_one(h, &rq, &rs, &e) == 0);
    CHECK(rs.status == 0);
    CHECK(rs.attempts == 3);
    CHECK(rs.error[0] != '\0');
    uint64_t reqs, retries;
    pb_http_counts(h, &reqs, &retries);
    CHECK(reqs == 3 && retries == 2);
    pb_http_resp_release(&rs);
    pb_http_free(h);
}

int
main(void)
{
    struct pb_error err;
    pb_error_init(&err);
    if (pb_curl_load(&err) < 0) {
        printf("# %s\n", err.msg);
        return 1;
    }
    RUN(test_limiter_waits_for_points);
    RUN(test_limiter_follows_the_platform);
    RUN(test_limiter_pause);
    RUN(test_url_rule);
    RUN(test_redact);
    RUN(test_refused_connection_is_retried_then_reported);
    pb_curl_unload();
    return check_summary();
}
