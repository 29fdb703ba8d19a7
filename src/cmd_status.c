/*
 * posbridge status [BATCH]: what the recent batches did, per store, and what is left.
 *
 * A catalog batch: per store, how many products went through, failed, were refused, or
 * are pending (an intent with no outcome: a run that died).  A sales batch: how many
 * receipts QBPOS confirmed, refused, or has not answered yet.  Whatever is not done comes
 * with the command that sends it again.  The counting is src/core/summary.c, which
 * `posbridge report` shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "posbridge/cli.h"
#include "posbridge/config.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/summary.h"
#include "posbridge/atomic.h"
#include "posbridge/buf.h"
#include "posbridge/banned.h"

static const char usage[] = "posbridge status [-qv] [-c FILE] [--json] [--last N] [BATCH]";


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
        char *dir = pb_summary_find_batch(&cfg, argv[optind]);
        json_t *b = dir ? pb_summary_batch(&cfg, dir, NULL) : NULL;
        free(dir);
        if (!b) {
            fprintf(stderr, "posbridge: status: '%s' is not a batch (no manifest.json)\n",
                    argv[optind]);
            rc = PB_EX_NOINPUT;
        } else {
            json_array_append_new(all, b);
        }
    } else {
        char *bdir = pb_config_path(&cfg, "batches");
        char **names = bdir ? pb_dir_list(bdir, 1, NULL, NULL) : NULL;
        size_t n = 0;
        while (names && names[n])
            n++;
        /* newest first: the ids start with their time */
        for (size_t i = n; i-- > 0 && (long)json_array_size(all) < lastn;) {
            char *b = pb_path_join(bdir, names[i]);
            json_t *s = b ? pb_summary_batch(&cfg, b, NULL) : NULL;
            if (s)
                json_array_append_new(all, s);
            free(b);
        }
        pb_dir_list_free(names);
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
