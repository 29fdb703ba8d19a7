/* The Web Connector's pieces: PBKDF2 against RFC vectors, the password hash, reading SOAP
 * calls (good, malformed, hostile) and writing answers and faults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "check.h"
#include "posbridge/err.h"
#include "posbridge/qbwc.h"
#include "posbridge/sha256.h"

static void
tohex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void
test_pbkdf2_vectors(void)
{
    static const struct {
        const char *pw, *salt;
        unsigned long iter;
        size_t len;
        const char *hex;
    } v[] = {
        {"password", "salt", 1, 32, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"},
        {"password", "salt", 2, 32, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"},
        {"password", "salt", 4096, 32, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"},
        /* RFC 7914 section 11: two output blocks */
        {"passwd", "salt", 1, 64,
         "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        unsigned char out[64];
        char hex[129];
        pb_pbkdf2_sha256(v[i].pw, strlen(v[i].pw), v[i].salt, strlen(v[i].salt), v[i].iter, out,
                         v[i].len);
        tohex(out, v[i].len, hex);
        CHECK_STR(hex, v[i].hex);
    }
}

static void
test_password_hash(void)
{
    char *h = pb_qbwc_hash_password("s3cret pw", 9, 1000);
    char *h2 = pb_qbwc_hash_password("s3cret pw", 9, 1000);
    CHECK(h && h2 && strcmp(h, h2) != 0); /* a new salt each time */
    CHECK(h && pb_qbwc_hash_valid(h) == 0);
    CHECK(h && pb_qbwc_check_password(h, "s3cret pw", 9) == 1);
    CHECK(h && pb_qbwc_check_password(h, "s3cret pW", 9) == 0);
    CHECK(h && pb_qbwc_check_password(h, "s3cret p", 8) == 0);
    CHECK(h && pb_qbwc_check_password(h, "", 0) == 0);
    CHECK(h && !strstr(h, "s3cret"));
    static const char *const bad[] = {
        "", "plain", "pbkdf2-sha256$1000$00$00", "pbkdf2-sha256$10$" /* too few rounds */,
        "pbkdf2-sha1$1000$000102030405060708090a0b0c0d0e0f$0001020304050607080910111213141516171819202122232425262728293031",
        "pbkdf2-sha256$01000$000102030405060708090a0b0c0d0e0f$0001020304050607080910111213141516171819202122232425262728293031",
        "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0F$0001020304050607080910111213141516171819202122232425262728293031",
        "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f$00010203040506070809101112131415161718192021222324252627282930",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(pb_qbwc_hash_valid(bad[i]) < 0);
        CHECK(pb_qbwc_check_password(bad[i], "x", 1) == -1);
    }
    CHECK(pb_const_equal("abc", "abc", 3) == 1 && pb_const_equal("abc", "abd", 3) == 0);
    free(h);
    free(h2);
}

#define ENV(body)                                                                            \
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope "                           \
    "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header/><soap:Body>" body \
    "</soap:Body></soap:Envelope>"

static void
test_soap_parse(void)
{
    struct pb_soap_call c;
    struct pb_error err;
    static const char ok[] = ENV(
        "<receiveResponseXML xmlns=\"http://developer.intuit.com/\"><ticket>abc</ticket>"
        "<response>&lt;?xml version=\"1.0\"?&gt;&lt;QBPOSXML&gt;caf\xc3\xa9 &amp; co&lt;/QBPOSXML&gt;"
        "</response><hresult /><message><![CDATA[a<b]]></message></receiveResponseXML>");
    pb_error_init(&err);
    CHECK(pb_soap_parse(ok, strlen(ok), &c, &err) == 0);
    CHECK_STR(c.method, "receiveResponseXML");
    CHECK(c.nparams == 4);
    CHECK_STR(pb_soap_param(&c, "ticket"), "abc");
    CHECK_STR(pb_soap_param(&c, "response"), "<?xml version=\"1.0\"?><QBPOSXML>caf\xc3\xa9 & co</QBPOSXML>");
    CHECK_STR(pb_soap_param(&c, "hresult"), "");
    CHECK_STR(pb_soap_param(&c, "message"), "a<b");
    CHECK(pb_soap_param(&c, "nothing") == NULL);
    pb_soap_call_release(&c);

    /* a prefixed call, parameters in the tns namespace, as some clients send it */
    static const char pref[] = ENV("<q:authenticate xmlns:q=\"http://developer.intuit.com/\">"
                                   "<q:strUserName>u</q:strUserName><q:strPassword>p</q:strPassword>"
                                   "</q:authenticate>");
    pb_error_init(&err);
    CHECK(pb_soap_parse(pref, strlen(pref), &c, &err) == 0);
    CHECK_STR(c.method, "authenticate");
    CHECK_STR(pb_soap_param(&c, "strPassword"), "p");
    pb_soap_call_release(&c);

    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"", "empty"},
        {"<a/>", "not a SOAP envelope"},
        {ENV("<authenticate xmlns=\"http://developer.intuit.com/\"><strUserName>x"), "not well-formed"},
        {"<!DOCTYPE x [<!ENTITY a \"b\">]>" ENV("<authenticate xmlns=\"http://developer.intuit.com/\"/>"),
         "DOCTYPE"},
        {"<?xml version=\"1.0\"?>\n<!DOCTYPE soap:Envelope SYSTEM \"http://example.com/x.dtd\">"
         ENV("<authenticate xmlns=\"http://developer.intuit.com/\"/>"), "DOCTYPE"},
        {"<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body/></soap:Envelope>",
         "SOAP 1.2"},
        {ENV(""), "holds no call"},
        {ENV("<authenticate/>"), "namespace"},
        {ENV("<authenticate xmlns=\"http://developer.intuit.com/\"/><closeConnection "
             "xmlns=\"http://developer.intuit.com/\"/>"), "more than one call"},
        {ENV("<authenticate xmlns=\"http://developer.intuit.com/\"><a>1</a><a>2</a></authenticate>"),
         "twice"},
        {ENV("<authenticate xmlns=\"http://developer.intuit.com/\"><a><b/></a></authenticate>"),
         "markup inside a parameter"},
        {ENV("<authenticate xmlns=\"http://developer.intuit.com/\">text</authenticate>"), "text where"},
        {ENV("<authenticate xmlns=\"http://developer.intuit.com/\"><a xmlns=\"urn:x\">1</a></authenticate>"),
         "foreign namespace"},
        {ENV("<authenticate xmlns=\"http://developer.intuit.com/\"><a>1</a><b/><c/><d/><e/><f/><g/><h/>"
             "<i/></authenticate>"), "too many"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pb_error_init(&err);
        int rc = pb_soap_parse(bad[i].in, strlen(bad[i].in), &c, &err);
        CHECK(rc == -1);
        CHECK(c.method == NULL && c.nparams == 0);
        if (!strstr(err.msg, bad[i].msg))
            printf("#   case %zu: '%s' lacks '%s'\n", i, err.msg, bad[i].msg);
        CHECK(strstr(err.msg, bad[i].msg) != NULL);
    }
    /* a NUL byte, and a body over the cap (the length alone decides) */
    static const char nul[] = "<a>\0</a>";
    pb_error_init(&err);
    CHECK(pb_soap_parse(nul, sizeof(nul) - 1, &c, &err) == -1);
    pb_error_init(&err);
    CHECK(pb_soap_parse(ok, PB_SOAP_MAX_BODY + 1, &c, &err) == -1 && strstr(err.msg, "larger"));
}

static void
test_soap_reply(void)
{
    struct pb_buf b = PB_BUF_INIT;
    CHECK(pb_soap_reply_string(&b, "sendRequestXML", "<a x=\"1\">&\r</a>\x01\xff") == 0);
    CHECK(strstr(b.data, "<sendRequestXMLResponse xmlns=\"http://developer.intuit.com/\">"
                         "<sendRequestXMLResult>&lt;a x=&quot;1&quot;&gt;&amp;&#13;&lt;/a&gt;"
                         "</sendRequestXMLResult></sendRequestXMLResponse>") != NULL);
    /* what we write reads back as the same call shape */
    struct pb_soap_call c;
    struct pb_error err;
    pb_error_init(&err);
    const char *v[] = {"0123456789abcdef0123456789abcdef", "Computer Name=a;Company Data=b & c;Version=12"};
    CHECK(pb_soap_reply_strings(&b, "authenticate", v, 2) == 0);
    CHECK(strstr(b.data, "<authenticateResult><string>0123456789abcdef0123456789abcdef</string>"
                         "<string>Computer Name=a;Company Data=b &amp; c;Version=12</string>"
                         "</authenticateResult>") != NULL);
    xmlDocPtr d = xmlReadMemory(b.data, (int)b.len, "r", NULL, XML_PARSE_NONET);
    CHECK(d != NULL);
    xmlFreeDoc(d);
    CHECK(pb_soap_reply_int(&b, "receiveResponseXML", -1) == 0);
    CHECK(strstr(b.data, "<receiveResponseXMLResult>-1</receiveResponseXMLResult>") != NULL);
    CHECK(pb_soap_fault(&b, "Client", "bad <input>") == 0);
    CHECK(strstr(b.data, "<soap:Fault><faultcode>soap:Client</faultcode><faultstring>bad &lt;input&gt;"
                         "</faultstring></soap:Fault>") != NULL);
    (void)c;
    pb_buf_release(&b);
}

int
main(void)
{
    xmlInitParser();
    RUN(test_pbkdf2_vectors);
    RUN(test_password_hash);
    RUN(test_soap_parse);
    RUN(test_soap_reply);
    xmlCleanupParser();
    return check_summary();
}
