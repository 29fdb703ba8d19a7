/* Binary record spool in an unlinked temp file.  See spool.h. */
#include "posbridge/spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "posbridge/err.h"
#include "posbridge/banned.h"

/*
 * Record layout, native byte order (the file never outlives the process):
 *   u32 payload bytes, i64 line, i64 record_no, i32 file index, u32 fields, u32 extras,
 *   u32 text bytes; per field: u32 index, u32 offset, u32 len; per extra: u32 name offset,
 *   u32 name len, u32 value offset, u32 value len; then the record's text as it keeps it
 *   (every value followed by a NUL), so a record goes out and comes back in one copy.
 * A record whose text is its fields' values in field order and nothing else (as a reader
 * makes it), with fewer than 65 fields and no value of 64 KiB or more, is kept compact,
 * marked by COMPACT in its field count: a u64 of which fields it has and a u16 length per
 * value, the offsets following from the lengths.  That is about half the bytes of an
 * item to write and read back.
 */
#define HEAD 36
#define COMPACT 0x80000000u

/* The stream's buffer: what goes to the file in one write. */
#define SPOOL_BUF (1 << 18)

int
pb_spool_open(struct pb_spool *sp, const char *dir, struct pb_error *err)
{
    struct pb_buf path = PB_BUF_INIT;
    memset(sp, 0, sizeof(*sp));
    pb_buf_init(&sp->io, 0);
    if (pb_buf_addf(&path, "%s/.spool-XXXXXX", dir) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    int fd = mkstemp(path.data);
    if (fd < 0) {
        pb_error_sys(err, PB_ECANTCREAT, errno, "cannot create a temp file in '%s'", dir);
        pb_buf_release(&path);
        return -1;
    }
    unlink(path.data);
    pb_buf_release(&path);
    sp->fp = fdopen(fd, "w+");
    sp->fpbuf = malloc(SPOOL_BUF);
    if (!sp->fp || !sp->fpbuf) {
        if (sp->fp)
            fclose(sp->fp);
        else
            close(fd);
        free(sp->fpbuf);
        memset(sp, 0, sizeof(*sp));
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    /* Given no buffer, glibc would take one page whatever the size asked: the spool
     * would go out in 4 KiB writes. */
    setvbuf(sp->fp, sp->fpbuf, _IOFBF, SPOOL_BUF);
    return 0;
}

void
pb_spool_close(struct pb_spool *sp)
{
    if (sp->fp)
        fclose(sp->fp);
    free(sp->fpbuf);
    sp->fpbuf = NULL;
    pb_spool_cursor_release(&sp->cur);
    pb_buf_release(&sp->io);
    sp->fp = NULL;
}

static char *
put32(char *o, size_t v)
{
    uint32_t u = (uint32_t)v;
    memcpy(o, &u, 4);
    return o + 4;
}

/* The compact form's index of r at o (room for 8 + 2 per field): its end, or NULL when r
 * cannot be kept so. */
static char *
compact_index(const struct pb_rec *r, char *o)
{
    uint64_t mask = 0;
    size_t at = 0;
    char *lens = o + 8;
    if (r->nextra || r->schema->nfields > 64)
        return NULL;
    for (int i = 0; i < r->schema->nfields; i++) {
        if (!pb_rec_has(r, i))
            continue;
        if (r->off[i] - 1 != at || r->len[i] > UINT16_MAX)
            return NULL;
        uint16_t n = (uint16_t)r->len[i];
        memcpy(lens, &n, 2);
        lens += 2;
        mask |= 1ull << i;
        at += r->len[i] + 1;
    }
    if (at != r->text.len)
        return NULL;
    memcpy(o, &mask, 8);
    return lens;
}

int
pb_spool_encode(const struct pb_rec *r, int file_index, struct pb_buf *b, struct pb_error *err)
{
    size_t nf = 0, tl = r->text.len;
    int64_t line = r->line, rno = r->record_no;
    int32_t fi = file_index;
    /* Room for the larger form with every field: what fits that, either form fits. */
    size_t need = HEAD + 12 * (size_t)r->schema->nfields + 16 * r->nextra + tl;
    if (need - 4 > UINT32_MAX)
        return pb_error_set(err, PB_EDATA, "a record is too big for the spool");
    if (pb_buf_grow(b, need + 8) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    char *start = b->data + b->len, *o = start + 4;
    memcpy(o, &line, 8);
    memcpy(o + 8, &rno, 8);
    memcpy(o + 16, &fi, 4);
    char *end = compact_index(r, o + 32);
    if (end)
        nf = (size_t)(end - (o + 32) - 8) / 2;
    else
        for (int i = 0; i < r->schema->nfields; i++)
            nf += pb_rec_has(r, i);
    o = put32(put32(put32(o + 20, end ? nf | COMPACT : nf), r->nextra), tl);
    if (end) {
        o = end;
    } else {
        for (int i = 0; i < r->schema->nfields; i++)
            if (pb_rec_has(r, i))
                o = put32(put32(put32(o, (size_t)i), r->off[i] - 1), r->len[i]);
        for (size_t k = 0; k < r->nextra; k++) {
            const struct pb_extra *e = &r->extra[k];
            o = put32(put32(put32(put32(o, e->name), e->name_len), e->value), e->value_len);
        }
    }
    memcpy(o, r->text.data, tl);
    o += tl;
    put32(start, (size_t)(o - start) - 4);
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

int
pb_spool_put(struct pb_spool *sp, const struct pb_rec *r, int file_index, struct pb_error *err)
{
    pb_buf_reset(&sp->io);
    if (pb_spool_encode(r, file_index, &sp->io, err) < 0)
        return -1;
    return pb_spool_put_encoded(sp, sp->io.data, sp->io.len, err);
}

int
pb_spool_put_encoded(struct pb_spool *sp, const char *p, size_t n, struct pb_error *err)
{
    if (sp->reading) {
        if (fseeko(sp->fp, (off_t)sp->size, SEEK_SET) != 0)
            return pb_error_sys(err, PB_EIO, errno, "cannot write the spool file");
        sp->reading = 0;
        sp->cur.win_len = 0;
    }
    if (fwrite(p, 1, n, sp->fp) != n)
        return pb_error_sys(err, PB_EIO, errno, "cannot write the spool file");
    sp->size += n;
    sp->count++;
    return 0;
}

int
pb_spool_rewind(struct pb_spool *sp, struct pb_error *err)
{
    if (fflush(sp->fp) != 0 || fseek(sp->fp, 0, SEEK_SET) != 0)
        return pb_error_sys(err, PB_EIO, errno, "cannot read back the spool file");
    sp->reading = 1;
    return 0;
}

uint64_t
pb_spool_tell(const struct pb_spool *sp)
{
    return sp->size;
}

static uint32_t
get32(const char **p)
{
    uint32_t v;
    memcpy(&v, *p, 4);
    *p += 4;
    return v;
}

/* Decode one record payload [p, p + payload). */
/* Is text[off, off + len] a value of the text (its NUL inside)? */
static int
in_text(const char *text, uint32_t tl, uint32_t off, uint32_t len)
{
    return off < tl && len < tl - off && text[off + len] == '\0';
}

static int
decode(const char *p, uint32_t payload, struct pb_rec *r, int *file_index,
       struct pb_error *err)
{
    int64_t line, rno;
    int32_t fi;
    if (payload < HEAD - 4)
        goto bad;
    memcpy(&line, p, 8);
    memcpy(&rno, p + 8, 8);
    memcpy(&fi, p + 16, 4);
    p += 20;
    uint32_t nf = get32(&p), ne = get32(&p), tl = get32(&p);
    int compact = (nf & COMPACT) != 0;
    nf &= ~COMPACT;
    uint64_t index = compact ? 8 + 2ull * nf : 12ull * nf + 16ull * ne;
    if ((uint64_t)HEAD - 4 + index + tl != payload || (compact && ne))
        goto bad;
    const char *text = p + index;
    pb_rec_clear(r);
    r->line = line;
    r->record_no = rno;
    *file_index = fi;
    if (pb_buf_grow(&r->text, tl) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    memcpy(r->text.data, text, tl);
    r->text.len = tl;
    r->text.data[tl] = '\0';
    if (compact) {
        uint64_t mask;
        memcpy(&mask, p, 8);
        p += 8;
        uint32_t at = 0;
        if ((uint32_t)__builtin_popcountll(mask) != nf ||
            (r->schema->nfields < 64 && mask >> r->schema->nfields))
            goto bad;
        for (; mask; mask &= mask - 1) {
            int i = __builtin_ctzll(mask);
            uint16_t n;
            memcpy(&n, p, 2);
            p += 2;
            if (!in_text(text, tl, at, n))
                goto bad;
            r->off[i] = (size_t)at + 1;
            r->len[i] = n;
            at += (uint32_t)n + 1;
        }
        if (at != tl)
            goto bad;
        return 1;
    }
    for (uint32_t k = 0; k < nf; k++) {
        uint32_t i = get32(&p), off = get32(&p), n = get32(&p);
        if (i >= (uint32_t)r->schema->nfields || !in_text(text, tl, off, n))
            goto bad;
        r->off[i] = (size_t)off + 1;
        r->len[i] = n;
    }
    for (uint32_t k = 0; k < ne; k++) {
        uint32_t no = get32(&p), nn = get32(&p), vo = get32(&p), vn = get32(&p);
        if (!in_text(text, tl, no, nn) || !in_text(text, tl, vo, vn))
            goto bad;
        if (pb_rec_add_extra(r, text + no, nn, text + vo, vn) < 0)
            return pb_error_set(err, PB_EOS, "out of memory");
    }
    return 1;
bad:
    pb_rec_clear(r);
    return pb_error_set(err, PB_EIO, "the spool file is damaged");
}

int
pb_spool_get(struct pb_spool *sp, struct pb_rec *r, int *file_index, struct pb_error *err)
{
    uint32_t payload;
    size_t got = fread(&payload, 1, 4, sp->fp);
    if (got == 0 && feof(sp->fp))
        return 0;
    if (got != 4)
        return pb_error_set(err, PB_EIO, "the spool file is damaged");
    pb_buf_reset(&sp->io);
    if (pb_buf_grow(&sp->io, payload) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    if (fread(sp->io.data, 1, payload, sp->fp) != payload)
        return pb_error_set(err, PB_EIO, "the spool file is damaged");
    return decode(sp->io.data, payload, r, file_index, err);
}

#define WINDOW (1024 * 1024)

/* Make sure [offset, offset + n) is in the cursor's window; -1 on a short read. */
static int
window(const struct pb_spool *sp, struct pb_spool_cursor *c, uint64_t offset, size_t n)
{
    if (offset >= c->win_off && offset + n <= c->win_off + c->win_len)
        return 0;
    size_t want = n > WINDOW ? n : WINDOW;
    if (want > c->win_cap) {
        char *w = realloc(c->win, want);
        if (!w)
            return -1;
        c->win = w;
        c->win_cap = want;
    }
    ssize_t got = pread(fileno(sp->fp), c->win, want, (off_t)offset);
    if (got < (ssize_t)n)
        return -1;
    c->win_off = offset;
    c->win_len = (size_t)got;
    return 0;
}

int
pb_spool_seal(struct pb_spool *sp, struct pb_error *err)
{
    if (!sp->reading) {
        if (fflush(sp->fp) != 0)
            return pb_error_sys(err, PB_EIO, errno, "cannot read back the spool file");
        sp->reading = 1;
        sp->cur.win_len = 0;
    }
    return 0;
}

int
pb_spool_read_at(const struct pb_spool *sp, struct pb_spool_cursor *c, uint64_t offset,
                 struct pb_rec *r, int *file_index, struct pb_error *err)
{
    /* Random access through a 1 MiB window read with pread: records of one style are
     * usually near each other, so most reads are served from memory, and stdio's buffer
     * is never thrown away by a seek. */
    uint32_t payload;
    if (window(sp, c, offset, 4) < 0)
        return pb_error_set(err, PB_EIO, "the spool file is damaged");
    memcpy(&payload, c->win + (offset - c->win_off), 4);
    if (window(sp, c, offset, (size_t)payload + 4) < 0)
        return pb_error_set(err, PB_EIO, "the spool file is damaged");
    return decode(c->win + (offset - c->win_off) + 4, payload, r, file_index, err);
}

void
pb_spool_cursor_release(struct pb_spool_cursor *c)
{
    free(c->win);
    memset(c, 0, sizeof(*c));
}

int
pb_spool_get_at(struct pb_spool *sp, uint64_t offset, struct pb_rec *r, int *file_index,
                struct pb_error *err)
{
    if (pb_spool_seal(sp, err) < 0)
        return -1;
    return pb_spool_read_at(sp, &sp->cur, offset, r, file_index, err);
}
