/*
 * Staged files: the schema-driven CSV and JSONL encodings of records, optionally
 * gzip-compressed.  The encoding follows the file name: ".csv" or ".jsonl", plus ".gz".
 *
 * Readers accept what a spreadsheet or a hand edit produces: a UTF-8 BOM, CRLF, quoted
 * newlines, columns in any order and under their aliases, Windows-1252 text (converted,
 * with a warning), spreadsheet-escaped cells.  A bad record is returned as a rejected
 * record with its position and reason, and reading goes on.  Writers write atomically
 * (temp file + rename), neutralise spreadsheet formulas in text cells, and hash what they
 * write for the manifest.
 */
#ifndef PB_STAGED_H
#define PB_STAGED_H

#include <stdint.h>

#include "posbridge/record.h"

struct pb_error;

enum pb_enc { PB_ENC_CSV, PB_ENC_JSONL };

/* Encoding and compression from a file name; -1 if it is neither .csv nor .jsonl. */
int pb_staged_encoding(const char *path, enum pb_enc *enc, int *gz);

/* The staged file of a kind in dir: the first of kind.csv, .jsonl, .csv.gz, .jsonl.gz that
 * exists, as a malloc'd path (its file name is what follows the last '/'), or NULL. */
char *pb_staged_find(const char *dir, const char *kind);

/* ---- reading ---- */

enum pb_read_mode {
    PB_READ_STAGED, /* our own files: unknown columns other than x_* reject the row */
    PB_READ_FOREIGN /* another program's CSV (QBPOS export): unknown columns become x_* */
};

struct pb_read_opts {
    enum pb_read_mode mode;
    const char *tz;       /* time zone for timestamps without offset (NULL: refuse them) */
    int force_enc;        /* -1: from the name; else enum pb_enc */
    const char *name;     /* how messages and origins name the file (NULL: its path) */
    int threads;          /* pb_reader_next_many builds CSV records on this many (0: 1) */
    /* Optional, for pb_reader_next_many: called once for each record as soon as it is
     * built, with its verdict, on the thread that built it (so for several records at once,
     * in any order).  It may read the record and fill rec->aux, nothing shared; -1 is out
     * of memory. */
    int (*built)(void *user, struct pb_rec *rec, int kind);
    void *user;
};

struct pb_reader;

/* Open path (plain or gzip, detected by content).  NULL with err on failure. */
struct pb_reader *pb_reader_open(const char *path, const struct pb_schema *s,
                                 const struct pb_read_opts *opts, struct pb_error *err);

enum { PB_READ_EOF = 0, PB_READ_OK = 1, PB_READ_REJECT = 2 };

/*
 * Read the next record into rec (origin set).  Returns PB_READ_OK; PB_READ_REJECT with
 * bad describing the first problem (file, line, column, record, field, reason) and rec
 * holding the raw values as read; PB_READ_EOF; or -1 on an error that ends the file
 * (I/O, corrupt gzip, broken CSV quoting), in err.
 */
int pb_reader_next(struct pb_reader *rd, struct pb_rec *rec, struct pb_error *bad,
                   struct pb_error *err);

/*
 * The same for up to max records at once (at most 1024): *recs, *bads and *kinds point at
 * n records, their verdicts (PB_READ_OK or PB_READ_REJECT with the bad set) as
 * pb_reader_next would have given them one by one, in file order; they stay valid until
 * the next call.  With opts.threads above 1 a CSV file's records are built on helper
 * threads while the caller works through the previous ones.  Returns n (0 at the end of
 * the file), or -1 with err.
 */
int pb_reader_next_many(struct pb_reader *rd, struct pb_rec **recs, struct pb_error **bads,
                        int **kinds, int max, struct pb_error *err);

/* Columns present in the file, for a writer that should keep them (NULL-safe). */
const unsigned char *pb_reader_columns(const struct pb_reader *rd);
/* Close; -1 if the gzip trailer is bad (truncated or corrupt file). */
int pb_reader_close(struct pb_reader *rd, struct pb_error *err);

/* ---- writing ---- */

/* Which columns a CSV file gets: every required and optional field, the sparse fields
 * marked used, then the x_* names in order. */
struct pb_columns {
    unsigned char *use; /* per field, 1 = a column; sized nfields */
    char **extra;
    size_t nextra, extra_cap;
};

int pb_columns_init(struct pb_columns *c, const struct pb_schema *s);
void pb_columns_release(struct pb_columns *c);
/* Mark the sparse fields and x_* names a record uses. */
int pb_columns_note(struct pb_columns *c, const struct pb_rec *r);

struct pb_writer;
struct pb_digest_group;

struct pb_writer *pb_writer_open(const char *path, const struct pb_schema *s, enum pb_enc enc,
                                 int gz, const struct pb_columns *cols, struct pb_error *err);
/* The same, with the output's digest computed by the thread of `hash` (see digest.h): for
 * a stage writing several files side by side.  `hash` must outlive the writer. */
struct pb_writer *pb_writer_open_in(struct pb_digest_group *hash, const char *path,
                                    const struct pb_schema *s, enum pb_enc enc, int gz,
                                    const struct pb_columns *cols, struct pb_error *err);
int pb_writer_put(struct pb_writer *w, const struct pb_rec *r, struct pb_error *err);

/*
 * A record in parts, for a stage that writes the same fields to several files and works
 * them out ahead.  pb_writer_encode appends to out the fields [from, to) of r as this
 * writer would write them: CSV cells, each after a comma but the header's first column,
 * or JSONL members, each after a comma but the record's first (a part from a later field
 * assumes an earlier one is present).  The part from field 0 opens the record, the part
 * up to the schema's end closes it.  It reads only what the writer fixed when it opened,
 * so any thread may call it while another writes.  pb_writer_put_parts writes one record
 * from its parts, in order; together they are the bytes pb_writer_put would write.
 */
struct pb_part {
    const char *p;
    size_t n;
};
int pb_writer_encode(const struct pb_writer *w, const struct pb_rec *r, int from, int to,
                     struct pb_buf *out);
int pb_writer_put_parts(struct pb_writer *w, const struct pb_part *parts, int nparts,
                        struct pb_error *err);
/* As pb_writer_encode for fields [from, to) that are all whole numbers, given as v[f - from]
 * (has[f - from] says whether field f has one), without a record; the part
 * neither opens nor closes the record (0 < from, to < the schema's end). */
int pb_writer_encode_ints(const struct pb_writer *w, int from, int to, const int64_t *v,
                          const unsigned char *has, struct pb_buf *out);
/* A hint: have the kernel start writing what was written so far to the disk, so that the
 * fsyncs of several files committed one after the other find little left to wait for. */
void pb_writer_writeback(struct pb_writer *w);
/* Finish, fsync, rename into place.  Sets digest (hex of the bytes on disk) and count. */
int pb_writer_commit(struct pb_writer *w, char digest[65], uint64_t *count,
                     struct pb_error *err);
void pb_writer_abort(struct pb_writer *w);

/* Encode one CSV cell onto out: RFC 4180 quoting, and the formula escape when text is 1;
 * text 0 quotes only; text -1 copies a canonical number, boolean or time as it is. */
int pb_csv_cell(struct pb_buf *out, const char *v, size_t len, int text);
/* Encode a JSON string onto out. */
int pb_json_str(struct pb_buf *out, const char *s, size_t len);

#endif
