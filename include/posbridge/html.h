/*
 * HTML text from untrusted data: SKUs, titles, the stores' error messages, file names,
 * rejected source rows.  The five markup characters become entities (& < > " '), bytes
 * that are not valid UTF-8 (overlong forms, surrogates, past U+10FFFF, cut-off sequences)
 * and control characters other than tab, newline and carriage return become U+FFFD, so
 * whatever the data holds the page shows it as text and stays well-formed.
 */
#ifndef PB_HTML_H
#define PB_HTML_H

#include <stddef.h>
#include <stdio.h>

struct pb_buf;

/* Flags for the escapers. */
enum {
    PB_HTML_REDACT = 1 << 0 /* hide the user:password@ part of any URL in the text */
};

/* Append s[0..len) escaped to out.  -1 when out cannot grow. */
int pb_html_escape(struct pb_buf *out, const char *s, size_t len, int flags)
    __attribute__((warn_unused_result));

/* Write s (NUL-terminated; NULL writes nothing) escaped to fp.  -1 on a write error. */
int pb_html_puts(FILE *fp, const char *s, int flags);

#endif
