/*
 * The download stage: a store's shipped orders, refunds and the customers of those orders
 * -> a new sales batch (orders.*, returns.*, customers.*), incremental on the platform's
 * modified time.
 *
 * The window asked for is [cursor - overlap, now): state/<store>/cursor.json keeps where
 * the last complete download stopped, and is moved only after the batch is published, so
 * a failed or killed download is simply done again.  The overlap (config `overlap`,
 * default 10 minutes) catches records whose modified time was written late; a record met
 * twice (the overlap, a page the platform repeats) is kept once, its newest copy.  The
 * ledger downstream makes sure an order seen again in the next window is not added to
 * QBPOS twice.
 *
 * Connectors feed records through a sink: begin a record, set its fields (values are
 * checked against formats/<kind>.tsv; a bad one sends the whole record to rejects.csv
 * with the reason, never silently), add its lines, end it.
 */
#ifndef PB_DOWNLOAD_H
#define PB_DOWNLOAD_H

#include <jansson.h>
#include <stdint.h>

#include "posbridge/config.h"

struct pb_error;
struct pb_upload;

enum pb_dl_kind { PB_DL_ORDERS, PB_DL_RETURNS, PB_DL_CUSTOMERS, PB_DL__COUNT };

struct pb_dl;

/* The window, seconds since the epoch (UTC): modified at or after since, before until. */
int64_t pb_dl_since(const struct pb_dl *dl);
int64_t pb_dl_until(const struct pb_dl *dl);
/* The same as "YYYY-MM-DDThh:mm:ssZ". */
const char *pb_dl_since_text(const struct pb_dl *dl);
const char *pb_dl_until_text(const struct pb_dl *dl);

/*
 * Start a record: its platform id and modified time (ISO-8601; a time without an offset
 * is UTC).  Returns 1 to go on, 0 when a copy at least as new is already kept (skip it:
 * calls until pb_dl_end are then ignored), -1 on error (out of memory).
 */
int pb_dl_begin(struct pb_dl *dl, enum pb_dl_kind k, const char *id, const char *updated);
/* Set a field of the record (before any line: every line gets it) or of the current line.
 * NULL or "" sets nothing.  A value that does not fit the schema marks the record bad. */
void pb_dl_set(struct pb_dl *dl, int field, const char *v);
void pb_dl_setn(struct pb_dl *dl, int field, const char *v, size_t n);
/* A JSON value: strings as they are, integers, reals (money the platform sends as a JSON
 * number), true/false; null sets nothing. */
void pb_dl_set_json(struct pb_dl *dl, int field, json_t *v);
/* Start the next line of the record (orders and returns). */
void pb_dl_line(struct pb_dl *dl);
/* Say the record is wrong in a way only the connector can see (e.g. a line without a SKU
 * the platform cannot explain). */
void pb_dl_bad(struct pb_dl *dl, const char *field, const char *why);
/* Finish the record: kept (replacing an older copy), or rejected with the reason.
 * -1 only on a system error. */
int pb_dl_end(struct pb_dl *dl, struct pb_error *err);

struct pb_download_opts {
    const char *store;
    const char *since;      /* ISO-8601, overrides the cursor */
    const char *out_dir;    /* publish the batch here instead of batches/<id> */
};

struct pb_download_result {
    uint64_t orders, returns, customers;    /* records kept */
    uint64_t lines, duplicates, rejected;
    uint64_t confirmed;                     /* met again, but already in QBPOS: left out */
    uint64_t requests, retries;
    char batch[4096];                       /* where the batch is ("" when none) */
    char since[32], until[32];
    int auth_failed, temp_failed, unreachable;
};

int pb_download_run(const struct pb_config *cfg, const struct pb_download_opts *o,
                    struct pb_download_result *res, struct pb_error *err);

#endif
