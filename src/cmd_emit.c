/* posbridge emit / ingest: receipts -> a qbposXML request document; QBPOS's answers back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "posbridge/cli.h"
#include "posbridge/config.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/receipts.h"
#include "posbridge/banned.h"

static const char usage_emit[] = "posbridge emit [-qv] [-c FILE] [--json] [-o FILE] BATCH";
static const char usage_ingest[] =
    "posbridge ingest [-qv] [-c FILE] [--json] BATCH RESPONSE.xml...";

static void
print_json(json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(j);
}

int
pb_emit_summary(const struct pb_emit_result *r, const char *batch, int json)
{
    if (json)
        print_json(json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "batch", batch,
                             "receipts", (json_int_t)r->receipts, "customers",
                             (json_int_t)r->customers, "checks", (json_int_t)r->checks,
                             "confirmed", (json_int_t)r->confirmed, "waiting",
                             (json_int_t)r->waiting, "rejected", (json_int_t)r->rejected,
                             "written", r->written));
    else
        printf("emit: %llu receipts, %llu new customers, %llu checks of earlier requests; "
               "%llu already in QBPOS, %llu waiting, %llu rejected%s\n",
               (unsigned long long)r->receipts, (unsigned long long)r->customers,
               (unsigned long long)r->checks, (unsigned long long)r->confirmed,
               (unsigned long long)r->waiting, (unsigned long long)r->rejected,
               r->written ? "" : " (nothing to send)");
    return r->rejected ? PB_EX_DATAERR : PB_EX_OK;
}

int
cmd_emit(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {
        PB_COMMON_LONG,
        {"json", no_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    struct pb_emit_opts o = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT "jo:", longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        switch (opt) {
        case 'h': return pb_cli_help(usage_emit);
        case 'j': ctx->json = 1; break;
        case 'o': o.out = optarg; break;
        default: return pb_cli_usage(usage_emit);
        }
    }
    if (argc - optind != 1)
        return pb_cli_usage(usage_emit);
    o.batch_dir = argv[optind];
    struct pb_error err;
    struct pb_config cfg;
    struct pb_emit_result res;
    pb_error_init(&err);
    if (pb_config_load(&cfg, ctx->config_path, &err) < 0) {
        pb_config_release(&cfg);
        return pb_cli_fail(&err);
    }
    int rc = pb_emit_run(&cfg, &o, &res, &err);
    pb_config_release(&cfg);
    if (rc < 0)
        return pb_cli_fail(&err);
    return pb_emit_summary(&res, o.batch_dir, ctx->json);
}

int
cmd_ingest(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {
        PB_COMMON_LONG,
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT "j", longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        switch (opt) {
        case 'h': return pb_cli_help(usage_ingest);
        case 'j': ctx->json = 1; break;
        default: return pb_cli_usage(usage_ingest);
        }
    }
    if (argc - optind < 2)
        return pb_cli_usage(usage_ingest);
    struct pb_error err;
    struct pb_config cfg;
    struct pb_ingest_result r;
    pb_error_init(&err);
    if (pb_config_load(&cfg, ctx->config_path, &err) < 0) {
        pb_config_release(&cfg);
        return pb_cli_fail(&err);
    }
    int rc = pb_ingest_run(&cfg, argv[optind], argv + optind + 1, argc - optind - 1, &r, &err);
    pb_config_release(&cfg);
    if (ctx->json)
        print_json(json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "batch", argv[optind],
                             "confirmed", (json_int_t)r.confirmed, "customers",
                             (json_int_t)r.customers, "failed", (json_int_t)r.failed, "absent",
                             (json_int_t)r.absent, "unmatched", (json_int_t)r.unmatched));
    else
        printf("ingest: %llu receipts confirmed, %llu customers added, %llu refused by QBPOS, "
               "%llu not found in QBPOS (emit adds them again), %llu answers matched nothing\n",
               (unsigned long long)r.confirmed, (unsigned long long)r.customers,
               (unsigned long long)r.failed, (unsigned long long)r.absent,
               (unsigned long long)r.unmatched);
    if (rc < 0)
        return pb_cli_fail(&err);
    return r.failed ? PB_EX_DATAERR : PB_EX_OK;
}
