/*
 * Growable byte buffer with a size cap.
 *
 * Invariants: after PB_BUF_INIT or pb_buf_init, `data` is never NULL and is always
 * NUL-terminated at data[len]; `len < cap <= max + 1` unless cap is 0 (data then points at
 * a shared empty string).  `max` bounds len: an append that would pass it fails with -1 and leaves
 * the buffer unchanged, so a hostile input cannot eat memory.  max 0 means the default
 * cap (1 GiB).
 */
#ifndef PB_BUF_H
#define PB_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

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

/* The out-of-line halves of the appends below, for when the buffer must grow. */
int pb_buf_add_slow(struct pb_buf *b, const void *data, size_t len)
    __attribute__((warn_unused_result));

/* Append len bytes. */
__attribute__((warn_unused_result)) static inline int
pb_buf_add(struct pb_buf *b, const void *data, size_t len)
{
    if (b->len + len < b->cap) { /* the common case: room already there */
        if (len)
            memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
        return 0;
    }
    return pb_buf_add_slow(b, data, len);
}

/* Append a byte. */
__attribute__((warn_unused_result)) static inline int
pb_buf_addch(struct pb_buf *b, int c)
{
    if (b->len + 1 < b->cap) {
        b->data[b->len++] = (char)c;
        b->data[b->len] = '\0';
        return 0;
    }
    char ch = (char)c;
    return pb_buf_add_slow(b, &ch, 1);
}

/* Append a NUL-terminated string. */
__attribute__((warn_unused_result)) static inline int
pb_buf_adds(struct pb_buf *b, const char *s)
{
    return pb_buf_add(b, s, strlen(s));
}
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

/* "a/b", malloc'd (NULL when out of memory). */
char *pb_path_join(const char *a, const char *b);

/* The n bytes at p as 2n lowercase hex digits and a NUL at out. */
void pb_hex(const void *p, size_t n, char *out);

#endif
