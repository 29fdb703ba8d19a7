/* Growable, capped, always NUL-terminated byte buffers. */
#include "posbridge/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posbridge/banned.h"

char pb_buf_empty[1];

void
pb_buf_init(struct pb_buf *b, size_t max)
{
    b->data = pb_buf_empty;
    b->len = b->cap = 0;
    b->max = max;
}

int
pb_buf_grow(struct pb_buf *b, size_t extra)
{
    size_t max = b->max ? b->max : PB_BUF_DEFAULT_MAX;
    if (extra > max || b->len > max - extra)
        return -1;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    /* Never more room than max allows: the inline appends rely on len < cap <= max + 1. */
    if (cap > max + 1)
        cap = max + 1;
    char *p = realloc(b->cap ? b->data : NULL, cap);
    if (!p)
        return -1;
    if (!b->cap)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return 0;
}

int
pb_buf_add_slow(struct pb_buf *b, const void *data, size_t len)
{
    if (pb_buf_grow(b, len) < 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int
pb_buf_vaddf(struct pb_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    char small[256];
    va_copy(cp, ap);
    int n = vsnprintf(small, sizeof(small), fmt, cp);
    va_end(cp);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof(small))
        return pb_buf_add(b, small, (size_t)n);
    if (pb_buf_grow(b, (size_t)n) < 0)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int
pb_buf_addf(struct pb_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = pb_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return r;
}

void
pb_buf_reset(struct pb_buf *b)
{
    pb_buf_truncate(b, 0);
}

void
pb_buf_truncate(struct pb_buf *b, size_t len)
{
    if (len > b->len)
        return;
    b->len = len;
    if (b->cap)
        b->data[len] = '\0';
}

void
pb_buf_release(struct pb_buf *b)
{
    if (b->cap)
        free(b->data);
    pb_buf_init(b, b->max);
}

char *
pb_buf_detach(struct pb_buf *b, size_t *len)
{
    char *p;
    if (b->cap) {
        p = b->data;
    } else {
        p = malloc(1);
        if (p)
            p[0] = '\0';
    }
    if (len)
        *len = b->len;
    pb_buf_init(b, b->max);
    return p;
}

char *
pb_path_join(const char *a, const char *b)
{
    struct pb_buf p = PB_BUF_INIT;
    if (pb_buf_addf(&p, "%s/%s", a, b) < 0)
        return NULL;
    return pb_buf_detach(&p, NULL);
}

void
pb_hex(const void *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}
