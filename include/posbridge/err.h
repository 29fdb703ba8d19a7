/*
 * Errors that carry where they happened: file, line, column, record and field.
 *
 * A function that can fail takes a struct pb_error * as its last argument and returns
 * -1 (or NULL).  The first error set wins, so a chain of calls reports its root cause.
 * The struct never allocates, so reporting works when memory has run out.
 */
#ifndef PB_ERR_H
#define PB_ERR_H

#include <stddef.h>

enum pb_errcode {
    PB_OK = 0,
    PB_EUSAGE,     /* bad flags or arguments */
    PB_EDATA,      /* a record or document is not valid */
    PB_ENOINPUT,   /* an input is missing or unreadable */
    PB_EUNAVAIL,   /* a needed service or feature is absent */
    PB_ESOFTWARE,  /* internal bug */
    PB_EOS,        /* out of memory, system failure */
    PB_EIO,        /* read or write failure */
    PB_ECANTCREAT, /* output cannot be created */
    PB_ETEMP,      /* temporary failure: retry later */
    PB_EPROTO,     /* a peer answered with something unparseable */
    PB_ENOPERM,    /* authentication or permission */
    PB_ECONFIG     /* bad or missing configuration */
};

struct pb_error {
    enum pb_errcode code;
    int sys_errno;
    char file[256];   /* keeps the tail of long paths */
    long line, column, record; /* -1 when unknown */
    char field[64];
    char msg[256];
};

/* Reset to "no error", positions unknown. */
void pb_error_init(struct pb_error *err);

/* Set code and message unless an error is already set.  Always returns -1. */
int pb_error_set(struct pb_error *err, enum pb_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As pb_error_set, appending ": strerror(errnum)" and keeping errnum. */
int pb_error_sys(struct pb_error *err, enum pb_errcode code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* As pb_error_set, with a position.  file may be NULL; line/column/record -1 if unknown. */
int pb_error_at(struct pb_error *err, enum pb_errcode code, const char *file, long line,
                long column, long record, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* Fill in the position of an error already set, where it is still unknown. */
void pb_error_locate(struct pb_error *err, const char *file, long line, long column,
                     long record);

/*
 * Render as "file:line:col: record N: field 'x': message" (parts that are unknown are
 * left out) into out, truncating.  Returns out.
 */
char *pb_error_format(const struct pb_error *err, char *out, size_t size);

/* The sysexits code for an error code (STYLE §5). */
int pb_exit_code(enum pb_errcode code);

/* Of two exit codes, the more severe one (environment errors beat EX_DATAERR). */
int pb_exit_worst(int a, int b);

/* Exit codes, from sysexits(3). */
enum {
    PB_EX_OK = 0,
    PB_EX_USAGE = 64,
    PB_EX_DATAERR = 65,
    PB_EX_NOINPUT = 66,
    PB_EX_UNAVAILABLE = 69,
    PB_EX_SOFTWARE = 70,
    PB_EX_OSERR = 71,
    PB_EX_CANTCREAT = 73,
    PB_EX_IOERR = 74,
    PB_EX_TEMPFAIL = 75,
    PB_EX_PROTOCOL = 76,
    PB_EX_NOPERM = 77,
    PB_EX_CONFIG = 78
};

/* A broken invariant: print where and abort. */
#define PB_BUG(...) pb_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void pb_bug(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
