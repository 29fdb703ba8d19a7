/* Opening staged files, the parts of reading CSV and JSONL share, and dispatch. */
#include "posbridge/staged.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "posbridge/err.h"
#include "posbridge/log.h"
#include "staged_int.h"
#include "posbridge/banned.h"

struct pb_reader *
pb_reader_open(const char *path, const struct pb_schema *s, const struct pb_read_opts *opts,
               struct pb_error *err)
{
    int gz;
    enum pb_enc enc;
    struct pb_reader *rd = calloc(1, sizeof(*rd));
    if (!rd || !(rd->path = strdup(opts->name ? opts->name : path)) ||
        !(rd->present = calloc((size_t)s->nfields, 1))) {
        if (rd)
            free(rd->path);
        free(rd);
        pb_error_set(err, PB_EOS, "out of memory");
        return NULL;
    }
    rd->s = s;
    rd->o = *opts;
    pb_buf_init(&rd->scratch, PB_LINE_MAX * 4);
    pb_buf_init(&rd->line, PB_LINE_MAX);
    pb_buf_init(&rd->cellbuf, 0);
    pb_buf_init(&rd->unq, 0);
    if (opts->force_enc >= 0)
        enc = (enum pb_enc)opts->force_enc;
    else if (pb_staged_encoding(path, &enc, &gz) < 0)
        enc = PB_ENC_CSV;
    rd->enc = enc;
    rd->gz = gzopen(path, "rb");
    if (!rd->gz) {
        pb_error_sys(err, errno == ENOENT || errno == EACCES ? PB_ENOINPUT : PB_EIO, errno,
                     "cannot open '%s'", rd->path);
        pb_reader_close(rd, NULL);
        return NULL;
    }
    gzbuffer(rd->gz, 1 << 17);
    return rd;
}

long
pb_reader_fill(struct pb_reader *rd, void *buf, size_t n, struct pb_error *err)
{
    int got = gzread(rd->gz, buf, (unsigned)n);
    if (got < 0) {
        int zerr;
        const char *msg = gzerror(rd->gz, &zerr);
        if (zerr == Z_ERRNO)
            return pb_error_sys(err, PB_EIO, errno, "cannot read '%s'", rd->path);
        return pb_error_at(err, PB_EDATA, rd->path, -1, -1, -1, NULL,
                           "corrupt compressed file: %s", msg);
    }
    if (got == 0) {
        int zerr;
        const char *msg = gzerror(rd->gz, &zerr);
        if (zerr != Z_OK && zerr != Z_BUF_ERROR)
            return pb_error_at(err, PB_EDATA, rd->path, -1, -1, -1, NULL,
                               "corrupt compressed file: %s", msg);
        if (zerr == Z_BUF_ERROR)
            return pb_error_at(err, PB_EDATA, rd->path, -1, -1, -1, NULL,
                               "compressed file is truncated");
    }
    return got;
}

int
pb_reader_utf8(struct pb_reader *rd, long line, const char **v, size_t *len)
{
    if (pb_utf8_valid(*v, *len))
        return 0;
    if (!rd->warned_cp1252) {
        rd->warned_cp1252 = 1;
        pb_log(PB_LOG_WARN, "%s:%ld: text is not UTF-8; reading the file as Windows-1252",
               rd->path, line);
    }
    pb_buf_reset(&rd->scratch);
    if (pb_cp1252_to_utf8(*v, *len, &rd->scratch) < 0)
        return -1;
    *v = rd->scratch.data;
    *len = rd->scratch.len;
    return 0;
}

void
pb_unescape_formula(const char **v, size_t *len)
{
    const char *s = *v;
    if (*len < 2 || s[0] != '\'')
        return;
    switch (s[1]) {
    case '=': case '+': case '-': case '@': case '\t': case '\r': case '\'':
        (*v)++;
        (*len)--;
    }
}

int
pb_reader_next(struct pb_reader *rd, struct pb_rec *rec, struct pb_error *bad,
               struct pb_error *err)
{
    pb_rec_clear(rec);
    rec->file = rd->path;
    return rd->enc == PB_ENC_CSV ? pb_csv_next(rd, rec, bad, err)
                                 : pb_jsonl_next(rd, rec, bad, err);
}

int
pb_reader_next_many(struct pb_reader *rd, struct pb_rec **recs, struct pb_error **bads,
                    int **kinds, int max, struct pb_error *err)
{
    if (rd->enc == PB_ENC_CSV && rd->o.threads > 1)
        return pb_csv_next_many(rd, recs, bads, kinds, max, err);
    if (!rd->one.schema && pb_rec_init(&rd->one, rd->s, err) < 0)
        return -1;
    pb_error_init(&rd->one_bad);
    int r = pb_reader_next(rd, &rd->one, &rd->one_bad, err);
    if (r < 0)
        return -1;
    rd->one_kind = r;
    if (r != PB_READ_EOF && rd->o.built && rd->o.built(rd->o.user, &rd->one, r) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    *recs = &rd->one;
    *bads = &rd->one_bad;
    *kinds = &rd->one_kind;
    return r == PB_READ_EOF ? 0 : 1;
}

const unsigned char *
pb_reader_columns(const struct pb_reader *rd)
{
    return rd ? rd->present : NULL;
}

int
pb_reader_close(struct pb_reader *rd, struct pb_error *err)
{
    int rc = 0;
    if (!rd)
        return 0;
    if (rd->gz) {
        int zr = gzclose_r(rd->gz);
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            rc = pb_error_at(err, PB_EIO, rd->path, -1, -1, -1, NULL,
                             "error closing file (zlib %d)", zr);
    }
    pb_csv_pool_free(rd);
    if (rd->one.schema)
        pb_rec_release(&rd->one);
    pb_csv_free(rd);
    pb_buf_release(&rd->scratch);
    pb_buf_release(&rd->line);
    free(rd->rdbuf);
    free(rd->present);
    free(rd->path);
    free(rd);
    return rc;
}

char *
pb_staged_find(const char *dir, const char *kind)
{
    static const char *const exts[] = {".csv", ".jsonl", ".csv.gz", ".jsonl.gz"};
    for (size_t k = 0; k < sizeof(exts) / sizeof(exts[0]); k++) {
        struct pb_buf p = PB_BUF_INIT;
        if (pb_buf_addf(&p, "%s/%s%s", dir, kind, exts[k]) < 0)
            return NULL;
        if (access(p.data, F_OK) == 0)
            return pb_buf_detach(&p, NULL);
        pb_buf_release(&p);
    }
    return NULL;
}
