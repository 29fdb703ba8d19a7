/*
 * CSV reading with libcsv.  libcsv pushes fields and row ends through callbacks; we queue
 * whole rows and hand them out one by one.  libcsv reports no positions, so the callbacks
 * count physical lines themselves (terminators and newlines inside quoted cells); the
 * column of an error is the spreadsheet column number.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posbridge/err.h"
#include "posbridge/log.h"
#include "staged_int.h"
#include "posbridge/banned.h"

#define CHUNK 65536

/* libcsv grows its field buffer through this; refusing past the cap turns a 2 GB cell
 * into a clean error instead of an out-of-memory death. */
static void *
capped_realloc(void *p, size_t n)
{
    if (n > PB_LINE_MAX + 1024)
        return NULL;
    return realloc(p, n);
}

static void
count_newlines(struct pb_reader *rd, const char *s, size_t n)
{
    /* Only a quoted cell can hold a line break: skip the byte loop for the rest. */
    if (!memchr(s, '\n', n) && !memchr(s, '\r', n))
        return;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            rd->lines++;
        else if (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n'))
            rd->lines++;
    }
}

static void
add_cell(struct pb_reader *rd, const char *s, size_t len, int may_break)
{
    rd->last_cr = 0;
    if (rd->oom)
        return;
    if (!rd->row_open) {
        rd->row_open = 1;
        rd->row_line = rd->lines + 1;
        rd->cur_first = rd->ncells;
    }
    if (may_break)
        count_newlines(rd, s, len);
    if (rd->ncells == rd->cells_cap) {
        size_t cap = rd->cells_cap ? rd->cells_cap * 2 : 256;
        struct csv_cell *c = realloc(rd->cells, cap * sizeof(*c));
        if (!c) {
            rd->oom = 1;
            return;
        }
        rd->cells = c;
        rd->cells_cap = cap;
    }
    rd->cells[rd->ncells].off = rd->cellbuf.len;
    rd->cells[rd->ncells].len = len;
    if (pb_buf_add(&rd->cellbuf, s, len) < 0 || pb_buf_addch(&rd->cellbuf, '\0') < 0) {
        rd->oom = 1;
        return;
    }
    rd->ncells++;
}

static void
on_field(void *s, size_t len, void *data)
{
    add_cell(data, s, len, 1);
}

static void
on_row(int c, void *data)
{
    struct pb_reader *rd = data;
    if (c == '\r') {
        rd->lines++;
        rd->last_cr = 1;
    } else if (c == '\n') {
        if (!rd->last_cr)
            rd->lines++;
        rd->last_cr = 0;
    }
    if (!rd->row_open || rd->oom)
        return;
    rd->row_open = 0;
    if (rd->nrows == rd->rows_cap) {
        size_t cap = rd->rows_cap ? rd->rows_cap * 2 : 64;
        struct csv_row *r = realloc(rd->rows, cap * sizeof(*r));
        if (!r) {
            rd->oom = 1;
            return;
        }
        rd->rows = r;
        rd->rows_cap = cap;
    }
    rd->rows[rd->nrows].line = rd->row_line;
    rd->rows[rd->nrows].first = rd->cur_first;
    rd->rows[rd->nrows].n = rd->ncells - rd->cur_first;
    rd->nrows++;
    rd->cur_first = rd->ncells;
}

/*
 * Most records of a staged file are simple: unquoted cells, and quoted ones (which may
 * hold line breaks) that close right before the comma or the newline.  Those are split
 * here with memchr-speed scans and handed to the same callbacks libcsv would call, with
 * the same arguments: a cell is trimmed of spaces and tabs when unquoted, unescaped
 * ("" -> ") when quoted.  Any other record (a CR outside quotes, a quote where libcsv
 * would improvise, one not complete in this chunk, a very long one) goes to libcsv, a
 * line at a time, and so does everything while libcsv is inside a row.
 */
#define FAST_RECORD_MAX 65536

static int
is_blank_ch(char c)
{
    return c == ' ' || c == '\t';
}

/* Bytes that end an unquoted cell's plain run: the separator, the quote, line breaks. */
static const unsigned char csv_special[256] = {[','] = 1, ['"'] = 1, ['\n'] = 1, ['\r'] = 1};

#define ONES 0x0101010101010101ull
/* The lowest set bit marks the first zero byte of x (higher ones may be false). */
#define HAS_ZERO(x) (((x) - ONES) & ~(x) & (ONES * 0x80))

/* The first byte of [q, lim) in csv_special, or lim.  Eight bytes at a time. */
static const char *
find_special(const char *q, const char *lim)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (lim - q >= 8) {
        uint64_t w;
        memcpy(&w, q, 8);
        uint64_t m = HAS_ZERO(w ^ (ONES * ',')) | HAS_ZERO(w ^ (ONES * '"')) |
                     HAS_ZERO(w ^ (ONES * '\n')) | HAS_ZERO(w ^ (ONES * '\r'));
        if (m)
            return q + (__builtin_ctzll(m) >> 3);
        q += 8;
    }
#endif
    while (q < lim && !csv_special[(unsigned char)*q])
        q++;
    return q;
}

/*
 * The special bytes of a record, 64 at a time: a bit mask per window of 64 bytes, kept
 * while the cells in that window are found (most hold several).  Near the chunk's end,
 * where 64 bytes cannot be read, find_special takes over.
 */
struct scan {
    const char *wb;  /* the window's first byte, when have */
    uint64_t mask;   /* bit i: wb[i] is in csv_special */
    int have;
    const char *lim;
};

#if defined(__SSE2__)
#include <emmintrin.h>
static inline uint64_t
specials64(const char *q)
{
    const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"');
    const __m128i nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    uint64_t m = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(q + 16 * k));
        __m128i x = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, quote)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, nl), _mm_cmpeq_epi8(v, cr)));
        m |= (uint64_t)(uint16_t)_mm_movemask_epi8(x) << (16 * k);
    }
    return m;
}
#else
static inline uint64_t
specials64(const char *q)
{
    uint64_t m = 0;
    for (int i = 0; i < 64; i++)
        m |= (uint64_t)csv_special[(unsigned char)q[i]] << i;
    return m;
}
#endif

/* The first special byte at or after q (q <= lim), or lim. */
static inline const char *
next_special(struct scan *sc, const char *q)
{
    for (;;) {
        if (sc->have && q >= sc->wb && q - sc->wb < 64) {
            uint64_t m = sc->mask & (~0ull << (q - sc->wb));
            if (m)
                return sc->wb + __builtin_ctzll(m);
            q = sc->wb + 64;
        }
        if (sc->lim - q < 64) {
            sc->have = 0;
            return find_special(q, sc->lim);
        }
        sc->wb = q;
        sc->mask = specials64(q);
        sc->have = 1;
    }
}

/* A cell found by the first pass: its text [b, e) (inside the quotes when quoted). */
struct fast_cell {
    const char *b, *e;
    unsigned char quoted, doubled; /* doubled: holds "" pairs to unescape */
};
#define FAST_CELLS 512

/* Split the record at s (the chunk ends at lim): the bytes it took, through its newline,
 * or 0 having done nothing. */
static size_t
fast_record(struct pb_reader *rd, const char *s, const char *lim)
{
    struct fast_cell cell[FAST_CELLS];
    size_t ncell = 0;
    const char *q = s;
    if (lim - s > FAST_RECORD_MAX)
        lim = s + FAST_RECORD_MAX;
    struct scan sc = {NULL, 0, 0, lim};
    /* First pass: check the record is simple, find its end and its cells. */
    while (q < lim && is_blank_ch(*q))
        q++;
    if (q == lim || *q == '\r')
        return 0;
    if (*q == '\n') {
        on_row('\n', rd); /* a blank line: libcsv reports the terminator only */
        return (size_t)(q - s) + 1;
    }
    for (;;) {
        if (ncell == FAST_CELLS)
            return 0;
        struct fast_cell *c = &cell[ncell];
        while (q < lim && is_blank_ch(*q))
            q++;
        if (q < lim && *q == '"') {
            c->quoted = 1;
            c->doubled = 0;
            c->b = ++q;
            for (;; q += 2) {
                const char *x = next_special(&sc, q);
                while (x < lim && *x != '"')
                    x = next_special(&sc, x + 1);
                if (x >= lim - 1)
                    return 0; /* not closed in this chunk, or what follows is unseen */
                q = x;
                if (q[1] != '"')
                    break;
                c->doubled = 1;
            }
            c->e = q++; /* past the closing quote */
            if (*q != ',' && *q != '\n')
                return 0;
        } else {
            c->quoted = 0;
            c->b = q;
            q = next_special(&sc, q);
            if (q == lim || *q == '"' || *q == '\r')
                return 0;
            c->e = q;
        }
        ncell++;
        if (*q == '\n')
            break;
        q++; /* the comma */
    }
    const char *e = q; /* the record's newline */
    /* Second pass: the record goes in whole, in one copy, and its cells are made in place
     * there as add_cell would have put them: each ends with a NUL where its separator (or
     * closing quote, or first trailing blank) was, and a doubled quote is undone. */
    if (rd->oom)
        return (size_t)(e - s) + 1;
    if (rd->ncells + ncell > rd->cells_cap) {
        size_t cap = rd->cells_cap ? rd->cells_cap : 256;
        while (cap < rd->ncells + ncell)
            cap *= 2;
        struct csv_cell *cc = realloc(rd->cells, cap * sizeof(*cc));
        if (!cc) {
            rd->oom = 1;
            return (size_t)(e - s) + 1;
        }
        rd->cells = cc;
        rd->cells_cap = cap;
    }
    if (pb_buf_grow(&rd->cellbuf, (size_t)(e - s) + 1) < 0) {
        rd->oom = 1;
        return (size_t)(e - s) + 1;
    }
    rd->last_cr = 0;
    if (!rd->row_open) {
        rd->row_open = 1;
        rd->row_line = rd->lines + 1;
        rd->cur_first = rd->ncells;
    }
    char *out = rd->cellbuf.data;
    size_t base = rd->cellbuf.len;
    memcpy(out + base, s, (size_t)(e - s) + 1);
    for (size_t k = 0; k < ncell; k++) {
        const struct fast_cell *c = &cell[k];
        size_t start = base + (size_t)(c->b - s), end = base + (size_t)(c->e - s);
        if (!c->quoted) {
            while (end > start && is_blank_ch(out[end - 1]))
                end--;
        } else if (!c->doubled) {
            count_newlines(rd, out + start, end - start);
        } else {
            size_t r = start, w = start;
            while (r < end) {
                char ch = out[r++];
                out[w++] = ch;
                r += ch == '"'; /* the second quote of the pair */
            }
            end = w;
            count_newlines(rd, out + start, end - start);
        }
        out[end] = '\0';
        rd->cells[rd->ncells].off = start;
        rd->cells[rd->ncells].len = end - start;
        rd->ncells++;
    }
    rd->cellbuf.len = base + (size_t)(e - s) + 1;
    out[rd->cellbuf.len] = '\0';
    on_row('\n', rd);
    return (size_t)(e - s) + 1;
}

/* csv_parse's contract: the bytes consumed, short of n when libcsv failed. */
static size_t
parse(struct pb_reader *rd, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* libcsv's state 0 is ROW_NOT_BEGUN: nothing of a row is pending inside it. */
        if (rd->p.pstate == 0 && !rd->no_fast) {
            size_t k = fast_record(rd, p + i, p + n);
            if (k) {
                i += k;
                continue;
            }
        }
        const char *nl = memchr(p + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - p) + 1 : n;
        size_t done = csv_parse(&rd->p, p + i, end - i, on_field, on_row, rd);
        if (done != end - i)
            return i + done;
        i = end;
    }
    return n;
}

void
pb_csv_free(struct pb_reader *rd)
{
    if (rd->p_live)
        csv_free(&rd->p);
    rd->p_live = 0;
    for (size_t i = 0; i < rd->ncols; i++)
        free(rd->colname[i]);
    free(rd->colname);
    free(rd->colmap);
    free(rd->cells);
    free(rd->rows);
    pb_buf_release(&rd->cellbuf);
    pb_buf_release(&rd->unq);
}

/* The queue after its rows before row_pos went: the cells from `first` on are now at 0
 * (keep of them), and so are the rows that index them. */
static void
queue_restart(struct pb_reader *rd, size_t first, size_t keep)
{
    rd->ncells = keep;
    rd->cur_first -= first;
    size_t left = rd->nrows - rd->row_pos;
    for (size_t r = 0; r < left; r++) {
        rd->rows[r] = rd->rows[rd->row_pos + r];
        rd->rows[r].first -= first;
    }
    rd->nrows = left;
    rd->row_pos = 0;
}

/* Drop the rows handed out (those before row_pos), keeping the queued rows after them
 * and a row still being parsed. */
static void
compact(struct pb_reader *rd)
{
    size_t first = rd->row_pos < rd->nrows ? rd->rows[rd->row_pos].first : rd->cur_first;
    size_t keep = rd->ncells - first;
    size_t from = keep ? rd->cells[first].off : rd->cellbuf.len;
    size_t bytes = rd->cellbuf.len - from;
    if (keep) {
        memmove(rd->cellbuf.data, rd->cellbuf.data + from, bytes);
        for (size_t i = 0; i < keep; i++) {
            rd->cells[i] = rd->cells[first + i];
            rd->cells[i].off -= from;
        }
    }
    pb_buf_truncate(&rd->cellbuf, bytes);
    queue_restart(rd, first, keep);
}

static int
start(struct pb_reader *rd, struct pb_error *err)
{
    if (!rd->p_live) {
        if (csv_init(&rd->p, CSV_REPALL_NL | CSV_STRICT_FINI) != 0)
            return pb_error_set(err, PB_EOS, "out of memory");
        /* libcsv's default: spaces and tabs around an unquoted cell are not part of it
         * (a spreadsheet's stray blanks).  The writer quotes a cell whose value begins or
         * ends with one, so staged values still come back exactly. */
        csv_set_realloc_func(&rd->p, capped_realloc);
        rd->p_live = 1;
    }
    return 0;
}

/* Split the next n bytes of the file into rows; n == 0 is the end of the file. */
static int
feed_bytes(struct pb_reader *rd, const char *p, size_t n, struct pb_error *err)
{
    if (n == 0) {
        rd->eof = 1;
        /* libcsv only honours CSV_STRICT_FINI with CSV_STRICT, which would also refuse a
         * stray quote inside a cell; so look for the open quoted cell ourselves (state 2 is
         * libcsv's FIELD_BEGUN).  It would otherwise swallow the rest of the file. */
        if (rd->p.quoted && rd->p.pstate == 2)
            return pb_error_at(err, PB_EDATA, rd->path,
                               rd->row_open ? rd->row_line : rd->lines + 1, -1, -1, NULL,
                               "a quoted cell is never closed (its row starts on this line)");
        if (csv_fini(&rd->p, on_field, on_row, rd) != 0)
            return pb_error_at(err, PB_EDATA, rd->path, rd->row_line, -1, -1, NULL,
                               "a quoted cell is never closed (it starts on this line)");
        on_row(-1, rd);
    } else if (parse(rd, p, n) != n) {
        int e = csv_error(&rd->p);
        if (e == CSV_ETOOBIG || e == CSV_ENOMEM)
            return pb_error_at(err, PB_EDATA, rd->path, rd->lines + 1, -1, -1, NULL,
                               "a cell is longer than %d bytes", PB_LINE_MAX);
        return pb_error_at(err, PB_EDATA, rd->path, rd->lines + 1, -1, -1, NULL, "%s",
                           csv_strerror(e));
    }
    if (rd->oom)
        return pb_error_set(err, PB_EOS, "out of memory");
    if (rd->row_open && rd->cellbuf.len - rd->cells[rd->cur_first].off > PB_LINE_MAX)
        return pb_error_at(err, PB_EDATA, rd->path, rd->row_line, -1, -1, NULL,
                           "a row is longer than %d bytes", PB_LINE_MAX);
    return 0;
}

static int
feed(struct pb_reader *rd, struct pb_error *err)
{
    char chunk[CHUNK];
    if (start(rd, err) < 0)
        return -1;
    long n = pb_reader_fill(rd, chunk, sizeof(chunk), err);
    if (n < 0)
        return -1;
    const char *p = chunk;
    if (!rd->bom_checked) {
        rd->bom_checked = 1;
        if (n >= 3 && memcmp(chunk, "\xef\xbb\xbf", 3) == 0)
            p += 3, n -= 3;
    }
    return feed_bytes(rd, p, (size_t)n, err);
}

/* Hand the queued rows to row() and drop them. */
static int
split_rows(struct pb_reader *rd,
           int (*row)(void *user, long line, size_t n, const char *const *v,
                      const size_t *len),
           void *user, struct pb_error *err)
{
    for (size_t r = 0; r < rd->nrows; r++) {
        const struct csv_row *w = &rd->rows[r];
        const char **v = malloc((w->n + 1) * sizeof(*v));
        size_t *len = malloc((w->n + 1) * sizeof(*len));
        int rc = v && len ? 0 : -1;
        for (size_t j = 0; j < w->n && rc == 0; j++) {
            v[j] = rd->cellbuf.data + rd->cells[w->first + j].off;
            len[j] = rd->cells[w->first + j].len;
        }
        if (rc == 0)
            rc = row(user, w->line, w->n, v, len);
        free(v);
        free(len);
        if (rc < 0)
            return pb_error_set(err, PB_EOS, "out of memory");
    }
    rd->row_pos = rd->nrows;
    compact(rd);
    return 0;
}

int
pb_csv_split(const char *text, size_t len, const size_t *cuts, size_t ncuts, int fast,
             int (*row)(void *user, long line, size_t n, const char *const *v,
                        const size_t *len),
             void *user, long *lines, struct pb_error *err)
{
    int rc = -1;
    struct pb_reader *rd = calloc(1, sizeof(*rd));
    if (!rd)
        return pb_error_set(err, PB_EOS, "out of memory");
    rd->no_fast = !fast;
    if (!(rd->path = strdup("split"))) {
        free(rd);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    pb_buf_init(&rd->cellbuf, 0);
    pb_buf_init(&rd->unq, 0);
    if (start(rd, err) < 0)
        goto out;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        text += 3, len -= 3;
    size_t at = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t to = k < ncuts && cuts[k] < len ? cuts[k] : len;
        if (to <= at)
            continue;
        if (feed_bytes(rd, text + at, to - at, err) < 0 || split_rows(rd, row, user, err) < 0)
            goto out;
        at = to;
    }
    if (feed_bytes(rd, "", 0, err) < 0 || split_rows(rd, row, user, err) < 0)
        goto out;
    rc = 0;
out:
    if (lines)
        *lines = rd->lines;
    free(rd->path);
    pb_csv_free(rd);
    free(rd);
    return rc;
}

static int
header(struct pb_reader *rd, const struct csv_row *row, struct pb_error *err)
{
    const struct pb_schema *s = rd->s;
    struct pb_buf unknown = PB_BUF_INIT;
    if (row->n > PB_MAX_COLUMNS)
        return pb_buf_release(&unknown), pb_error_at(err, PB_EDATA, rd->path, row->line, -1, -1, NULL,
                           "the header has %zu columns; at most %d are allowed", row->n,
                           PB_MAX_COLUMNS);
    rd->colmap = calloc(row->n, sizeof(*rd->colmap));
    rd->colname = calloc(row->n, sizeof(*rd->colname));
    if (!rd->colmap || !rd->colname)
        return pb_buf_release(&unknown), pb_error_set(err, PB_EOS, "out of memory");
    rd->ncols = row->n;
    for (size_t j = 0; j < row->n; j++) {
        const struct csv_cell *c = &rd->cells[row->first + j];
        const char *v = rd->cellbuf.data + c->off;
        size_t len = c->len;
        if (pb_reader_utf8(rd, row->line, &v, &len) < 0)
            return pb_buf_release(&unknown), pb_error_set(err, PB_EOS, "out of memory");
        while (len && (*v == ' ' || *v == '\t'))
            v++, len--;
        while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
            len--;
        int f = pb_schema_field(s, v, len);
        if (f < 0 && !(len > 2 && memcmp(v, "x_", 2) == 0))
            f = pb_schema_lookup(s, v, len);
        if (f >= 0) {
            for (size_t k = 0; k < j; k++)
                if (rd->colmap[k] == f)
                    return pb_buf_release(&unknown), pb_error_at(err, PB_EDATA, rd->path, row->line, (long)j + 1, -1,
                                       s->fields[f].name,
                                       "columns %zu and %zu are the same field", k + 1,
                                       j + 1);
            rd->colmap[j] = f;
            rd->present[f] = 1;
            rd->colname[j] = strdup(s->fields[f].name);
        } else if (len > 2 && memcmp(v, "x_", 2) == 0) {
            rd->colmap[j] = COL_EXTRA;
            rd->colname[j] = strndup(v, len);
        } else if (len == 0) {
            rd->colmap[j] = COL_UNKNOWN;
            rd->colname[j] = strdup("");
        } else if (rd->o.mode == PB_READ_FOREIGN) {
            rd->colmap[j] = COL_EXTRA;
            rd->colname[j] = pb_extra_name(v, len);
            if (pb_buf_addf(&unknown, "%s'%.*s' as %s", unknown.len ? ", " : "", (int)len,
                            v, rd->colname[j] ? rd->colname[j] : "?") < 0) {
                pb_buf_release(&unknown);
                return pb_buf_release(&unknown), pb_error_set(err, PB_EOS, "out of memory");
            }
        } else {
            rd->colmap[j] = COL_UNKNOWN;
            rd->colname[j] = strndup(v, len);
        }
        if (!rd->colname[j])
            return pb_buf_release(&unknown), pb_error_set(err, PB_EOS, "out of memory");
        for (size_t k = 0; k < j && rd->colmap[j] == COL_EXTRA; k++)
            if (rd->colmap[k] == COL_EXTRA && strcmp(rd->colname[k], rd->colname[j]) == 0)
                return pb_buf_release(&unknown), pb_error_at(err, PB_EDATA, rd->path, row->line, (long)j + 1, -1,
                                   rd->colname[j], "columns %zu and %zu have the same name",
                                   k + 1, j + 1);
    }
    if (unknown.len)
        pb_log(PB_LOG_INFO, "%s: kept other columns: %s", rd->path, unknown.data);
    pb_buf_release(&unknown);
    for (int f = 0; f < s->nfields; f++)
        if (s->fields[f].presence == PB_REQUIRED && !rd->present[f])
            return pb_buf_release(&unknown), pb_error_at(err, PB_EDATA, rd->path, row->line, -1, -1, s->fields[f].name,
                               "the header has no column for required field '%s'",
                               s->fields[f].name);
    rd->header_done = 1;
    return 0;
}

static int
is_blank(const struct pb_reader *rd, const struct csv_row *row)
{
    for (size_t j = 0; j < row->n; j++)
        if (rd->cells[row->first + j].len)
            return 0;
    return 1;
}

/*
 * What building one record writes besides the record: its own so that records can be
 * built on several threads at once (pb_csv_next_many).
 */
struct build_ctx {
    const struct csv_cell *cells; /* where the rows' cells are */
    const char *text;             /* and their bytes */
    struct pb_buf *scratch; /* text converted from Windows-1252 */
    struct pb_buf *money;   /* a foreign "$1,234.50" without its $ and commas */
    long cp1252_line;       /* the first line read as Windows-1252, 0 if none */
};

/* Is byte b a UTF-8 continuation byte? */
#define UTF8_CONT(b) (((unsigned char)(b) & 0xc0) == 0x80)

/*
 * The bytes from the row's first non-empty cell to the end of its last, [*lo, *hi),
 * checked as UTF-8 at once.  When they are, so is any cell between them that starts and
 * ends next to a byte that is not a continuation byte: such a cell needs no check of its
 * own.  0 when they are not, or the row has no text.
 */
static int
row_utf8(const struct build_ctx *bc, const struct csv_row *row, const char **lo,
         const char **hi)
{
    const struct csv_cell *first = bc->cells + row->first, *last = first + row->n;
    while (first < last && !first->len)
        first++;
    while (last > first && !last[-1].len)
        last--;
    *lo = *hi = NULL;
    if (first == last)
        return 0;
    *lo = bc->text + first->off;
    *hi = bc->text + last[-1].off + last[-1].len;
    return *hi > *lo && pb_utf8_valid(*lo, (size_t)(*hi - *lo));
}

/* pb_reader_utf8 without the warning, which the caller gives once per file. */
static int
to_utf8(struct build_ctx *bc, long line, const char **v, size_t *len)
{
    if (pb_utf8_valid(*v, *len))
        return 0;
    if (!bc->cp1252_line)
        bc->cp1252_line = line;
    pb_buf_reset(bc->scratch);
    if (pb_cp1252_to_utf8(*v, *len, bc->scratch) < 0)
        return -1;
    *v = bc->scratch->data;
    *len = bc->scratch->len;
    return 0;
}

static void
warn_cp1252(struct pb_reader *rd, long line)
{
    if (line && !rd->warned_cp1252) {
        rd->warned_cp1252 = 1;
        pb_log(PB_LOG_WARN, "%s:%ld: text is not UTF-8; reading the file as Windows-1252",
               rd->path, line);
    }
}

static void
reject(struct pb_error *bad, int *rejected, const struct pb_reader *rd,
       const struct csv_row *row, long record_no, size_t j, const char *field, const char *msg)
{
    if (*rejected)
        return;
    *rejected = 1;
    pb_error_at(bad, PB_EDATA, rd->path, row->line, (long)j + 1, record_no, field, "%s", msg);
}

/* Build record number record_no from row.  Reads rd but writes only rec, bad and bc. */
static int
build(const struct pb_reader *rd, struct build_ctx *bc, const struct csv_row *row,
      long record_no, struct pb_rec *rec, struct pb_error *bad)
{
    int rejected = 0;
    rec->line = row->line;
    rec->record_no = record_no;
    const char *lo, *hi;
    int span_utf8 = row_utf8(bc, row, &lo, &hi);
    for (size_t j = 0; j < row->n; j++) {
        const struct csv_cell *c = &bc->cells[row->first + j];
        const char *v = bc->text + c->off;
        size_t len = c->len;
        if (j >= rd->ncols) {
            if (len)
                reject(bad, &rejected, rd, row, record_no, j, NULL,
                       "this row has more cells than the header has columns");
            continue;
        }
        int col = rd->colmap[j];
        if (!len)
            continue;
        if (!(span_utf8 && v >= lo && v + len <= hi && !UTF8_CONT(v[0]) &&
              (v + len == hi || !UTF8_CONT(v[len]))) &&
            to_utf8(bc, row->line, &v, &len) < 0)
            return -1;
        if (col == COL_UNKNOWN) {
            char msg[200];
            snprintf(msg, sizeof(msg), "unknown column '%.120s' (name your own columns x_...)",
                     rd->colname[j]);
            reject(bad, &rejected, rd, row, record_no, j, NULL, msg);
            continue;
        }
        if (col == COL_EXTRA) {
            pb_unescape_formula(&v, &len);
            if (pb_rec_add_extra(rec, rd->colname[j], strlen(rd->colname[j]), v, len) < 0)
                return -1;
            continue;
        }
        const struct pb_field *f = &rd->s->fields[col];
        if (f->type == PB_T_TEXT || f->type == PB_T_ID) {
            pb_unescape_formula(&v, &len);
        } else {
            while (len && (*v == ' ' || *v == '\t'))
                v++, len--;
            while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
                len--;
            if (rd->o.mode == PB_READ_FOREIGN && (f->type == PB_T_MONEY || f->type == PB_T_QTY ||
                                                   f->type == PB_T_DECIMAL)) {
                /* Spreadsheet exports write "$1,234.50". */
                pb_buf_reset(bc->money);
                for (size_t k = 0; k < len; k++)
                    if (v[k] != '$' && v[k] != ',' && pb_buf_addch(bc->money, v[k]) < 0)
                        return -1;
                v = bc->money->data;
                len = bc->money->len;
            }
        }
        const char *why;
        /* to_utf8 has made v valid UTF-8 (converting it if need be). */
        if (pb_rec_set_checked_utf8(rec, col, v, len, rd->o.tz, &why) < 0) {
            char msg[160];
            snprintf(msg, sizeof(msg), "%s: '%.*s%s'", why, len > 40 ? 40 : (int)len, v,
                     len > 40 ? "..." : "");
            reject(bad, &rejected, rd, row, record_no, j, f->name, msg);
            if (pb_rec_set(rec, col, v, len) < 0)
                return -1;
        }
    }
    int miss = pb_rec_missing(rec);
    if (miss >= 0 && !rejected) {
        long col = -1;
        for (size_t j = 0; j < rd->ncols; j++)
            if (rd->colmap[j] == miss)
                col = (long)j + 1;
        rejected = 1;
        pb_error_at(bad, PB_EDATA, rd->path, row->line, col, record_no,
                    rd->s->fields[miss].name, "required value is missing");
    }
    return rejected ? PB_READ_REJECT : PB_READ_OK;
}

/*
 * The next queued row that holds a record (the header and blank rows are taken care of
 * on the way): its index in rd->rows, with its record number counted; -2 when the queue
 * is empty; -1 on a bad header.
 */
static long
next_row(struct pb_reader *rd, struct pb_error *err)
{
    while (rd->row_pos < rd->nrows) {
        size_t at = rd->row_pos++;
        const struct csv_row *row = &rd->rows[at];
        if (is_blank(rd, row))
            continue;
        if (!rd->header_done) {
            if (header(rd, row, err) < 0)
                return -1;
            continue;
        }
        rd->record_no++;
        return (long)at;
    }
    return -2;
}

/* At the end of the file: PB_READ_EOF, or -1 when there was not even a header. */
static int
at_eof(struct pb_reader *rd, struct pb_error *err)
{
    if (!rd->header_done)
        return pb_error_at(err, PB_EDATA, rd->path, -1, -1, -1, NULL,
                           "the file is empty (no header row)");
    return PB_READ_EOF;
}

int
pb_csv_next(struct pb_reader *rd, struct pb_rec *rec, struct pb_error *bad,
            struct pb_error *err)
{
    for (;;) {
        long at = next_row(rd, err);
        if (at == -1)
            return -1;
        if (at >= 0) {
            struct build_ctx bc = {rd->cells, rd->cellbuf.data, &rd->scratch, &rd->line, 0};
            int rc = build(rd, &bc, &rd->rows[at], rd->record_no, rec, bad);
            warn_cp1252(rd, bc.cp1252_line);
            if (rc < 0)
                return pb_error_set(err, PB_EOS, "out of memory");
            return rc;
        }
        compact(rd);
        if (rd->eof)
            return at_eof(rd, err);
        if (feed(rd, err) < 0)
            return -1;
    }
}

/* ---- several records at once, built on other threads ---- */

/*
 * A pipeline of two batches: while the caller works through one batch's records, helper
 * threads build the next, and the reader splits the rows of the one after, then builds
 * alongside the helpers until the batch is done.  Records are claimed a few at a time, so
 * whoever is free builds.  A batch keeps its own cells (taken over from the reader), so
 * the reader's buffers move on freely.
 */
#define MANY_THREADS 8
#define MANY_MAX 1024

struct batch {
    int n;                 /* records */
    struct csv_row *rows;  /* their rows, cells indexed in `cells` */
    long *recno;
    struct csv_cell *cells;
    size_t ncells, cells_cap;
    struct pb_buf text;    /* the cells' bytes */
    struct pb_rec *recs;
    struct pb_error *bads;
    int *kinds;
    atomic_int claimed;    /* records claimed for building */
    int oom;
    long cp1252_line;      /* the first line read as Windows-1252 */
    int failed;            /* the file broke after these records... */
    struct pb_error fail;  /* ...like this */
};

struct build_pool {
    int nhelpers;
    pthread_t th[MANY_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long round;   /* bumped for each batch handed over */
    int pending;           /* helpers still building it */
    int quit;
    struct batch b[2];
    int building;          /* the batch the helpers have, -1 when none */
    int given;             /* the batch the caller has, -1 when none */
    /* per building thread: the helpers, then the caller's */
    struct pb_buf scratch[MANY_THREADS + 1], money[MANY_THREADS + 1];
    long cp1252[MANY_THREADS + 1];
    int oom[MANY_THREADS + 1];
};

struct helper_arg {
    struct pb_reader *rd;
    int k;
};

/* Records claimed at once. */
#define CLAIM 32

/* Build records of batch b (the one being built) as building thread k, claiming them until
 * none is left. */
static void
build_share(struct pb_reader *rd, struct build_pool *bp, struct batch *b, int k)
{
    struct build_ctx bc = {b->cells, b->text.data, &bp->scratch[k], &bp->money[k], 0};
    for (;;) {
        int from = atomic_fetch_add(&b->claimed, CLAIM);
        if (from >= b->n)
            break;
        int to = from + CLAIM < b->n ? from + CLAIM : b->n;
        for (int i = from; i < to; i++) {
            if (!b->recs[i].schema && pb_rec_init(&b->recs[i], rd->s, NULL) < 0) {
                bp->oom[k] = 1;
                return;
            }
            pb_rec_clear(&b->recs[i]);
            b->recs[i].file = rd->path;
            pb_error_init(&b->bads[i]);
            b->kinds[i] = build(rd, &bc, &b->rows[i], b->recno[i], &b->recs[i], &b->bads[i]);
            if (b->kinds[i] < 0 ||
                (rd->o.built && rd->o.built(rd->o.user, &b->recs[i], b->kinds[i]) < 0)) {
                bp->oom[k] = 1;
                return;
            }
        }
        /* the thread's first is its earliest: it claims in file order */
        if (bc.cp1252_line && !bp->cp1252[k])
            bp->cp1252[k] = bc.cp1252_line;
    }
}

static void *
build_helper(void *arg)
{
    struct pb_reader *rd = ((struct helper_arg *)arg)->rd;
    int k = ((struct helper_arg *)arg)->k;
    struct build_pool *bp = rd->pool;
    free(arg);
    unsigned long seen = 0;
    pthread_mutex_lock(&bp->mu);
    for (;;) {
        while (!bp->quit && bp->round == seen)
            pthread_cond_wait(&bp->go, &bp->mu);
        if (bp->quit)
            break;
        seen = bp->round;
        struct batch *b = &bp->b[bp->building];
        pthread_mutex_unlock(&bp->mu);
        build_share(rd, bp, b, k);
        pthread_mutex_lock(&bp->mu);
        if (--bp->pending == 0)
            pthread_cond_signal(&bp->done);
    }
    pthread_mutex_unlock(&bp->mu);
    return NULL;
}

/* Build what is left of the batch being built, wait for the helpers' last records; the
 * batch becomes the one given to the caller. */
static struct batch *
wait_built(struct pb_reader *rd)
{
    struct build_pool *bp = rd->pool;
    build_share(rd, bp, &bp->b[bp->building], bp->nhelpers);
    pthread_mutex_lock(&bp->mu);
    while (bp->pending)
        pthread_cond_wait(&bp->done, &bp->mu);
    pthread_mutex_unlock(&bp->mu);
    struct batch *b = &bp->b[bp->building];
    b->oom = 0;
    b->cp1252_line = 0;
    for (int k = 0; k <= bp->nhelpers; k++) {
        b->oom |= bp->oom[k];
        if (bp->cp1252[k] && (!b->cp1252_line || bp->cp1252[k] < b->cp1252_line))
            b->cp1252_line = bp->cp1252[k]; /* the earliest of all */
        bp->oom[k] = 0;
        bp->cp1252[k] = 0;
    }
    bp->given = bp->building;
    bp->building = -1;
    return b;
}

/* Hand batch i to the helpers. */
static void
post(struct build_pool *bp, int i)
{
    pthread_mutex_lock(&bp->mu);
    bp->building = i;
    atomic_store(&bp->b[i].claimed, 0);
    bp->pending = bp->nhelpers;
    bp->round++;
    pthread_cond_broadcast(&bp->go);
    pthread_mutex_unlock(&bp->mu);
}

static void
batch_release(struct batch *b)
{
    for (int i = 0; b->recs && i < MANY_MAX; i++)
        if (b->recs[i].schema)
            pb_rec_release(&b->recs[i]);
    free(b->recs);
    free(b->bads);
    free(b->kinds);
    free(b->rows);
    free(b->recno);
    free(b->cells);
    pb_buf_release(&b->text);
}

void
pb_csv_pool_free(struct pb_reader *rd)
{
    struct build_pool *bp = rd->pool;
    if (!bp)
        return;
    pthread_mutex_lock(&bp->mu);
    while (bp->pending) /* a batch still being built is let finish */
        pthread_cond_wait(&bp->done, &bp->mu);
    bp->quit = 1;
    pthread_cond_broadcast(&bp->go);
    pthread_mutex_unlock(&bp->mu);
    for (int k = 0; k < bp->nhelpers; k++)
        pthread_join(bp->th[k], NULL);
    for (int k = 0; k <= MANY_THREADS; k++) {
        pb_buf_release(&bp->scratch[k]);
        pb_buf_release(&bp->money[k]);
    }
    batch_release(&bp->b[0]);
    batch_release(&bp->b[1]);
    pthread_mutex_destroy(&bp->mu);
    pthread_cond_destroy(&bp->go);
    pthread_cond_destroy(&bp->done);
    free(bp);
    rd->pool = NULL;
}

/* The pool with its helpers; NULL when not even one thread could be started. */
static struct build_pool *
pool_get(struct pb_reader *rd)
{
    if (rd->pool)
        return rd->pool;
    struct build_pool *bp = calloc(1, sizeof(*bp));
    if (!bp)
        return NULL;
    pthread_mutex_init(&bp->mu, NULL);
    pthread_cond_init(&bp->go, NULL);
    pthread_cond_init(&bp->done, NULL);
    bp->building = bp->given = -1;
    for (int k = 0; k <= MANY_THREADS; k++) {
        pb_buf_init(&bp->scratch[k], 0);
        pb_buf_init(&bp->money[k], 0);
    }
    for (int i = 0; i < 2; i++) {
        struct batch *b = &bp->b[i];
        pb_buf_init(&b->text, 0);
        b->recs = calloc(MANY_MAX, sizeof(*b->recs));
        b->bads = calloc(MANY_MAX, sizeof(*b->bads));
        b->kinds = calloc(MANY_MAX, sizeof(*b->kinds));
        b->rows = calloc(MANY_MAX, sizeof(*b->rows));
        b->recno = calloc(MANY_MAX, sizeof(*b->recno));
        if (!b->recs || !b->bads || !b->kinds || !b->rows || !b->recno) { /* records: as used */
            rd->pool = bp;
            pb_csv_pool_free(rd);
            return NULL;
        }
    }
    rd->pool = bp;
    int want = rd->o.threads - 1; /* the caller's thread splits the rows */
    if (want < 1)
        want = 1;
    if (want > MANY_THREADS)
        want = MANY_THREADS;
    for (int k = 0; k < want; k++) {
        struct helper_arg *a = malloc(sizeof(*a));
        if (!a)
            break;
        a->rd = rd;
        a->k = k;
        if (pthread_create(&bp->th[k], NULL, build_helper, a) != 0) {
            free(a);
            break;
        }
        bp->nhelpers = k + 1;
    }
    if (!bp->nhelpers) {
        pb_csv_pool_free(rd);
        return NULL;
    }
    return bp;
}

/*
 * Batch b takes the rows queued so far without a copy of their bytes: it gets the reader's
 * cell buffers whole (its rows index them as they are), and the reader gets b's old ones
 * back with a copy of what b did not take: the queued rows after row_pos and a row still
 * open, at most a chunk's worth.
 */
static int
batch_take(struct pb_reader *rd, struct batch *b)
{
    size_t first = rd->row_pos < rd->nrows ? rd->rows[rd->row_pos].first : rd->cur_first;
    size_t keep = rd->ncells - first;
    struct pb_buf text = b->text;
    struct csv_cell *cells = b->cells;
    size_t cap = b->cells_cap;
    b->text = rd->cellbuf;
    b->cells = rd->cells;
    b->cells_cap = rd->cells_cap;
    b->ncells = rd->ncells;
    rd->cellbuf = text;
    rd->cells = cells;
    rd->cells_cap = cap;
    pb_buf_reset(&rd->cellbuf);
    if (keep) {
        if (keep > rd->cells_cap) {
            size_t want = rd->cells_cap ? rd->cells_cap : 256;
            while (want < keep)
                want *= 2;
            struct csv_cell *c = realloc(rd->cells, want * sizeof(*c));
            if (!c)
                return -1;
            rd->cells = c;
            rd->cells_cap = want;
        }
        size_t from = b->cells[first].off;
        if (pb_buf_add(&rd->cellbuf, b->text.data + from, b->text.len - from) < 0)
            return -1;
        for (size_t i = 0; i < keep; i++) {
            rd->cells[i] = b->cells[first + i];
            rd->cells[i].off -= from;
        }
    }
    queue_restart(rd, first, keep);
    return 0;
}

/* Fill batch b with up to max records' rows, reading on as needed: the rows pile up in
 * the reader's buffers, which b then takes.  -1 with err only when the file breaks
 * before any row (after some, the break is kept in b). */
static int
batch_fill(struct pb_reader *rd, struct batch *b, int max, struct pb_error *err)
{
    b->n = 0;
    b->failed = 0;
    for (;;) {
        long at = 0;
        while (b->n < max && (at = next_row(rd, err)) >= 0) {
            b->rows[b->n] = rd->rows[at];
            b->recno[b->n++] = rd->record_no;
        }
        if (at == -1)
            return -1;
        if (b->n == max)
            break;
        if (rd->eof) {
            if (at_eof(rd, err) < 0)
                return -1;
            break;
        }
        if (feed(rd, err) < 0) {
            if (!b->n)
                return -1;
            b->failed = 1;
            b->fail = *err;
            break;
        }
    }
    if (batch_take(rd, b) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    return 0;
}

int
pb_csv_next_many(struct pb_reader *rd, struct pb_rec **recs, struct pb_error **bads,
                 int **kinds, int max, struct pb_error *err)
{
    struct build_pool *bp = pool_get(rd);
    if (!bp)
        return pb_error_set(err, PB_EOS, "cannot start a thread");
    if (max > MANY_MAX)
        max = MANY_MAX;
    if (max < 1)
        max = 1;
    if (bp->given >= 0) {
        /* The caller is done with that batch.  If the file broke after it, say so now. */
        struct batch *g = &bp->b[bp->given];
        bp->given = -1;
        if (g->failed && bp->building < 0) {
            *err = g->fail;
            g->failed = 0;
            return -1;
        }
    }
    if (bp->building < 0) {
        /* The first call, or the file is at its end: fill one batch and build it. */
        if (batch_fill(rd, &bp->b[0], max, err) < 0)
            return -1;
        if (!bp->b[0].n)
            return 0;
        post(bp, 0);
    }
    /* The reader splits the next batch while the helpers build this one. */
    int next = 1 - bp->building;
    struct batch *nb = &bp->b[next];
    struct batch *cur = &bp->b[bp->building];
    int split_err = 0;
    struct pb_error serr;
    pb_error_init(&serr);
    nb->n = 0;
    if (!cur->failed && batch_fill(rd, nb, max, &serr) < 0) /* nothing follows a break */
        split_err = 1;
    struct batch *b = wait_built(rd);
    if (b->cp1252_line)
        warn_cp1252(rd, b->cp1252_line);
    if (b->oom) {
        nb->n = 0;
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    if (split_err) {
        /* nothing after b could be read: b, then the error */
        b->failed = 1;
        b->fail = serr;
    } else if (nb->n) {
        post(bp, next);
    }
    *recs = b->recs;
    *bads = b->bads;
    *kinds = b->kinds;
    return b->n;
}
