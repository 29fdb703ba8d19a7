/* The Magento connector's pure helpers: decimals as JSON numbers that print back exactly,
 * option name -> attribute code, URL keys, the SKU of a bulk operation; for the download,
 * filter times, money in cents, search queries and street lines. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "platforms/magento_int.h"

static void
test_number(void)
{
    static const struct {
        const char *in, *out;
    } rows[] = {
        {"24.99", "24.99"}, {"22.00", "22"}, {"0.75", "0.75"}, {"7.49", "7.49"},
        {"12", "12"}, {"-3.5", "-3.5"}, {"0.1", "0.1"}, {"99999999.99", "99999999.99"},
        {"1.123456", "1.123456"}, {"0", "0"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *n = pb_magento_number(rows[i].in);
        CHECK(n && json_is_number(n));
        char *s = n ? json_dumps(n, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) : NULL;
        CHECK_STR(s, rows[i].out);
        free(s);
        json_decref(n);
    }
    CHECK(pb_magento_number("abc") == NULL);
    CHECK(pb_magento_number("1.1234567") == NULL);
    CHECK(pb_magento_number(NULL) == NULL);
}

static void
test_attr_code(void)
{
    struct pb_store_cfg st;
    memset(&st, 0, sizeof(st));
    char e1[] = "Color:color", e2[] = "Size:shoe_size";
    char *list[] = {e1, e2};
    st.option_attr.v = list;
    st.option_attr.n = 2;
    char *a = pb_magento_attr_code(&st, "Size"), *b = pb_magento_attr_code(&st, "Material"),
         *c = pb_magento_attr_code(&st, "Color");
    CHECK_STR(a, "shoe_size");
    CHECK_STR(b, "material");
    CHECK_STR(c, "color");
    free(a);
    free(b);
    free(c);
}

static void
test_slug(void)
{
    char *a = pb_magento_slug("app-lighthouse-tee-3105-ROS-M"), *b = pb_magento_slug("  Café Mug!! "),
         *c = pb_magento_slug("");
    CHECK_STR(a, "app-lighthouse-tee-3105-ros-m");
    CHECK_STR(b, "caf-mug");
    CHECK_STR(c, "");
    free(a);
    free(b);
    free(c);
}

static void
test_op_sku(void)
{
    json_t *op = json_pack(
        "{s:s}", "serialized_data",
        "{\"entity_id\":null,\"entity_link\":\"\",\"meta_information\":"
        "\"{\\\"product\\\":{\\\"sku\\\":\\\"3105-ROS-M\\\",\\\"price\\\":21.49}}\"}");
    char *s = pb_magento_op_sku(op);
    CHECK_STR(s, "3105-ROS-M");
    free(s);
    json_decref(op);
    op = json_pack("{s:s}", "serialized_data",
                   "{\"meta_information\":\"{\\\"sku\\\":\\\"PARENT\\\",\\\"childSku\\\":\\\"C\\\"}\"}");
    s = pb_magento_op_sku(op);
    CHECK_STR(s, "PARENT");
    free(s);
    json_decref(op);
    op = json_pack("{s:s}", "serialized_data", "not json");
    CHECK(pb_magento_op_sku(op) == NULL);
    json_decref(op);
    CHECK(pb_magento_op_sku(NULL) == NULL);
}

static void
test_time(void)
{
    char b[32];
    pb_magento_time(0, b);
    CHECK_STR(b, "1970-01-01 00:00:00");
    pb_magento_time(1714557600, b); /* 2024-05-01T10:00:00Z */
    CHECK_STR(b, "2024-05-01 10:00:00");
}

static void
test_cents(void)
{
    int64_t c = -1;
    json_t *v;
    CHECK(pb_magento_cents(v = json_real(19.99), &c) == 0 && c == 1999);
    json_decref(v);
    CHECK(pb_magento_cents(v = json_integer(25), &c) == 0 && c == 2500);
    json_decref(v);
    CHECK(pb_magento_cents(v = json_real(-10.5), &c) == 0 && c == -1050);
    json_decref(v);
    CHECK(pb_magento_cents(v = json_real(0.41), &c) == 0 && c == 41);
    json_decref(v);
    CHECK(pb_magento_cents(v = json_string("67.4900"), &c) == 0 && c == 6749);
    json_decref(v);
    CHECK(pb_magento_cents(v = json_real(3.3333), &c) < 0);  /* fractions of a cent */
    json_decref(v);
    CHECK(pb_magento_cents(v = json_string("abc"), &c) < 0);
    json_decref(v);
    CHECK(pb_magento_cents(json_null(), &c) < 0);
    CHECK(pb_magento_cents(NULL, &c) < 0);
}

static void
test_search_query(void)
{
    struct pb_buf b = PB_BUF_INIT;
    const struct pb_mg_filter f[] = {{"updated_at", "gteq", "2024-05-01 00:00:00"},
                                     {"state", "in", "complete,closed"}};
    static const char *const sort[] = {"updated_at", "entity_id"};
    CHECK(pb_magento_search_query(&b, f, 2, sort, 2, 50, 3, NULL) == 0);
    CHECK_STR(b.data,
              "searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=updated_at"
              "&searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D="
              "2024-05-01%2000%3A00%3A00"
              "&searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bcondition_type%5D=gteq"
              "&searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B0%5D%5Bfield%5D=state"
              "&searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=complete%2Cclosed"
              "&searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B0%5D%5Bcondition_type%5D=in"
              "&searchCriteria%5BsortOrders%5D%5B0%5D%5Bfield%5D=updated_at"
              "&searchCriteria%5BsortOrders%5D%5B0%5D%5Bdirection%5D=ASC"
              "&searchCriteria%5BsortOrders%5D%5B1%5D%5Bfield%5D=entity_id"
              "&searchCriteria%5BsortOrders%5D%5B1%5D%5Bdirection%5D=ASC"
              "&searchCriteria%5BpageSize%5D=50&searchCriteria%5BcurrentPage%5D=3");
    pb_buf_reset(&b);
    CHECK(pb_magento_search_query(&b, NULL, 0, NULL, 0, 20, 1, "items[order_id],total_count") == 0);
    CHECK_STR(b.data, "searchCriteria%5BpageSize%5D=20&searchCriteria%5BcurrentPage%5D=1"
                      "&fields=items%5Border_id%5D%2Ctotal_count");
    pb_buf_release(&b);
}

static void
test_street(void)
{
    struct pb_buf a = PB_BUF_INIT, r = PB_BUF_INIT;
    json_t *s = json_pack("[s, s, s]", "1 Main St", "Apt 2", "Back door");
    CHECK(pb_magento_street(s, &a, &r) == 0);
    CHECK_STR(a.data, "1 Main St");
    CHECK_STR(r.data, "Apt 2, Back door");
    json_decref(s);
    pb_buf_reset(&a);
    pb_buf_reset(&r);
    s = json_pack("[s, s]", "", "9 Dock Rd"); /* an empty first line */
    CHECK(pb_magento_street(s, &a, &r) == 0);
    CHECK_STR(a.data, "9 Dock Rd");
    CHECK_STR(r.data, "");
    json_decref(s);
    pb_buf_reset(&a);
    s = json_string("5 Elm St");
    CHECK(pb_magento_street(s, &a, &r) == 0);
    CHECK_STR(a.data, "5 Elm St");
    json_decref(s);
    pb_buf_release(&a);
    pb_buf_release(&r);
}

int
main(void)
{
    RUN(test_number);
    RUN(test_attr_code);
    RUN(test_slug);
    RUN(test_op_sku);
    RUN(test_time);
    RUN(test_cents);
    RUN(test_search_query);
    RUN(test_street);
    return check_summary();
}
