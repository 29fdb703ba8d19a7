/* Timestamps: ISO-8601 with offsets, naive local times in a zone, dates, formatting. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "posbridge/timefmt.h"

#define NAIVE_MSG "timestamp has no UTC offset (add Z or +hh:mm)"
#define SHAPE_MSG "not a timestamp (expected YYYY-MM-DDThh:mm:ss with a UTC offset)"
#define OFFSET_MSG "bad UTC offset in timestamp"
#define DATE_MSG "not a date (expected YYYY-MM-DD)"
#define REAL_MSG "not a real date"

struct time_case {
    const char *in;
    const char *tz;
    int allow_naive;
    int ok;
    int64_t want;       /* epoch when ok */
    const char *why;    /* reason when refused */
};

static void
test_parse(void)
{
    static const struct time_case cases[] = {
        /* offsets */
        {"2026-11-20T23:42:49Z", NULL, 0, 1, 1795218169, NULL},
        {"2026-11-20t23:42:49z", NULL, 0, 1, 1795218169, NULL},
        {"2026-11-20 23:42:49Z", NULL, 0, 1, 1795218169, NULL},
        {"2026-11-20T17:42:49-06:00", NULL, 0, 1, 1795218169, NULL},
        {"2026-11-20T17:42:49-0600", NULL, 0, 1, 1795218169, NULL},
        {"2026-11-21T05:12:49+05:30", NULL, 0, 1, 1795218169, NULL},
        {"2026-11-21T05:12:49+0530", NULL, 0, 1, 1795218169, NULL},
        {"2026-11-20T23:42:49+00:00", NULL, 0, 1, 1795218169, NULL},
        {"2026-11-20T23:42:49-00:00", NULL, 0, 1, 1795218169, NULL},
        {"2026-01-01T05:30:00+0530", NULL, 0, 1, 1767225600, NULL},
        {"2025-12-31T18:00:00-06:00", NULL, 0, 1, 1767225600, NULL},
        /* an offset wins over the zone */
        {"2026-11-20T17:42:49-06:00", "Asia/Tokyo", 1, 1, 1795218169, NULL},
        /* fractional seconds are dropped */
        {"2026-11-20T23:42:49.123Z", NULL, 0, 1, 1795218169, NULL},
        {"2026-11-20T23:42:49.999999-06:00", NULL, 0, 1, 1795218169 + 6 * 3600, NULL},
        {"2026-11-20T17:42:49.5-0600", NULL, 0, 1, 1795218169, NULL},
        /* naive times: in tz when allowed */
        {"2026-01-15T12:00:00", "America/Chicago", 1, 1, 1768500000, NULL}, /* CST -6 */
        {"2026-07-15T12:00:00", "America/Chicago", 1, 1, 1784134800, NULL}, /* CDT -5 */
        {"2026-07-15 12:00:00", "America/Chicago", 1, 1, 1784134800, NULL},
        {"2026-07-15T12:00:00.250", "America/Chicago", 1, 1, 1784134800, NULL},
        {"2026-03-08T01:59:59", "America/Chicago", 1, 1, 1772956799, NULL}, /* last CST */
        {"2026-03-08T03:00:00", "America/Chicago", 1, 1, 1772956800, NULL}, /* first CDT */
        {"2026-01-15T18:00:00", NULL, 1, 1, 1768500000, NULL},              /* UTC */
        {"2026-01-15T18:00:00", "", 1, 1, 1768500000, NULL},
        {"2026-01-15T18:00:00", "UTC", 1, 1, 1768500000, NULL},
        /* naive times refused */
        {"2026-01-15T12:00:00", "America/Chicago", 0, 0, 0, NAIVE_MSG},
        {"2026-01-15T12:00:00", NULL, 0, 0, 0, NAIVE_MSG},
        {"2026-01-15T12:00:00.5", NULL, 0, 0, 0, NAIVE_MSG},
        /* dates */
        {"2024-02-29T12:00:00Z", NULL, 0, 1, 1709208000, NULL},
        {"1900-01-01T00:00:00Z", NULL, 0, 1, -2208988800LL, NULL},
        {"2026-02-30T00:00:00Z", NULL, 0, 0, 0, REAL_MSG},
        {"2026-02-29T00:00:00Z", NULL, 0, 0, 0, REAL_MSG},
        {"2100-02-29T00:00:00Z", NULL, 0, 0, 0, REAL_MSG},
        {"2026-04-31T00:00:00Z", NULL, 0, 0, 0, REAL_MSG},
        {"2026-13-01T00:00:00Z", NULL, 0, 0, 0, REAL_MSG},
        {"2026-00-10T00:00:00Z", NULL, 0, 0, 0, REAL_MSG},
        {"2026-01-00T00:00:00Z", NULL, 0, 0, 0, REAL_MSG},
        {"1899-12-31T23:59:59Z", NULL, 0, 0, 0, REAL_MSG},
        {"26-11-20T23:42:49Z", NULL, 0, 0, 0, DATE_MSG},
        {"2026/11/20T23:42:49Z", NULL, 0, 0, 0, DATE_MSG},
        {"", NULL, 0, 0, 0, DATE_MSG},
        {"2026-1-2T03:04:05Z", NULL, 0, 0, 0, DATE_MSG},
        /* times */
        {"2026-11-20", NULL, 0, 0, 0, SHAPE_MSG},
        {"2026-11-20T", NULL, 0, 0, 0, SHAPE_MSG},
        {"2026-11-20T23:42Z", NULL, 0, 0, 0, SHAPE_MSG},
        {"2026-11-20X23:42:49Z", NULL, 0, 0, 0, SHAPE_MSG},
        {"2026-11-20T24:00:00Z", NULL, 0, 0, 0, SHAPE_MSG},
        {"2026-11-20T23:60:00Z", NULL, 0, 0, 0, SHAPE_MSG},
        {"2026-11-20T23:42:61Z", NULL, 0, 0, 0, SHAPE_MSG},
        {"2026-11-20T2a:42:49Z", NULL, 0, 0, 0, SHAPE_MSG},
        /* offsets that are not */
        {"2026-11-20T23:42:49+05", NULL, 0, 0, 0, OFFSET_MSG},
        {"2026-11-20T23:42:49+5:00", NULL, 0, 0, 0, OFFSET_MSG},
        {"2026-11-20T23:42:49+05:3", NULL, 0, 0, 0, OFFSET_MSG},
        {"2026-11-20T23:42:49+05:60", NULL, 0, 0, 0, OFFSET_MSG},
        {"2026-11-20T23:42:49+15:00", NULL, 0, 0, 0, OFFSET_MSG},
        {"2026-11-20T23:42:49+05:00x", NULL, 0, 0, 0, OFFSET_MSG},
        {"2026-11-20T23:42:49Zjunk", NULL, 0, 0, 0, OFFSET_MSG},
        {"2026-11-20T23:42:49 Z", NULL, 0, 0, 0, OFFSET_MSG},
        {"2026-11-20T23:42:49UTC", NULL, 0, 0, 0, OFFSET_MSG},
        {"2026-11-20T23:42:49.123", NULL, 0, 0, 0, NAIVE_MSG},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct time_case *c = &cases[i];
        int64_t t = -1;
        const char *why = NULL;
        int rc = pb_time_parse(c->in, strlen(c->in), c->tz, c->allow_naive, &t, &why);
        if (c->ok) {
            if (rc != 0 || t != c->want)
                printf("#   case %zu '%s' (%s): rc %d why %s, got %lld want %lld\n", i, c->in,
                       c->tz ? c->tz : "NULL", rc, why ? why : "-", (long long)t,
                       (long long)c->want);
            CHECK(rc == 0);
            CHECK(t == c->want);
        } else {
            if (rc != -1)
                printf("#   case %zu '%s' accepted as %lld\n", i, c->in, (long long)t);
            CHECK(rc == -1);
            CHECK_STR(why, c->why);
        }
    }
}

/* Local times that do not exist or exist twice at a DST change still give an answer near
 * the change, and the process's own TZ is left alone. */
static void
test_dst_edges(void)
{
    int64_t t = 0;
    const char *why;
    const char *env0 = getenv("TZ");
    char *before = env0 ? strdup(env0) : NULL;
    const char *s = "2026-11-01T01:30:00"; /* twice: CDT then CST */
    CHECK(pb_time_parse(s, strlen(s), "America/Chicago", 1, &t, &why) == 0);
    CHECK(t == 1793514600 || t == 1793518200);
    s = "2026-03-08T02:30:00"; /* never happens */
    CHECK(pb_time_parse(s, strlen(s), "America/Chicago", 1, &t, &why) == 0);
    CHECK(t >= 1772955000 && t <= 1772958600);
    const char *env = getenv("TZ");
    if (before)
        CHECK_STR(env, before);
    else
        CHECK(env == NULL);
    free(before);
}

/* Only len bytes are read. */
static void
test_parse_length(void)
{
    int64_t t = 0;
    const char *why = NULL;
    const char *s = "2026-11-20T23:42:49Zgarbage";
    CHECK(pb_time_parse(s, 20, NULL, 0, &t, &why) == 0);
    CHECK(t == 1795218169);
    CHECK(pb_time_parse(s, 19, NULL, 0, &t, &why) == -1);
    CHECK_STR(why, NAIVE_MSG);
    CHECK(pb_time_parse(s, 5, NULL, 0, &t, &why) == -1);
}

struct fmt_case {
    int64_t t;
    const char *want;
};

static void
test_format(void)
{
    static const struct fmt_case cases[] = {
        {0, "1970-01-01T00:00:00Z"},
        {1795218169, "2026-11-20T23:42:49Z"},
        {1709208000, "2024-02-29T12:00:00Z"},
        {-2208988800LL, "1900-01-01T00:00:00Z"},
        {1767225599, "2025-12-31T23:59:59Z"},
        {-1, "1969-12-31T23:59:59Z"},
        {-86400, "1969-12-31T00:00:00Z"},
        {-86401, "1969-12-30T23:59:59Z"},
        {951782400, "2000-02-29T00:00:00Z"},
        {951868800, "2000-03-01T00:00:00Z"},
        {4107542400LL, "2100-03-01T00:00:00Z"},
        {4107456000LL, "2100-02-28T00:00:00Z"},
        {-62135596800LL, "0001-01-01T00:00:00Z"},
        {253402300799LL, "9999-12-31T23:59:59Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[32];
        pb_time_format(cases[i].t, out);
        CHECK_STR(out, cases[i].want);
        CHECK(strlen(out) == 20);
    }
    /* Every day of 1900..2100 against gmtime_r. */
    for (int64_t t = -2208988800LL; t < 4133980800LL; t += 86400 + 3671) {
        struct tm tm;
        time_t tt = (time_t)t;
        char want[32], got[32];
        gmtime_r(&tt, &tm);
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
        pb_time_format(t, got);
        if (strcmp(want, got) != 0) {
            CHECK_STR(got, want);
            break;
        }
    }
    /* Parse and format are inverses on canonical text. */
    const char *s = "2026-11-20T23:42:49Z";
    int64_t t;
    const char *why;
    char out[32];
    CHECK(pb_time_parse(s, strlen(s), NULL, 0, &t, &why) == 0);
    pb_time_format(t, out);
    CHECK_STR(out, s);
}

/*
 * Regression: pb_time_parse accepts local times
 * whose UTC instant is outside the years it accepts (1900..9999), so the canonical text
 * pb_value_normalize writes cannot be read back: "1900-01-01T00:00:00+14:00" becomes
 * "1899-12-31T10:00:00Z" (refused: not a real date), and "9999-12-31T23:59:59-14:00"
 * becomes "0000-01-01T00:00:00Z" (pb_time_format's out-of-range fallback).
 */
static void
test_range_round_trip(void)
{
    static const char *const in[] = {"1900-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                     "1900-01-01T00:00:00+00:01"};
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        int64_t t, back;
        const char *why;
        char out[32];
        if (pb_time_parse(in[i], strlen(in[i]), NULL, 0, &t, &why) < 0)
            continue; /* refusing is fine */
        pb_time_format(t, out);
        CHECK(pb_time_parse(out, strlen(out), NULL, 0, &back, &why) == 0);
        CHECK(back == t);
    }
}

/*
 * Regression: a time zone name that does not
 * exist (a typo in qbpos_timezone) is silently taken as UTC by glibc, shifting every
 * naive QBPOS time by the store's offset.  It should be refused.
 */
static void
test_unknown_zone(void)
{
    int64_t t = 0;
    const char *why = NULL;
    const char *s = "2026-01-15T12:00:00";
    int rc = pb_time_parse(s, strlen(s), "America/Chicgo", 1, &t, &why);
    if (rc == 0)
        printf("#   accepted as %lld\n", (long long)t);
    CHECK(rc == -1);
}

struct date_case {
    const char *in;
    const char *why; /* NULL: valid */
};

static void
test_date_check(void)
{
    static const struct date_case cases[] = {
        {"2026-11-20", NULL},
        {"2024-02-29", NULL},
        {"2000-02-29", NULL},
        {"1900-01-01", NULL},
        {"2026-12-31", NULL},
        {"2026-02-30", REAL_MSG},
        {"1900-02-29", REAL_MSG},
        {"2026-06-31", REAL_MSG},
        {"2026-13-01", REAL_MSG},
        {"1899-12-31", REAL_MSG},
        {"2026-11-20T00:00:00Z", DATE_MSG},
        {"2026-11-2", DATE_MSG},
        {"2026-11-200", DATE_MSG},
        {"20261120", DATE_MSG},
        {"", DATE_MSG},
        {"abcd-ef-gh", DATE_MSG},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;
        int rc = pb_date_check(cases[i].in, strlen(cases[i].in), &why);
        if (!cases[i].why) {
            CHECK(rc == 0);
        } else {
            if (rc != -1)
                printf("#   '%s' accepted\n", cases[i].in);
            CHECK(rc == -1);
            CHECK_STR(why, cases[i].why);
        }
    }
}

int
main(void)
{
    RUN(test_parse);
    RUN(test_dst_edges);
    RUN(test_parse_length);
    RUN(test_format);
    RUN(test_date_check);
    RUN(test_range_round_trip);
    RUN(test_unknown_zone);
    return check_summary();
}
