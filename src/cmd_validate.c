/* posbridge validate: check staged files against their schema. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posbridge/cli.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/staged.h"
#include "posbridge/banned.h"

static const char usage[] = "posbridge validate [-qv] [--kind KIND] [--tz ZONE] FILE...";

static int
validate_one(const char *path, const char *kind, const char *tz, struct pb_ctx *ctx)
{
    struct pb_error err, bad;
    struct pb_rec rec;
    const struct pb_schema *s = kind ? pb_schema_find(kind) : pb_schema_for_path(path);
    pb_error_init(&err);
    if (!s) {
        if (kind)
            fprintf(stderr, "posbridge: validate: unknown kind '%s'\n", kind);
        else
            fprintf(stderr,
                    "posbridge: validate: %s: cannot tell the kind of file from its name; "
                    "use --kind\n",
                    path);
        return PB_EX_USAGE;
    }
    struct pb_read_opts ro = {PB_READ_STAGED, tz, -1, NULL, 1, NULL, NULL};
    struct pb_reader *rd = pb_reader_open(path, s, &ro, &err);
    if (!rd)
        return pb_cli_fail(&err);
    if (pb_rec_init(&rec, s, &err) < 0) {
        pb_reader_close(rd, NULL);
        return pb_cli_fail(&err);
    }
    long records = 0, bads = 0;
    int rc = 0;
    for (;;) {
        pb_error_init(&bad);
        int r = pb_reader_next(rd, &rec, &bad, &err);
        if (r < 0) {
            rc = pb_cli_fail(&err);
            break;
        }
        if (r == PB_READ_EOF)
            break;
        records++;
        if (r == PB_READ_REJECT) {
            bads++;
            pb_log_error(PB_LOG_ERROR, &bad);
        }
    }
    if (pb_reader_close(rd, &err) < 0 && !rc)
        rc = pb_cli_fail(&err);
    pb_rec_release(&rec);
    if (rc)
        return rc;
    if (ctx->json)
        printf("{\"file\":\"%s\",\"kind\":\"%s\",\"records\":%ld,\"errors\":%ld}\n", path,
               s->kind, records, bads);
    else
        printf("%s: %s, %ld records, %ld with errors\n", path, s->kind, records, bads);
    return bads ? PB_EX_DATAERR : PB_EX_OK;
}

int
cmd_validate(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {
        PB_COMMON_LONG,
        {"json", no_argument, NULL, 'j'},
        {"kind", required_argument, NULL, 'k'},
        {"tz", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *kind = NULL, *tz = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT "jk:", longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        switch (opt) {
        case 'h': return pb_cli_help(usage);
        case 'j': ctx->json = 1; break;
        case 'k': kind = optarg; break;
        case 't': tz = optarg; break;
        default: return pb_cli_usage(usage);
        }
    }
    if (optind >= argc)
        return pb_cli_usage(usage);
    int rc = 0;
    for (int i = optind; i < argc; i++)
        rc = pb_exit_worst(rc, validate_one(argv[i], kind, tz, ctx));
    return rc;
}
