/* The BigCommerce connector's pure parts: exact JSON numbers, SKU case, category ids,
 * v2 dates (RFC 2822) and v2 money (four decimals). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "platforms/bigcommerce_int.h"
#include "posbridge/timefmt.h"

/* A decimal string as the JSON text the connector sends. */
static char *
sent(const char *s)
{
    json_t *j = pb_bc_number(s, strlen(s));
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | PB_BC_DUMP) : NULL;
    json_decref(j);
    return t;
}

static void
test_numbers_print_as_written(void)
{
    static const char *const cases[][2] = {
        {"24.99", "24.99"},   {"0.1", "0.1"},       {"19.95", "19.95"},
        {"22.00", "22"},      {"0", "0"},           {"0.75", "0.75"},
        {"1.005", "1.005"},   {"-3.10", "-3.1"},    {"99999999.99", "99999999.99"},
        {"1234567.891", "1234567.891"},             {"0.000001", "1e-6"},
        {"12", "12"},         {"8.25", "8.25"},     {"33.33", "33.33"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *t = sent(cases[i][0]);
        CHECK_STR(t, cases[i][1]);
        free(t);
    }
    /* every cent value from 0.00 to 999.99 goes out as written */
    int bad = 0;
    for (int c = 0; c < 100000; c++) {
        char in[32], want[32];
        snprintf(in, sizeof(in), "%d.%02d", c / 100, c % 100);
        if (c % 100 == 0)
            snprintf(want, sizeof(want), "%d", c / 100);
        else if (c % 10 == 0)
            snprintf(want, sizeof(want), "%d.%d", c / 100, (c % 100) / 10);
        else
            snprintf(want, sizeof(want), "%s", in);
        char *t = sent(in);
        bad += !t || strcmp(t, want);
        free(t);
    }
    CHECK(bad == 0);
    /* jansson's default precision would not do */
    json_t *j = json_real(24.99);
    char *t = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    CHECK(t && strcmp(t, "24.99") != 0);
    free(t);
    json_decref(j);
}

static void
test_numbers_refused(void)
{
    static const char *const bad[] = {"", "abc", "1.2345678", "12,50", "1e3", "99999999999.5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = pb_bc_number(bad[i], strlen(bad[i]));
        CHECK(j == NULL);
        json_decref(j);
    }
    CHECK(pb_bc_number(NULL, 0) == NULL);
}

static void
test_sku_case(void)
{
    CHECK(pb_bc_sku_same("3120-Wine", "3120-WINE"));
    CHECK(pb_bc_sku_same("abc", "abc"));
    CHECK(!pb_bc_sku_same("abc", "abcd"));
    CHECK(!pb_bc_sku_same("abc-1", "abc_1"));
    CHECK(pb_bc_sku_same("", ""));
}

static void
test_categories(void)
{
    static const char *const cases[][2] = {
        {"23", "[23]"}, {"23,24", "[23,24]"}, {" 23 , 24 ", "[23,24]"},
        {"x", NULL},    {"23,x", NULL},       {"0", NULL},
        {"", NULL},     {"23,", "[23]"},      {"-4", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *j = pb_bc_categories(cases[i][0]);
        char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (cases[i][1])
            CHECK_STR(t, cases[i][1]);
        else
            CHECK(t == NULL);
        free(t);
        json_decref(j);
    }
}

/* An RFC 2822 date as the UTC ISO-8601 the batch holds ("-" when refused). */
static const char *
iso(const char *s, char out[32])
{
    int64_t t;
    if (pb_bc_rfc2822(s, &t) < 0)
        return "-";
    pb_time_format(t, out);
    return out;
}

static void
test_rfc2822(void)
{
    static const char *const cases[][2] = {
        /* what v2 writes: UTC */
        {"Wed, 10 Jan 2018 21:05:30 +0000", "2018-01-10T21:05:30Z"},
        {"Sun, 01 Feb 2026 10:00:00 +0000", "2026-02-01T10:00:00Z"},
        /* an offset is taken off; no weekday; one-digit day; no seconds; case */
        {"Thu, 20 Apr 2017 11:32:00 -0400", "2017-04-20T15:32:00Z"},
        {"20 Apr 2017 23:32:00 +0530", "2017-04-20T18:02:00Z"},
        {"1 mar 2024 00:00 GMT", "2024-03-01T00:00:00Z"},
        {"  Tue, 31 Dec 2024 23:59:59 UT  ", "2024-12-31T23:59:59Z"},
        {"Mon, 01 Jan 2024 00:30:00 +0100", "2023-12-31T23:30:00Z"},
        {"Thu, 29 Feb 2024 12:00:00 Z", "2024-02-29T12:00:00Z"},
        {"Thu, 01 Jan 1970 00:00:00 +0000", "1970-01-01T00:00:00Z"},
        /* refused: empty (an unset date), ISO, bad day, month, time, zone, junk */
        {"", "-"},
        {"2018-01-10T21:05:30Z", "-"},
        {"Fri, 29 Feb 2023 12:00:00 +0000", "-"},
        {"Wed, 31 Apr 2024 12:00:00 +0000", "-"},
        {"Wed, 10 Jnu 2018 21:05:30 +0000", "-"},
        {"Wed, 10 Jan 2018 24:05:30 +0000", "-"},
        {"Wed, 10 Jan 2018 21:05:30", "-"},
        {"Wed, 10 Jan 2018 21:05:30 +000", "-"},
        {"Wed, 10 Jan 2018 21:05:30 EST", "-"},
        {"Wed, 10 Jan 2018 21:05:30 +0000 x", "-"},
        {"Wed 10 Jan 2018 21:05:30 +0000", "-"},
        {"Wed, 10 Jan 18 21:05:30 +0000", "-"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char b[32];
        CHECK_STR(iso(cases[i][0], b), cases[i][1]);
    }
    int64_t t;
    CHECK(pb_bc_rfc2822(NULL, &t) < 0);
    /* every day of 400 years round-trips through the epoch */
    int bad = 0;
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int64_t day = 0; day < 146097; day += 7) {
        char want[32], in[64];
        pb_time_format(day * 86400 + 3723, want);
        int y, m, d;
        sscanf(want, "%d-%d-%d", &y, &m, &d);
        snprintf(in, sizeof(in), "%02d %s %04d 01:02:03 +0000", d, mon[m - 1], y);
        char got[32];
        bad += strcmp(iso(in, got), want) != 0;
    }
    CHECK(bad == 0);
}

static void
test_cents(void)
{
    static const struct {
        const char *in;
        int rc;
        int64_t cents;
    } cases[] = {
        {"24.9900", 0, 2499}, {"0.0000", 0, 0},       {"336.32", 0, 33632},
        {"12", 0, 1200},      {"1.6500", 0, 165},     {"19.4850", 0, 1949},
        {"19.4849", 0, 1948}, {"-3.1050", 0, -311},   {"-0.0049", 0, 0},
        {"0.3333", 0, 33},    {"", -1, 0},            {"abc", -1, 0},
        {"1.23456", -1, 0},   {"12,50", -1, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t c = -999;
        int rc = pb_bc_cents(cases[i].in, &c);
        CHECK(rc == cases[i].rc);
        if (rc == 0 && c != cases[i].cents) {
            printf("#   %s -> %lld\n", cases[i].in, (long long)c);
            CHECK(c == cases[i].cents);
        }
    }
    int64_t c;
    CHECK(pb_bc_cents(NULL, &c) < 0);
}

int
main(void)
{
    RUN(test_numbers_print_as_written);
    RUN(test_numbers_refused);
    RUN(test_sku_case);
    RUN(test_categories);
    RUN(test_rfc2822);
    RUN(test_cents);
    return check_summary();
}
