/*
 * posbridge convert: the same records in another encoding (CSV <-> JSONL, plain <-> gzip).
 * Lossless or nothing: if any record is invalid, the errors are listed and no output is
 * written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "posbridge/cli.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/spool.h"
#include "posbridge/staged.h"
#include "posbridge/banned.h"

static const char usage[] = "posbridge convert [-qv] [--kind KIND] [--tz ZONE] [--force] IN OUT";

static char *
dir_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? strndup(path, (size_t)(s - path) + (s == path)) : strdup(".");
}

int
cmd_convert(int argc, char **argv, struct pb_ctx *ctx)
{
    static const struct option longopts[] = {
        PB_COMMON_LONG,
        {"kind", required_argument, NULL, 'k'},
        {"tz", required_argument, NULL, 't'},
        {"force", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    const char *kind = NULL, *tz = NULL;
    int force = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, PB_COMMON_SHORT "k:", longopts, NULL)) != -1) {
        if (pb_cli_common(opt, optarg, ctx))
            continue;
        switch (opt) {
        case 'h': return pb_cli_help(usage);
        case 'k': kind = optarg; break;
        case 't': tz = optarg; break;
        case 'F': force = 1; break;
        default: return pb_cli_usage(usage);
        }
    }
    if (argc - optind != 2)
        return pb_cli_usage(usage);
    const char *in = argv[optind], *out = argv[optind + 1];
    const struct pb_schema *s = kind ? pb_schema_find(kind) : pb_schema_for_path(in);
    enum pb_enc enc;
    int gz;
    if (!s) {
        fprintf(stderr, "posbridge: convert: %s '%s'%s\n", kind ? "unknown kind" : "cannot tell the kind of",
                kind ? kind : in, kind ? "" : " from its name; use --kind");
        return PB_EX_USAGE;
    }
    if (pb_staged_encoding(out, &enc, &gz) < 0) {
        fprintf(stderr, "posbridge: convert: '%s' must end in .csv, .jsonl, .csv.gz or "
                        ".jsonl.gz\n", out);
        return PB_EX_USAGE;
    }

    if (!force && access(out, F_OK) == 0) {
        fprintf(stderr, "posbridge: convert: '%s' already exists; --force to replace it\n", out);
        return PB_EX_CANTCREAT;
    }
    struct pb_error err, bad;
    struct pb_rec rec;
    struct pb_spool sp;
    struct pb_columns cols;
    struct pb_writer *w = NULL;
    struct pb_read_opts ro = {PB_READ_STAGED, tz, -1, NULL, 1, NULL, NULL};
    long bads = 0;
    int rc = 0;
    char *dir = dir_of(out);
    pb_error_init(&err);
    memset(&sp, 0, sizeof(sp));
    memset(&cols, 0, sizeof(cols));
    struct pb_reader *rd = pb_reader_open(in, s, &ro, &err);
    if (!rd || pb_rec_init(&rec, s, &err) < 0) {
        pb_reader_close(rd, NULL);
        free(dir);
        return pb_cli_fail(&err);
    }
    if (!dir || pb_spool_open(&sp, dir, &err) < 0 || pb_columns_init(&cols, s) < 0) {
        pb_error_set(&err, PB_EOS, "out of memory");
        goto fail;
    }
    for (;;) {
        pb_error_init(&bad);
        int r = pb_reader_next(rd, &rec, &bad, &err);
        if (r < 0)
            goto fail;
        if (r == PB_READ_EOF)
            break;
        if (r == PB_READ_REJECT) {
            bads++;
            pb_log_error(PB_LOG_ERROR, &bad);
            continue;
        }
        if (pb_columns_note(&cols, &rec) < 0 || pb_spool_put(&sp, &rec, 0, &err) < 0)
            goto fail;
    }
    if (pb_reader_close(rd, &err) < 0) {
        rd = NULL;
        goto fail;
    }
    rd = NULL;
    if (bads) {
        pb_log(PB_LOG_ERROR, "convert: %ld invalid records in '%s'; nothing written", bads, in);
        rc = PB_EX_DATAERR;
        goto out;
    }
    if (!(w = pb_writer_open(out, s, enc, gz, &cols, &err)) || pb_spool_rewind(&sp, &err) < 0)
        goto fail;
    int fi;
    for (int r; (r = pb_spool_get(&sp, &rec, &fi, &err)) != 0;)
        if (r < 0 || pb_writer_put(w, &rec, &err) < 0)
            goto fail;
    char digest[65];
    uint64_t n;
    struct pb_writer *ww = w;
    w = NULL;
    if (pb_writer_commit(ww, digest, &n, &err) < 0)
        goto fail;
    pb_log(PB_LOG_INFO, "convert: %llu records written to '%s'", (unsigned long long)n, out);
    goto out;
fail:
    rc = pb_cli_fail(&err);
out:
    pb_writer_abort(w);
    pb_reader_close(rd, NULL);
    pb_spool_close(&sp);
    pb_columns_release(&cols);
    pb_rec_release(&rec);
    free(dir);
    return rc;
}
