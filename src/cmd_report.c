/*
 * posbridge report BATCH [-o FILE.html]: the batch as one self-contained HTML page (see
 * include/posbridge/report.h).  Written atomically to BATCH/report.html unless -o says
 * otherwise ("-o -" is standard output); the path is printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "posbridge/atomic.h"
#include "posbridge/buf.h"
#include "posbridge/cli.h"
#include "posbridge/config.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/report.h"
#include "posbridge/summary.h"
#include "posbridge/banned.h"

static const char usage[] = "posbridge report [-qv] [-c FILE] [--json] [-o FILE.html] [--rows N] BATCH";

static const char help[] =
    "\n"
    "Write what BATCH did as one HTML page to open in a browser: a summary per store\n"
    "(created, updated, unchanged, rejected, failed, pending), the rejected records with\n"
    "their reasons and source rows, the failed ones with the store's answer and the command\n"
    "that sends them again, the values that need a mapping, and links to the staged files.\n"
    "The page needs no network and no JavaScript; its links are relative, so the folder can\n"
    "be copied.  Long lists show their first 1000 rows and say where the rest are.\n"
    "\n"
    "  BATCH          a batch directory, or a batch id under <home>/batches\n"
    "  -o FILE.html   where to write it (default BATCH/report.html; '-' for standard\n"
    "                 output); the file is replaced whole or not at all\n"
    "  --rows N       show at most N rows per list (default 1000)\n"
    "  --json         print {\"report\": PATH} instead of the path\n"
    "\n"
    "Exit status: 0 when the page is written (whatever the batch holds), 64 bad arguments,\n"
    "66 BATCH is not a batch, 73 the file cannot be created, 74 a write error.\n";

int
cmd_report(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {
        PB_COMMON_LONG,
        {"json", no_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        {"rows", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *outp = NULL;
    long rows = 0;
    char *end;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT "jo:r:", longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        switch (opt) {
        case 'h':
            pb_cli_help(usage);
            fputs(help, stdout);
            return 0;
        case 'j': ctx->json = 1; break;
        case 'o': outp = optarg; break;
        case 'r':
            rows = strtol(optarg, &end, 10);
            if (*end || rows < 1)
                return pb_cli_usage(usage);
            break;
        default: return pb_cli_usage(usage);
        }
    }
    if (argc - optind != 1)
        return pb_cli_usage(usage);
    struct pb_error err;
    struct pb_config cfg;
    pb_error_init(&err);
    if (pb_config_load(&cfg, ctx->config_path, &err) < 0) {
        pb_config_release(&cfg);
        return pb_cli_fail(&err);
    }
    int rc = PB_EX_OK;
    char *batch = pb_summary_find_batch(&cfg, argv[optind]);
    char *path = NULL, *dir = NULL;
    if (!batch) {
        fprintf(stderr, "posbridge: report: '%s' is not a batch (no manifest.json)\n",
                argv[optind]);
        rc = PB_EX_NOINPUT;
        goto out;
    }
    int to_stdout = outp && !strcmp(outp, "-");
    struct pb_buf p = PB_BUF_INIT;
    if (!outp && pb_buf_addf(&p, "%s/report.html", batch) < 0) {
        rc = PB_EX_OSERR;
        goto out;
    }
    path = outp ? strdup(outp) : pb_buf_detach(&p, NULL);
    dir = path ? strdup(path) : NULL;
    if (!path || !dir) {
        rc = PB_EX_OSERR;
        goto out;
    }
    char *slash = strrchr(dir, '/');
    if (to_stdout)
        dir[0] = '.', dir[1] = '\0';
    else if (slash)
        slash == dir ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
    else
        dir[0] = '.', dir[1] = '\0';
    const char *const batches[] = {batch};
    struct pb_report_opts o = {batches, 1, dir, NULL, rows, (int64_t)time(NULL)};
    if (to_stdout) {
        if (pb_report_write(&cfg, &o, stdout, &err) < 0)
            rc = pb_cli_fail(&err);
        goto out;
    }
    struct pb_atomic af;
    if (pb_atomic_open(path, 0644, &af, &err) < 0) {
        rc = pb_cli_fail(&err);
        goto out;
    }
    if (pb_report_write(&cfg, &o, af.fp, &err) < 0) {
        pb_atomic_abort(&af);
        rc = pb_cli_fail(&err);
        goto out;
    }
    if (pb_atomic_commit(&af, &err) < 0) {
        rc = pb_cli_fail(&err);
        goto out;
    }
    if (ctx->json) {
        json_t *j = json_pack("{s:s}", "report", path);
        char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (t)
            printf("%s\n", t);
        free(t);
        json_decref(j);
    } else {
        printf("%s\n", path);
    }
out:
    free(batch);
    free(path);
    free(dir);
    pb_config_release(&cfg);
    return rc;
}
