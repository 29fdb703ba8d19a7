/* Leveled logging to stderr and, optionally, a run log file. */
#include "posbridge/log.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "posbridge/buf.h"
#include "posbridge/err.h"
#include "posbridge/banned.h"

int pb_log_level = PB_LOG_WARN;
static FILE *log_file;
static _Thread_local struct pb_buf *capture;

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
    if (capture) {
        if (level > pb_log_level && !(log_file && level <= PB_LOG_DEBUG))
            return;
        /* A level byte, the text, a NUL; out of memory loses the line, never the run. */
        size_t at = capture->len;
        va_start(ap, fmt);
        if (pb_buf_addch(capture, '0' + level) < 0 || pb_buf_vaddf(capture, fmt, ap) < 0 ||
            pb_buf_addch(capture, '\0') < 0)
            pb_buf_truncate(capture, at);
        va_end(ap);
        return;
    }
    /* A line at a time, whole, whichever thread logs. */
    if (level <= pb_log_level) {
        flockfile(stderr);
        fprintf(stderr, "posbridge: %s: ", names[level]);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        funlockfile(stderr);
    }
    if (log_file && level <= PB_LOG_DEBUG) {
        flockfile(log_file);
        fprintf(log_file, "%s: ", names[level]);
        va_start(ap, fmt);
        vfprintf(log_file, fmt, ap);
        va_end(ap);
        fputc('\n', log_file);
        funlockfile(log_file);
    }
}

void
pb_log_capture(struct pb_buf *into)
{
    capture = into;
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
