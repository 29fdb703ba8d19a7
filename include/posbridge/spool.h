/*
 * A spool: records parked in an anonymous temp file in a compact binary form, to be read
 * back in order once or several times.  It lets a stage stream any number of records in
 * constant memory when it must see them all before writing (to know which columns are
 * used, or which duplicate is the newest).  The file is unlinked at creation, so it
 * disappears with the process whatever happens.
 */
#ifndef PB_SPOOL_H
#define PB_SPOOL_H

#include <stdint.h>
#include <stdio.h>

#include "posbridge/record.h"

struct pb_error;

/* A read position of its own for pb_spool_read_at. */
struct pb_spool_cursor {
    char *win;        /* read window */
    uint64_t win_off; /* file offset of win[0] */
    size_t win_len, win_cap;
};

struct pb_spool {
    FILE *fp;
    char *fpbuf;       /* fp's buffer: stdio's own would be a page */
    uint64_t count;
    uint64_t size;     /* bytes written */
    int reading;       /* the stream position is somewhere in the file */
    struct pb_buf io;
    struct pb_spool_cursor cur; /* pb_spool_get_at's */
    const char **files; /* origin file names, indexed */
    size_t nfiles;
};

/* Create in dir (use the output directory: same filesystem, same space checks). */
int pb_spool_open(struct pb_spool *sp, const char *dir, struct pb_error *err);
void pb_spool_close(struct pb_spool *sp);

/* Append a record (values, extras, origin line and record number; file by index). */
int pb_spool_put(struct pb_spool *sp, const struct pb_rec *r, int file_index,
                 struct pb_error *err);
/* The same in two steps: a record's bytes appended to out (on any thread), and bytes so
 * made appended to the spool. */
int pb_spool_encode(const struct pb_rec *r, int file_index, struct pb_buf *out,
                    struct pb_error *err);
int pb_spool_put_encoded(struct pb_spool *sp, const char *p, size_t n, struct pb_error *err);
/* Where the next pb_spool_put will write: an offset for pb_spool_get_at. */
uint64_t pb_spool_tell(const struct pb_spool *sp);
/* Read the record at offset (from pb_spool_tell) into r: 1, or -1 on error. */
int pb_spool_get_at(struct pb_spool *sp, uint64_t offset, struct pb_rec *r, int *file_index,
                    struct pb_error *err);

/*
 * Several readers at once: after pb_spool_seal (which flushes what was written; no more
 * puts), each thread reads with a cursor of its own (zeroed to start), which
 * pb_spool_cursor_release frees.  read_at is pb_spool_get_at through a cursor.
 */
int pb_spool_seal(struct pb_spool *sp, struct pb_error *err);
int pb_spool_read_at(const struct pb_spool *sp, struct pb_spool_cursor *c, uint64_t offset,
                     struct pb_rec *r, int *file_index, struct pb_error *err);
void pb_spool_cursor_release(struct pb_spool_cursor *c);

/* Start reading from the first record. */
int pb_spool_rewind(struct pb_spool *sp, struct pb_error *err);
/* Read the next record into r: 1, 0 at end, -1 on error.  *file_index is set. */
int pb_spool_get(struct pb_spool *sp, struct pb_rec *r, int *file_index, struct pb_error *err);

#endif
