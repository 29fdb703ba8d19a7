/*
 * The download stage driver and the record sink connectors feed.  See download.h.
 */
#include "posbridge/download.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pb_schemas.h"
#include "posbridge/atomic.h"
#include "posbridge/batch.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/progress.h"
#include "posbridge/rejects.h"
#include "posbridge/staged.h"
#include "posbridge/timefmt.h"
#include "posbridge/upload.h"
#include "posbridge/banned.h"

struct kept {
    char *id;
    int64_t updated;
    struct pb_rec *rows;
    int n;
};

struct kind_out {
    struct kept *v;
    int n, cap;
    json_t *index;            /* id -> position */
};

struct pb_dl {
    struct pb_progress progress; /* records received, drawn on a terminal */
    const struct pb_config *cfg;
    const struct pb_store_cfg *store;
    int64_t since, until;
    char since_s[32], until_s[32];
    struct kind_out out[PB_DL__COUNT];
    struct pb_rejects rejects;
    int rejects_open;
    struct pb_download_result *res;
    /* the record being built */
    int active, skip;
    enum pb_dl_kind kind;
    char *id;
    int64_t updated;
    struct pb_rec head;
    struct pb_rec *lines;
    int nlines, caplines;
    int in_line;
    int bad;
    char bad_field[64], bad_why[300];
    int oom;
};

static const struct pb_schema *const schemas[PB_DL__COUNT] = {
    &pb_schema_orders, &pb_schema_returns, &pb_schema_customers};
static const char *const kind_names[PB_DL__COUNT] = {"orders", "returns", "customers"};

int64_t
pb_dl_since(const struct pb_dl *dl)
{
    return dl->since;
}

int64_t
pb_dl_until(const struct pb_dl *dl)
{
    return dl->until;
}

const char *
pb_dl_since_text(const struct pb_dl *dl)
{
    return dl->since_s;
}

const char *
pb_dl_until_text(const struct pb_dl *dl)
{
    return dl->until_s;
}

static void
mark_bad(struct pb_dl *dl, const char *field, const char *why)
{
    if (dl->bad)
        return;
    dl->bad = 1;
    snprintf(dl->bad_field, sizeof(dl->bad_field), "%s", field ? field : "");
    snprintf(dl->bad_why, sizeof(dl->bad_why), "%s", why);
}

int
pb_dl_begin(struct pb_dl *dl, enum pb_dl_kind k, const char *id, const char *updated)
{
    const struct pb_schema *s = schemas[k];
    int64_t t = 0;
    const char *why;
    free(dl->id);
    dl->id = NULL;
    dl->active = 1;
    dl->skip = 0;
    dl->kind = k;
    dl->bad = 0;
    dl->in_line = 0;
    dl->nlines = 0;
    dl->oom = 0;
    if (!id || !*id || !(dl->id = strdup(id))) {
        if (id && *id)
            return -1;
        dl->id = strdup("");
        mark_bad(dl, "", "the platform gave no id");
    }
    if (!dl->id)
        return -1;
    if (!updated || pb_time_parse(updated, strlen(updated), "UTC", 1, &t, &why) < 0)
        mark_bad(dl, "updated_at", "no modified time the platform gave can be read");
    dl->updated = t;
    json_t *ix = json_object_get(dl->out[k].index, dl->id);
    if (ix && dl->out[k].v[json_integer_value(ix)].updated >= t) {
        dl->skip = 1; /* a copy at least as new is kept already */
        dl->res->duplicates++;
        return 0;
    }
    if (dl->head.schema != s) {
        pb_rec_release(&dl->head);
        struct pb_error e;
        if (pb_rec_init(&dl->head, s, &e) < 0)
            return -1;
    } else {
        pb_rec_clear(&dl->head);
    }
    return 1;
}

static struct pb_rec *
target(struct pb_dl *dl)
{
    return dl->in_line ? &dl->lines[dl->nlines - 1] : &dl->head;
}

void
pb_dl_setn(struct pb_dl *dl, int field, const char *v, size_t n)
{
    if (!dl->active || dl->skip || !v || !n)
        return;
    struct pb_rec *r = target(dl);
    const char *why = NULL;
    if (field < 0 || field >= r->schema->nfields)
        return;
    if (pb_rec_set_checked(r, field, v, n, "UTC", &why) < 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s: '%.*s'", why ? why : "not a valid value",
                 (int)(n > 80 ? 80 : n), v);
        mark_bad(dl, r->schema->fields[field].name, msg);
    }
}

void
pb_dl_set(struct pb_dl *dl, int field, const char *v)
{
    if (v)
        pb_dl_setn(dl, field, v, strlen(v));
}

void
pb_dl_set_json(struct pb_dl *dl, int field, json_t *v)
{
    char buf[64];
    if (!v)
        return; /* an absent key: nothing, as null */
    switch (json_typeof(v)) {
    case JSON_STRING: pb_dl_setn(dl, field, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER:
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        pb_dl_set(dl, field, buf);
        break;
    case JSON_REAL:
        /* money as a JSON number: six places, the schema keeps what is exact */
        snprintf(buf, sizeof(buf), "%.6f", json_real_value(v));
        pb_dl_set(dl, field, buf);
        break;
    case JSON_TRUE: pb_dl_set(dl, field, "true"); break;
    case JSON_FALSE: pb_dl_set(dl, field, "false"); break;
    default: break;
    }
}

void
pb_dl_line(struct pb_dl *dl)
{
    if (!dl->active || dl->skip)
        return;
    if (dl->nlines == dl->caplines) {
        int cap = dl->caplines ? 2 * dl->caplines : 8;
        struct pb_rec *v = realloc(dl->lines, (size_t)cap * sizeof(*v));
        if (!v) {
            dl->oom = 1;
            return;
        }
        memset(v + dl->caplines, 0, (size_t)(cap - dl->caplines) * sizeof(*v));
        dl->lines = v;
        dl->caplines = cap;
    }
    struct pb_rec *r = &dl->lines[dl->nlines];
    if (r->schema != schemas[dl->kind]) {
        struct pb_error e;
        pb_rec_release(r);
        if (pb_rec_init(r, schemas[dl->kind], &e) < 0) {
            dl->oom = 1;
            return;
        }
    } else {
        pb_rec_clear(r);
    }
    dl->nlines++;
    dl->in_line = 1;
}

void
pb_dl_bad(struct pb_dl *dl, const char *field, const char *why)
{
    if (dl->active && !dl->skip)
        mark_bad(dl, field, why);
}

static void
kept_release(struct kept *k)
{
    for (int i = 0; i < k->n; i++)
        pb_rec_release(&k->rows[i]);
    free(k->rows);
    free(k->id);
    memset(k, 0, sizeof(*k));
}

int
pb_dl_end(struct pb_dl *dl, struct pb_error *err)
{
    if (!dl->active)
        return 0;
    dl->active = 0;
    pb_progress_add(&dl->progress, 1);
    if (dl->skip)
        return 0;
    if (dl->oom)
        return pb_error_set(err, PB_EOS, "out of memory");
    const struct pb_schema *s = schemas[dl->kind];
    int n = dl->nlines ? dl->nlines : 1;
    struct pb_rec *rows = calloc((size_t)n, sizeof(*rows));
    if (!rows)
        return pb_error_set(err, PB_EOS, "out of memory");
    for (int i = 0; i < n; i++) {
        if (pb_rec_init(&rows[i], s, err) < 0 || pb_rec_copy(&rows[i], &dl->head) < 0) {
            for (int k = 0; k <= i; k++)
                pb_rec_release(&rows[k]);
            free(rows);
            return pb_error_set(err, PB_EOS, "out of memory");
        }
        rows[i].file = NULL;
        if (dl->nlines) {
            /* the line's own fields over the record's */
            const struct pb_rec *l = &dl->lines[i];
            for (int f = 0; f < s->nfields; f++) {
                size_t len;
                const char *v = pb_rec_get(l, f, &len);
                if (v && pb_rec_set(&rows[i], f, v, len) < 0)
                    dl->oom = 1;
            }
        }
        int miss = pb_rec_missing(&rows[i]);
        if (miss >= 0)
            mark_bad(dl, s->fields[miss].name, "the platform gave no value for a required field");
    }
    int rc = 0;
    if (dl->oom) {
        rc = pb_error_set(err, PB_EOS, "out of memory");
    } else if (dl->bad) {
        struct pb_error bad;
        char src[128];
        pb_error_init(&bad);
        snprintf(src, sizeof(src), "%s %s", dl->store->name, kind_names[dl->kind]);
        pb_error_at(&bad, PB_EDATA, src, -1, -1, -1, dl->bad_field[0] ? dl->bad_field : NULL,
                    "%s %s: %s", kind_names[dl->kind], dl->id, dl->bad_why);
        pb_log_error(PB_LOG_ERROR, &bad);
        dl->res->rejected++;
        rc = pb_rejects_add(&dl->rejects, &bad, &rows[0], err);
    } else {
        struct kind_out *o = &dl->out[dl->kind];
        json_t *ix = json_object_get(o->index, dl->id);
        struct kept *k;
        if (ix) {
            k = &o->v[json_integer_value(ix)];
            char *id = k->id;
            k->id = NULL;
            kept_release(k);
            k->id = id;
            dl->res->duplicates++;
        } else {
            if (o->n == o->cap) {
                int cap = o->cap ? 2 * o->cap : 64;
                struct kept *v = realloc(o->v, (size_t)cap * sizeof(*v));
                if (!v) {
                    rc = pb_error_set(err, PB_EOS, "out of memory");
                    goto out;
                }
                o->v = v;
                o->cap = cap;
            }
            k = &o->v[o->n];
            memset(k, 0, sizeof(*k));
            if (!(k->id = strdup(dl->id)) ||
                json_object_set_new(o->index, dl->id, json_integer(o->n)) < 0) {
                free(k->id);
                rc = pb_error_set(err, PB_EOS, "out of memory");
                goto out;
            }
            o->n++;
        }
        k->updated = dl->updated;
        k->rows = rows;
        k->n = n;
        return 0;
    }
out:
    for (int i = 0; i < n; i++)
        pb_rec_release(&rows[i]);
    free(rows);
    return rc;
}

/* ---- the stage ---- */

static char *
cursor_path(const struct pb_config *cfg, const char *store)
{
    char *st = pb_config_path(cfg, "state");
    struct pb_buf b = PB_BUF_INIT;
    if (!st || pb_buf_addf(&b, "%s/%s/cursor.json", st, store) < 0) {
        free(st);
        return NULL;
    }
    free(st);
    return pb_buf_detach(&b, NULL);
}

static int
write_kind(struct pb_dl *dl, struct pb_batch *batch, json_t *stage, enum pb_dl_kind k,
           struct pb_error *err)
{
    const struct pb_config *cfg = dl->cfg;
    const struct pb_schema *s = schemas[k];
    struct kind_out *o = &dl->out[k];
    struct pb_columns cols;
    struct pb_buf rel = PB_BUF_INIT;
    int rc = -1;
    if (pb_columns_init(&cols, s) < 0)
        return pb_error_set(err, PB_EOS, "out of memory");
    for (int i = 0; i < o->n; i++)
        for (int r = 0; r < o->v[i].n; r++)
            if (pb_columns_note(&cols, &o->v[i].rows[r]) < 0)
                goto oom;
    if (pb_buf_addf(&rel, "%s.%s%s", kind_names[k], cfg->format == PB_ENC_CSV ? "csv" : "jsonl",
                    cfg->gzip ? ".gz" : "") < 0)
        goto oom;
    char *path = pb_batch_file(batch, rel.data);
    if (!path)
        goto oom;
    struct pb_writer *w = pb_writer_open(path, s, cfg->format, cfg->gzip, &cols, err);
    free(path);
    if (!w)
        goto out;
    for (int i = 0; i < o->n; i++)
        for (int r = 0; r < o->v[i].n; r++)
            if (pb_writer_put(w, &o->v[i].rows[r], err) < 0) {
                pb_writer_abort(w);
                goto out;
            }
    char sha[65];
    uint64_t count;
    if (pb_writer_commit(w, sha, &count, err) < 0 ||
        pb_batch_add_output(stage, rel.data, sha, count, err) < 0)
        goto out;
    rc = 0;
    goto out;
oom:
    pb_error_set(err, PB_EOS, "out of memory");
out:
    pb_columns_release(&cols);
    pb_buf_release(&rel);
    return rc;
}

/*
 * Orders and refunds QBPOS already holds (confirmed in state/qbpos/ledger.jsonl) are not
 * staged again when a later window meets them: a QBPOS receipt cannot change anyway.
 */
static void
drop_confirmed(struct pb_dl *dl)
{
    char *st = pb_config_path(dl->cfg, "state");
    struct pb_buf p = PB_BUF_INIT;
    FILE *fp = st && pb_buf_addf(&p, "%s/qbpos/ledger.jsonl", st) == 0 ? fopen(p.data, "r") : NULL;
    json_t *status = json_object();
    char *line = NULL;
    size_t cap = 0;
    while (fp && status && getline(&line, &cap, fp) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        const char *key = json_string_value(json_object_get(j, "key"));
        const char *s = json_string_value(json_object_get(j, "status"));
        const char *kind = json_string_value(json_object_get(j, "kind"));
        if (key && kind && !strcmp(kind, "outcome") && s)
            json_object_set_new(status, key, json_string(s));
        json_decref(j);
    }
    free(line);
    if (fp)
        fclose(fp);
    static const char *const what[] = {"order", "return"};
    for (int k = PB_DL_ORDERS; status && json_object_size(status) && k <= PB_DL_RETURNS; k++) {
        struct kind_out *o = &dl->out[k];
        int w = 0;
        for (int i = 0; i < o->n; i++) {
            char key[512];
            snprintf(key, sizeof(key), "%s:%s:%s", dl->store->name, what[k], o->v[i].id);
            const char *s = json_string_value(json_object_get(status, key));
            if (s && !strcmp(s, "confirmed")) {
                pb_log(PB_LOG_INFO, "%s: %s %s is in QBPOS already", dl->store->name, what[k],
                       o->v[i].id);
                kept_release(&o->v[i]);
                dl->res->confirmed++;
                continue;
            }
            o->v[w++] = o->v[i];
        }
        o->n = w;
        json_object_clear(o->index); /* positions moved; nothing looks them up any more */
    }
    json_decref(status);
    pb_buf_release(&p);
    free(st);
}

int
pb_download_run(const struct pb_config *cfg, const struct pb_download_opts *o,
                struct pb_download_result *res, struct pb_error *err)
{
    struct pb_dl dl;
    struct pb_upload u;
    struct pb_upload_result ures;
    struct pb_batch batch;
    char *cpath = NULL, *bdir = NULL;
    int rc = -1, have_batch = 0;
    memset(&dl, 0, sizeof(dl));
    memset(&u, 0, sizeof(u));
    memset(&ures, 0, sizeof(ures));
    memset(&batch, 0, sizeof(batch));
    memset(res, 0, sizeof(*res));
    const struct pb_store_cfg *sc = pb_config_store(cfg, o->store);
    if (!sc)
        return pb_error_set(err, PB_EUSAGE, "no store '%s' in the configuration", o->store);
    dl.cfg = cfg;
    dl.store = sc;
    dl.res = res;
    pb_progress_start(&dl.progress, sc->name, 0);
    for (int k = 0; k < PB_DL__COUNT; k++)
        if (!(dl.out[k].index = json_object()))
            goto oom;
    /* The window. */
    int64_t now = (int64_t)time(NULL);
    const char *why;
    if (!(cpath = cursor_path(cfg, sc->name)))
        goto oom;
    if (o->since) {
        if (pb_time_parse(o->since, strlen(o->since), "UTC", 1, &dl.since, &why) < 0) {
            pb_error_set(err, PB_EUSAGE, "--since '%s': %s", o->since, why);
            goto out;
        }
    } else {
        json_error_t je;
        json_t *c = json_load_file(cpath, 0, &je);
        const char *until = json_string_value(json_object_get(c, "until"));
        int64_t t;
        if (c && until && pb_time_parse(until, strlen(until), "UTC", 0, &t, &why) == 0) {
            dl.since = t - sc->download_overlap;
        } else if (c) {
            json_decref(c);
            pb_error_set(err, PB_EDATA, "%s: no readable \"until\" time; fix or remove it", cpath);
            goto out;
        } else {
            dl.since = now - (int64_t)sc->download_first_days * 86400;
        }
        json_decref(c);
    }
    dl.until = now;
    pb_time_format(dl.since, dl.since_s);
    pb_time_format(dl.until, dl.until_s);
    snprintf(res->since, sizeof(res->since), "%s", dl.since_s);
    snprintf(res->until, sizeof(res->until), "%s", dl.until_s);
    /* The batch is built in a private directory and published whole. */
    char kind[128];
    snprintf(kind, sizeof(kind), "sales-%s", sc->name);
    if (!o->out_dir && !(bdir = pb_config_path(cfg, "batches")))
        goto oom;
    if (pb_batch_create(&batch, bdir, o->out_dir, kind, now, err) < 0)
        goto out;
    have_batch = 1;
    char *rj = pb_batch_file(&batch, "rejects.csv");
    if (!rj || pb_rejects_init(&dl.rejects, rj, "download", err) < 0) {
        free(rj);
        goto out;
    }
    free(rj);
    dl.rejects_open = 1;
    /* The store. */
    u.cfg = cfg;
    u.store = sc;
    u.res = &ures;
    if (pb_session_open(&u, err) < 0)
        goto out;
    if (!u.conn->download) {
        pb_error_set(err, PB_EUNAVAIL, "downloading orders from %s is not available yet",
                     pb_platform_name(sc->platform));
        goto out;
    }
    pb_log(PB_LOG_INFO, "%s: orders and refunds modified from %s to %s", sc->name, dl.since_s,
           dl.until_s);
    int r = u.conn->download(&u, &dl, err);
    pb_http_counts(u.http, &res->requests, &res->retries);
    res->auth_failed = ures.auth_failed;
    res->temp_failed = ures.temp_failed;
    res->unreachable = ures.unreachable;
    if (r < 0)
        goto out;
    drop_confirmed(&dl);
    pb_progress_end(&dl.progress);
    res->orders = (uint64_t)dl.out[PB_DL_ORDERS].n;
    res->returns = (uint64_t)dl.out[PB_DL_RETURNS].n;
    /* customers come with the orders they bought: none staged when no order is */
    res->customers = res->orders + res->returns ? (uint64_t)dl.out[PB_DL_CUSTOMERS].n : 0;
    for (int k = 0; k < PB_DL__COUNT; k++)
        for (int i = 0; i < dl.out[k].n; i++)
            res->lines += (uint64_t)dl.out[k].v[i].n;
    char rsha[65];
    json_t *stage = pb_batch_stage(&batch, "download");
    if (res->orders + res->returns + res->rejected) {
        for (int k = 0; k < PB_DL__COUNT; k++)
            if (write_kind(&dl, &batch, stage, (enum pb_dl_kind)k, err) < 0)
                goto out;
        if (pb_rejects_commit(&dl.rejects, rsha, err) < 0)
            goto out;
        if (dl.rejects.count &&
            pb_batch_add_output(stage, "rejects.csv", rsha, dl.rejects.count, err) < 0)
            goto out;
        json_object_set_new(stage, "store", json_string(sc->name));
        json_object_set_new(stage, "since", json_string(dl.since_s));
        json_object_set_new(stage, "until", json_string(dl.until_s));
        if (pb_batch_publish(&batch, err) < 0)
            goto out;
        snprintf(res->batch, sizeof(res->batch), "%s", batch.dir);
    }
    /* Only now, with the batch safe on disk, does the window move on. */
    json_t *c = json_pack("{s:s, s:s}", "since", dl.since_s, "until", dl.until_s);
    char *text = c ? json_dumps(c, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(c);
    char *dir = text ? strdup(cpath) : NULL;
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash)
        *slash = '\0';
    int w = !text || !dir ? pb_error_set(err, PB_EOS, "out of memory")
            : pb_mkdirs(dir, 0700, err) < 0 ? -1
            : pb_atomic_write(cpath, text, strlen(text), err);
    free(text);
    free(dir);
    if (w < 0)
        goto out;
    rc = 0;
    goto out;
oom:
    pb_error_set(err, PB_EOS, "out of memory");
out:
    pb_progress_end(&dl.progress);
    pb_session_close(&u);
    free(u.primary_location); /* a connector's prepare may set it, as for an upload */
    if (dl.rejects_open)
        pb_rejects_release(&dl.rejects);
    if (have_batch)
        pb_batch_release(&batch);
    for (int k = 0; k < PB_DL__COUNT; k++) {
        for (int i = 0; i < dl.out[k].n; i++)
            kept_release(&dl.out[k].v[i]);
        free(dl.out[k].v);
        json_decref(dl.out[k].index);
    }
    for (int i = 0; i < dl.caplines; i++)
        pb_rec_release(&dl.lines[i]);
    free(dl.lines);
    pb_rec_release(&dl.head);
    free(dl.id);
    free(cpath);
    free(bdir);
    return rc;
}
