/* The Magento connector's pure helpers: decimals as JSON numbers that print back exactly,
 * option name -> attribute code, URL keys, and the SKU of a bulk operation. */
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

int
main(void)
{
    RUN(test_number);
    RUN(test_attr_code);
    RUN(test_slug);
    RUN(test_op_sku);
    return check_summary();
}
