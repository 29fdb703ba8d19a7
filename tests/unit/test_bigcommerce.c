/* The BigCommerce connector's pure parts: exact JSON numbers, SKU case, category ids. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "platforms/bigcommerce_int.h"

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

int
main(void)
{
    RUN(test_numbers_print_as_written);
    RUN(test_numbers_refused);
    RUN(test_sku_case);
    RUN(test_categories);
    return check_summary();
}
