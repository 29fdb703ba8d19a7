/* The rejects file every stage shares. */
#include "posbridge/rejects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_schemas.h"
#include "posbridge/err.h"
#include "posbridge/banned.h"

int
pb_rejects_init(struct pb_rejects *rj, const char *path, const char *stage,
                struct pb_error *err)
{
    memset(rj, 0, sizeof(*rj));
    rj->stage = stage;
    rj->path = strdup(path);
    if (!rj->path || pb_columns_init(&rj->cols, &pb_schema_rejects) < 0 ||
        pb_rec_init(&rj->rec, &pb_schema_rejects, err) < 0) {
        pb_rejects_release(rj);
        return pb_error_set(err, PB_EOS, "out of memory");
    }
    return 0;
}

static int
set_num(struct pb_rec *r, int i, long v)
{
    char num[32];
    if (v < 0)
        return 0;
    int n = snprintf(num, sizeof(num), "%ld", v);
    return pb_rec_set(r, i, num, (size_t)n);
}

static int
set_str(struct pb_rec *r, int i, const char *s)
{
    return s && *s ? pb_rec_set(r, i, s, strlen(s)) : 0;
}

int
pb_rejects_add(struct pb_rejects *rj, const struct pb_error *why, const struct pb_rec *raw,
               struct pb_error *err)
{
    struct pb_rec *r = &rj->rec;
    struct pb_buf data = PB_BUF_INIT;
    if (!rj->w) {
        rj->w = pb_writer_open(rj->path, &pb_schema_rejects, PB_ENC_CSV, 0, &rj->cols, err);
        if (!rj->w)
            return -1;
    }
    pb_rec_clear(r);
    const char *src = why->file[0] ? why->file : (raw && raw->file ? raw->file : "");
    if (raw && pb_rec_to_json_text(raw, &data) < 0)
        goto oom;
    if (set_str(r, PB_REJECTS_STAGE, rj->stage) < 0 || set_str(r, PB_REJECTS_SOURCE, src) < 0 ||
        set_num(r, PB_REJECTS_LINE, why->line) < 0 ||
        set_num(r, PB_REJECTS_COLUMN, why->column) < 0 ||
        set_num(r, PB_REJECTS_RECORD, why->record) < 0 ||
        set_str(r, PB_REJECTS_FIELD, why->field) < 0 ||
        set_str(r, PB_REJECTS_REASON, why->msg[0] ? why->msg : "rejected") < 0 ||
        (data.len && pb_rec_set(r, PB_REJECTS_DATA, data.data, data.len) < 0))
        goto oom;
    pb_buf_release(&data);
    if (pb_writer_put(rj->w, r, err) < 0)
        return -1;
    rj->count++;
    return 0;
oom:
    pb_buf_release(&data);
    return pb_error_set(err, PB_EOS, "out of memory");
}

int
pb_rejects_commit(struct pb_rejects *rj, char digest[65], struct pb_error *err)
{
    digest[0] = '\0';
    if (!rj->w)
        return 0;
    struct pb_writer *w = rj->w;
    rj->w = NULL;
    return pb_writer_commit(w, digest, NULL, err);
}

void
pb_rejects_release(struct pb_rejects *rj)
{
    pb_writer_abort(rj->w);
    pb_columns_release(&rj->cols);
    if (rj->rec.schema)
        pb_rec_release(&rj->rec);
    free(rj->path);
    memset(rj, 0, sizeof(*rj));
}
