/* posbridge download: a store's shipped orders, refunds and customers -> a new sales batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "posbridge/cli.h"
#include "posbridge/config.h"
#include "posbridge/download.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/banned.h"

static const char usage[] =
    "posbridge download [-qv] [-c FILE] [--json] [--since TIME] [-o DIR] --store NAME";

int
cmd_download(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {
        PB_COMMON_LONG,
        {"json", no_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        {"since", required_argument, NULL, 'S'},
        {"store", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    struct pb_download_opts o = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT "jo:S:s:", longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        switch (opt) {
        case 'h': return pb_cli_help(usage);
        case 'j': ctx->json = 1; break;
        case 'o': o.out_dir = optarg; break;
        case 'S': o.since = optarg; break;
        case 's': o.store = optarg; break;
        default: return pb_cli_usage(usage);
        }
    }
    if (argc != optind || !o.store)
        return pb_cli_usage(usage);
    struct pb_error err;
    struct pb_config cfg;
    struct pb_download_result r;
    pb_error_init(&err);
    if (pb_config_load(&cfg, ctx->config_path, &err) < 0) {
        pb_config_release(&cfg);
        return pb_cli_fail(&err);
    }
    int rc = pb_download_run(&cfg, &o, &r, &err);
    pb_config_release(&cfg);
    if (ctx->json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                              "store", o.store, "since", r.since, "until", r.until, "batch",
                              r.batch[0] ? r.batch : NULL, "orders", (json_int_t)r.orders,
                              "returns", (json_int_t)r.returns, "customers",
                              (json_int_t)r.customers, "lines", (json_int_t)r.lines,
                              "duplicates", (json_int_t)r.duplicates, "in_qbpos",
                              (json_int_t)r.confirmed, "rejected",
                              (json_int_t)r.rejected, "requests", (json_int_t)r.requests,
                              "retries", (json_int_t)r.retries);
        char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(j);
    } else if (rc == 0) {
        printf("%s: %llu orders, %llu refunds, %llu customers modified %s to %s%s%s; "
               "%llu rejected; %llu requests\n",
               o.store, (unsigned long long)r.orders, (unsigned long long)r.returns,
               (unsigned long long)r.customers, r.since, r.until, r.batch[0] ? " -> " : "",
               r.batch[0] ? r.batch : " (nothing new: no batch)", (unsigned long long)r.rejected,
               (unsigned long long)r.requests);
    }
    if (rc < 0) {
        int code = pb_cli_fail(&err);
        if (r.auth_failed)
            return PB_EX_NOPERM;
        return r.temp_failed || r.unreachable ? PB_EX_TEMPFAIL : code;
    }
    return r.rejected ? PB_EX_DATAERR : PB_EX_OK;
}
