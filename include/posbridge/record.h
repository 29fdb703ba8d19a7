/*
 * The record model: one staged record of any kind, values held as canonical text
 * indexed by the schema's field order, plus the user's own x_* columns and the record's
 * origin (file, line, record number) so any later stage can report against its source.
 *
 * All values live in one buffer that is reused from record to record, so reading a
 * million records allocates a handful of times.  Typed accessors parse the canonical text
 * (money to integer minor units, quantities to fixed point); they never round.
 */
#ifndef PB_RECORD_H
#define PB_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "posbridge/buf.h"
#include "posbridge/schema.h"

struct pb_error;

struct pb_extra {
    size_t name, value; /* offsets into rec->text */
    size_t name_len, value_len;
};

struct pb_rec {
    const struct pb_schema *schema;
    struct pb_buf text;    /* every value, each NUL-terminated */
    size_t *off;           /* per field: offset+1 into text, 0 when absent */
    size_t *len;
    struct pb_extra *extra; /* x_* columns in their order */
    size_t nextra, extra_cap;
    /* origin */
    const char *file;      /* borrowed */
    long line;             /* physical line where the record starts, from 1 */
    long record_no;        /* record number in its file, from 1 */
    /* The reading code's caller's: what it worked out from the record on the thread that
     * built it (pb_read_opts.built).  pb_rec_clear empties it. */
    struct pb_buf aux;
};

int pb_rec_init(struct pb_rec *r, const struct pb_schema *s, struct pb_error *err);
void pb_rec_release(struct pb_rec *r);
/* Forget all values and extras; keep memory and schema. */
void pb_rec_clear(struct pb_rec *r);

/*
 * Set field i to v (taken as canonical; callers normalise first).  An empty value
 * still marks the field present-but-empty, which readers treat as absent.
 */
int pb_rec_set(struct pb_rec *r, int i, const char *v, size_t len);
/* Normalise v for field i (pb_value_normalize) and set it; -1 with *why when invalid. */
int pb_rec_set_checked(struct pb_rec *r, int i, const char *v, size_t len, const char *tz,
                       const char **why);
/* The same for a value already known to be valid UTF-8 (pb_value_normalize_utf8). */
int pb_rec_set_checked_utf8(struct pb_rec *r, int i, const char *v, size_t len,
                            const char *tz, const char **why);
/* Add an x_* column value (name must start with "x_"). */
int pb_rec_add_extra(struct pb_rec *r, const char *name, size_t nlen, const char *v,
                     size_t vlen);

/* Value of field i, or NULL when absent or empty.  *len set when non-NULL. */
static inline const char *
pb_rec_get(const struct pb_rec *r, int i, size_t *len)
{
    if (i < 0 || i >= r->schema->nfields || !r->off[i] || !r->len[i])
        return NULL;
    if (len)
        *len = r->len[i];
    return r->text.data + r->off[i] - 1;
}
static inline int
pb_rec_has(const struct pb_rec *r, int i)
{
    size_t n;
    return pb_rec_get(r, i, &n) != NULL;
}
const char *pb_rec_extra_name(const struct pb_rec *r, size_t k);
const char *pb_rec_extra_value(const struct pb_rec *r, size_t k, size_t *len);

/* Typed accessors: 0 and *out set, 1 when absent, -1 when the text does not parse. */
int pb_rec_money(const struct pb_rec *r, int i, int64_t *cents);
int pb_rec_qty(const struct pb_rec *r, int i, int64_t *q);
int pb_rec_int(const struct pb_rec *r, int i, int64_t *v);
int pb_rec_bool(const struct pb_rec *r, int i, int *v);

/* Copy every value of src into dst (same schema); dst's origin becomes src's. */
int pb_rec_copy(struct pb_rec *dst, const struct pb_rec *src);

/*
 * Check required fields are present.  Returns the index of the first missing one,
 * or -1 when all are there.
 */
int pb_rec_missing(const struct pb_rec *r);

/* Append the record as a JSON object of field -> raw text (for rejects.csv "data"). */
int pb_rec_to_json_text(const struct pb_rec *r, struct pb_buf *out);

#endif
