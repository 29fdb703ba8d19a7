/*
 * Shared body of the CSV and JSONL reader harnesses: bytes -> a file -> pb_reader, read
 * one record at a time and again many at a time on two threads; the two readings must
 * agree record for record (values, origins, verdicts) or the harness aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pb_schemas.h"
#include "posbridge/buf.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/staged.h"

#define FUZZ_MANY 17

/* A record and its verdict as text. */
static int
fuzz_dump(struct pb_buf *out, const struct pb_rec *r, const struct pb_error *bad, int kind)
{
    int e = pb_buf_addf(out, "%d %ld #%ld", kind, r->line, r->record_no);
    for (int i = 0; i < r->schema->nfields; i++) {
        size_t n;
        const char *v = pb_rec_get(r, i, &n);
        if (v)
            e |= pb_buf_addf(out, " %d=", i) | pb_buf_add(out, v, n);
    }
    for (size_t k = 0; k < r->nextra; k++) {
        size_t n;
        const char *v = pb_rec_extra_value(r, k, &n);
        e |= pb_buf_addf(out, " %s=", pb_rec_extra_name(r, k)) | pb_buf_add(out, v, n);
    }
    if (kind == PB_READ_REJECT)
        e |= pb_buf_addf(out, " | %ld:%ld #%ld %s: %s", bad->line, bad->column, bad->record,
                         bad->field, bad->msg);
    return e | pb_buf_addch(out, '\n');
}

/* The whole file into out; many: FUZZ_MANY at a time, built on a helper thread. */
static void
fuzz_pass(const char *path, enum pb_read_mode mode, int many, struct pb_buf *out)
{
    struct pb_error err;
    struct pb_rec one;
    struct pb_error one_bad;
    int one_kind;
    struct pb_read_opts ro = {mode, "UTC", -1, NULL, many ? 2 : 1, NULL, NULL};
    pb_error_init(&err);
    struct pb_reader *rd = pb_reader_open(path, &pb_schema_items, &ro, &err);
    if (!rd)
        return;
    int ok = pb_rec_init(&one, &pb_schema_items, &err) == 0;
    for (int guard = 0; ok && guard < 100000; guard++) {
        struct pb_rec *recs = &one;
        struct pb_error *bads = &one_bad;
        int *kinds = &one_kind, got;
        if (many) {
            got = pb_reader_next_many(rd, &recs, &bads, &kinds, FUZZ_MANY, &err);
        } else {
            pb_error_init(&one_bad);
            one_kind = pb_reader_next(rd, &one, &one_bad, &err);
            got = one_kind < 0 ? -1 : one_kind == PB_READ_EOF ? 0 : 1;
        }
        if (got < 0 && pb_buf_addf(out, "error %ld %s\n", err.line, err.msg) < 0)
            abort();
        if (got <= 0)
            break;
        for (int i = 0; i < got; i++)
            if (fuzz_dump(out, &recs[i], &bads[i], kinds[i]) < 0)
                abort();
    }
    if (one.schema)
        pb_rec_release(&one);
    pb_reader_close(rd, NULL);
}

static int
fuzz_read(const uint8_t *data, size_t size, const char *suffix, enum pb_read_mode mode)
{
    static char path[64];
    if (!path[0]) {
        pb_log_level = -1;
        snprintf(path, sizeof(path), "/tmp/pbfuzz-%ld-items.%s", (long)getpid(), suffix);
    }
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    struct pb_buf one = PB_BUF_INIT, many = PB_BUF_INIT;
    fuzz_pass(path, mode, 0, &one);
    fuzz_pass(path, mode, 1, &many);
    if (one.len != many.len || (one.len && memcmp(one.data, many.data, one.len) != 0)) {
        fprintf(stderr, "one at a time and many at a time differ:\n--- one\n%.*s--- many\n%.*s",
                (int)(one.len > 4000 ? 4000 : one.len), one.len ? one.data : "",
                (int)(many.len > 4000 ? 4000 : many.len), many.len ? many.data : "");
        abort();
    }
    pb_buf_release(&one);
    pb_buf_release(&many);
    unlink(path);
    return 0;
}
