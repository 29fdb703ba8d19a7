/*
 * Growable byte buffer with a size cap.
 *
 * Invariants: after PB_BUF_INIT or pb_buf_init, `data` is never NULL and is always
 * NUL-terminated at data[len]; `len < cap` unless cap is 0 (data then points at a shared
 * empty string).  `max` bounds len: an append that would pass it fails with -1 and leaves
 * the buffer unchanged, so a hostile input cannot eat memory.  max 0 means the default
 * cap (1 GiB).
 */
#ifndef PB_BUF_H
#define PB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct pb_buf {
    char *data;
    size_t len, cap, max;
};

extern char pb_buf_empty[];
#define PB_BUF_INIT {pb_buf_empty, 0, 0, 0}
#define PB_BUF_DEFAULT_MAX ((size_t)1 << 30)

void pb_buf_init(struct pb_buf *b, size_t max);

/* Make room for `extra` more bytes.  -1 on overflow, past max, or out of memory. */
int pb_buf_grow(struct pb_buf *b, size_t extra) __attribute__((warn_unused_result));

int pb_buf_add(struct pb_buf *b, const void *data, size_t len)
    __attribute__((warn_unused_result));
int pb_buf_adds(struct pb_buf *b, const char *s) __attribute__((warn_unused_result));
int pb_buf_addch(struct pb_buf *b, int c) __attribute__((warn_unused_result));
int pb_buf_addf(struct pb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), warn_unused_result));
int pb_buf_vaddf(struct pb_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0), warn_unused_result));

/* Empty the buffer, keeping its memory. */
void pb_buf_reset(struct pb_buf *b);
/* Shorten to len (<= current len). */
void pb_buf_truncate(struct pb_buf *b, size_t len);
/* Free the memory and re-initialise (keeping max). */
void pb_buf_release(struct pb_buf *b);
/* Hand the malloc'd string to the caller (never NULL unless out of memory); re-init. */
char *pb_buf_detach(struct pb_buf *b, size_t *len);

#endif
