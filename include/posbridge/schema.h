/*
 * Staged record schemas.  Each staged kind (items, rejects, products...) is declared once
 * in formats/<kind>.tsv; the build turns those files into the tables below (pb_schemas.h)
 * and into the README's field reference.  CSV and JSONL are two encodings of the same
 * records and both are driven by these tables.
 */
#ifndef PB_SCHEMA_H
#define PB_SCHEMA_H

#include <stddef.h>

struct pb_buf;

enum pb_ftype {
    PB_T_TEXT,     /* UTF-8 text */
    PB_T_ID,       /* opaque identifier: no spaces or control characters */
    PB_T_MONEY,    /* exact decimal, 2 places, written "39.90" */
    PB_T_QTY,      /* exact decimal, up to 4 places, written minimal ("2.5") */
    PB_T_DECIMAL,  /* exact decimal, up to 6 places, written minimal */
    PB_T_INT,      /* 64-bit integer */
    PB_T_BOOL,     /* true | false */
    PB_T_DATETIME, /* UTC, "2026-11-20T23:42:49Z" */
    PB_T_DATE,     /* "2026-11-20" */
    PB_T_ENUM      /* one of a fixed list */
};

enum pb_presence {
    PB_REQUIRED, /* every record has it */
    PB_OPTIONAL, /* may be empty; always a CSV column */
    PB_SPARSE    /* may be empty; a CSV column only when some record uses it */
};

struct pb_field {
    const char *name;
    enum pb_ftype type;
    int maxlen;          /* characters; 0: the default cap */
    enum pb_presence presence;
    const char *source;  /* qbposXML element name, or NULL */
    const char *aliases; /* other accepted column names, "A|B", any case, or NULL */
    const char *enums;   /* for PB_T_ENUM: "a|b|c" */
    const char *meaning;
};

struct pb_schema {
    const char *kind;
    const struct pb_field *fields;
    int nfields;
    const int *required; /* the PB_REQUIRED fields, in order, then -1 */
};

/* The default cap on any one value, in bytes. */
#define PB_FIELD_MAX (64 * 1024)

/* The schema for a kind name ("items"), or NULL. */
const struct pb_schema *pb_schema_find(const char *kind);

/*
 * The schema a staged file name implies: its base name without directory, ".gz", and
 * ".csv"/".jsonl" ("batches/x/items.csv.gz" -> items).  NULL if none.
 */
const struct pb_schema *pb_schema_for_path(const char *path);

/* Index of a field by exact name, or -1. */
int pb_schema_field(const struct pb_schema *s, const char *name, size_t len);

/* Index of a field by name or alias, any case, trimmed; or -1. */
int pb_schema_lookup(const struct pb_schema *s, const char *name, size_t len);

/* Index of the field whose qbposXML element is `source`, or -1 (exact match). */
int pb_schema_source(const struct pb_schema *s, const char *source);

/* The type's name as written in formats/ ("money"). */
const char *pb_ftype_name(enum pb_ftype t);

/*
 * Check a raw value for field f and append its canonical text to out: money with two
 * decimals, quantities minimal, booleans true/false (any case of True/False/yes/no/1/0
 * accepted), timestamps converted to UTC (a value without offset is read in tz; see
 * pb_time_parse), enum values in their declared spelling.  Text must be valid UTF-8.
 * Returns 0, or -1 with *why a static reason.  An empty value is valid for every type and
 * appends nothing (presence is checked elsewhere).
 */
int pb_value_normalize(const struct pb_field *f, const char *v, size_t len, const char *tz,
                       struct pb_buf *out, const char **why);
/* The same for a value the caller has already checked is valid UTF-8. */
int pb_value_normalize_utf8(const struct pb_field *f, const char *v, size_t len,
                            const char *tz, struct pb_buf *out, const char **why);

/*
 * The x_ column name for a foreign name ("Custom Field 2" -> "x_custom_field_2"): lower
 * case, letters and digits kept (non-ASCII too), runs of anything else one underscore.
 * Returns a malloc'd string, or NULL when out of memory or nothing is left of the name.
 */
char *pb_extra_name(const char *name, size_t len);

/* True if s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
int pb_utf8_valid(const char *s, size_t len);

/* Append s[0..len), read as Windows-1252, to out as UTF-8.  -1 past the buffer's cap. */
int pb_cp1252_to_utf8(const char *s, size_t len, struct pb_buf *out);

/* Same, from ISO-8859-1 (bytes are code points). */
int pb_latin1_to_utf8(const char *s, size_t len, struct pb_buf *out);

#endif
