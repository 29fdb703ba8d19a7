/*
 * posbridge status [BATCH]: what the recent batches did, per store, and what is left.
 *
 * A catalog batch: per store, from <store>/plan.csv and <store>/results.jsonl, how many
 * products went through, failed, were refused, or are pending (an intent with no outcome:
 * a run that died).  A sales batch: how many receipts QBPOS confirmed, refused, or has not
 * answered yet (from qbpos/receipts.* and the ledger).  Whatever is not done comes with the
 * command that sends it again.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "pb_schemas.h"
#include "posbridge/cli.h"
#include "posbridge/config.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/staged.h"
#include "posbridge/banned.h"

static const char usage[] = "posbridge status [-qv] [-c FILE] [--json] [--last N] [BATCH]";

/* key -> the last line about it in an append-only journal (read only, never created). */
static json_t *
journal_last(const char *path)
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
        json_decref(j);
    }
    free(line);
    if (fp)
        fclose(fp);
    return last;
}

static char *
join(const char *a, const char *b)
{
    struct pb_buf p = PB_BUF_INIT;
    if (pb_buf_addf(&p, "%s/%s", a, b) < 0)
        return NULL;
    return pb_buf_detach(&p, NULL);
}

/* Calls fn for each good record of a staged file. */
static void
each_record(const char *path, const struct pb_schema *s, void (*fn)(void *, struct pb_rec *),
            void *user)
{
    struct pb_error err;
    struct pb_read_opts ro = {PB_READ_STAGED, "UTC", -1, NULL};
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

static void
plan_row(void *user, struct pb_rec *r)
{
    json_t *m = user; /* product key -> action ("reject" wins) */
    const char *key = pb_rec_get(r, PB_PLAN_PRODUCT_KEY, NULL);
    const char *a = pb_rec_get(r, PB_PLAN_ACTION, NULL);
    const char *had = json_string_value(json_object_get(m, key ? key : ""));
    if (key && a && (!had || !strcmp(a, "reject") || !strcmp(had, "unchanged")))
        json_object_set_new(m, key, json_string(a));
}

static void
receipt_row(void *user, struct pb_rec *r)
{
    const char *key = pb_rec_get(r, PB_RECEIPTS_RECEIPT_KEY, NULL);
    if (key)
        json_object_set_new(user, key, json_true());
}

/* One catalog store: counts and the replay line. */
static json_t *
store_status(const char *batch, const char *store)
{
    char *dir = join(batch, store);
    char *plan = dir ? join(dir, "plan.csv") : NULL;
    char *res = dir ? join(dir, "results.jsonl") : NULL;
    json_t *actions = json_object(), *last = res ? journal_last(res) : json_object();
    struct stat st;
    long done = 0, failed = 0, pending = 0, rejected = 0, unchanged = 0, planned = 0;
    if (plan && stat(plan, &st) == 0)
        each_record(plan, &pb_schema_plan, plan_row, actions);
    const char *key;
    json_t *a;
    json_object_foreach(actions, key, a) {
        const char *act = json_string_value(a);
        json_t *l = json_object_get(last, key);
        const char *kind = json_string_value(json_object_get(l, "kind"));
        const char *s = json_string_value(json_object_get(l, "status"));
        if (!strcmp(act, "reject"))
            rejected++;
        else if (kind && !strcmp(kind, "intent"))
            pending++;
        else if (s && !strcmp(s, "ok"))
            done++;
        else if (s)
            failed++;
        else if (!strcmp(act, "unchanged"))
            unchanged++;
        else
            planned++; /* planned, never sent (a dry run, or a run stopped before it) */
    }
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "store", store, "done",
                          (json_int_t)done, "unchanged", (json_int_t)unchanged, "failed",
                          (json_int_t)failed, "pending", (json_int_t)pending, "rejected",
                          (json_int_t)rejected, "not_sent", (json_int_t)planned);
    if (failed + pending + planned) {
        struct pb_buf c = PB_BUF_INIT;
        if (pb_buf_addf(&c, "posbridge %s --store %s %s", planned && !failed && !pending ? "upload" : "replay",
                        store, batch) == 0)
            json_object_set_new(o, "replay", json_string(c.data));
        pb_buf_release(&c);
    }
    json_decref(actions);
    json_decref(last);
    free(dir);
    free(plan);
    free(res);
    return o;
}

static json_t *
sales_status(const struct pb_config *cfg, const char *batch)
{
    char *q = join(batch, "qbpos");
    char *receipts = q ? pb_staged_find(q, "receipts") : NULL;
    char *state = pb_config_path(cfg, "state");
    char *ledger = state ? join(state, "qbpos/ledger.jsonl") : NULL;
    json_t *keys = json_object(), *last = ledger ? journal_last(ledger) : json_object();
    long confirmed = 0, refused = 0, waiting = 0, not_sent = 0;
    if (receipts)
        each_record(receipts, &pb_schema_receipts, receipt_row, keys);
    const char *key;
    json_t *v;
    json_object_foreach(keys, key, v) {
        json_t *l = json_object_get(last, key);
        const char *kind = json_string_value(json_object_get(l, "kind"));
        const char *s = json_string_value(json_object_get(l, "status"));
        if (!l)
            not_sent++;
        else if (kind && !strcmp(kind, "intent"))
            waiting++;
        else if (s && !strcmp(s, "confirmed"))
            confirmed++;
        else
            refused++; /* failed, or absent: emit adds it again */
    }
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "store", "qbpos", "confirmed",
                          (json_int_t)confirmed, "refused", (json_int_t)refused,
                          "waiting_for_qbpos", (json_int_t)waiting, "not_sent",
                          (json_int_t)not_sent);
    if (refused + not_sent) {
        struct pb_buf c = PB_BUF_INIT;
        if (pb_buf_addf(&c, "posbridge replay %s", batch) == 0)
            json_object_set_new(o, "replay", json_string(c.data));
        pb_buf_release(&c);
    }
    json_decref(keys);
    json_decref(last);
    free(q);
    free(receipts);
    free(state);
    free(ledger);
    return o;
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

static json_t *
batch_status(const struct pb_config *cfg, const char *batch)
{
    char *mpath = join(batch, "manifest.json");
    json_t *m = mpath ? json_load_file(mpath, 0, NULL) : NULL;
    free(mpath);
    if (!m)
        return NULL;
    const char *kind = json_string_value(json_object_get(m, "kind"));
    json_t *o = json_pack("{s:s, s:s, s:[]}", "batch", batch, "kind", kind ? kind : "?",
                          "stores");
    json_t *stores = json_object_get(o, "stores");
    long rejects = 0;
    char *rj = join(batch, "rejects.csv");
    if (rj)
        rejects += count_rows(rj);
    free(rj);
    for (int i = 0; i < cfg->nstores; i++) {
        char *d = join(batch, cfg->stores[i].name);
        struct stat st;
        if (d && stat(d, &st) == 0 && S_ISDIR(st.st_mode))
            json_array_append_new(stores, store_status(batch, cfg->stores[i].name));
        free(d);
    }
    char *q = join(batch, "qbpos");
    char *receipts = q ? pb_staged_find(q, "receipts") : NULL;
    if (receipts) {
        json_array_append_new(stores, sales_status(cfg, batch));
        char *qr = join(q, "rejects.csv");
        if (qr)
            rejects += count_rows(qr);
        free(qr);
    }
    free(q);
    free(receipts);
    json_object_set_new(o, "rejected_records", json_integer(rejects));
    json_decref(m);
    return o;
}

static void
print_batch(json_t *b)
{
    printf("%s  (%s)%s\n", json_string_value(json_object_get(b, "batch")),
           json_string_value(json_object_get(b, "kind")),
           json_integer_value(json_object_get(b, "rejected_records")) ? "  records refused: see rejects.csv" : "");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(b, "stores"), i, s) {
        const char *name = json_string_value(json_object_get(s, "store"));
        if (!strcmp(name, "qbpos"))
            printf("  %-16s %lld confirmed, %lld refused, %lld waiting for QBPOS's answer, %lld not sent\n",
                   name, json_integer_value(json_object_get(s, "confirmed")),
                   json_integer_value(json_object_get(s, "refused")),
                   json_integer_value(json_object_get(s, "waiting_for_qbpos")),
                   json_integer_value(json_object_get(s, "not_sent")));
        else
            printf("  %-16s %lld done, %lld unchanged, %lld failed, %lld pending, %lld rejected, %lld not sent\n",
                   name, json_integer_value(json_object_get(s, "done")),
                   json_integer_value(json_object_get(s, "unchanged")),
                   json_integer_value(json_object_get(s, "failed")),
                   json_integer_value(json_object_get(s, "pending")),
                   json_integer_value(json_object_get(s, "rejected")),
                   json_integer_value(json_object_get(s, "not_sent")));
        const char *r = json_string_value(json_object_get(s, "replay"));
        if (r)
            printf("  %-16s to send what is left: %s\n", "", r);
    }
}

static int
cmp_desc(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

int
cmd_status(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {
        PB_COMMON_LONG,
        {"json", no_argument, NULL, 'j'},
        {"last", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    long lastn = 10;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT "jn:", longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        switch (opt) {
        case 'h': return pb_cli_help(usage);
        case 'j': ctx->json = 1; break;
        case 'n':
            lastn = strtol(optarg, NULL, 10);
            if (lastn < 1)
                return pb_cli_usage(usage);
            break;
        default: return pb_cli_usage(usage);
        }
    }
    if (argc - optind > 1)
        return pb_cli_usage(usage);
    struct pb_error err;
    struct pb_config cfg;
    pb_error_init(&err);
    if (pb_config_load(&cfg, ctx->config_path, &err) < 0) {
        pb_config_release(&cfg);
        return pb_cli_fail(&err);
    }
    json_t *all = json_array();
    int rc = PB_EX_OK;
    if (optind < argc) {
        json_t *b = batch_status(&cfg, argv[optind]);
        if (!b) {
            fprintf(stderr, "posbridge: status: '%s' is not a batch (no manifest.json)\n",
                    argv[optind]);
            rc = PB_EX_NOINPUT;
        } else {
            json_array_append_new(all, b);
        }
    } else {
        char *bdir = pb_config_path(&cfg, "batches");
        DIR *d = bdir ? opendir(bdir) : NULL;
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 32;
                char **v = realloc(names, cap * sizeof(*v));
                if (!v)
                    break;
                names = v;
            }
            names[n++] = strdup(de->d_name);
        }
        if (d)
            closedir(d);
        if (names)
            qsort(names, n, sizeof(*names), cmp_desc);
        for (size_t i = 0; i < n && (long)json_array_size(all) < lastn; i++) {
            char *b = names[i] ? join(bdir, names[i]) : NULL;
            json_t *s = b ? batch_status(&cfg, b) : NULL;
            if (s)
                json_array_append_new(all, s);
            free(b);
        }
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        free(bdir);
    }
    if (ctx->json) {
        char *text = json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text)
            printf("%s\n", text);
        free(text);
    } else {
        size_t i;
        json_t *b;
        if (!json_array_size(all) && rc == PB_EX_OK)
            printf("no batches yet\n");
        json_array_foreach(all, i, b) print_batch(b);
    }
    json_decref(all);
    pb_config_release(&cfg);
    return rc;
}
