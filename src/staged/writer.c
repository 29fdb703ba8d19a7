/*
 * Staged file writers: CSV and JSONL, plain or gzip, written atomically and hashed on
 * the way out (the manifest records the digest of the bytes on disk).
 */
#define _GNU_SOURCE /* sync_file_range */
#include "posbridge/staged.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "posbridge/atomic.h"
#include "posbridge/digest.h"
#include "posbridge/err.h"
#include "posbridge/money.h"
#include "posbridge/banned.h"

int
pb_staged_encoding(const char *path, enum pb_enc *enc, int *gz)
{
    size_t n = strlen(path);
    *gz = 0;
    if (n > 3 && strcmp(path + n - 3, ".gz") == 0) {
        *gz = 1;
        n -= 3;
    }
    if (n > 4 && strncmp(path + n - 4, ".csv", 4) == 0)
        *enc = PB_ENC_CSV;
    else if (n > 6 && strncmp(path + n - 6, ".jsonl", 6) == 0)
        *enc = PB_ENC_JSONL;
    else
        return -1;
    return 0;
}

int
pb_columns_init(struct pb_columns *c, const struct pb_schema *s)
{
    memset(c, 0, sizeof(*c));
    c->use = calloc((size_t)s->nfields, 1);
    if (!c->use)
        return -1;
    for (int i = 0; i < s->nfields; i++)
        c->use[i] = s->fields[i].presence != PB_SPARSE;
    return 0;
}

void
pb_columns_release(struct pb_columns *c)
{
    free(c->use);
    for (size_t i = 0; i < c->nextra; i++)
        free(c->extra[i]);
    free(c->extra);
    memset(c, 0, sizeof(*c));
}

int
pb_columns_note(struct pb_columns *c, const struct pb_rec *r)
{
    for (int i = 0; i < r->schema->nfields; i++)
        if (!c->use[i] && pb_rec_has(r, i))
            c->use[i] = 1;
    for (size_t k = 0; k < r->nextra; k++) {
        const char *name = pb_rec_extra_name(r, k);
        size_t j;
        for (j = 0; j < c->nextra; j++)
            if (strcmp(c->extra[j], name) == 0)
                break;
        if (j < c->nextra)
            continue;
        if (c->nextra == c->extra_cap) {
            size_t cap = c->extra_cap ? c->extra_cap * 2 : 8;
            char **e = realloc(c->extra, cap * sizeof(*e));
            if (!e)
                return -1;
            c->extra = e;
            c->extra_cap = cap;
        }
        if (!(c->extra[c->nextra] = strdup(name)))
            return -1;
        c->nextra++;
    }
    return 0;
}

/* ---- cell encoders ---- */

static int
formula_start(const char *v, size_t len)
{
    if (!len)
        return 0;
    switch (v[0]) {
    case '=': case '+': case '-': case '@': case '\t': case '\r':
        return 1;
    case '\'':
        /* Keep an escaped-looking value distinct from an escaped one. */
        return len > 1 && (formula_start(v + 1, len - 1) || v[1] == '\'');
    }
    return 0;
}

/* Bytes that force quoting: the separator, the quote and line breaks. */
static const unsigned char special[256] = {[','] = 1, ['"'] = 1, ['\n'] = 1, ['\r'] = 1};

#define ONES 0x0101010101010101ull
/* Some byte of x is zero (exact: no false positives). */
#define HAS_ZERO(x) (((x) - ONES) & ~(x) & (ONES * 0x80))

/* Does v hold a byte of special[]?  Eight bytes at a time. */
static int
has_special(const char *v, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, v + i, 8);
        if (HAS_ZERO(w ^ (ONES * ',')) | HAS_ZERO(w ^ (ONES * '"')) |
            HAS_ZERO(w ^ (ONES * '\n')) | HAS_ZERO(w ^ (ONES * '\r')))
            return 1;
    }
    if (i < len && len >= 8) { /* the last eight bytes, overlapping what was seen */
        uint64_t w;
        memcpy(&w, v + len - 8, 8);
        return (HAS_ZERO(w ^ (ONES * ',')) | HAS_ZERO(w ^ (ONES * '"')) |
                HAS_ZERO(w ^ (ONES * '\n')) | HAS_ZERO(w ^ (ONES * '\r'))) != 0;
    }
    for (; i < len; i++)
        if (special[(unsigned char)v[i]])
            return 1;
    return 0;
}

/* Write one cell at o, which has room for 2 * len + 3 bytes; returns the new end.  The
 * writer's rows make room once and put their cells in with this. */
static char *
cell_to(char *o, const char *v, size_t len, int text)
{
    if (text < 0 || !len) {
        memcpy(o, v, len);
        return o + len;
    }
    int esc = text && formula_start(v, len);
    int quote = v[0] == ' ' || v[0] == '\t' || v[len - 1] == ' ' || v[len - 1] == '\t' ||
                has_special(v, len);
    if (quote)
        *o++ = '"';
    if (esc)
        *o++ = '\'';
    if (!quote) {
        memcpy(o, v, len);
        return o + len;
    }
    for (;;) {
        const char *q = memchr(v, '"', len);
        size_t k = q ? (size_t)(q - v) + 1 : len;
        memcpy(o, v, k);
        o += k;
        if (!q)
            break;
        *o++ = '"';
        v += k, len -= k;
    }
    *o++ = '"';
    return o;
}

int
pb_csv_cell(struct pb_buf *out, const char *v, size_t len, int text)
{
    if (pb_buf_grow(out, 2 * len + 3) < 0)
        return -1;
    out->len = (size_t)(cell_to(out->data + out->len, v, len, text) - out->data);
    out->data[out->len] = '\0';
    return 0;
}

int
pb_json_str(struct pb_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (pb_buf_addch(out, '"') < 0)
        return -1;
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (pb_buf_add(out, s + from, i - from) < 0)
            return -1;
        from = i + 1;
        char e[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        default:
            e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[c >> 4], e[5] = hex[c & 15];
            n = 6;
        }
        if (pb_buf_add(out, e, n) < 0)
            return -1;
    }
    if (pb_buf_add(out, s + from, len - from) < 0)
        return -1;
    return pb_buf_addch(out, '"');
}

/* ---- the writer ---- */

struct pb_writer {
    const struct pb_schema *s;
    enum pb_enc enc;
    int gz;
    struct pb_atomic af;
    z_stream z;
    int z_live;
    struct pb_digest_async *digest;
    struct pb_buf line;   /* one encoded record */
    unsigned char zout[65536];
    const struct pb_columns *cols;
    uint64_t count;
    uint64_t written, synced; /* bytes given to the file, and those sent on to the disk */
    struct cell_memo *memo; /* per field: its last text value and that value's cell */
    int *col;               /* CSV: the fields that are columns, in order (as the header) */
    signed char *kind;      /* and pb_csv_cell's text argument for each */
    int ncol;
    int *col_from;          /* per field f (and nfields): the first column of a field >= f */
};

/* Bytes after which what is written is sent on to the disk, so the commit's fsync
 * finds little left to wait for. */
#define WRITEBACK_EVERY (8u << 20)

/* Bytes to the file, straight from the hash's block. */
static int
file_out(struct pb_writer *w, const unsigned char *p, size_t n, struct pb_error *err)
{
    int fd = fileno(w->af.fp);
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return pb_error_sys(err, PB_EIO, errno, "cannot write '%s'", w->af.path);
        p += k, n -= (size_t)k;
        w->written += (uint64_t)k;
    }
    if (w->written - w->synced >= WRITEBACK_EVERY)
        pb_writer_writeback(w); /* a hint: the fsync at commit is what makes it durable */
    return 0;
}

/* The file's bytes go into the hash's block, and the block to the file when it is full:
 * one copy for both. */
static int
raw_out(struct pb_writer *w, const void *p, size_t n, struct pb_error *err)
{
    const char *s = p;
    while (n) {
        size_t used;
        unsigned char *b = pb_digest_async_block(w->digest, &used);
        size_t k = PB_DIGEST_BLOCK - used;
        if (k > n)
            k = n;
        memcpy(b + used, s, k);
        s += k, n -= k;
        if (used + k == PB_DIGEST_BLOCK && file_out(w, b, PB_DIGEST_BLOCK, err) < 0)
            return -1;
        pb_digest_async_wrote(w->digest, k);
    }
    return 0;
}

static int
emit(struct pb_writer *w, const char *p, size_t n, int finish, struct pb_error *err)
{
    if (!w->gz)
        return raw_out(w, p, n, err);
    w->z.next_in = (unsigned char *)(uintptr_t)p;
    w->z.avail_in = (uInt)n;
    for (;;) {
        w->z.next_out = w->zout;
        w->z.avail_out = sizeof(w->zout);
        int zr = deflate(&w->z, finish ? Z_FINISH : Z_NO_FLUSH);
        if (zr == Z_STREAM_ERROR)
            return pb_error_set(err, PB_ESOFTWARE, "gzip stream error");
        if (raw_out(w, w->zout, sizeof(w->zout) - w->z.avail_out, err) < 0)
            return -1;
        if (finish ? zr == Z_STREAM_END : (w->z.avail_in == 0 && w->z.avail_out != 0))
            return 0;
    }
}

static int
flush_line(struct pb_writer *w, struct pb_error *err)
{
    int rc = emit(w, w->line.data, w->line.len, 0, err);
    pb_buf_reset(&w->line);
    return rc;
}

struct pb_writer *
pb_writer_open(const char *path, const struct pb_schema *s, enum pb_enc enc, int gz,
               const struct pb_columns *cols, struct pb_error *err)
{
    return pb_writer_open_in(NULL, path, s, enc, gz, cols, err);
}

struct pb_writer *
pb_writer_open_in(struct pb_digest_group *hash, const char *path, const struct pb_schema *s,
                  enum pb_enc enc, int gz, const struct pb_columns *cols, struct pb_error *err)
{
    struct pb_writer *w = calloc(1, sizeof(*w));
    if (!w) {
        pb_error_set(err, PB_EOS, "out of memory");
        return NULL;
    }
    w->s = s;
    w->enc = enc;
    w->gz = gz;
    w->cols = cols;
    pb_buf_init(&w->line, 0);
    if (!(w->digest = pb_digest_async_start_in(hash))) {
        free(w);
        pb_error_set(err, PB_EOS, "cannot start a thread");
        return NULL;
    }
    if (pb_atomic_open(path, 0644, &w->af, err) < 0) {
        pb_digest_async_cancel(w->digest);
        free(w);
        return NULL;
    }
    if (gz) {
        /* windowBits 31: a gzip wrapper; zlib writes mtime 0, so output is reproducible. */
        if (deflateInit2(&w->z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            pb_writer_abort(w);
            pb_error_set(err, PB_EOS, "cannot start gzip");
            return NULL;
        }
        w->z_live = 1;
    }
    if (enc == PB_ENC_CSV) {
        /* The header fixes the columns: list them once for put_csv. */
        w->col = malloc(((size_t)s->nfields + 1) * sizeof(*w->col));
        w->kind = malloc((size_t)s->nfields + 1);
        w->col_from = malloc(((size_t)s->nfields + 1) * sizeof(*w->col_from));
        if (!w->col || !w->kind || !w->col_from) {
            pb_error_set(err, PB_EOS, "out of memory");
            pb_writer_abort(w);
            return NULL;
        }
        for (int i = 0; i < s->nfields; i++) {
            if (!cols->use[i])
                continue;
            enum pb_ftype t = s->fields[i].type;
            w->kind[w->ncol] = t == PB_T_TEXT || t == PB_T_ID ? 1 : t == PB_T_ENUM ? 0 : -1;
            w->col[w->ncol++] = i;
        }
        for (int i = s->nfields, c = w->ncol; i >= 0; i--) {
            while (c > 0 && w->col[c - 1] >= i)
                c--;
            w->col_from[i] = c;
        }
        /* A BOM, so spreadsheets read the file as UTF-8. */
        int rc = pb_buf_add(&w->line, "\xef\xbb\xbf", 3);
        int first = 1;
        for (int i = 0; i < s->nfields && rc == 0; i++) {
            if (!cols->use[i])
                continue;
            if (!first)
                rc = pb_buf_addch(&w->line, ',');
            if (rc == 0)
                rc = pb_buf_adds(&w->line, s->fields[i].name);
            first = 0;
        }
        for (size_t k = 0; k < cols->nextra && rc == 0; k++) {
            if (!first)
                rc = pb_buf_addch(&w->line, ',');
            if (rc == 0)
                rc = pb_csv_cell(&w->line, cols->extra[k], strlen(cols->extra[k]), 1);
            first = 0;
        }
        if (rc == 0)
            rc = pb_buf_addch(&w->line, '\n');
        if (rc < 0 || flush_line(w, err) < 0) {
            pb_error_set(err, PB_EOS, "out of memory");
            pb_writer_abort(w);
            return NULL;
        }
    }
    return w;
}

static int
extra_value(const struct pb_rec *r, const char *name, const char **v, size_t *n)
{
    for (size_t k = 0; k < r->nextra; k++)
        if (strcmp(pb_rec_extra_name(r, k), name) == 0) {
            *v = pb_rec_extra_value(r, k, n);
            return 1;
        }
    return 0;
}

/*
 * Rows often repeat a value in a column (a product's fields in each of its variants):
 * the cell made for the last value of each text column is kept and copied when the same
 * value comes again.  Short values are cheaper to encode than to compare.
 */
#define MEMO_MIN 16

struct cell_memo {
    char *v, *cell;
    size_t vlen, cell_len, v_cap, cell_cap;
};

static void
memo_free(struct pb_writer *w)
{
    if (!w->memo)
        return;
    for (int i = 0; i < w->s->nfields; i++) {
        free(w->memo[i].v);
        free(w->memo[i].cell);
    }
    free(w->memo);
    w->memo = NULL;
}

static void
memo_keep(struct cell_memo *m, const char *v, size_t vlen, const char *cell, size_t cell_len)
{
    m->vlen = SIZE_MAX; /* matches nothing until both copies are in */
    if (vlen > m->v_cap) {
        char *p = realloc(m->v, vlen);
        if (!p)
            return;
        m->v = p;
        m->v_cap = vlen;
    }
    if (cell_len > m->cell_cap) {
        char *p = realloc(m->cell, cell_len);
        if (!p)
            return;
        m->cell = p;
        m->cell_cap = cell_len;
    }
    memcpy(m->v, v, vlen);
    memcpy(m->cell, cell, cell_len);
    m->cell_len = cell_len;
    m->vlen = vlen;
}

/*
 * The columns of fields [from, to) of r as CSV cells, each after a comma but the file's
 * first column; the x_* columns and the line's end come with the last field.  memo (one
 * per field, or NULL) keeps long cells for the next record.
 */
static int
encode_csv(const struct pb_writer *w, const struct pb_rec *r, int from, int to,
           struct cell_memo *memo, struct pb_buf *out)
{
    int last = to >= w->s->nfields;
    int c0 = w->col_from[from], c1 = w->col_from[last ? w->s->nfields : to];
    /* Room for the worst case first (every cell quoted, every byte a doubled quote), then
     * the cells go straight in. */
    size_t need = 2;
    for (int c = c0; c < c1; c++)
        if (r->off[w->col[c]])
            need += 2 * r->len[w->col[c]];
    need += 4 * (size_t)(c1 - c0);
    if (last) {
        need += 4 * w->cols->nextra;
        for (size_t k = 0; k < r->nextra; k++)
            need += 2 * r->extra[k].value_len;
    }
    if (pb_buf_grow(out, need) < 0)
        return -1;
    char *o = out->data + out->len;
    for (int c = c0; c < c1; c++) {
        int i = w->col[c];
        if (c)
            *o++ = ',';
        size_t n;
        const char *v = pb_rec_get(r, i, &n);
        if (!v)
            continue;
        int kind = w->kind[c];
        if (!memo || kind < 0 || n < MEMO_MIN) {
            o = cell_to(o, v, n, kind);
            continue;
        }
        struct cell_memo *m = &memo[i];
        if (m->vlen == n && memcmp(m->v, v, n) == 0) {
            memcpy(o, m->cell, m->cell_len);
            o += m->cell_len;
            continue;
        }
        char *cell = o;
        o = cell_to(o, v, n, kind);
        memo_keep(m, v, n, cell, (size_t)(o - cell));
    }
    if (last) {
        for (size_t k = 0; k < w->cols->nextra; k++) {
            if (w->ncol || k)
                *o++ = ',';
            const char *v;
            size_t n;
            if (extra_value(r, w->cols->extra[k], &v, &n))
                o = cell_to(o, v, n, 1);
        }
        *o++ = '\n';
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return 0;
}

/* The members of fields [from, to) of r, each after a comma but the record's first; the
 * record opens with field 0 and closes (x_* members, then the line's end) with the last. */
static int
encode_jsonl(const struct pb_writer *w, const struct pb_rec *r, int from, int to,
             struct pb_buf *out)
{
    int first = from == 0, last = to >= w->s->nfields;
    if (first && pb_buf_addch(out, '{') < 0)
        return -1;
    for (int i = from; i < to && i < w->s->nfields; i++) {
        size_t n;
        const char *v = pb_rec_get(r, i, &n);
        if (!v)
            continue;
        const struct pb_field *f = &w->s->fields[i];
        if ((!first && pb_buf_addch(out, ',') < 0) ||
            pb_json_str(out, f->name, strlen(f->name)) < 0 || pb_buf_addch(out, ':') < 0)
            return -1;
        first = 0;
        int bare = f->type == PB_T_INT || f->type == PB_T_BOOL;
        if ((bare ? pb_buf_add(out, v, n) : pb_json_str(out, v, n)) < 0)
            return -1;
    }
    if (!last)
        return 0;
    for (size_t k = 0; k < w->cols->nextra; k++) {
        const char *v;
        size_t n;
        if (!extra_value(r, w->cols->extra[k], &v, &n))
            continue;
        const char *name = w->cols->extra[k];
        if ((!first && pb_buf_addch(out, ',') < 0) ||
            pb_json_str(out, name, strlen(name)) < 0 || pb_buf_addch(out, ':') < 0 ||
            pb_json_str(out, v, n) < 0)
            return -1;
        first = 0;
    }
    return pb_buf_add(out, "}\n", 2);
}

static int
put_csv(struct pb_writer *w, const struct pb_rec *r)
{
    if (!w->memo) {
        if (!(w->memo = calloc((size_t)w->s->nfields, sizeof(*w->memo))))
            return -1;
        for (int i = 0; i < w->s->nfields; i++)
            w->memo[i].vlen = SIZE_MAX;
    }
    return encode_csv(w, r, 0, w->s->nfields, w->memo, &w->line);
}

int
pb_writer_encode(const struct pb_writer *w, const struct pb_rec *r, int from, int to,
                 struct pb_buf *out)
{
    return w->enc == PB_ENC_CSV ? encode_csv(w, r, from, to, NULL, out)
                                : encode_jsonl(w, r, from, to, out);
}

int
pb_writer_encode_ints(const struct pb_writer *w, int from, int to, const int64_t *v,
                      const unsigned char *has, struct pb_buf *out)
{
    if (from <= 0 || to >= w->s->nfields)
        return -1; /* neither opens nor closes a record */
    /* A comma, the number (pb_dec_format wants 32 bytes of room), and in JSONL the name
     * (the schema's: nothing to escape) in quotes and a colon, for each. */
    size_t need = 1 + 33 * (size_t)(to - from);
    for (int f = from; w->enc != PB_ENC_CSV && f < to; f++)
        need += 3 + strlen(w->s->fields[f].name);
    if (pb_buf_grow(out, need) < 0)
        return -1;
    char *o = out->data + out->len;
    if (w->enc == PB_ENC_CSV) {
        for (int c = w->col_from[from]; c < w->col_from[to]; c++) {
            int f = w->col[c];
            if (c)
                *o++ = ',';
            if (has[f - from])
                o += pb_dec_format(v[f - from], 0, 0, o);
        }
    } else {
        for (int f = from; f < to; f++) {
            if (!has[f - from])
                continue;
            const char *name = w->s->fields[f].name;
            size_t nn = strlen(name);
            *o++ = ','; /* a member after the record's first */
            *o++ = '"';
            memcpy(o, name, nn);
            o += nn;
            *o++ = '"';
            *o++ = ':';
            o += pb_dec_format(v[f - from], 0, 0, o);
        }
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return 0;
}

/* Records are handed to the file in pieces of about this size. */
#define LINE_FLUSH 60000

int
pb_writer_put_parts(struct pb_writer *w, const struct pb_part *parts, int nparts,
                    struct pb_error *err)
{
    if (!w->gz) { /* straight to the file: no line to gather */
        if (w->line.len && flush_line(w, err) < 0)
            return -1;
        size_t used, total = 0;
        unsigned char *b = pb_digest_async_block(w->digest, &used);
        for (int i = 0; i < nparts; i++)
            total += parts[i].n;
        if (total < PB_DIGEST_BLOCK - used) { /* all in the block, which stays unfull */
            for (int i = 0; i < nparts; i++) {
                memcpy(b + used, parts[i].p, parts[i].n);
                used += parts[i].n;
            }
            pb_digest_async_wrote(w->digest, total);
            w->count++;
            return 0;
        }
        for (int i = 0; i < nparts; i++)
            if (raw_out(w, parts[i].p, parts[i].n, err) < 0)
                return -1;
        w->count++;
        return 0;
    }
    for (int i = 0; i < nparts; i++)
        if (pb_buf_add(&w->line, parts[i].p, parts[i].n) < 0)
            return pb_error_set(err, PB_EOS, "out of memory");
    w->count++;
    return w->line.len < LINE_FLUSH ? 0 : flush_line(w, err);
}

int
pb_writer_put(struct pb_writer *w, const struct pb_rec *r, struct pb_error *err)
{
    int rc = w->enc == PB_ENC_CSV ? put_csv(w, r)
                                  : encode_jsonl(w, r, 0, w->s->nfields, &w->line);
    if (rc < 0) {
        pb_buf_reset(&w->line);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    w->count++;
    if (w->line.len < LINE_FLUSH)
        return 0;
    return flush_line(w, err);
}

void
pb_writer_writeback(struct pb_writer *w)
{
#ifdef SYNC_FILE_RANGE_WRITE
    if (w && w->written > w->synced) {
        sync_file_range(fileno(w->af.fp), (off_t)w->synced, (off_t)(w->written - w->synced),
                        SYNC_FILE_RANGE_WRITE);
        w->synced = w->written;
    }
#else
    (void)w;
#endif
}

int
pb_writer_commit(struct pb_writer *w, char digest[65], uint64_t *count, struct pb_error *err)
{
    size_t used;
    const unsigned char *last = NULL;
    if (flush_line(w, err) < 0 || (w->gz && emit(w, "", 0, 1, err) < 0) ||
        ((last = pb_digest_async_block(w->digest, &used)) && used &&
         file_out(w, last, used, err) < 0)) {
        pb_writer_abort(w);
        return -1;
    }
    struct pb_digest_async *h = w->digest;
    w->digest = NULL;
    if (pb_digest_async_finish(h, digest) < 0) {
        pb_writer_abort(w);
        return pb_error_set(err, PB_EOS, "cannot hash the output");
    }
    if (count)
        *count = w->count;
    int rc = pb_atomic_commit(&w->af, err);
    if (w->z_live)
        deflateEnd(&w->z);
    memo_free(w);
    free(w->col);
    free(w->kind);
    free(w->col_from);
    pb_buf_release(&w->line);
    free(w);
    return rc;
}

void
pb_writer_abort(struct pb_writer *w)
{
    if (!w)
        return;
    if (w->z_live)
        deflateEnd(&w->z);
    pb_digest_async_cancel(w->digest);
    pb_atomic_abort(&w->af);
    pb_buf_release(&w->line);
    memo_free(w);
    free(w->col);
    free(w->kind);
    free(w->col_from);
    free(w);
}
