/* Escaping untrusted text for HTML.  See include/posbridge/html.h. */
#include "posbridge/html.h"

#include <string.h>

#include "posbridge/buf.h"
#include "posbridge/banned.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    if (cp >= 0x80 && cp <= 0x9F)
        return 0; /* C1 controls */
    return len;
}

/* Where the userinfo of a URL at s[i] ("scheme://user:pass@host") ends (after '@'), or 0. */
static size_t
userinfo_end(const char *s, size_t len, size_t i)
{
    if (i + 3 > len || memcmp(s + i, "://", 3) != 0)
        return 0;
    for (size_t k = i + 3; k < len; k++) {
        char c = s[k];
        if (c == '@')
            return k > i + 3 ? k + 1 : 0;
        if (c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' ||
            c == '"' || c == '\'' || c == '<' || c == '>')
            return 0;
    }
    return 0;
}

int
pb_html_escape(struct pb_buf *out, const char *s, size_t len, int flags)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        const char *ent = NULL;
        switch (c) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case '\'': ent = "&#39;"; break;
        }
        if (ent) {
            if (pb_buf_adds(out, ent) < 0)
                return -1;
            i++;
            continue;
        }
        if (c == ':' && (flags & PB_HTML_REDACT)) {
            size_t end = userinfo_end(s, len, i);
            if (end) {
                if (pb_buf_adds(out, "://[redacted]@") < 0)
                    return -1;
                i = end;
                continue;
            }
        }
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            if (pb_buf_adds(out, replacement) < 0)
                return -1;
            i++;
            continue;
        }
        if (c == 0x7F) {
            if (pb_buf_adds(out, replacement) < 0)
                return -1;
            i++;
            continue;
        }
        size_t n = utf8_len((const unsigned char *)s + i, len - i);
        if (!n) {
            if (pb_buf_adds(out, replacement) < 0)
                return -1;
            i++;
            continue;
        }
        if (pb_buf_add(out, s + i, n) < 0)
            return -1;
        i += n;
    }
    return 0;
}

int
pb_html_puts(FILE *fp, const char *s, int flags)
{
    if (!s || !*s)
        return 0;
    struct pb_buf b = PB_BUF_INIT;
    int rc = 0;
    if (pb_html_escape(&b, s, strlen(s), flags) < 0 || fwrite(b.data, 1, b.len, fp) != b.len)
        rc = -1;
    pb_buf_release(&b);
    return rc;
}
