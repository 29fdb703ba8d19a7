/*
 * posbridge run: the nightly job.  Under an exclusive lock on the home directory:
 *
 *   ingest   QBPOS response documents waiting in [run] inbox (then moved to inbox/done/)
 *   export   the QBPOS item files in [run] source, when they changed since the last export
 *   transform that catalog batch for every store
 *   upload   to every store (one failing store does not stop the others)
 *   download each store's shipped orders and refunds
 *   transform each new sales batch into QBPOS receipts
 *   emit     every sales batch with receipts QBPOS has not confirmed, into [run] outbox
 *
 * Each run logs to <home>/log/<run id>-run.log, writes <run id>-report.html beside it (the
 * batches it touched, see src/core/report.c), prints one summary line per stage and store,
 * and exits with the most severe code of them all, so cron can mail on failure.
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "posbridge/atomic.h"
#include "posbridge/cli.h"
#include "posbridge/config.h"
#include "posbridge/download.h"
#include "posbridge/err.h"
#include "posbridge/export.h"
#include "posbridge/log.h"
#include "posbridge/receipts.h"
#include "posbridge/report.h"
#include "posbridge/sha256.h"
#include "posbridge/staged.h"
#include "posbridge/timefmt.h"
#include "posbridge/transform.h"
#include "posbridge/upload.h"
#include "posbridge/buf.h"
#include "posbridge/banned.h"

static const char usage[] = "posbridge run [-qv] [-c FILE] [--stores A,B] [--dry-run] [--json]";

struct run {
    struct pb_config cfg;
    const char *stores;       /* --stores, comma-separated, or NULL */
    int dry;
    int json;
    int worst;
    json_t *lines;            /* the summary */
    char id[32];
    char *home;
    char **touched;           /* the batches this run made or changed, for its report */
    int ntouched;
};

/* Remember a batch for the run's report (once). */
static void
touch(struct run *r, const char *batch)
{
    for (int i = 0; i < r->ntouched; i++)
        if (!strcmp(r->touched[i], batch))
            return;
    char **v = realloc(r->touched, (size_t)(r->ntouched + 1) * sizeof(*v));
    if (!v)
        return;
    r->touched = v;
    if ((v[r->ntouched] = strdup(batch)))
        r->ntouched++;
}

static void
say(struct run *r, const char *stage, const char *store, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* One summary line: printed, logged, kept for --json; the worst code wins. */
static void
say(struct run *r, const char *stage, const char *store, int code, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    r->worst = pb_exit_worst(r->worst, code);
    json_array_append_new(r->lines, json_pack("{s:s, s:s?, s:i, s:s}", "stage", stage, "store",
                                              store, "exit", code, "text", text));
    /* -q: nothing on a good night; on a bad one every line at the end (cron mails it) */
    if (!r->json && pb_log_level > PB_LOG_ERROR)
        printf("%-9s %-16s %s%s\n", stage, store ? store : "-", code ? "FAILED " : "", text);
    pb_log(code ? PB_LOG_WARN : PB_LOG_INFO, "run: %s %s: %s", stage, store ? store : "-", text);
}

static int
store_wanted(const struct run *r, const char *name)
{
    if (!r->stores)
        return 1;
    size_t n = strlen(name);
    for (const char *s = r->stores; *s;) {
        const char *c = strchr(s, ',');
        size_t k = c ? (size_t)(c - s) : strlen(s);
        while (k && *s == ' ')
            s++, k--;
        if (k == n && !strncmp(s, name, n))
            return 1;
        s = c ? c + 1 : s + k;
    }
    return 0;
}


/* ---- the lock ---- */

static int
take_lock(struct run *r, int *fd_out)
{
    char *path = pb_path_join(r->home, "lock");
    struct pb_error err;
    pb_error_init(&err);
    if (!path || pb_mkdirs(r->home, 0755, &err) < 0) {
        free(path);
        return pb_cli_fail(&err);
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "posbridge: run: cannot open the lock '%s': %s\n", path, strerror(errno));
        free(path);
        return PB_EX_CANTCREAT;
    }
    char held[256] = "";
    ssize_t n = pread(fd, held, sizeof(held) - 1, 0);
    held[n > 0 ? n : 0] = '\0';
    char *nl = strchr(held, '\n');
    if (nl)
        *nl = '\0';
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        /* never wait: cron starts the next one tomorrow */
        fprintf(stderr, "posbridge: run: another run holds %s (%s); not starting\n", path,
                held[0] ? held : "no details");
        close(fd);
        free(path);
        return PB_EX_TEMPFAIL;
    }
    if (held[0])
        pb_log(PB_LOG_WARN, "run: the last run (%s) did not finish (killed?); taking over its lock",
               held);
    char me[128], ts[32];
    pb_time_format((int64_t)time(NULL), ts);
    int k = snprintf(me, sizeof(me), "pid %ld, started %s\n", (long)getpid(), ts);
    if (ftruncate(fd, 0) < 0 || pwrite(fd, me, (size_t)k, 0) != k || fsync(fd) < 0)
        pb_log(PB_LOG_WARN, "run: cannot write the lock file: %s", strerror(errno));
    free(path);
    *fd_out = fd;
    return 0;
}

static void
drop_lock(int fd)
{
    /* empty: the run finished; a killed run leaves its pid for the next to see */
    if (ftruncate(fd, 0) < 0)
        pb_log(PB_LOG_WARN, "run: cannot clear the lock file: %s", strerror(errno));
    flock(fd, LOCK_UN);
    close(fd);
}

/* ---- directories ---- */

/* The batch has qbpos/receipts.* (a sales batch transform has made receipts for). */
static int
has_receipts(const char *batch)
{
    char *q = pb_path_join(batch, "qbpos");
    char *f = q ? pb_staged_find(q, "receipts") : NULL;
    int yes = f != NULL;
    free(q);
    free(f);
    return yes;
}

/* Move a handled file into dir/<sub>/ (made when missing). */
static void
move_into(const char *dir, const char *name, const char *sub)
{
    char *from = pb_path_join(dir, name), *to_dir = pb_path_join(dir, sub), *to = to_dir ? pb_path_join(to_dir, name) : NULL;
    struct pb_error err;
    pb_error_init(&err);
    if (from && to && pb_mkdirs(to_dir, 0755, &err) == 0 && rename(from, to) < 0)
        pb_log(PB_LOG_WARN, "run: cannot move %s to %s: %s", from, to, strerror(errno));
    free(from);
    free(to_dir);
    free(to);
}

/* ---- the stages ---- */

static void
stage_ingest(struct run *r, const char *batches)
{
    const char *inbox = r->cfg.run_inbox;
    char **files = pb_dir_list(inbox, 0, ".xml", ".XML");
    if (!files) {
        say(r, "ingest", NULL, 0, "no QBPOS responses waiting in %s", inbox);
        return;
    }
    char **sales = pb_dir_list(batches, 1, NULL, NULL);
    for (size_t i = 0; files[i]; i++) {
        /* <batch id>.xml answers that batch; anything else goes to the newest sales batch */
        char *batch = NULL;
        size_t len = strlen(files[i]);
        for (size_t k = 0; sales && sales[k]; k++)
            if (strlen(sales[k]) + 4 == len && !strncmp(files[i], sales[k], len - 4))
                batch = pb_path_join(batches, sales[k]);
        for (size_t k = 0; !batch && sales && sales[k]; k++) {
            size_t j = 0;
            while (sales[j])
                j++;
            for (size_t m = j; m-- > 0 && !batch;) {
                char *b = pb_path_join(batches, sales[m]);
                if (b && has_receipts(b))
                    batch = b;
                else
                    free(b);
            }
            break;
        }
        char *file = pb_path_join(inbox, files[i]);
        if (!batch || !file) {
            say(r, "ingest", NULL, PB_EX_DATAERR, "%s: no sales batch to record it in", files[i]);
            free(batch);
            free(file);
            continue;
        }
        struct pb_error err;
        struct pb_ingest_result res;
        pb_error_init(&err);
        touch(r, batch);
        int rc = pb_ingest_run(&r->cfg, batch, &file, 1, &res, &err);
        if (rc < 0) {
            char msg[600];
            pb_error_format(&err, msg, sizeof(msg));
            say(r, "ingest", NULL, pb_exit_code(err.code), "%s: %s (moved to rejected/)", files[i],
                msg);
            move_into(inbox, files[i], "rejected");
        } else {
            say(r, "ingest", NULL, res.failed ? PB_EX_DATAERR : 0,
                "%s: %llu receipts confirmed, %llu customers, %llu refused by QBPOS, %llu absent",
                files[i], (unsigned long long)res.confirmed, (unsigned long long)res.customers,
                (unsigned long long)res.failed, (unsigned long long)res.absent);
            move_into(inbox, files[i], "done");
        }
        free(batch);
        free(file);
    }
    pb_dir_list_free(files);
    pb_dir_list_free(sales);
}

/* A fingerprint of the source folder: names, sizes and modification times. */
static void
fingerprint(const char *dir, char **files, char hex[65])
{
    struct pb_sha256 s;
    pb_sha256_init(&s);
    for (size_t i = 0; files && files[i]; i++) {
        char *p = pb_path_join(dir, files[i]);
        struct stat st;
        char line[512];
        if (p && stat(p, &st) == 0) {
            int k = snprintf(line, sizeof(line), "%s %lld %lld.%09ld\n", files[i],
                             (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                             st.st_mtim.tv_nsec);
            pb_sha256_update(&s, line, (size_t)k);
        }
        free(p);
    }
    pb_sha256_hex(&s, hex);
}

/* The catalog batch to carry out: a new export, or the last one when nothing changed
 * (*fresh 0: it was transformed then already). */
static char *
stage_export(struct run *r, const char *batches, json_t *runstate, int *fresh)
{
    *fresh = 0;
    const char *src = r->cfg.run_source;
    char **files = pb_dir_list(src, 0, ".xml", ".csv");
    const char *last = json_string_value(json_object_get(runstate, "catalog_batch"));
    if (!files) {
        say(r, "export", NULL, 0, "no QBPOS item files in %s%s%s", src, last ? "; keeping " : "",
            last ? last : "");
        return last ? pb_path_join(batches, last) : NULL;
    }
    char fp[65];
    fingerprint(src, files, fp);
    const char *was = json_string_value(json_object_get(runstate, "source_fingerprint"));
    char *lastdir = last ? pb_path_join(batches, last) : NULL;
    struct stat st;
    if (was && !strcmp(was, fp) && lastdir && stat(lastdir, &st) == 0) {
        say(r, "export", NULL, 0, "QBPOS item files unchanged since %s", last);
        pb_dir_list_free(files);
        return lastdir;
    }
    free(lastdir);
    size_t n = 0;
    while (files[n])
        n++;
    char **paths = calloc(n + 1, sizeof(*paths));
    for (size_t i = 0; paths && i < n; i++)
        paths[i] = pb_path_join(src, files[i]);
    struct pb_export_opts o = {0};
    struct pb_export_result res;
    struct pb_error err;
    pb_error_init(&err);
    o.inputs = (const char *const *)paths;
    o.ninputs = (int)n;
    o.batches_dir = batches;
    o.enc = r->cfg.format;
    o.gzip = r->cfg.gzip;
    o.tz = r->cfg.qbpos_tz;
    o.now = (int64_t)time(NULL);
    char *out = NULL;
    if (!paths || pb_export_run(&o, &res, &err) < 0) {
        char msg[600];
        pb_error_format(&err, msg, sizeof(msg));
        say(r, "export", NULL, paths ? pb_exit_code(err.code) : PB_EX_OSERR, "%s", msg);
    } else {
        say(r, "export", NULL, res.rejected ? PB_EX_DATAERR : 0,
            "%zu files: %llu items, %llu rejected -> %s", n, (unsigned long long)res.written,
            (unsigned long long)res.rejected, res.batch_dir);
        out = res.batch_dir;
        *fresh = 1;
        const char *slash = strrchr(out, '/');
        json_object_set_new(runstate, "catalog_batch", json_string(slash ? slash + 1 : out));
        json_object_set_new(runstate, "source_fingerprint", json_string(fp));
    }
    for (size_t i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
    pb_dir_list_free(files);
    return out;
}

static void
hash_file(struct pb_sha256 *s, const char *path)
{
    /* The content only, never the path as typed: a hand run with `-c etc/posbridge.ini`
     * after cron's absolute path must not count as a change (it would transform again and
     * replace any hand edit of the stores' products files). */
    FILE *fp = path ? fopen(path, "rb") : NULL;
    char buf[65536];
    size_t n;
    int found = fp != NULL;
    struct pb_sha256 f;
    unsigned char d[32];
    pb_sha256_init(&f);
    while (fp && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
        pb_sha256_update(&f, buf, n);
    if (fp)
        fclose(fp);
    pb_sha256_final(&f, d);
    pb_sha256_update(s, found ? "F" : "-", 1); /* a missing file differs from an empty one */
    pb_sha256_update(s, d, sizeof(d));
}

/* The configuration file and every mapping table: what decides what transform makes. */
static void
settings_fingerprint(const struct pb_config *cfg, char hex[65])
{
    struct pb_sha256 s;
    pb_sha256_init(&s);
    hash_file(&s, cfg->path);
    for (int i = 0; i < cfg->maps.n; i++)
        hash_file(&s, cfg->maps.v[i]);
    for (int k = 0; k < cfg->nstores; k++)
        for (int i = 0; i < cfg->stores[k].maps.n; i++)
            hash_file(&s, cfg->stores[k].maps.v[i]);
    pb_sha256_hex(&s, hex);
}

static void
stage_transform(struct run *r, const char *batch)
{
    const char *names[PB_MAX_STORES];
    int n = 0;
    for (int i = 0; i < r->cfg.nstores; i++)
        if (store_wanted(r, r->cfg.stores[i].name))
            names[n++] = r->cfg.stores[i].name;
    struct pb_transform_opts o = {batch, names, n};
    struct pb_transform_result res;
    struct pb_error err;
    pb_error_init(&err);
    if (!n)
        return;
    if (pb_transform_run(&r->cfg, &o, &res, &err) < 0) {
        char msg[600];
        pb_error_format(&err, msg, sizeof(msg));
        say(r, "transform", NULL, pb_exit_code(err.code), "%s", msg);
        return;
    }
    for (int s = 0; s < res.nstores; s++) {
        const struct pb_transform_store_result *x = &res.stores[s];
        say(r, "transform", x->name, x->rejected_products ? PB_EX_DATAERR : 0,
            "%llu products, %llu variants, %llu products rejected", (unsigned long long)x->products,
            (unsigned long long)x->variants, (unsigned long long)x->rejected_products);
    }
}

static void
stage_upload(struct run *r, const char *batch, const struct pb_store_cfg *sc)
{
    struct pb_upload_opts o = {0};
    struct pb_upload_result res;
    struct pb_error err;
    pb_error_init(&err);
    o.batch_dir = batch;
    o.store = sc->name;
    o.dry_run = r->dry;
    int rc = pb_upload_run(&r->cfg, &o, &res, &err);
    int code = res.auth_failed ? PB_EX_NOPERM
               : res.failed ? (res.temp_failed ? PB_EX_TEMPFAIL : PB_EX_DATAERR)
               : res.rejected ? PB_EX_DATAERR : 0;
    char msg[600] = "";
    if (rc < 0) {
        pb_error_format(&err, msg, sizeof(msg));
        code = pb_exit_worst(code, pb_exit_code(err.code));
    }
    say(r, "upload", sc->name, code,
        "%s%llu created, %llu updated, %llu inventory, %llu unchanged, %llu rejected, %llu "
        "failed; %llu requests%s%s",
        r->dry ? "plan: " : "", (unsigned long long)res.created, (unsigned long long)res.updated,
        (unsigned long long)res.inventory, (unsigned long long)res.unchanged,
        (unsigned long long)res.rejected, (unsigned long long)res.failed,
        (unsigned long long)res.requests, msg[0] ? "; " : "", msg);
}

/* Download, then the new sales batch into receipts; returns the batch (malloc'd) or NULL. */
static char *
stage_download(struct run *r, const struct pb_store_cfg *sc)
{
    struct pb_download_opts o = {0};
    struct pb_download_result res;
    struct pb_error err;
    pb_error_init(&err);
    o.store = sc->name;
    if (pb_download_run(&r->cfg, &o, &res, &err) < 0) {
        char msg[600];
        pb_error_format(&err, msg, sizeof(msg));
        int code = res.auth_failed ? PB_EX_NOPERM
                   : res.temp_failed || res.unreachable ? PB_EX_TEMPFAIL : pb_exit_code(err.code);
        say(r, "download", sc->name, code, "%s", msg);
        return NULL;
    }
    say(r, "download", sc->name, res.rejected ? PB_EX_DATAERR : 0,
        "%llu orders, %llu refunds, %llu customers, %llu rejected; %llu requests%s%s",
        (unsigned long long)res.orders, (unsigned long long)res.returns,
        (unsigned long long)res.customers, (unsigned long long)res.rejected,
        (unsigned long long)res.requests, res.batch[0] ? " -> " : " (nothing new)", res.batch);
    if (!res.batch[0] || !(r->cfg.run_stages & PB_RUN_TRANSFORM))
        return res.batch[0] ? strdup(res.batch) : NULL;
    struct pb_inbound_result ir;
    if (pb_transform_inbound(&r->cfg, res.batch, &ir, &err) < 0) {
        char msg[600];
        pb_error_format(&err, msg, sizeof(msg));
        say(r, "transform", sc->name, pb_exit_code(err.code), "orders: %s", msg);
    } else {
        say(r, "transform", sc->name, ir.rejected ? PB_EX_DATAERR : 0,
            "%llu orders and %llu refunds -> %llu receipts, %llu rejected",
            (unsigned long long)ir.orders, (unsigned long long)ir.returns,
            (unsigned long long)ir.receipts, (unsigned long long)ir.rejected);
    }
    return strdup(res.batch);
}

static void
stage_emit(struct run *r, const char *batches)
{
    char **all = pb_dir_list(batches, 1, NULL, NULL);
    int any = 0;
    struct pb_error err;
    for (size_t i = 0; all && all[i]; i++) {
        char *b = pb_path_join(batches, all[i]);
        if (!b || !has_receipts(b)) {
            free(b);
            continue;
        }
        struct pb_emit_opts o = {b, NULL};
        struct pb_emit_result res;
        pb_error_init(&err);
        if (pb_emit_run(&r->cfg, &o, &res, &err) < 0) {
            char msg[600];
            pb_error_format(&err, msg, sizeof(msg));
            say(r, "emit", NULL, pb_exit_code(err.code), "%s: %s", all[i], msg);
        } else if (res.written) {
            /* hand it to QBPOS: outbox/<batch id>.xml, whole or not at all */
            char *src = pb_path_join(b, "qbpos/requests.xml");
            char name[512];
            snprintf(name, sizeof(name), "%s.xml", all[i]);
            char *dst = r->cfg.run_outbox ? pb_path_join(r->cfg.run_outbox, name) : NULL;
            FILE *fp = src ? fopen(src, "rb") : NULL;
            struct pb_buf doc = PB_BUF_INIT;
            char chunk[65536];
            size_t n;
            while (fp && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
                if (pb_buf_add(&doc, chunk, n) < 0)
                    break;
            if (fp)
                fclose(fp);
            pb_error_init(&err);
            int code = res.rejected ? PB_EX_DATAERR : 0;
            if (dst && (pb_mkdirs(r->cfg.run_outbox, 0755, &err) < 0 ||
                        pb_atomic_write(dst, doc.data ? doc.data : "", doc.len, &err) < 0))
                code = pb_exit_code(err.code);
            say(r, "emit", NULL, code, "%s: %llu receipts, %llu customers, %llu checks%s%s",
                all[i], (unsigned long long)res.receipts, (unsigned long long)res.customers,
                (unsigned long long)res.checks, dst ? " -> " : " (no outbox configured)",
                dst ? dst : "");
            pb_buf_release(&doc);
            free(src);
            free(dst);
            any = 1;
        } else if (res.rejected) {
            say(r, "emit", NULL, PB_EX_DATAERR, "%s: %llu receipts rejected", all[i],
                (unsigned long long)res.rejected);
        }
        free(b);
    }
    if (!any)
        say(r, "emit", NULL, 0, "nothing for QBPOS");
    pb_dir_list_free(all);
}

/* The run's report beside its log: every batch it touched.  Returns its path or NULL. */
static char *
write_report(struct run *r, const char *logdir)
{
    char name[64];
    struct pb_error err;
    struct pb_atomic af;
    snprintf(name, sizeof(name), "%s-report.html", r->id);
    char *path = logdir ? pb_path_join(logdir, name) : NULL;
    char title[64];
    snprintf(title, sizeof(title), "run %s%s", r->id, r->dry ? " (dry run)" : "");
    struct pb_report_opts o = {(const char *const *)r->touched, r->ntouched, logdir, title, 0,
                               (int64_t)time(NULL)};
    pb_error_init(&err);
    if (!path || pb_mkdirs(logdir, 0755, &err) < 0 || pb_atomic_open(path, 0644, &af, &err) < 0)
        goto fail;
    if (pb_report_write(&r->cfg, &o, af.fp, &err) < 0) {
        pb_atomic_abort(&af);
        goto fail;
    }
    if (pb_atomic_commit(&af, &err) < 0)
        goto fail;
    return path;
fail:
    {
        char msg[600];
        pb_error_format(&err, msg, sizeof(msg));
        say(r, "report", NULL, pb_exit_code(err.code), "cannot write %s: %s",
            path ? path : "the report", msg);
    }
    free(path);
    return NULL;
}

int
cmd_run(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {
        PB_COMMON_LONG,
        {"dry-run", no_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"stores", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    struct run r;
    int opt;
    memset(&r, 0, sizeof(r));
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT "njs:", longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        switch (opt) {
        case 'h': return pb_cli_help(usage);
        case 'n': r.dry = 1; break;
        case 'j': r.json = 1; break;
        case 's': r.stores = optarg; break;
        default: return pb_cli_usage(usage);
        }
    }
    if (argc != optind)
        return pb_cli_usage(usage);
    r.json |= ctx->json;
    struct pb_error err;
    pb_error_init(&err);
    if (pb_config_load(&r.cfg, ctx->config_path, &err) < 0) {
        pb_config_release(&r.cfg);
        return pb_cli_fail(&err);
    }
    r.home = r.cfg.home;
    int lockfd = -1;
    int rc = take_lock(&r, &lockfd);
    if (rc) {
        pb_config_release(&r.cfg);
        return rc;
    }
    /* the run's log */
    int64_t now = (int64_t)time(NULL);
    char ts[32];
    pb_time_format(now, ts);
    size_t k = 0;
    for (const char *p = ts; *p && k + 1 < sizeof(r.id); p++)
        if (*p != '-' && *p != ':')
            r.id[k++] = *p;
    r.id[k] = '\0';
    char *logdir = pb_config_path(&r.cfg, "log");
    char logname[64];
    snprintf(logname, sizeof(logname), "%s-run.log", r.id);
    char *logpath = logdir ? pb_path_join(logdir, logname) : NULL;
    FILE *log = NULL;
    if (logpath && pb_mkdirs(logdir, 0755, &err) == 0)
        log = fopen(logpath, "a");
    if (log)
        pb_log_set_file(log);
    r.lines = json_array();
    pb_log(PB_LOG_INFO, "run %s: started%s", r.id, r.dry ? " (dry run)" : "");

    char *batches = pb_config_path(&r.cfg, "batches");
    char *state = pb_config_path(&r.cfg, "state");
    char *rspath = state ? pb_path_join(state, "run.json") : NULL;
    json_error_t je;
    json_t *runstate = rspath ? json_load_file(rspath, 0, &je) : NULL;
    if (!runstate)
        runstate = json_object();
    unsigned stages = r.cfg.run_stages;

    if ((stages & PB_RUN_INGEST) && r.cfg.run_inbox && !r.dry)
        stage_ingest(&r, batches);
    char *catalog = NULL;
    int fresh = 0;
    if ((stages & PB_RUN_EXPORT) && r.cfg.run_source)
        catalog = stage_export(&r, batches, runstate, &fresh);
    if (catalog && (stages & PB_RUN_TRANSFORM)) {
        /* a catalog carried on is transformed again only when the settings changed */
        char cfp[65];
        settings_fingerprint(&r.cfg, cfp);
        const char *was = json_string_value(json_object_get(runstate, "settings_fingerprint"));
        if (fresh || !was || strcmp(was, cfp)) {
            stage_transform(&r, catalog);
            json_object_set_new(runstate, "settings_fingerprint", json_string(cfp));
        }
    }
    for (int i = 0; catalog && (stages & PB_RUN_UPLOAD) && i < r.cfg.nstores; i++)
        if (store_wanted(&r, r.cfg.stores[i].name))
            stage_upload(&r, catalog, &r.cfg.stores[i]);
    if (catalog)
        touch(&r, catalog);
    for (int i = 0; (stages & PB_RUN_DOWNLOAD) && !r.dry && i < r.cfg.nstores; i++)
        if (store_wanted(&r, r.cfg.stores[i].name)) {
            char *sales = stage_download(&r, &r.cfg.stores[i]);
            if (sales)
                touch(&r, sales);
            free(sales);
        }
    if ((stages & PB_RUN_EMIT) && !r.dry)
        stage_emit(&r, batches);

    if (rspath && !r.dry) {
        char *text = json_dumps(runstate, JSON_INDENT(2) | JSON_SORT_KEYS);
        pb_error_init(&err);
        if (!text || pb_mkdirs(state, 0700, &err) < 0 ||
            pb_atomic_write(rspath, text, strlen(text), &err) < 0)
            say(&r, "run", NULL, PB_EX_IOERR, "cannot save %s", rspath);
        free(text);
    }
    char *report = write_report(&r, logdir);
    if (r.json) {
        json_t *j = json_pack("{s:s, s:b, s:i, s:O, s:s?, s:s?}", "run", r.id, "dry_run", r.dry,
                              "exit", r.worst, "stages", r.lines, "log", logpath, "report",
                              report);
        char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(j);
    } else if (pb_log_level > PB_LOG_ERROR || r.worst) {
        size_t i;
        json_t *l;
        if (pb_log_level <= PB_LOG_ERROR) /* -q, and something went wrong: the whole story */
            json_array_foreach(r.lines, i, l) {
                const char *store = json_string_value(json_object_get(l, "store"));
                printf("%-9s %-16s %s%s\n", json_string_value(json_object_get(l, "stage")),
                       store ? store : "-",
                       json_integer_value(json_object_get(l, "exit")) ? "FAILED " : "",
                       json_string_value(json_object_get(l, "text")));
            }
        printf("run %s: exit %d%s%s%s%s\n", r.id, r.worst, logpath ? "; log " : "",
               logpath ? logpath : "", report ? "; report " : "", report ? report : "");
    }
    pb_log(PB_LOG_INFO, "run %s: finished, exit %d", r.id, r.worst);
    pb_log_set_file(NULL);
    if (log)
        fclose(log);
    drop_lock(lockfd);
    json_decref(runstate);
    json_decref(r.lines);
    free(catalog);
    free(batches);
    free(state);
    free(rspath);
    free(logdir);
    free(logpath);
    free(report);
    for (int i = 0; i < r.ntouched; i++)
        free(r.touched[i]);
    free(r.touched);
    rc = r.worst;
    pb_config_release(&r.cfg);
    return rc;
}
