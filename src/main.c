/* posbridge: argv -> one command from the table.  Nothing else lives here. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "net/curl_api.h"
#include "posbridge/atomic.h"
#include "posbridge/cli.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/banned.h"

static int cmd_help(int argc, char **argv, struct pb_ctx *ctx);
static int cmd_version(int argc, char **argv, struct pb_ctx *ctx);

enum { CMD_USES_XML = 1 << 0, CMD_NEEDS_NETWORK = 1 << 1 };

static const struct pb_cmd {
    const char *name;
    int (*fn)(int, char **, struct pb_ctx *);
    int flags;
    const char *summary;
} commands[] = {
    {"config", cmd_config, 0, "check the configuration and print it (secrets redacted)"},
    {"convert", cmd_convert, 0, "re-encode a staged file (CSV <-> JSONL, .gz)"},
    {"download", cmd_download, CMD_NEEDS_NETWORK, "a store's shipped orders and refunds -> a new sales batch"},
    {"emit", cmd_emit, 0, "a batch's receipts -> a qbposXML request document for QBPOS"},
    {"export", cmd_export, CMD_USES_XML, "QBPOS item files -> a new batch of staged items"},
    {"help", cmd_help, 0, "list the commands"},
    {"ingest", cmd_ingest, CMD_USES_XML, "QBPOS's response documents -> results and the ledger"},
    {"qbwc", cmd_qbwc, CMD_USES_XML, "the QuickBooks Web Connector endpoint (a CGI program)"},
    {"qbwc-file", cmd_qbwc_file, 0, "the .qwc file to add posbridge to the Web Connector"},
    {"qbwc-passwd", cmd_qbwc_passwd, 0, "a password (from stdin) -> [qbwc] password_hash"},
    {"replay", cmd_replay, CMD_NEEDS_NETWORK, "send again what failed or never finished"},
    {"report", cmd_report, 0, "a batch as one HTML page to open in a browser"},
    {"run", cmd_run, CMD_NEEDS_NETWORK | CMD_USES_XML, "the nightly job: every stage, every store, under a lock"},
    {"status", cmd_status, 0, "what recent batches did per store, and what is left to send"},
    {"transform", cmd_transform, 0, "a batch -> what each store gets (products per store)"},
    {"upload", cmd_upload, CMD_NEEDS_NETWORK, "send a store what changed (products, stock)"},
    {"validate", cmd_validate, 0, "check a staged file against its schema"},
    {"version", cmd_version, 0, "print the version"},
};

static const struct pb_cmd *
find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int
cmd_help(int argc, char **argv, struct pb_ctx *ctx)
{
    (void)argc, (void)argv, (void)ctx;
    printf("usage: posbridge [-qv] [-c FILE] [--json] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        printf("  %-12s %s\n", commands[i].name, commands[i].summary);
    printf("\n'posbridge COMMAND --help' describes one command.\n");
    return 0;
}

static int
cmd_version(int argc, char **argv, struct pb_ctx *ctx)
{
    (void)argc, (void)argv, (void)ctx;
    printf("posbridge %s\n", PB_VERSION);
    return 0;
}

int
main(int argc, char **argv)
{
    struct pb_ctx ctx = {0};
    int i = 1;
#ifdef M_MXFAST
    /* The stages build and free millions of small JSON values and records.  With glibc's
     * fast bins, each larger request after such a wave first merges them all again (an
     * upload of 10,000 products spent a sixth of its time there); the per-thread cache
     * still reuses small blocks at once. */
    mallopt(M_MXFAST, 0);
#endif
    /* Options before the command name: -q, -v (repeatable), -c FILE. */
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            if (i + 1 >= argc)
                return pb_cli_usage("posbridge [-qv] [-c FILE] COMMAND [ARGS]");
            ctx.config_path = argv[++i];
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            return cmd_help(0, NULL, &ctx);
        } else if (!strcmp(a, "--json")) {
            ctx.json = 1;
        } else if (!strcmp(a, "--version")) {
            return cmd_version(0, NULL, &ctx);
        } else if (a[1] != '-' && strspn(a + 1, "qv") == strlen(a + 1)) {
            for (const char *p = a + 1; *p; p++)
                pb_cli_common(*p, NULL, &ctx);
        } else {
            fprintf(stderr, "posbridge: unknown option '%s'\n", a);
            return pb_cli_usage("posbridge [-qv] [-c FILE] COMMAND [ARGS]");
        }
    }
    if (i >= argc) {
        cmd_help(0, NULL, &ctx);
        return PB_EX_USAGE;
    }
    const struct pb_cmd *cmd = find(argv[i]);
    if (!cmd) {
        fprintf(stderr, "posbridge: '%s' is not a command; see 'posbridge help'\n", argv[i]);
        return PB_EX_USAGE;
    }
    pb_atomic_install_handlers();
    if (cmd->flags & CMD_USES_XML)
        xmlInitParser();
    if (cmd->flags & CMD_NEEDS_NETWORK) {
        struct pb_error err;
        pb_error_init(&err);
        if (pb_curl_load(&err) < 0) {
            fprintf(stderr, "posbridge: %s\n", err.msg);
            return pb_exit_code(err.code);
        }
    }
    int rc = cmd->fn(argc - i, argv + i, &ctx);
    if (cmd->flags & CMD_NEEDS_NETWORK)
        pb_curl_unload();
    if (cmd->flags & CMD_USES_XML)
        xmlCleanupParser();
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "posbridge: error writing to standard output\n");
        rc = pb_exit_worst(rc, PB_EX_IOERR);
    }
    return rc;
}
