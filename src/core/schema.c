/* Schema lookups and the per-type value check that every reader shares. */
#include "posbridge/schema.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pb_schemas.h"
#include "posbridge/buf.h"
#include "posbridge/money.h"
#include "posbridge/timefmt.h"
#include "posbridge/banned.h"

const struct pb_schema *
pb_schema_find(const char *kind)
{
    for (int i = 0; pb_schemas[i]; i++)
        if (strcmp(pb_schemas[i]->kind, kind) == 0)
            return pb_schemas[i];
    return NULL;
}

const struct pb_schema *
pb_schema_for_path(const char *path)
{
    char base[128];
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n >= sizeof(base))
        return NULL;
    memcpy(base, b, n + 1);
    if (n > 3 && strcmp(base + n - 3, ".gz") == 0)
        base[n -= 3] = '\0';
    if (n > 4 && strcmp(base + n - 4, ".csv") == 0)
        base[n - 4] = '\0';
    else if (n > 6 && strcmp(base + n - 6, ".jsonl") == 0)
        base[n - 6] = '\0';
    else
        return NULL;
    const struct pb_schema *exact = pb_schema_find(base);
    if (exact)
        return exact;
    /* "items-edited.csv", "items_old.csv": a kind name followed by a separator. */
    for (int i = 0; pb_schemas[i]; i++) {
        size_t k = strlen(pb_schemas[i]->kind);
        if (strncmp(base, pb_schemas[i]->kind, k) == 0 &&
            (base[k] == '-' || base[k] == '_' || base[k] == '.'))
            return pb_schemas[i];
    }
    return NULL;
}

int
pb_schema_field(const struct pb_schema *s, const char *name, size_t len)
{
    for (int i = 0; i < s->nfields; i++)
        if (strlen(s->fields[i].name) == len && memcmp(s->fields[i].name, name, len) == 0)
            return i;
    return -1;
}

static int
same_ci(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && strncasecmp(a, b, alen) == 0;
}

int
pb_schema_lookup(const struct pb_schema *s, const char *name, size_t len)
{
    while (len && (*name == ' ' || *name == '\t'))
        name++, len--;
    while (len && (name[len - 1] == ' ' || name[len - 1] == '\t'))
        len--;
    for (int i = 0; i < s->nfields; i++) {
        const struct pb_field *f = &s->fields[i];
        if (same_ci(f->name, strlen(f->name), name, len))
            return i;
    }
    for (int i = 0; i < s->nfields; i++) {
        const struct pb_field *f = &s->fields[i];
        if (f->source && same_ci(f->source, strlen(f->source), name, len))
            return i;
        for (const char *a = f->aliases; a && *a;) {
            const char *bar = strchr(a, '|');
            size_t n = bar ? (size_t)(bar - a) : strlen(a);
            if (same_ci(a, n, name, len))
                return i;
            a = bar ? bar + 1 : NULL;
        }
    }
    return -1;
}

int
pb_schema_source(const struct pb_schema *s, const char *source)
{
    for (int i = 0; i < s->nfields; i++)
        if (s->fields[i].source && strcmp(s->fields[i].source, source) == 0)
            return i;
    return -1;
}

const char *
pb_ftype_name(enum pb_ftype t)
{
    static const char *const names[] = {"text", "id",       "money", "qty", "decimal",
                                        "int",  "bool", "datetime", "date", "enum"};
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

int
pb_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        while (i + 8 <= len) { /* ASCII eight bytes at a time */
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i == len)
            break;
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, cp = c & 0x07;
        else
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* Windows-1252 0x80..0x9f; 0 marks the five unassigned bytes (kept as U+0080..). */
static const uint16_t cp1252_hi[32] = {
    0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017d, 0,      0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
};

/* Runs of ASCII are copied eight bytes at a time; only the rest goes through the table. */
static int
to_utf8(const char *str, size_t len, struct pb_buf *out, int cp1252)
{
    const unsigned char *s = (const unsigned char *)str;
    if (pb_buf_grow(out, len * 3) < 0)
        return -1;
    unsigned char *o = (unsigned char *)out->data + out->len;
    size_t i = 0;
    while (i < len) {
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            memcpy(o, &w, 8);
            o += 8, i += 8;
        }
        if (i == len)
            break;
        unsigned cp = s[i++];
        if (cp < 0x80) {
            *o++ = (unsigned char)cp;
            continue;
        }
        if (cp1252 && cp < 0xa0 && cp1252_hi[cp - 0x80])
            cp = cp1252_hi[cp - 0x80];
        if (cp < 0x800) {
            *o++ = (unsigned char)(0xc0 | (cp >> 6));
            *o++ = (unsigned char)(0x80 | (cp & 0x3f));
        } else {
            *o++ = (unsigned char)(0xe0 | (cp >> 12));
            *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            *o++ = (unsigned char)(0x80 | (cp & 0x3f));
        }
    }
    out->len = (size_t)((char *)o - out->data);
    out->data[out->len] = '\0';
    return 0;
}

int
pb_cp1252_to_utf8(const char *s, size_t len, struct pb_buf *out)
{
    return to_utf8(s, len, out, 1);
}

int
pb_latin1_to_utf8(const char *s, size_t len, struct pb_buf *out)
{
    return to_utf8(s, len, out, 0);
}

char *
pb_extra_name(const char *name, size_t len)
{
    struct pb_buf b = PB_BUF_INIT;
    int under = 1;
    if (pb_buf_adds(&b, "x_") < 0)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
            if (pb_buf_addch(&b, (char)c) < 0)
                goto oom;
            under = 0;
        } else if (!under) {
            if (pb_buf_addch(&b, '_') < 0)
                goto oom;
            under = 1;
        }
    }
    while (b.len > 2 && b.data[b.len - 1] == '_')
        pb_buf_truncate(&b, b.len - 1);
    if (b.len == 2)
        goto oom; /* nothing usable */
    return pb_buf_detach(&b, NULL);
oom:
    pb_buf_release(&b);
    return NULL;
}

static size_t
utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

static int
norm_bool(const char *v, size_t len, struct pb_buf *out, const char **why)
{
    static const char *const yes[] = {"true", "yes", "y", "1", "t"};
    static const char *const no[] = {"false", "no", "n", "0", "f"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strlen(yes[i]) == len && strncasecmp(yes[i], v, len) == 0)
            return pb_buf_adds(out, "true");
        if (strlen(no[i]) == len && strncasecmp(no[i], v, len) == 0)
            return pb_buf_adds(out, "false");
    }
    *why = "not a boolean (true or false)";
    return -1;
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * Is v already what pb_dec_format(pb_dec_parse(v)) would write?  Most values read back
 * from a staged file are, and then the text is its own canonical form: no parse, no
 * format.  Anything else (and anything near the range limit) takes the slow road.
 */
static int
canonical_dec(const char *v, size_t len, int scale, int fixed)
{
    size_t i = 0, ni, nf = 0;
    int nonzero = 0;
    if (v[0] == '-')
        i++;
    ni = i;
    if (i == len || !is_digit(v[i]))
        return 0;
    if (v[i] == '0') {
        i++;
    } else {
        while (i < len && is_digit(v[i]))
            nonzero = 1, i++;
    }
    ni = i - ni;
    if ((int)ni > 17 - scale)
        return 0;
    if (i < len) {
        if (v[i] != '.' || !scale)
            return 0;
        for (i++; i < len; i++, nf++) {
            if (!is_digit(v[i]))
                return 0;
            nonzero |= v[i] != '0';
        }
        if (fixed ? (int)nf != scale : (nf == 0 || (int)nf > scale || v[len - 1] == '0'))
            return 0;
    } else if (fixed && scale) {
        return 0;
    }
    return v[0] != '-' || nonzero; /* "-0", "-0.00": zero has no sign */
}

/* "YYYY-MM-DDThh:mm:ssZ" in range, second below 60: what pb_time_format would write. */
static int
canonical_time(const char *v, size_t len)
{
    /* Where it has no digit, the character it has there. */
    static const char shape[20] = {[4] = '-', [7] = '-', [10] = 'T', [13] = ':', [16] = ':',
                                   [19] = 'Z'};
    if (len != 20)
        return 0;
    unsigned bad = 0;
    for (size_t i = 0; i < 20; i++) {
        unsigned c = (unsigned char)v[i];
        bad |= shape[i] ? c ^ (unsigned char)shape[i] : (c - '0' > 9u);
    }
    if (bad)
        return 0;
#define D2(p) ((v[p] - '0') * 10 + (v[(p) + 1] - '0'))
    int y = D2(0) * 100 + D2(2), mo = D2(5), d = D2(8);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || D2(11) > 23 ||
        D2(14) > 59 || D2(17) > 59)
        return 0;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 0;
#undef D2
    return 1;
}

static int
normalize(const struct pb_field *f, const char *v, size_t len, const char *tz, int utf8_ok,
          struct pb_buf *out, const char **why)
{
    char num[32];
    int64_t x;
    if (len == 0)
        return 0;
    if (len > PB_FIELD_MAX) {
        *why = "value too long";
        return -1;
    }
    switch (f->type) {
    case PB_T_MONEY: case PB_T_QTY: case PB_T_DECIMAL: case PB_T_INT: {
        int scale = f->type == PB_T_MONEY ? PB_MONEY_SCALE
                    : f->type == PB_T_QTY ? PB_QTY_SCALE
                    : f->type == PB_T_DECIMAL ? PB_DEC_SCALE : 0;
        if (canonical_dec(v, len, scale, f->type == PB_T_MONEY))
            return pb_buf_add(out, v, len) < 0 ? (*why = "out of memory", -1) : 0;
        break;
    }
    case PB_T_DATETIME:
        if (canonical_time(v, len))
            return pb_buf_add(out, v, len) < 0 ? (*why = "out of memory", -1) : 0;
        break;
    default:
        break;
    }
    switch (f->type) {
    case PB_T_TEXT:
        if (!utf8_ok && !pb_utf8_valid(v, len)) {
            *why = "not valid UTF-8";
            return -1;
        }
        if (f->maxlen && len > (size_t)f->maxlen && utf8_chars(v, len) > (size_t)f->maxlen) {
            static _Thread_local char msg[64];
            snprintf(msg, sizeof(msg), "longer than %d characters", f->maxlen);
            *why = msg;
            return -1;
        }
        if (memchr(v, '\0', len)) {
            *why = "contains a NUL byte";
            return -1;
        }
        if (pb_buf_add(out, v, len) < 0) {
            *why = "out of memory";
            return -1;
        }
        return 0;
    case PB_T_ID:
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)v[i];
            if (c <= ' ' || c == 0x7f) {
                *why = "identifier contains a space or control character";
                return -1;
            }
        }
        if (len > 128 || (!utf8_ok && !pb_utf8_valid(v, len))) {
            *why = "not a valid identifier";
            return -1;
        }
        return pb_buf_add(out, v, len) < 0 ? (*why = "out of memory", -1) : 0;
    case PB_T_MONEY:
        if (pb_money_parse(v, len, &x, why) < 0)
            return -1;
        pb_money_format(x, num);
        break;
    case PB_T_QTY:
        if (pb_qty_parse(v, len, &x, why) < 0)
            return -1;
        pb_qty_format(x, num);
        break;
    case PB_T_DECIMAL:
        if (pb_dec_parse(v, len, PB_DEC_SCALE, &x, why) < 0)
            return -1;
        pb_dec_format(x, PB_DEC_SCALE, 0, num);
        break;
    case PB_T_INT:
        if (pb_dec_parse(v, len, 0, &x, why) < 0) {
            if (strcmp(*why, "not a whole number") != 0)
                *why = "not a whole number";
            return -1;
        }
        pb_dec_format(x, 0, 0, num);
        break;
    case PB_T_BOOL:
        return norm_bool(v, len, out, why);
    case PB_T_DATETIME:
        if (pb_time_parse(v, len, tz, tz != NULL, &x, why) < 0)
            return -1;
        pb_time_format(x, num);
        break;
    case PB_T_DATE:
        if (pb_date_check(v, len, why) < 0)
            return -1;
        return pb_buf_add(out, v, len) < 0 ? (*why = "out of memory", -1) : 0;
    case PB_T_ENUM:
        for (const char *a = f->enums; a && *a;) {
            const char *bar = strchr(a, '|');
            size_t n = bar ? (size_t)(bar - a) : strlen(a);
            if (n == len && strncasecmp(a, v, n) == 0)
                return pb_buf_add(out, a, n) < 0 ? (*why = "out of memory", -1) : 0;
            a = bar ? bar + 1 : NULL;
        }
        *why = "not one of the allowed values";
        return -1;
    }
    return pb_buf_adds(out, num) < 0 ? (*why = "out of memory", -1) : 0;
}

int
pb_value_normalize(const struct pb_field *f, const char *v, size_t len, const char *tz,
                   struct pb_buf *out, const char **why)
{
    return normalize(f, v, len, tz, 0, out, why);
}

int
pb_value_normalize_utf8(const struct pb_field *f, const char *v, size_t len, const char *tz,
                        struct pb_buf *out, const char **why)
{
    return normalize(f, v, len, tz, 1, out, why);
}
