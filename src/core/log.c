/* Leveled logging to stderr and, optionally, a run log file. */
#include "posbridge/log.h"

#include <stdarg.h>
#include <unistd.h>

#include "posbridge/err.h"
#include "posbridge/banned.h"

int pb_log_level = PB_LOG_WARN;
static FILE *log_file;

static const char *const names[] = {"error", "warning", "info", "debug", "trace"};

void
pb_log_set_file(FILE *fp)
{
    log_file = fp;
}

void
pb_log(int level, const char *fmt, ...)
{
    va_list ap;
    if (level < PB_LOG_ERROR)
        level = PB_LOG_ERROR;
    if (level > PB_LOG_TRACE)
        level = PB_LOG_TRACE;
    if (level <= pb_log_level) {
        fprintf(stderr, "posbridge: %s: ", names[level]);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    if (log_file && level <= PB_LOG_DEBUG) {
        fprintf(log_file, "%s: ", names[level]);
        va_start(ap, fmt);
        vfprintf(log_file, fmt, ap);
        va_end(ap);
        fputc('\n', log_file);
    }
}

void
pb_log_error(int level, const struct pb_error *err)
{
    char buf[1024];
    pb_log(level, "%s", pb_error_format(err, buf, sizeof(buf)));
}

int
pb_log_tty(void)
{
    return pb_log_level >= PB_LOG_WARN && isatty(STDERR_FILENO);
}
