/* Exact decimals: pb_dec_parse / pb_dec_format and the money and quantity wrappers. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "posbridge/money.h"

struct parse_case {
    const char *in;
    int scale;
    int ok;             /* 0 = refused */
    int64_t want;       /* when ok */
    const char *why;    /* when refused: the reason, exactly */
};

static void
test_parse(void)
{
    static const struct parse_case cases[] = {
        /* money: two decimals */
        {"39.99", 2, 1, 3999, NULL},
        {"0", 2, 1, 0, NULL},
        {"-5.00", 2, 1, -500, NULL},
        {"-0.01", 2, 1, -1, NULL},
        {"-0", 2, 1, 0, NULL},
        {"1.005", 2, 0, 0, "more than 2 decimal places"},
        {"39.9900", 2, 1, 3999, NULL},
        {"39.99000000000000000000000000", 2, 1, 3999, NULL},
        {"1.0050", 2, 0, 0, "more than 2 decimal places"},
        {".5", 2, 1, 50, NULL},
        {"5.", 2, 1, 500, NULL},
        {"+4", 2, 1, 400, NULL},
        {"+4.00", 2, 1, 400, NULL},
        {"007.10", 2, 1, 710, NULL},
        {"", 2, 0, 0, "not a number"},
        {"-", 2, 0, 0, "not a number"},
        {"+", 2, 0, 0, "not a number"},
        {".", 2, 0, 0, "not a number"},
        {"-.", 2, 0, 0, "not a number"},
        {"1e3", 2, 0, 0, "not a number"},
        {"12.3x", 2, 0, 0, "not a number"},
        {"1.2.3", 2, 0, 0, "not a number"},
        {" 1", 2, 0, 0, "not a number"},
        {"1 ", 2, 0, 0, "not a number"},
        {"1,000", 2, 0, 0, "not a number"},
        {"--1", 2, 0, 0, "not a number"},
        {"0x10", 2, 0, 0, "not a number"},
        /* range: INT64_MAX is 9223372036854775807 */
        {"92233720368547758.07", 2, 1, INT64_MAX, NULL},
        {"-92233720368547758.07", 2, 1, -INT64_MAX, NULL},
        {"92233720368547758.08", 2, 0, 0, "number out of range"},
        {"92233720368547759", 2, 0, 0, "number out of range"},
        {"99999999999999999999999", 2, 0, 0, "number out of range"},
        {"9223372036854775807", 0, 1, INT64_MAX, NULL},
        {"9223372036854775808", 0, 0, 0, "number out of range"},
        /* quantities: four decimals */
        {"2.5", 4, 1, 25000, NULL},
        {"1.2345", 4, 1, 12345, NULL},
        {"1.23456", 4, 0, 0, "more than 4 decimal places"},
        {"-0.0001", 4, 1, -1, NULL},
        {"922337203685477.5807", 4, 1, INT64_MAX, NULL},
        {"922337203685478", 4, 0, 0, "number out of range"},
        /* whole numbers */
        {"12", 0, 1, 12, NULL},
        {"12.0", 0, 1, 12, NULL},
        {"12.5", 0, 0, 0, "not a whole number"},
        /* six decimals */
        {"0.000001", 6, 1, 1, NULL},
        {"0.0000001", 6, 0, 0, "more than 6 decimal places"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct parse_case *c = &cases[i];
        int64_t v = 12345;
        const char *why = NULL;
        int rc = pb_dec_parse(c->in, strlen(c->in), c->scale, &v, &why);
        if (c->ok) {
            if (rc != 0 || v != c->want)
                printf("#   case %zu: '%s' scale %d: rc %d, got %lld, want %lld\n", i, c->in,
                       c->scale, rc, (long long)v, (long long)c->want);
            CHECK(rc == 0);
            CHECK(v == c->want);
        } else {
            if (rc != -1)
                printf("#   case %zu: '%s' accepted as %lld\n", i, c->in, (long long)v);
            CHECK(rc == -1);
            CHECK_STR(why, c->why);
        }
    }
}

/* The length argument is honoured: bytes past it are never read. */
static void
test_parse_length(void)
{
    int64_t v = 0;
    const char *why = NULL;
    CHECK(pb_money_parse("39.99junk", 5, &v, &why) == 0);
    CHECK(v == 3999);
    CHECK(pb_money_parse("12", 1, &v, &why) == 0);
    CHECK(v == 100);
    CHECK(pb_money_parse("1", 0, &v, &why) == -1);
    CHECK_STR(why, "not a number");
    CHECK(pb_qty_parse("3", 1, &v, &why) == 0);
    CHECK(v == 30000);
}

struct fmt_case {
    int64_t v;
    int scale;
    int fixed;
    const char *want;
};

static void
test_format(void)
{
    static const struct fmt_case cases[] = {
        {3999, 2, 1, "39.99"},
        {3990, 2, 1, "39.90"},
        {0, 2, 1, "0.00"},
        {1, 2, 1, "0.01"},
        {-1, 2, 1, "-0.01"},
        {-500, 2, 1, "-5.00"},
        {-50, 2, 1, "-0.50"},
        {100, 2, 1, "1.00"},
        {INT64_MAX, 2, 1, "92233720368547758.07"},
        {INT64_MIN, 2, 1, "-92233720368547758.08"},
        {3990, 2, 0, "39.9"},
        {400, 2, 0, "4"},
        {1000, 2, 0, "10"},
        {0, 2, 0, "0"},
        {-1, 2, 0, "-0.01"},
        {-10, 2, 0, "-0.1"},
        {25000, 4, 0, "2.5"},
        {40000, 4, 0, "4"},
        {1, 4, 0, "0.0001"},
        {-1, 4, 0, "-0.0001"},
        {-25000, 4, 0, "-2.5"},
        {100000, 4, 0, "10"},
        {12345, 4, 1, "1.2345"},
        {0, 0, 0, "0"},
        {-7, 0, 0, "-7"},
        {1200, 0, 1, "1200"},
        {INT64_MAX, 0, 0, "9223372036854775807"},
        {INT64_MIN, 0, 0, "-9223372036854775808"},
        {1, 6, 0, "0.000001"},
        {1500000, 6, 0, "1.5"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct fmt_case *c = &cases[i];
        char out[32];
        memset(out, 'X', sizeof(out));
        size_t n = pb_dec_format(c->v, c->scale, c->fixed, out);
        CHECK_STR(out, c->want);
        CHECK(n == strlen(c->want));
    }
}

static void
test_wrappers(void)
{
    char out[32];
    CHECK(pb_money_format(3990, out) == 5);
    CHECK_STR(out, "39.90");
    CHECK(pb_qty_format(25000, out) == 3);
    CHECK_STR(out, "2.5");
    CHECK(pb_qty_format(-30000, out) == 2);
    CHECK_STR(out, "-3");
}

/* Whatever parses formats back to the canonical text, and that parses to the same value. */
static void
test_round_trip(void)
{
    static const char *const in[] = {"39.99", "0.01", "-0.01", "1", "-1234567.5", "+4",
                                     ".5", "92233720368547758.07", "39.9900"};
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        int64_t a, b;
        const char *why;
        char out[32];
        CHECK(pb_money_parse(in[i], strlen(in[i]), &a, &why) == 0);
        pb_money_format(a, out);
        CHECK(pb_money_parse(out, strlen(out), &b, &why) == 0);
        CHECK(a == b);
        CHECK(pb_qty_parse(in[i], strlen(in[i]), &a, &why) == 0 || i == 7);
    }
}

int
main(void)
{
    RUN(test_parse);
    RUN(test_parse_length);
    RUN(test_format);
    RUN(test_wrappers);
    RUN(test_round_trip);
    return check_summary();
}
