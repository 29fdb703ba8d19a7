/* What a batch did, per store.  See include/posbridge/summary.h. */
#include "posbridge/summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "pb_schemas.h"
#include "posbridge/buf.h"
#include "posbridge/config.h"
#include "posbridge/err.h"
#include "posbridge/staged.h"
#include "posbridge/banned.h"

/* key -> the last line about it in an append-only journal (read only, never created);
 * with `created`, also the set of keys an earlier line says were created. */
static json_t *
journal_last(const char *path, json_t *created)
{
    FILE *fp = fopen(path, "r");
    json_t *last = json_object();
    char *line = NULL;
    size_t cap = 0;
    while (fp && last && getline(&line, &cap, fp) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        const char *key = json_string_value(json_object_get(j, "key"));
        if (key)
            json_object_set(last, key, j);
        const char *op = json_string_value(json_object_get(j, "op"));
        const char *st = json_string_value(json_object_get(j, "status"));
        if (key && created && op && st && !strcmp(op, "create") && !strcmp(st, "ok"))
            json_object_set_new(created, key, json_true());
        json_decref(j);
    }
    free(line);
    if (fp)
        fclose(fp);
    return last;
}


/* Append `s` as one shell word (single-quoted when it needs to be). */
static int
add_word(struct pb_buf *b, const char *s)
{
    int plain = *s != 0;
    for (const char *p = s; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:=@",
                       *p) != NULL;
    if (plain)
        return pb_buf_adds(b, s);
    if (pb_buf_adds(b, "'") < 0)
        return -1;
    for (const char *p = s; *p; p++)
        if ((*p == '\'' ? pb_buf_adds(b, "'\\''") : pb_buf_add(b, p, 1)) < 0)
            return -1;
    return pb_buf_adds(b, "'");
}

/* "posbridge VERB -c CONFIG --store STORE BATCH": a command that works from any directory. */
static char *
command(const struct pb_config *cfg, const char *verb, const char *store, const char *batch)
{
    struct pb_buf c = PB_BUF_INIT;
    char *conf = cfg->path ? realpath(cfg->path, NULL) : NULL;
    char *dir = realpath(batch, NULL);
    int bad = pb_buf_addf(&c, "posbridge %s", verb) < 0;
    if (!bad && (conf || cfg->path))
        bad = pb_buf_adds(&c, " -c ") < 0 || add_word(&c, conf ? conf : cfg->path) < 0;
    if (!bad && store)
        bad = pb_buf_adds(&c, " --store ") < 0 || add_word(&c, store) < 0;
    if (!bad)
        bad = pb_buf_adds(&c, " ") < 0 || add_word(&c, dir ? dir : batch) < 0;
    free(conf);
    free(dir);
    if (bad) {
        pb_buf_release(&c);
        return NULL;
    }
    return pb_buf_detach(&c, NULL);
}


static int
is_batch(const char *dir)
{
    char *m = pb_path_join(dir, "manifest.json");
    struct stat st;
    int yes = m && stat(m, &st) == 0 && S_ISREG(st.st_mode);
    free(m);
    return yes;
}

char *
pb_summary_find_batch(const struct pb_config *cfg, const char *arg)
{
    if (!arg || !*arg)
        return NULL;
    if (is_batch(arg))
        return strdup(arg);
    if (strchr(arg, '/') || !strcmp(arg, ".") || !strcmp(arg, ".."))
        return NULL; /* a path that is not a batch; an id has no '/' */
    char *bdir = pb_config_path(cfg, "batches");
    char *b = bdir ? pb_path_join(bdir, arg) : NULL;
    free(bdir);
    if (b && is_batch(b))
        return b;
    free(b);
    return NULL;
}

/* Calls fn for each good record of a staged file. */
static void
each_record(const char *path, const struct pb_schema *s, void (*fn)(void *, struct pb_rec *),
            void *user)
{
    struct pb_error err;
    struct pb_read_opts ro = {PB_READ_STAGED, "UTC", -1, NULL, 1, NULL, NULL};
    struct pb_rec rec;
    pb_error_init(&err);
    struct pb_reader *rd = pb_reader_open(path, s, &ro, &err);
    if (!rd || pb_rec_init(&rec, s, &err) < 0) {
        pb_reader_close(rd, NULL);
        return;
    }
    for (;;) {
        struct pb_error bad;
        pb_error_init(&bad);
        int r = pb_reader_next(rd, &rec, &bad, &err);
        if (r <= 0)
            break;
        if (r == PB_READ_OK)
            fn(user, &rec);
    }
    pb_reader_close(rd, NULL);
    pb_rec_release(&rec);
}

struct plan {
    json_t *actions; /* product key -> action ("reject" wins, then anything over unchanged) */
    json_t *why;     /* product key -> [sku, reason] of its first refused variant */
};

static void
plan_row(void *user, struct pb_rec *r)
{
    struct plan *p = user;
    const char *key = pb_rec_get(r, PB_PLAN_PRODUCT_KEY, NULL);
    const char *a = pb_rec_get(r, PB_PLAN_ACTION, NULL);
    if (!key || !a)
        return;
    const char *had = json_string_value(json_object_get(p->actions, key));
    if (!had || !strcmp(a, "reject") || !strcmp(had, "unchanged"))
        json_object_set_new(p->actions, key, json_string(a));
    if (!strcmp(a, "reject") && !json_object_get(p->why, key)) {
        const char *sku = pb_rec_get(r, PB_PLAN_SKU, NULL);
        const char *reason = pb_rec_get(r, PB_PLAN_REASON, NULL);
        json_object_set_new(p->why, key, json_pack("[s?, s?]", sku, reason));
    }
}

static void
receipt_row(void *user, struct pb_rec *r)
{
    const char *key = pb_rec_get(r, PB_RECEIPTS_RECEIPT_KEY, NULL);
    if (key)
        json_object_set_new(user, key, json_true());
}

static long
count_rows(const char *path)
{
    FILE *fp = fopen(path, "r");
    long n = -1;
    int c, prev = '\n';
    while (fp && (c = getc(fp)) != EOF) {
        if (c == '\n')
            n++;
        prev = c;
    }
    if (fp) {
        if (prev != '\n')
            n++;
        fclose(fp);
    }
    return n < 0 ? 0 : n;
}

static void
visit_rec(const struct pb_summary_visit *v, const char *store, const char *key,
          enum pb_summary_state st, json_t *last, const char *sku, const char *reason)
{
    if (v && v->record)
        v->record(v->user, store, key, st, last, sku, reason);
}

/* One catalog store: counts and the replay line. */
static json_t *
store_status(const struct pb_config *cfg, const char *batch, const char *store, json_t *manifest,
             const struct pb_summary_visit *visit)
{
    char *dir = pb_path_join(batch, store);
    char *plan = dir ? pb_path_join(dir, "plan.csv") : NULL;
    char *res = dir ? pb_path_join(dir, "results.jsonl") : NULL;
    struct plan p = {json_object(), json_object()};
    json_t *created_once = json_object();
    json_t *last = res ? journal_last(res, created_once) : json_object();
    struct stat st;
    long created = 0, updated = 0, failed = 0, pending = 0, rejected = 0, unchanged = 0,
         planned = 0;
    if (plan && stat(plan, &st) == 0)
        each_record(plan, &pb_schema_plan, plan_row, &p);
    const char *key;
    json_t *a;
    json_object_foreach(p.actions, key, a) {
        const char *act = json_string_value(a);
        json_t *l = json_object_get(last, key);
        const char *kind = json_string_value(json_object_get(l, "kind"));
        const char *s = json_string_value(json_object_get(l, "status"));
        enum pb_summary_state state;
        if (!strcmp(act, "reject"))
            state = PB_SUM_REJECTED, rejected++;
        else if (kind && !strcmp(kind, "intent"))
            state = PB_SUM_PENDING, pending++;
        else if (s && !strcmp(s, "ok") &&
                 (!strcmp(act, "create") || json_object_get(created_once, key)))
            /* created by this batch, in this run or an earlier one */
            state = PB_SUM_CREATED, created++;
        else if (s && !strcmp(s, "ok"))
            state = PB_SUM_UPDATED, updated++;
        else if (s)
            state = PB_SUM_FAILED, failed++;
        else if (!strcmp(act, "unchanged"))
            state = PB_SUM_UNCHANGED, unchanged++;
        else
            state = PB_SUM_NOT_SENT, planned++; /* a dry run, or a run stopped before it */
        json_t *why = state == PB_SUM_REJECTED ? json_object_get(p.why, key) : NULL;
        visit_rec(visit, store, key, state, l, json_string_value(json_array_get(why, 0)),
                  json_string_value(json_array_get(why, 1)));
    }
    /* products transform refused never reach the plan: the manifest counts them */
    json_t *ts = json_object_get(
        json_object_get(json_object_get(json_object_get(manifest, "stages"), "transform"),
                        "stores"),
        store);
    rejected += (long)json_integer_value(json_object_get(ts, "rejected_products"));
    /* rows of a hand-edited products file that upload refused */
    char *urj = dir ? pb_path_join(dir, "rejects-upload.csv") : NULL;
    if (urj && stat(urj, &st) == 0)
        rejected += count_rows(urj);
    free(urj);
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "store", store,
                          "created", (json_int_t)created, "updated", (json_int_t)updated,
                          "done", (json_int_t)(created + updated), "unchanged",
                          (json_int_t)unchanged, "failed", (json_int_t)failed, "pending",
                          (json_int_t)pending, "rejected", (json_int_t)rejected, "not_sent",
                          (json_int_t)planned);
    if (o && failed + pending + planned) {
        char *c = command(cfg, planned && !failed && !pending ? "upload" : "replay", store,
                          batch);
        if (c)
            json_object_set_new(o, "replay", json_string(c));
        free(c);
    }
    json_decref(p.actions);
    json_decref(p.why);
    json_decref(last);
    json_decref(created_once);
    free(dir);
    free(plan);
    free(res);
    return o;
}

static json_t *
sales_status(const struct pb_config *cfg, const char *batch, json_t *manifest, long rejects,
             const struct pb_summary_visit *visit)
{
    char *q = pb_path_join(batch, "qbpos");
    char *receipts = q ? pb_staged_find(q, "receipts") : NULL;
    char *state = pb_config_path(cfg, "state");
    char *ledger = state ? pb_path_join(state, "qbpos/ledger.jsonl") : NULL;
    json_t *keys = json_object(), *last = ledger ? journal_last(ledger, NULL) : json_object();
    long confirmed = 0, refused = 0, waiting = 0, not_sent = 0;
    if (receipts)
        each_record(receipts, &pb_schema_receipts, receipt_row, keys);
    const char *key;
    json_t *v;
    json_object_foreach(keys, key, v) {
        json_t *l = json_object_get(last, key);
        const char *kind = json_string_value(json_object_get(l, "kind"));
        const char *s = json_string_value(json_object_get(l, "status"));
        enum pb_summary_state st;
        if (!l)
            st = PB_SUM_NOT_SENT, not_sent++;
        else if (kind && !strcmp(kind, "intent"))
            st = PB_SUM_WAITING, waiting++;
        else if (s && !strcmp(s, "confirmed"))
            st = PB_SUM_CONFIRMED, confirmed++;
        else
            st = PB_SUM_REFUSED, refused++; /* failed, or absent: emit adds it again */
        visit_rec(visit, "qbpos", key, st, l, NULL, NULL);
    }
    json_t *stages = json_object_get(manifest, "stages");
    json_t *dl = json_object_get(stages, "download");
    json_t *tr = json_object_get(stages, "transform");
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "store", "qbpos",
                          "receipts", (json_int_t)json_object_size(keys), "emitted",
                          (json_int_t)(confirmed + refused + waiting), "confirmed",
                          (json_int_t)confirmed, "refused", (json_int_t)refused,
                          "waiting_for_qbpos", (json_int_t)waiting, "not_sent",
                          (json_int_t)not_sent, "rejected", (json_int_t)rejects);
    if (o && dl) {
        /* what download staged: the record count of each of its outputs */
        json_t *d = json_object();
        size_t i;
        json_t *out;
        json_array_foreach(json_object_get(dl, "outputs"), i, out) {
            const char *path = json_string_value(json_object_get(out, "path"));
            const char *slash = path ? strrchr(path, '/') : NULL;
            const char *name = slash ? slash + 1 : path;
            size_t n = name ? strcspn(name, ".") : 0;
            char kind[32];
            if (!n || n >= sizeof(kind) || !strncmp(name, "rejects", n))
                continue;
            memcpy(kind, name, n);
            kind[n] = '\0';
            json_object_set(d, kind, json_object_get(out, "records"));
        }
        const char *from = json_string_value(json_object_get(dl, "store"));
        if (from)
            json_object_set_new(o, "from", json_string(from));
        json_object_set_new(o, "downloaded", d);
    }
    if (o && json_object_get(tr, "orders")) {
        json_object_set_new(o, "transformed",
                            json_pack("{s:O, s:O?}", "orders", json_object_get(tr, "orders"),
                                      "returns", json_object_get(tr, "returns")));
    }
    if (o && refused + not_sent) {
        char *c = command(cfg, "replay", NULL, batch);
        if (c)
            json_object_set_new(o, "replay", json_string(c));
        free(c);
    }
    json_decref(keys);
    json_decref(last);
    free(q);
    free(receipts);
    free(state);
    free(ledger);
    return o;
}

json_t *
pb_summary_batch(const struct pb_config *cfg, const char *batch,
                 const struct pb_summary_visit *visit)
{
    char *mpath = pb_path_join(batch, "manifest.json");
    json_t *m = mpath ? json_load_file(mpath, 0, NULL) : NULL;
    free(mpath);
    if (!m)
        return NULL;
    const char *kind = json_string_value(json_object_get(m, "kind"));
    json_t *o = json_pack("{s:s, s:s, s:[]}", "batch", batch, "kind", kind ? kind : "?",
                          "stores");
    if (!o) {
        json_decref(m);
        return NULL;
    }
    json_t *stores = json_object_get(o, "stores");
    long rejects = 0;
    char *rj = pb_path_join(batch, "rejects.csv");
    if (rj)
        rejects += count_rows(rj);
    free(rj);
    for (int i = 0; i < cfg->nstores; i++) {
        char *d = pb_path_join(batch, cfg->stores[i].name);
        struct stat st;
        if (d && stat(d, &st) == 0 && S_ISDIR(st.st_mode))
            json_array_append_new(stores, store_status(cfg, batch, cfg->stores[i].name, m, visit));
        free(d);
    }
    char *q = pb_path_join(batch, "qbpos");
    char *receipts = q ? pb_staged_find(q, "receipts") : NULL;
    if (receipts) {
        char *qr = pb_path_join(q, "rejects.csv");
        long qrej = qr ? count_rows(qr) : 0;
        free(qr);
        json_array_append_new(stores, sales_status(cfg, batch, m, rejects + qrej, visit));
        rejects += qrej;
    }
    free(q);
    free(receipts);
    json_object_set_new(o, "rejected_records", json_integer(rejects));
    json_decref(m);
    return o;
}
