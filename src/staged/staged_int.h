/* Private to src/staged: the shared reader state and the per-encoding entry points. */
#ifndef PB_STAGED_INT_H
#define PB_STAGED_INT_H

#include <csv.h>
#include <zlib.h>

#include "posbridge/staged.h"

#define PB_LINE_MAX (1024 * 1024) /* longest JSONL line / CSV row we accept */
#define PB_MAX_COLUMNS 1024

/* A column of the CSV header: a field index, an x_* extra, or an unknown name. */
enum { COL_EXTRA = -2, COL_UNKNOWN = -3 };

struct csv_row {
    long line;      /* physical line where the row starts */
    size_t first;   /* index of its first field in rd->cells */
    size_t n;       /* number of fields */
};

struct csv_cell {
    size_t off, len;
};

struct pb_reader {
    const struct pb_schema *s;
    struct pb_read_opts o;
    char *path;           /* the name used in messages and origins */
    gzFile gz;
    enum pb_enc enc;
    long record_no;
    int eof;
    int warned_cp1252;
    unsigned char *present; /* per field: a column in this file */
    struct pb_buf scratch;

    /* JSONL */
    struct pb_buf line;
    long lineno;
    char *rdbuf;
    size_t rdlen, rdpos;

    /* CSV */
    struct csv_parser p;
    int p_live;
    int header_done;
    int bom_checked;
    int *colmap;
    char **colname;
    size_t ncols;
    long lines;            /* line terminators seen so far */
    int last_cr;           /* the previous terminator was a CR */
    long row_line;         /* line where the row being parsed started */
    int row_open;
    struct pb_buf cellbuf; /* cell text */
    struct pb_buf unq;     /* a quoted cell, unescaped */
    struct csv_cell *cells;
    size_t ncells, cells_cap;
    struct csv_row *rows;
    size_t nrows, rows_cap, row_pos;
    size_t cur_first;      /* first cell of the row being parsed */
    int oom;
    int no_fast;           /* every byte through libcsv (the tests' reference) */
    struct build_pool *pool; /* threads building records (pb_csv_next_many) */
    struct pb_rec one;       /* pb_reader_next_many's record when it reads one at a time */
    struct pb_error one_bad;
    int one_kind;
};

int pb_csv_next(struct pb_reader *rd, struct pb_rec *rec, struct pb_error *bad,
                struct pb_error *err);
int pb_jsonl_next(struct pb_reader *rd, struct pb_rec *rec, struct pb_error *bad,
                  struct pb_error *err);
/* Up to max records at once, built on helper threads: see pb_reader_next_many. */
int pb_csv_next_many(struct pb_reader *rd, struct pb_rec **recs, struct pb_error **bads,
                     int **kinds, int max, struct pb_error *err);
void pb_csv_free(struct pb_reader *rd);
/* Stop the threads of pb_csv_next_many. */
void pb_csv_pool_free(struct pb_reader *rd);

/*
 * Split CSV text into rows exactly as the reader does, for the tests: a leading BOM
 * dropped, the bytes handed over in pieces ending at cuts[0..ncuts) (ascending; then the
 * rest) as if each were a chunk read from the file.  With fast 0 every byte goes through
 * libcsv, with no fast path.  row() gets each row's physical line and cells (borrowed) and
 * returns -1 to stop.  *lines is set to the line terminators seen.  Returns 0, or -1 with
 * err set as pb_reader_next would set it (the path is "split").
 */
int pb_csv_split(const char *text, size_t len, const size_t *cuts, size_t ncuts, int fast,
                 int (*row)(void *user, long line, size_t n, const char *const *v,
                            const size_t *len),
                 void *user, long *lines, struct pb_error *err);

/* Undo the writer's formula escape: "'=x" -> "=x", "''x" -> "'x" (only then). */
void pb_unescape_formula(const char **v, size_t *len);

/* Read up to n bytes; returns bytes read, 0 at end, -1 on error (err set). */
long pb_reader_fill(struct pb_reader *rd, void *buf, size_t n, struct pb_error *err);

/* Check text for UTF-8; if it is not, convert from Windows-1252 into rd->scratch, warn
 * once per file, and point *v at the converted text. -1 on out of memory. */
int pb_reader_utf8(struct pb_reader *rd, long line, const char **v, size_t *len);

#endif
