/* Staged records: canonical text per field, extras and origin.  See record.h. */
#include "posbridge/record.h"

#include <stdlib.h>
#include <string.h>

#include "posbridge/err.h"
#include "posbridge/money.h"
#include "posbridge/banned.h"

int
pb_rec_init(struct pb_rec *r, const struct pb_schema *s, struct pb_error *err)
{
    memset(r, 0, sizeof(*r));
    r->schema = s;
    pb_buf_init(&r->text, 0);
    pb_buf_init(&r->aux, 0);
    r->off = calloc((size_t)s->nfields, sizeof(*r->off));
    r->len = calloc((size_t)s->nfields, sizeof(*r->len));
    if (!r->off || !r->len) {
        pb_rec_release(r);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    r->line = r->record_no = -1;
    return 0;
}

void
pb_rec_release(struct pb_rec *r)
{
    pb_buf_release(&r->text);
    pb_buf_release(&r->aux);
    free(r->off);
    free(r->len);
    free(r->extra);
    r->off = r->len = NULL;
    r->extra = NULL;
    r->nextra = r->extra_cap = 0;
}

void
pb_rec_clear(struct pb_rec *r)
{
    pb_buf_reset(&r->text);
    pb_buf_reset(&r->aux);
    memset(r->off, 0, (size_t)r->schema->nfields * sizeof(*r->off));
    r->nextra = 0;
}

int
pb_rec_set(struct pb_rec *r, int i, const char *v, size_t len)
{
    size_t at = r->text.len;
    if (pb_buf_add(&r->text, v, len) < 0 || pb_buf_addch(&r->text, '\0') < 0) {
        pb_buf_truncate(&r->text, at);
        return -1;
    }
    r->off[i] = at + 1;
    r->len[i] = len;
    return 0;
}

static int
set_checked(struct pb_rec *r, int i, const char *v, size_t len, const char *tz, int utf8_ok,
            const char **why)
{
    size_t at = r->text.len;
    if ((utf8_ok ? pb_value_normalize_utf8 : pb_value_normalize)(&r->schema->fields[i], v, len,
                                                                 tz, &r->text, why) < 0) {
        pb_buf_truncate(&r->text, at);
        return -1;
    }
    if (pb_buf_addch(&r->text, '\0') < 0) {
        pb_buf_truncate(&r->text, at);
        *why = "out of memory";
        return -1;
    }
    r->off[i] = at + 1;
    r->len[i] = r->text.len - 1 - at;
    return 0;
}

int
pb_rec_set_checked(struct pb_rec *r, int i, const char *v, size_t len, const char *tz,
                   const char **why)
{
    return set_checked(r, i, v, len, tz, 0, why);
}

int
pb_rec_set_checked_utf8(struct pb_rec *r, int i, const char *v, size_t len, const char *tz,
                        const char **why)
{
    return set_checked(r, i, v, len, tz, 1, why);
}

int
pb_rec_add_extra(struct pb_rec *r, const char *name, size_t nlen, const char *v, size_t vlen)
{
    if (r->nextra == r->extra_cap) {
        size_t cap = r->extra_cap ? r->extra_cap * 2 : 8;
        struct pb_extra *e = realloc(r->extra, cap * sizeof(*e));
        if (!e)
            return -1;
        r->extra = e;
        r->extra_cap = cap;
    }
    struct pb_extra *e = &r->extra[r->nextra];
    size_t at = r->text.len;
    e->name = at;
    e->name_len = nlen;
    if (pb_buf_add(&r->text, name, nlen) < 0 || pb_buf_addch(&r->text, '\0') < 0)
        goto fail;
    e->value = r->text.len;
    e->value_len = vlen;
    if (pb_buf_add(&r->text, v, vlen) < 0 || pb_buf_addch(&r->text, '\0') < 0)
        goto fail;
    r->nextra++;
    return 0;
fail:
    pb_buf_truncate(&r->text, at);
    return -1;
}

const char *
pb_rec_extra_name(const struct pb_rec *r, size_t k)
{
    return r->text.data + r->extra[k].name;
}

const char *
pb_rec_extra_value(const struct pb_rec *r, size_t k, size_t *len)
{
    if (len)
        *len = r->extra[k].value_len;
    return r->text.data + r->extra[k].value;
}

static int
get_dec(const struct pb_rec *r, int i, int scale, int64_t *out)
{
    size_t n;
    const char *v = pb_rec_get(r, i, &n);
    const char *why;
    if (!v)
        return 1;
    return pb_dec_parse(v, n, scale, out, &why) < 0 ? -1 : 0;
}

int
pb_rec_money(const struct pb_rec *r, int i, int64_t *cents)
{
    return get_dec(r, i, PB_MONEY_SCALE, cents);
}

int
pb_rec_qty(const struct pb_rec *r, int i, int64_t *q)
{
    return get_dec(r, i, PB_QTY_SCALE, q);
}

int
pb_rec_int(const struct pb_rec *r, int i, int64_t *v)
{
    return get_dec(r, i, 0, v);
}

int
pb_rec_bool(const struct pb_rec *r, int i, int *v)
{
    size_t n;
    const char *s = pb_rec_get(r, i, &n);
    if (!s)
        return 1;
    if (n == 4 && memcmp(s, "true", 4) == 0)
        *v = 1;
    else if (n == 5 && memcmp(s, "false", 5) == 0)
        *v = 0;
    else
        return -1;
    return 0;
}

int
pb_rec_copy(struct pb_rec *dst, const struct pb_rec *src)
{
    pb_rec_clear(dst);
    for (int i = 0; i < src->schema->nfields; i++) {
        size_t n;
        const char *v = pb_rec_get(src, i, &n);
        if (v && pb_rec_set(dst, i, v, n) < 0)
            return -1;
    }
    for (size_t k = 0; k < src->nextra; k++) {
        size_t n;
        const char *v = pb_rec_extra_value(src, k, &n);
        if (pb_rec_add_extra(dst, pb_rec_extra_name(src, k), src->extra[k].name_len, v, n) <
            0)
            return -1;
    }
    dst->file = src->file;
    dst->line = src->line;
    dst->record_no = src->record_no;
    return 0;
}

int
pb_rec_missing(const struct pb_rec *r)
{
    for (const int *i = r->schema->required; *i >= 0; i++)
        if (!pb_rec_has(r, *i))
            return *i;
    return -1;
}

/* JSON string escaping shared with the JSONL writer would be circular; keep a tiny one. */
static int
json_str(struct pb_buf *out, const char *s, size_t n)
{
    if (pb_buf_addch(out, '"') < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (c == '"' || c == '\\')
            rc = pb_buf_addch(out, '\\') < 0 ? -1 : pb_buf_addch(out, c);
        else if (c < 0x20)
            rc = pb_buf_addf(out, "\\u%04x", c);
        else
            rc = pb_buf_addch(out, c);
        if (rc < 0)
            return -1;
    }
    return pb_buf_addch(out, '"');
}

int
pb_rec_to_json_text(const struct pb_rec *r, struct pb_buf *out)
{
    int first = 1;
    if (pb_buf_addch(out, '{') < 0)
        return -1;
    for (int i = 0; i < r->schema->nfields; i++) {
        size_t n;
        const char *v = pb_rec_get(r, i, &n);
        if (!v)
            continue;
        if ((!first && pb_buf_addch(out, ',') < 0) ||
            json_str(out, r->schema->fields[i].name, strlen(r->schema->fields[i].name)) < 0 ||
            pb_buf_addch(out, ':') < 0 || json_str(out, v, n) < 0)
            return -1;
        first = 0;
    }
    for (size_t k = 0; k < r->nextra; k++) {
        size_t n;
        const char *v = pb_rec_extra_value(r, k, &n);
        if ((!first && pb_buf_addch(out, ',') < 0) ||
            json_str(out, pb_rec_extra_name(r, k), r->extra[k].name_len) < 0 ||
            pb_buf_addch(out, ':') < 0 || json_str(out, v, n) < 0)
            return -1;
        first = 0;
    }
    return pb_buf_addch(out, '}');
}
