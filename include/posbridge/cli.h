/*
 * The command-line layer: the context every command gets and the command functions.
 * Only src/main.c and src/cmd_*.c parse argv, print for the user or decide exit codes.
 */
#ifndef PB_CLI_H
#define PB_CLI_H

#include <getopt.h>

struct pb_error;

struct pb_ctx {
    const char *config_path; /* -c FILE, or NULL */
    int json;                /* --json */
};

/* Options every command accepts; add PB_COMMON_OPTS to each long-option table. */
#define PB_COMMON_SHORT "c:hqv"
#define PB_COMMON_LONG                                                                   \
    {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},          \
        {"quiet", no_argument, NULL, 'q'}, {"verbose", no_argument, NULL, 'v'}

/*
 * Handle a common option.  Returns 1 if it was one (ctx or the log level updated),
 * 0 if not.  'h' is left to the command (it prints its own usage).
 */
int pb_cli_common(int opt, const char *arg, struct pb_ctx *ctx);

/* Print "usage: ..." to stderr and return EX_USAGE. */
int pb_cli_usage(const char *usage);
/* Print the usage to stdout and return 0 (for --help). */
int pb_cli_help(const char *usage);
/* Report an error record to stderr and return its exit code. */
int pb_cli_fail(const struct pb_error *err);

int cmd_export(int argc, char **argv, struct pb_ctx *ctx);
int cmd_validate(int argc, char **argv, struct pb_ctx *ctx);
int cmd_config(int argc, char **argv, struct pb_ctx *ctx);
int cmd_convert(int argc, char **argv, struct pb_ctx *ctx);
int cmd_transform(int argc, char **argv, struct pb_ctx *ctx);
int cmd_upload(int argc, char **argv, struct pb_ctx *ctx);
int cmd_replay(int argc, char **argv, struct pb_ctx *ctx);
int cmd_emit(int argc, char **argv, struct pb_ctx *ctx);
int cmd_download(int argc, char **argv, struct pb_ctx *ctx);
int cmd_run(int argc, char **argv, struct pb_ctx *ctx);
int cmd_status(int argc, char **argv, struct pb_ctx *ctx);
int cmd_report(int argc, char **argv, struct pb_ctx *ctx);
int cmd_ingest(int argc, char **argv, struct pb_ctx *ctx);
int cmd_qbwc(int argc, char **argv, struct pb_ctx *ctx);
int cmd_qbwc_file(int argc, char **argv, struct pb_ctx *ctx);
int cmd_qbwc_passwd(int argc, char **argv, struct pb_ctx *ctx);

struct pb_emit_result;
/* Print emit's summary; returns the exit code it means. */
int pb_emit_summary(const struct pb_emit_result *r, const char *batch, int json);

#endif
