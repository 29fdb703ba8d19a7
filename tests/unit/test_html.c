/* The HTML escaper: hostile text must come out as text, valid UTF-8, no markup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "posbridge/buf.h"
#include "posbridge/html.h"

#define FFFD "\xEF\xBF\xBD"

static const struct {
    const char *in;
    size_t len; /* 0: strlen(in) */
    int flags;
    const char *want;
} cases[] = {
    {"plain SKU 3105-NAV-M", 0, 0, "plain SKU 3105-NAV-M"},
    {"", 0, 0, ""},
    {"<script>alert(1)</script>", 0, 0, "&lt;script&gt;alert(1)&lt;/script&gt;"},
    {"a & b", 0, 0, "a &amp; b"},
    {"&amp;", 0, 0, "&amp;amp;"},
    {"\"quoted\" 'single'", 0, 0, "&quot;quoted&quot; &#39;single&#39;"},
    {"<img src=x onerror=\"alert(1)\">", 0, 0,
     "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"},
    {"--><!--", 0, 0, "--&gt;&lt;!--"},
    {"caf\xC3\xA9 \xE2\x82\xAC 5 \xF0\x9F\x90\x9F", 0, 0,
     "caf\xC3\xA9 \xE2\x82\xAC 5 \xF0\x9F\x90\x9F"},                /* valid: kept */
    {"Caf\xE9", 0, 0, "Caf" FFFD},                                  /* Windows-1252 é */
    {"\xC0\xAF", 0, 0, FFFD FFFD},                                  /* overlong '/' */
    {"\xE0\x80\xBC", 0, 0, FFFD FFFD FFFD},                         /* overlong '<' */
    {"\xED\xA0\x80", 0, 0, FFFD FFFD FFFD},                         /* a surrogate */
    {"\xF4\x90\x80\x80", 0, 0, FFFD FFFD FFFD FFFD},                /* past U+10FFFF */
    {"\xE2\x82", 0, 0, FFFD FFFD},                                  /* cut off */
    {"\xE2\x82<", 0, 0, FFFD FFFD "&lt;"},                          /* cut off, then markup */
    {"\xFF\xFE", 0, 0, FFFD FFFD},
    {"\xC2\x85", 0, 0, FFFD FFFD},                                  /* C1 control NEL */
    {"tab\tnl\ncr\r", 0, 0, "tab\tnl\ncr\r"},
    {"bell\x07 esc\x1b[31m del\x7f", 0, 0, "bell" FFFD " esc" FFFD "[31m del" FFFD},
    {"a\0b", 3, 0, "a" FFFD "b"},                                   /* a NUL in counted text */
    {"see https://shop:s3cret@example.com/x", 0, PB_HTML_REDACT,
     "see https://[redacted]@example.com/x"},
    {"https://tok@h/ and http://h/a@b", 0, PB_HTML_REDACT,
     "https://[redacted]@h/ and http://h/a@b"},
    {"https://shop:s3cret@example.com/x", 0, 0, "https://shop:s3cret@example.com/x"},
    {"ratio 1:2 @home", 0, PB_HTML_REDACT, "ratio 1:2 @home"},
};

static void
test_escape_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pb_buf b = PB_BUF_INIT;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
        CHECK(pb_html_escape(&b, cases[i].in, len, cases[i].flags) == 0);
        if (strcmp(b.data, cases[i].want) != 0)
            fprintf(stdout, "#   case %zu\n", i);
        CHECK_STR(b.data, cases[i].want);
        pb_buf_release(&b);
    }
}

/* Every byte value alone and in pairs: never a raw markup character, always valid UTF-8. */
static int
valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (!k || i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
        i += k;
    }
    return 1;
}

static void
test_every_byte(void)
{
    for (int a = 1; a < 256; a++)
        for (int b = 0; b < 256; b++) {
            char in[2] = {(char)a, (char)b};
            struct pb_buf out = PB_BUF_INIT;
            CHECK(pb_html_escape(&out, in, b ? 2 : 1, 0) == 0);
            CHECK(!strpbrk(out.data, "<>\"'"));
            CHECK(valid_utf8((const unsigned char *)out.data, out.len));
            for (size_t k = 0; k < out.len; k++) {
                unsigned char c = (unsigned char)out.data[k];
                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                    CHECK(!"a control character came through");
                    break;
                }
            }
            pb_buf_release(&out);
        }
}

static void
test_puts(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    CHECK(fp != NULL);
    if (!fp)
        return;
    CHECK(pb_html_puts(fp, "<b>\xFF</b>", 0) == 0);
    CHECK(pb_html_puts(fp, NULL, 0) == 0);
    CHECK(fclose(fp) == 0);
    CHECK_STR(text, "&lt;b&gt;" FFFD "&lt;/b&gt;");
    free(text);
}

int
main(void)
{
    RUN(test_escape_table);
    RUN(test_every_byte);
    RUN(test_puts);
    return check_summary();
}
