/* Error records with positions, their rendering, and the exit-code table. */
#include "posbridge/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posbridge/banned.h"

void
pb_error_init(struct pb_error *err)
{
    /* Every reader of an error stops at the strings' NULs: the rest of the 600 bytes need
     * no clearing (one is made for every record read). */
    err->code = PB_OK;
    err->sys_errno = 0;
    err->file[0] = err->field[0] = err->msg[0] = '\0';
    err->line = err->column = err->record = -1;
}

static void
copy_tail(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        src += n - (size - 1);
    snprintf(dst, size, "%s", src);
}

__attribute__((format(printf, 3, 0))) static int
vset(struct pb_error *err, enum pb_errcode code, const char *fmt, va_list ap)
{
    if (!err || err->code != PB_OK)
        return -1;
    err->code = code;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    return -1;
}

int
pb_error_set(struct pb_error *err, enum pb_errcode code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

int
pb_error_sys(struct pb_error *err, enum pb_errcode code, int errnum, const char *fmt, ...)
{
    va_list ap;
    if (!err || err->code != PB_OK)
        return -1;
    va_start(ap, fmt);
    vset(err, code, fmt, ap);
    va_end(ap);
    err->sys_errno = errnum;
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
    return -1;
}

int
pb_error_at(struct pb_error *err, enum pb_errcode code, const char *file, long line,
            long column, long record, const char *field, const char *fmt, ...)
{
    va_list ap;
    if (!err || err->code != PB_OK)
        return -1;
    va_start(ap, fmt);
    vset(err, code, fmt, ap);
    va_end(ap);
    if (file)
        copy_tail(err->file, sizeof(err->file), file);
    err->line = line;
    err->column = column;
    err->record = record;
    if (field)
        snprintf(err->field, sizeof(err->field), "%s", field);
    return -1;
}

void
pb_error_locate(struct pb_error *err, const char *file, long line, long column, long record)
{
    if (!err)
        return;
    if (!err->file[0] && file)
        copy_tail(err->file, sizeof(err->file), file);
    if (err->line < 0)
        err->line = line;
    if (err->column < 0)
        err->column = column;
    if (err->record < 0)
        err->record = record;
}

char *
pb_error_format(const struct pb_error *err, char *out, size_t size)
{
    size_t n = 0;
    if (!size)
        return out;
    out[0] = '\0';
#define ADD(...)                                                                         \
    do {                                                                                 \
        if (n < size) {                                                                  \
            int k = snprintf(out + n, size - n, __VA_ARGS__);                            \
            if (k > 0)                                                                   \
                n += (size_t)k;                                                          \
        }                                                                                \
    } while (0)
    if (err->file[0]) {
        ADD("%s:", err->file);
        if (err->line >= 0) {
            ADD("%ld:", err->line);
            if (err->column >= 0)
                ADD("%ld:", err->column);
        }
        ADD(" ");
    }
    if (err->record >= 0)
        ADD("record %ld: ", err->record);
    if (err->field[0])
        ADD("field '%s': ", err->field);
    ADD("%s", err->msg[0] ? err->msg : "unknown error");
#undef ADD
    return out;
}

int
pb_exit_code(enum pb_errcode code)
{
    switch (code) {
    case PB_OK: return PB_EX_OK;
    case PB_EUSAGE: return PB_EX_USAGE;
    case PB_EDATA: return PB_EX_DATAERR;
    case PB_ENOINPUT: return PB_EX_NOINPUT;
    case PB_EUNAVAIL: return PB_EX_UNAVAILABLE;
    case PB_ESOFTWARE: return PB_EX_SOFTWARE;
    case PB_EOS: return PB_EX_OSERR;
    case PB_EIO: return PB_EX_IOERR;
    case PB_ECANTCREAT: return PB_EX_CANTCREAT;
    case PB_ETEMP: return PB_EX_TEMPFAIL;
    case PB_EPROTO: return PB_EX_PROTOCOL;
    case PB_ENOPERM: return PB_EX_NOPERM;
    case PB_ECONFIG: return PB_EX_CONFIG;
    }
    return PB_EX_SOFTWARE;
}

/* Higher is more severe.  Data errors are the mildest failure: the run finished. */
static int
severity(int code)
{
    static const int order[] = {
        PB_EX_OK, PB_EX_DATAERR, PB_EX_USAGE, PB_EX_NOINPUT, PB_EX_TEMPFAIL,
        PB_EX_PROTOCOL, PB_EX_UNAVAILABLE, PB_EX_CONFIG, PB_EX_NOPERM, PB_EX_CANTCREAT,
        PB_EX_IOERR, PB_EX_OSERR, PB_EX_SOFTWARE,
    };
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (order[i] == code)
            return (int)i;
    return (int)(sizeof(order) / sizeof(order[0]));
}

int
pb_exit_worst(int a, int b)
{
    return severity(a) >= severity(b) ? a : b;
}

void
pb_bug(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "posbridge: BUG: %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
