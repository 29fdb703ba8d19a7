/* posbridge export: QBPOS item files -> a new catalog batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "posbridge/cli.h"
#include "posbridge/config.h"
#include "posbridge/err.h"
#include "posbridge/export.h"
#include "posbridge/log.h"
#include "posbridge/banned.h"

static const char usage[] =
    "posbridge export [-qv] [-c FILE] [-o BATCH_DIR [--force]] [--format csv|jsonl] [--gzip] FILE...";

int
cmd_export(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {
        PB_COMMON_LONG,
        {"format", required_argument, NULL, 'f'},
        {"gzip", no_argument, NULL, 'z'},
        {"json", no_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *format = NULL;
    int gzip = -1, force = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT "f:jo:z", longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        switch (opt) {
        case 'f': format = optarg; break;
        case 'F': force = 1; break;
        case 'h': return pb_cli_help(usage);
        case 'j': ctx->json = 1; break;
        case 'o': out = optarg; break;
        case 'z': gzip = 1; break;
        default: return pb_cli_usage(usage);
        }
    }
    if (optind >= argc)
        return pb_cli_usage(usage);

    struct pb_error err;
    struct pb_config cfg;
    pb_error_init(&err);
    if (pb_config_load(&cfg, ctx->config_path, &err) < 0) {
        pb_config_release(&cfg);
        return pb_cli_fail(&err);
    }
    struct pb_export_opts o = {0};
    o.inputs = (const char *const *)argv + optind;
    o.ninputs = argc - optind;
    o.out_dir = out;
    o.force = force;
    o.enc = cfg.format;
    o.gzip = gzip >= 0 ? gzip : cfg.gzip;
    o.tz = cfg.qbpos_tz;
    o.now = (int64_t)time(NULL);
    if (format) {
        if (!strcmp(format, "csv"))
            o.enc = PB_ENC_CSV;
        else if (!strcmp(format, "jsonl"))
            o.enc = PB_ENC_JSONL;
        else {
            fprintf(stderr, "posbridge: export: --format must be csv or jsonl\n");
            pb_config_release(&cfg);
            return PB_EX_USAGE;
        }
    }
    char *batches = pb_config_path(&cfg, "batches");
    o.batches_dir = batches;
    struct pb_export_result res;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = pb_export_run(&o, &res, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(batches);
    pb_config_release(&cfg);
    if (rc < 0) {
        rc = pb_cli_fail(&err);
        pb_log(PB_LOG_ERROR, "export: nothing written");
        return rc;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (ctx->json) {
        json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I}", "batch", res.batch_dir, "read",
                              (json_int_t)res.read, "written", (json_int_t)res.written,
                              "rejected", (json_int_t)res.rejected, "duplicates",
                              (json_int_t)res.duplicates);
        char *text = j ? json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(j);
    } else {
        printf("%s\n", res.batch_dir);
    }
    pb_log(PB_LOG_INFO,
           "export: %llu items read, %llu written, %llu rejected, %llu older duplicates "
           "dropped, %.2fs",
           (unsigned long long)res.read, (unsigned long long)res.written,
           (unsigned long long)res.rejected, (unsigned long long)res.duplicates, secs);
    if (res.rejected)
        pb_log(PB_LOG_WARN, "export: %llu items rejected; see %s/rejects.csv",
               (unsigned long long)res.rejected, res.batch_dir);
    free(res.batch_dir);
    return res.rejected ? PB_EX_DATAERR : PB_EX_OK;
}
