/* WooCommerce download arithmetic: unit prices from subtotal / quantity, refunded amounts
 * split a cent apart, GMT dates without a zone. */
#include <stdint.h>

#include "check.h"
#include "platforms/woocommerce_int.h"

static void
test_line_price(void)
{
    static const struct {
        int64_t subtotal, total, qty;
        int ok;
        int64_t price, discount;
    } cases[] = {
        {3499, 3199, 1, 1, 3499, 300},  /* a coupon on the line */
        {2998, 2998, 2, 1, 1499, 0},    /* exact, no discount */
        {3500, 3500, 3, 1, 1167, 1},    /* 11.666..: the cent above, a cent off */
        {3500, 3000, 3, 1, 1167, 501},  /* and a real discount on top */
        {1000, 1000, 3, 1, 334, 2},     /* 3.34 x 3 - 0.02 = 10.00 */
        {0, 0, 2, 1, 0, 0},             /* free */
        {1, 1, 3, 1, 1, 2},             /* a cent over three units */
        {1000, 1000, 0, 0, 0, 0},       /* no quantity */
        {1000, 1000, -1, 0, 0, 0},
        {-500, -500, 1, 0, 0, 0},       /* negative: not a sale line */
        {1000, 1001, 1, 0, 0, 0},       /* more than the subtotal with nothing to absorb it */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t p = -7, d = -7;
        int rc = pb_woo_line_price(cases[i].subtotal, cases[i].total, cases[i].qty, &p, &d);
        CHECK(rc == (cases[i].ok ? 0 : -1));
        if (cases[i].ok) {
            CHECK(p == cases[i].price);
            CHECK(d == cases[i].discount);
            CHECK(p * cases[i].qty - d == cases[i].total); /* the line's total, exactly */
        }
    }
    /* every split of every small amount adds up */
    for (int64_t sub = 0; sub < 500; sub += 7)
        for (int64_t q = 1; q < 9; q++) {
            int64_t p, d;
            CHECK(pb_woo_line_price(sub, sub, q, &p, &d) == 0);
            CHECK(p * q - d == sub && d >= 0 && d < q);
        }
}

static void
test_split(void)
{
    int64_t lo = -1, hi = -1;
    CHECK(pb_woo_split(2333, 2, &lo, &hi) == 0);
    CHECK(lo == 1166 && hi == 1); /* 11.67 + 11.66 */
    CHECK(pb_woo_split(3000, 3, &lo, &hi) == 0);
    CHECK(lo == 1000 && hi == 0);
    CHECK(pb_woo_split(1000, 3, &lo, &hi) == 0);
    CHECK(lo == 333 && hi == 1 && lo * 3 + hi == 1000);
    CHECK(pb_woo_split(0, 4, &lo, &hi) == 0);
    CHECK(lo == 0 && hi == 0);
    CHECK(pb_woo_split(100, 0, &lo, &hi) == -1);
    CHECK(pb_woo_split(-100, 2, &lo, &hi) == -1);
    for (int64_t a = 0; a < 1000; a += 13)
        for (int64_t q = 1; q < 7; q++) {
            CHECK(pb_woo_split(a, q, &lo, &hi) == 0);
            CHECK(hi * (lo + 1) + (q - hi) * lo == a && hi < q);
        }
}

static void
test_gmt(void)
{
    char b[32];
    pb_woo_gmt(0, b);
    CHECK_STR(b, "1970-01-01T00:00:00");
    pb_woo_gmt(1795789999, b);
    CHECK_STR(b, "2026-11-27T14:33:19");
}

int
main(void)
{
    RUN(test_line_price);
    RUN(test_split);
    RUN(test_gmt);
    return check_summary();
}
