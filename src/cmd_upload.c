/* posbridge upload / replay: a batch's products for one store -> the store's API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "posbridge/cli.h"
#include "posbridge/config.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/receipts.h"
#include "posbridge/staged.h"
#include "posbridge/upload.h"
#include "posbridge/banned.h"

static const char usage_upload[] =
    "posbridge upload [-qv] [-c FILE] [--dry-run [--remote]] [--only create|update|inventory] "
    "[--json] --store NAME BATCH";
static const char usage_replay[] =
    "posbridge replay [-qv] [-c FILE] [--json] [--store NAME] BATCH";

static int
summary(const char *store, const struct pb_upload_result *r, int json, int dry)
{
    if (json) {
        json_t *j = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f}", "store",
                              store, "dry_run", dry, "created", (json_int_t)r->created,
                              "updated", (json_int_t)r->updated, "inventory",
                              (json_int_t)r->inventory, "unchanged", (json_int_t)r->unchanged,
                              "rejected", (json_int_t)r->rejected, "failed",
                              (json_int_t)r->failed, "requests", (json_int_t)r->requests,
                              "retries", (json_int_t)r->retries, "rate_limit_wait", r->waited,
                              "cost", r->cost);
        char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(j);
    } else {
        printf("%s: %s%llu created, %llu updated, %llu inventory only, %llu unchanged, "
               "%llu rejected, %llu failed; %llu requests, %.1fs waiting on rate limits\n",
               store, dry ? "plan: " : "", (unsigned long long)r->created,
               (unsigned long long)r->updated, (unsigned long long)r->inventory,
               (unsigned long long)r->unchanged, (unsigned long long)r->rejected,
               (unsigned long long)r->failed, (unsigned long long)r->requests, r->waited);
    }
    if (r->auth_failed)
        return PB_EX_NOPERM;
    if (r->failed)
        return r->temp_failed ? PB_EX_TEMPFAIL : PB_EX_DATAERR;
    return r->rejected ? PB_EX_DATAERR : PB_EX_OK;
}

/* A batch of receipts for QBPOS rather than products for stores. */
static int
is_inbound(const char *batch)
{
    struct pb_buf q = PB_BUF_INIT;
    char *f = pb_buf_addf(&q, "%s/qbpos", batch) == 0 ? pb_staged_find(q.data, "receipts") : NULL;
    int yes = f != NULL;
    pb_buf_release(&q);
    free(f);
    return yes;
}

static int
run(int argc, char **argv, struct pb_ctx *ctx, int replay)
{
    static const struct option longopts[] = {
        PB_COMMON_LONG,
        {"dry-run", no_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"only", required_argument, NULL, 'o'},
        {"remote", no_argument, NULL, 'r'},
        {"store", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const char *usage = replay ? usage_replay : usage_upload;
    struct pb_upload_opts o = {0};
    int opt;
    o.replay = replay;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT "jno:rs:", longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        switch (opt) {
        case 'h': return pb_cli_help(usage);
        case 'j': ctx->json = 1; break;
        case 'n': o.dry_run = 1; break;
        case 'o':
            if (!strcmp(optarg, "create"))
                o.only |= 1 << PB_UP_CREATE;
            else if (!strcmp(optarg, "update"))
                o.only |= 1 << PB_UP_UPDATE;
            else if (!strcmp(optarg, "inventory"))
                o.only |= 1 << PB_UP_INVENTORY;
            else
                return pb_cli_usage(usage);
            break;
        case 'r': o.remote = 1; break;
        case 's': o.store = optarg; break;
        default: return pb_cli_usage(usage);
        }
    }
    if (argc - optind != 1 || (replay && (o.dry_run || o.only)) || (o.remote && !o.dry_run))
        return pb_cli_usage(usage);
    o.batch_dir = argv[optind];

    struct pb_error err;
    struct pb_config cfg;
    pb_error_init(&err);
    if (pb_config_load(&cfg, ctx->config_path, &err) < 0) {
        pb_config_release(&cfg);
        return pb_cli_fail(&err);
    }
    if (!o.store && !replay) {
        pb_config_release(&cfg);
        return pb_cli_usage(usage);
    }
    if (replay && !o.store && is_inbound(o.batch_dir)) {
        /* Receipts for QBPOS: emit again what is not confirmed (never what is). */
        struct pb_emit_opts eo = {o.batch_dir, NULL};
        struct pb_emit_result er;
        int r = pb_emit_run(&cfg, &eo, &er, &err);
        pb_config_release(&cfg);
        return r < 0 ? pb_cli_fail(&err) : pb_emit_summary(&er, o.batch_dir, ctx->json);
    }
    int rc = 0;
    for (int i = 0; i < cfg.nstores; i++) {
        if (o.store && strcmp(o.store, cfg.stores[i].name))
            continue;
        struct pb_upload_opts one = o;
        one.store = cfg.stores[i].name;
        struct pb_upload_result res;
        pb_error_init(&err);
        int r = pb_upload_run(&cfg, &one, &res, &err);
        int code = summary(one.store, &res, ctx->json, o.dry_run);
        if (r < 0)
            code = pb_exit_worst(code, pb_cli_fail(&err));
        rc = pb_exit_worst(rc, code);
        if (o.store)
            break;
    }
    if (o.store && !pb_config_store(&cfg, o.store)) {
        fprintf(stderr, "posbridge: no store '%s' in the configuration\n", o.store);
        rc = PB_EX_USAGE;
    }
    pb_config_release(&cfg);
    return rc;
}

int
cmd_upload(int argc, char **argv, struct pb_ctx *ctx)
{
    return run(argc, argv, ctx, 0);
}

int
cmd_replay(int argc, char **argv, struct pb_ctx *ctx)
{
    return run(argc, argv, ctx, 1);
}
