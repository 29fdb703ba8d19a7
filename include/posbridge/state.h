/*
 * What posbridge knows about a store, and what it has done in a batch.
 *
 * state/<store>/catalog.jsonl: one line per SKU: the remote ids (product, variant,
 * inventory item), the content hash and the row last pushed, and the quantities last set
 * per location.  Loaded once per run, lines sorted by SKU.
 *
 * state/<store>/catalog.log.jsonl: the changes since that file was last written, so a run
 * that changed a few entries of a big catalog writes those, not the whole file.  Each
 * line is an entry as the base file would hold it, or {"dropped":true,"sku":...} for a
 * SKU forgotten; appended, one write and an fsync per save.  Loading reads the base, then
 * the log in order, the last line about a SKU winning; a torn last line (a crash in the
 * middle of an append) is ignored and cut off before the next append.  When the log would
 * pass an eighth of the base (at least 256 KiB) the base is rewritten atomically with
 * everything and the log removed: the changes are appended to the log first, so a crash
 * between the rename and the unlink leaves a log whose replay changes nothing.
 *
 * BATCH/<store>/results.jsonl: the journal.  An "intent" line before every write to the
 * store and an "outcome" line after it (status, remote ids, HTTP status, the platform's
 * error text, attempts), appended and fsynced per chunk.  A torn last line (a crash in
 * the middle of a write) is ignored, never fatal.  From it a re-run knows what finished,
 * what failed and what was in flight.
 */
#ifndef PB_STATE_H
#define PB_STATE_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct pb_error;

/* ---- the catalog state ---- */

struct pb_state_line;

struct pb_state {
    char *path;
    json_t *by_sku;   /* sku -> {"product_key", "product_id", "variant_id",
                         "inventory_item_id", "hash", "row": {...}, "qty": {loc: n}} */
    int dirty;
    json_t *touched;  /* SKUs changed since the load (set) */
    struct pb_state_line *lines; /* the file as loaded, sorted by SKU: an entry never
                                    touched is written back byte for byte */
    size_t nlines;
    char *log_path;   /* the change log beside path */
    off_t base_size;  /* bytes in the base file; -1 when there is none */
    off_t log_size;   /* bytes of whole lines in the log (a torn tail is cut back to
                         this before the next append); -1 when there is none */
    int compact;      /* the next save rewrites the base (a file had unreadable lines) */
};

/* Load the base file, then the change log (a missing file is an empty state). */
int pb_state_load(struct pb_state *st, const char *path, struct pb_error *err);
/* The row last sent of an entry (borrowed; NULL when unknown), read from the file only
 * when first asked for.  Always use this, never json_object_get(entry, "row"). */
json_t *pb_state_row(json_t *entry);
/* The entry for a SKU (borrowed; NULL when unknown). */
json_t *pb_state_get(const struct pb_state *st, const char *sku);
/* The entry for a SKU, created empty if missing (borrowed). */
json_t *pb_state_entry(struct pb_state *st, const char *sku);
/* Say that the entry of a SKU was changed (every change to a loaded entry must be
 * followed by this, or the save keeps the line as loaded). */
void pb_state_touch(struct pb_state *st, const char *sku);
/* Forget a SKU (the product is gone from the store). */
void pb_state_drop(struct pb_state *st, const char *sku);
/* When anything changed: append the touched entries to the log (SKU order, one write,
 * fsync) or, when the log would grow too big or there is no base yet, rewrite the base
 * atomically (the touched entries serialized again, the others copied as they were
 * read) and remove the log.  -1 with err set (the path, errno) on a write error. */
int pb_state_save(struct pb_state *st, struct pb_error *err);
void pb_state_release(struct pb_state *st);

/* ---- the journal ---- */

struct pb_journal {
    char *path;
    FILE *fp;
    uint64_t seq;      /* last sequence number used */
    int unsynced;      /* lines written since the last fsync */
    json_t *last;      /* key -> last line about it (intent or outcome) */
};

/*
 * Open for appending, reading what is there: every complete line feeds `last`; a torn
 * last line is cut off (the file is truncated back to the last whole line).
 */
int pb_journal_open(struct pb_journal *j, const char *path, struct pb_error *err);
/* Append {"seq", "t", "kind": "intent", "op", "key", ...extra}.  Returns the seq or 0. */
uint64_t pb_journal_intent(struct pb_journal *j, const char *op, const char *key, json_t *extra,
                           struct pb_error *err);
/* Append the outcome of intent seq; `extra` (owned) holds status, ids, http, error... */
int pb_journal_outcome(struct pb_journal *j, uint64_t seq, const char *op, const char *key,
                       json_t *extra, struct pb_error *err);
/* Make everything written so far durable (fsync). */
int pb_journal_sync(struct pb_journal *j, struct pb_error *err);
/* The last line about key (borrowed), or NULL. */
json_t *pb_journal_last(const struct pb_journal *j, const char *key);
int pb_journal_close(struct pb_journal *j, struct pb_error *err);

#endif
