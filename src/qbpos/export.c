/* The export stage.  See include/posbridge/export.h. */
#include "posbridge/export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pb_schemas.h"
#include "posbridge/batch.h"
#include "posbridge/digest.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/money.h"
#include "posbridge/progress.h"
#include "posbridge/qbpos_items.h"
#include "posbridge/rejects.h"
#include "posbridge/spool.h"
#include "posbridge/banned.h"

/*
 * Duplicate detection in constant memory: a fixed 4 MiB Bloom filter flags keys that may
 * have been seen before; only those (the true duplicates plus a few false positives) are
 * tracked exactly, in `cands`.
 */
#define BLOOM_BITS ((uint64_t)1 << 25)

struct cand {
    char *key;
    uint64_t best;    /* spool index of the copy to keep */
    char time[32];    /* its time_modified */
    unsigned copies;
};

struct ex {
    const struct pb_export_opts *o;
    struct pb_batch batch;
    struct pb_spool spool;
    struct pb_columns cols;
    struct pb_rejects rejects;
    unsigned char *bloom;
    struct cand *cands;
    size_t ncands, cands_cap; /* open addressing, cap a power of two */
    int file_index;
    struct pb_export_result *res;
    struct pb_buf key;
};

static uint64_t
hash64(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

/* The identity of an item: its ListID, or its item number when the source has none. */
static int
item_key(struct ex *x, const struct pb_rec *r)
{
    size_t n;
    const char *v;
    pb_buf_reset(&x->key);
    if ((v = pb_rec_get(r, PB_ITEMS_LIST_ID, &n)) != NULL)
        return pb_buf_add(&x->key, v, n);
    if ((v = pb_rec_get(r, PB_ITEMS_ITEM_NUMBER, &n)) != NULL)
        return pb_buf_addch(&x->key, '#') < 0 ? -1 : pb_buf_add(&x->key, v, n);
    return 0;
}

static struct cand *
cand_find(struct ex *x, const char *key, size_t n, uint64_t h, int add)
{
    if (!x->cands_cap) {
        if (!add)
            return NULL;
        x->cands_cap = 1024;
        if (!(x->cands = calloc(x->cands_cap, sizeof(*x->cands))))
            return NULL;
    }
    size_t mask = x->cands_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct cand *c = &x->cands[i];
        if (!c->key) {
            if (!add)
                return NULL;
            if (!(c->key = strndup(key, n)))
                return NULL;
            c->best = UINT64_MAX;
            x->ncands++;
            return c;
        }
        if (strlen(c->key) == n && memcmp(c->key, key, n) == 0)
            return c;
    }
}

static int
cand_grow(struct ex *x)
{
    if (!x->cands_cap || x->ncands * 2 < x->cands_cap)
        return 0;
    struct cand *old = x->cands;
    size_t oldcap = x->cands_cap;
    x->cands_cap *= 2;
    if (!(x->cands = calloc(x->cands_cap, sizeof(*x->cands)))) {
        x->cands = old;
        x->cands_cap = oldcap;
        return -1;
    }
    size_t mask = x->cands_cap - 1;
    for (size_t k = 0; k < oldcap; k++) {
        if (!old[k].key)
            continue;
        size_t i = hash64(old[k].key, strlen(old[k].key)) & mask;
        while (x->cands[i].key)
            i = (i + 1) & mask;
        x->cands[i] = old[k];
    }
    free(old);
    return 0;
}

static int
on_item(void *user, struct pb_rec *rec, const struct pb_error *bad, struct pb_error *err)
{
    struct ex *x = user;
    x->res->read++;
    if (bad)
        return pb_rejects_add(&x->rejects, bad, rec, err);
    if (item_key(x, rec) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    uint64_t h = hash64(x->key.data, x->key.len);
    int seen = 1;
    for (int k = 0; k < 3; k++) {
        uint64_t bit = (h >> (k * 19)) & (BLOOM_BITS - 1);
        if (!(x->bloom[bit >> 3] & (1u << (bit & 7)))) {
            seen = 0;
            x->bloom[bit >> 3] |= (unsigned char)(1u << (bit & 7));
        }
    }
    if (seen && (cand_grow(x) < 0 || !cand_find(x, x->key.data, x->key.len, h, 1)))
        return pb_error_set(err, PB_EOS, "out of memory");
    if (pb_columns_note(&x->cols, rec) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    return pb_spool_put(&x->spool, rec, x->file_index, err);
}

static int
is_xml(const char *path, struct pb_error *err)
{
    unsigned char head[512];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pb_error_sys(err, PB_ENOINPUT, errno, "cannot open '%s'", path);
    ssize_t n = read(fd, head, sizeof(head));
    close(fd);
    if (n < 0)
        return pb_error_sys(err, PB_EIO, errno, "cannot read '%s'", path);
    ssize_t i = 0;
    if (n >= 3 && head[0] == 0xef && head[1] == 0xbb && head[2] == 0xbf)
        i = 3;
    while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
        i++;
    /* UTF-16 documents start with a BOM or a NUL next to the '<'. */
    if (n >= 2 && ((head[0] == 0xff && head[1] == 0xfe) || (head[0] == 0xfe && head[1] == 0xff)))
        return 1;
    return i < n && head[i] == '<';
}

static int
read_csv(struct ex *x, const char *path, struct pb_error *err)
{
    struct pb_read_opts ro = {PB_READ_FOREIGN, x->o->tz ? x->o->tz : "UTC", PB_ENC_CSV, NULL,
                              1, NULL, NULL};
    struct pb_rec rec;
    struct pb_error bad;
    int rc = -1;
    struct pb_reader *rd = pb_reader_open(path, &pb_schema_items, &ro, err);
    if (!rd)
        return -1;
    if (pb_rec_init(&rec, &pb_schema_items, err) < 0) {
        pb_reader_close(rd, NULL);
        return -1;
    }
    for (;;) {
        pb_error_init(&bad);
        int r = pb_reader_next(rd, &rec, &bad, err);
        if (r < 0)
            goto out;
        if (r == PB_READ_EOF)
            break;
        int c = r == PB_READ_OK ? pb_items_complete(&rec) : 0;
        if (c == -2) {
            pb_error_at(&bad, PB_EDATA, rec.file, rec.line, -1, rec.record_no, "qty_on_hand",
                        "the quantities are out of range");
            r = PB_READ_REJECT;
        } else if (c < 0) {
            pb_error_set(err, PB_EOS, "out of memory");
            goto out;
        }
        if (on_item(x, &rec, r == PB_READ_REJECT ? &bad : NULL, err) < 0)
            goto out;
    }
    rc = 0;
out:
    if (pb_reader_close(rd, rc == 0 ? err : NULL) < 0)
        rc = -1;
    pb_rec_release(&rec);
    return rc;
}

/* Second pass, only when some key may repeat: find the newest copy of each. */
static int
pick_newest(struct ex *x, struct pb_rec *rec, struct pb_error *err)
{
    int fi;
    uint64_t idx = 0;
    if (pb_spool_rewind(&x->spool, err) < 0)
        return -1;
    for (int r; (r = pb_spool_get(&x->spool, rec, &fi, err)) != 0; idx++) {
        if (r < 0 || item_key(x, rec) < 0)
            return -1;
        struct cand *c =
            cand_find(x, x->key.data, x->key.len, hash64(x->key.data, x->key.len), 0);
        if (!c)
            continue;
        size_t n = 0;
        const char *t = pb_rec_get(rec, PB_ITEMS_TIME_MODIFIED, &n);
        char tm[32];
        snprintf(tm, sizeof(tm), "%.*s", (int)n, t ? t : "");
        c->copies++;
        if (c->best == UINT64_MAX || strcmp(tm, c->time) >= 0) {
            c->best = idx;
            memcpy(c->time, tm, sizeof(tm));
        }
    }
    return 0;
}

static int
write_items(struct ex *x, struct pb_rec *rec, struct pb_error *err)
{
    const char *ext = x->o->enc == PB_ENC_CSV ? "csv" : "jsonl";
    char name[32];
    snprintf(name, sizeof(name), "items.%s%s", ext, x->o->gzip ? ".gz" : "");
    char *path = pb_batch_file(&x->batch, name);
    if (!path)
        return pb_error_set(err, PB_EOS, "out of memory");
    struct pb_writer *w =
        pb_writer_open(path, &pb_schema_items, x->o->enc, x->o->gzip, &x->cols, err);
    free(path);
    if (!w)
        return -1;
    int fi;
    uint64_t idx = 0;
    if (pb_spool_rewind(&x->spool, err) < 0)
        goto fail;
    for (int r; (r = pb_spool_get(&x->spool, rec, &fi, err)) != 0; idx++) {
        if (r < 0)
            goto fail;
        if (x->ncands) {
            if (item_key(x, rec) < 0)
                goto fail;
            struct cand *c =
                cand_find(x, x->key.data, x->key.len, hash64(x->key.data, x->key.len), 0);
            if (c && c->copies > 1 && c->best != idx) {
                x->res->duplicates++;
                pb_log(PB_LOG_INFO,
                       "item '%s' appears %u times; keeping the copy modified at %s", c->key,
                       c->copies, c->time[0] ? c->time : "(unknown)");
                continue;
            }
        }
        if (pb_writer_put(w, rec, err) < 0)
            goto fail;
    }
    char digest[65];
    uint64_t count;
    if (pb_writer_commit(w, digest, &count, err) < 0)
        return -1;
    x->res->written = count;
    json_t *stage = pb_batch_stage(&x->batch, "export");
    if (pb_batch_add_output(stage, name, digest, count, err) < 0)
        return -1;
    /* so that transform need not read the file again to know it untouched */
    return pb_batch_note_identity(&x->batch, stage, name, err);
fail:
    pb_writer_abort(w);
    return -1;
}

int
pb_export_run(const struct pb_export_opts *o, struct pb_export_result *res,
              struct pb_error *err)
{
    struct ex x;
    struct pb_rec rec;
    struct pb_progress progress;
    int rc = -1;
    memset(&x, 0, sizeof(x));
    memset(&progress, 0, sizeof(progress));
    memset(res, 0, sizeof(*res));
    x.o = o;
    x.res = res;
    pb_buf_init(&x.key, 4096);
    rec.schema = NULL;
    if (pb_batch_create_ex(&x.batch, o->batches_dir, o->out_dir, "catalog", o->now, o->force, err) < 0)
        goto out;
    char *rpath = pb_batch_file(&x.batch, "rejects.csv");
    if (!rpath || pb_rejects_init(&x.rejects, rpath, "export", err) < 0) {
        free(rpath);
        goto out;
    }
    free(rpath);
    if (!(x.bloom = calloc(BLOOM_BITS / 8, 1)) ||
        pb_columns_init(&x.cols, &pb_schema_items) < 0) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    if (pb_spool_open(&x.spool, x.batch.dir, err) < 0 ||
        pb_rec_init(&rec, &pb_schema_items, err) < 0)
        goto out;

    uint64_t total = 0;
    for (int i = 0; i < o->ninputs; i++) {
        struct stat sb;
        if (stat(o->inputs[i], &sb) == 0)
            total += (uint64_t)sb.st_size;
    }
    pb_progress_start(&progress, "export (bytes)", total);
    for (int i = 0; i < o->ninputs; i++) {
        const char *path = o->inputs[i];
        struct pb_qbpos_stats st = {0};
        x.file_index = i;
        int xml = is_xml(path, err);
        if (xml < 0)
            goto out;
        /* The manifest's hash of the input is computed beside the parse. */
        struct pb_digest_job *job = pb_digest_file_start(path);
        uint64_t before = res->read;
        int rr = xml ? pb_qbpos_read_items(path, o->tz, on_item, &x, &st, err)
                     : read_csv(&x, path, err);
        char hex[65];
        unsigned long long size;
        if (pb_digest_file_join(job, hex, &size, err) < 0 || rr < 0 ||
            pb_batch_add_input_hashed(&x.batch, path, hex, size, err) < 0)
            goto out;
        if (xml) {
            res->responses += (uint64_t)st.responses;
            if (st.responses == 0)
                pb_log(PB_LOG_WARN, "%s: no ItemInventoryQueryRs in this document", path);
            else if (st.declared != st.items)
                pb_log(PB_LOG_INFO, "%s: retCount says %ld items, the document holds %ld",
                       path, st.declared, st.items);
        }
        pb_log(PB_LOG_INFO, "%s: %llu items", path, (unsigned long long)(res->read - before));
        pb_progress_add(&progress, (uint64_t)size);
    }
    if (x.ncands && pick_newest(&x, &rec, err) < 0)
        goto out;
    if (write_items(&x, &rec, err) < 0)
        goto out;
    res->rejected = x.rejects.count;
    char digest[65];
    if (pb_rejects_commit(&x.rejects, digest, err) < 0)
        goto out;
    json_t *stage = pb_batch_stage(&x.batch, "export");
    if (digest[0] && pb_batch_add_output(stage, "rejects.csv", digest, res->rejected, err) < 0)
        goto out;
    if (json_object_set_new(stage, "read", json_integer((json_int_t)res->read)) < 0 ||
        json_object_set_new(stage, "written", json_integer((json_int_t)res->written)) < 0 ||
        json_object_set_new(stage, "rejected", json_integer((json_int_t)res->rejected)) < 0 ||
        json_object_set_new(stage, "duplicates", json_integer((json_int_t)res->duplicates)) <
            0) {
        pb_error_set(err, PB_EOS, "out of memory");
        goto out;
    }
    pb_spool_close(&x.spool);
    if (pb_batch_publish(&x.batch, err) < 0)
        goto out;
    res->batch_dir = strdup(x.batch.dir);
    rc = res->batch_dir ? 0 : pb_error_set(err, PB_EOS, "out of memory");
out:
    pb_progress_end(&progress);
    pb_spool_close(&x.spool);
    pb_rejects_release(&x.rejects);
    pb_columns_release(&x.cols);
    pb_batch_release(&x.batch);
    if (rec.schema)
        pb_rec_release(&rec);
    for (size_t k = 0; k < x.cands_cap; k++)
        free(x.cands[k].key);
    free(x.cands);
    free(x.bloom);
    pb_buf_release(&x.key);
    return rc;
}
