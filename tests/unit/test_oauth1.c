/* OAuth 1.0a signing, HMAC-SHA256 and base64, against known answers (RFC 4231, RFC 4648,
 * and signatures computed the way Magento and WooCommerce verify them). */
#include <string.h>

#include "check.h"
#include "posbridge/oauth1.h"

static void
test_hmac(void)
{
    unsigned char mac[32];
    struct pb_buf b = PB_BUF_INIT;
    static const char hex[] = "0123456789abcdef";
    /* RFC 4231 test case 2 */
    pb_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
    for (int i = 0; i < 32; i++) {
        CHECK(pb_buf_addch(&b, hex[mac[i] >> 4]) == 0);
        CHECK(pb_buf_addch(&b, hex[mac[i] & 15]) == 0);
    }
    CHECK_STR(b.data, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    pb_buf_release(&b);
    /* RFC 4231 test case 6: a key longer than the block is hashed first */
    unsigned char key[131];
    memset(key, 0xaa, sizeof(key));
    pb_hmac_sha256(key, sizeof(key), "Test Using Larger Than Block-Size Key - Hash Key First",
                   54, mac);
    CHECK(mac[0] == 0x60 && mac[1] == 0xe4 && mac[31] == 0x54);
}

static void
test_base64_pct(void)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                       "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        struct pb_buf b = PB_BUF_INIT;
        CHECK(pb_base64((const unsigned char *)in[i], strlen(in[i]), &b) == 0);
        CHECK_STR(b.data ? b.data : "", want[i]);
        pb_buf_release(&b);
    }
    struct pb_buf b = PB_BUF_INIT;
    CHECK(pb_pct_encode("a b+c/~é", strlen("a b+c/~é"), &b) == 0);
    CHECK_STR(b.data, "a%20b%2Bc%2F~%C3%A9");
    pb_buf_release(&b);
}

static void
test_magento_signature(void)
{
    /* Three-legged: consumer and integration token; query parameters are signed too. */
    struct pb_oauth1 o = {"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", "ssssssssssssssssssssssssssssssss",
                          "tttttttttttttttttttttttttttttttt", "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"};
    struct pb_buf b = PB_BUF_INIT;
    CHECK(pb_oauth1_header(&o, "PUT",
                           "http://127.0.0.1:8704/rest/all/V1/products/TEE%20RED"
                           "?searchCriteria%5BpageSize%5D=10&x=a+b",
                           1700000000, "abc123", &b) == 0);
    CHECK(b.data && strstr(b.data, "Authorization: OAuth oauth_consumer_key=\"kkkk") == b.data);
    CHECK(b.data &&
          strstr(b.data, "oauth_signature=\"VMVZp%2BE%2BGBREIOE1L7zSPIJyYKpZOVjJnLyZUItUgSA%3D\""));
    CHECK(b.data && strstr(b.data, "oauth_token=\"tttt"));
    pb_buf_release(&b);
}

static void
test_woocommerce_signature(void)
{
    /* One-legged: no token, the key is the consumer secret and "&". */
    struct pb_oauth1 o = {"ck_1", "cs_1", NULL, NULL};
    struct pb_buf b = PB_BUF_INIT;
    CHECK(pb_oauth1_header(&o, "get",
                           "http://127.0.0.1:8703/wp-json/wc/v3/products?per_page=100&sku=A%20B",
                           1700000000, "n1", &b) == 0);
    CHECK(b.data &&
          strstr(b.data, "oauth_signature=\"1GP5mnzlZJbCtM7yoTn2rtK8xcFDg0Fza0HYJ8chfEQ%3D\""));
    CHECK(b.data && !strstr(b.data, "oauth_token"));
    pb_buf_release(&b);
    /* Fresh nonces differ. */
    struct pb_buf x = PB_BUF_INIT, y = PB_BUF_INIT;
    CHECK(pb_oauth1_header(&o, "GET", "http://h/p", 0, NULL, &x) == 0);
    CHECK(pb_oauth1_header(&o, "GET", "http://h/p", 0, NULL, &y) == 0);
    CHECK(x.data && y.data && strcmp(x.data, y.data) != 0);
    pb_buf_release(&x);
    pb_buf_release(&y);
}

int
main(void)
{
    RUN(test_hmac);
    RUN(test_base64_pct);
    RUN(test_magento_signature);
    RUN(test_woocommerce_signature);
    return check_summary();
}
