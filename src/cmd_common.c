/* Helpers shared by the command implementations. */
#include <stdio.h>

#include "posbridge/cli.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/banned.h"

int
pb_cli_common(int opt, const char *arg, struct pb_ctx *ctx)
{
    switch (opt) {
    case 'c':
        ctx->config_path = arg;
        return 1;
    case 'q':
        pb_log_level = PB_LOG_ERROR;
        return 1;
    case 'v':
        if (pb_log_level < PB_LOG_INFO)
            pb_log_level = PB_LOG_INFO;
        else if (pb_log_level < PB_LOG_TRACE)
            pb_log_level++;
        return 1;
    }
    return 0;
}

int
pb_cli_usage(const char *usage)
{
    fprintf(stderr, "usage: %s\n", usage);
    return PB_EX_USAGE;
}

int
pb_cli_help(const char *usage)
{
    printf("usage: %s\n", usage);
    return 0;
}

int
pb_cli_fail(const struct pb_error *err)
{
    pb_log_error(PB_LOG_ERROR, err);
    return pb_exit_code(err->code);
}
