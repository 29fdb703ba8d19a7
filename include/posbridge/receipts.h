/*
 * Receipts into QBPOS: `emit` turns a batch's qbpos/receipts.* into one qbposXML 3.0
 * request document, and `ingest` reads QBPOS's answers to it.
 *
 * state/qbpos/ledger.jsonl remembers, per receipt and per new customer, what happened:
 * an "intent" line when a request is emitted, an outcome line when its answer is
 * ingested (confirmed with the TxnID or ListID, failed with QBPOS's status code and
 * message, or absent: a check found it was never added).  emit never sends again what
 * the ledger holds as confirmed, and for anything emitted whose answer never came back it
 * sends a query instead of a second Add (a receipt is found by the marker "[pb:KEY]" in
 * its Comments, a customer by its CustomerID), so a crash anywhere between emit and ingest
 * cannot add a receipt or a customer twice.
 */
#ifndef PB_RECEIPTS_H
#define PB_RECEIPTS_H

#include <stddef.h>
#include <stdint.h>

#include "posbridge/config.h"

struct pb_error;

struct pb_emit_opts {
    const char *batch_dir;
    const char *out;          /* write the document here instead of BATCH/qbpos/requests.xml */
};

struct pb_emit_result {
    uint64_t receipts;        /* SalesReceiptAddRq emitted */
    uint64_t customers;       /* CustomerAddRq emitted */
    uint64_t checks;          /* queries for requests whose answer never came */
    uint64_t confirmed;       /* already in QBPOS: skipped */
    uint64_t waiting;         /* held back until a customer check is answered */
    uint64_t rejected;        /* refused (to qbpos/rejects.csv) */
    int written;              /* a document was written */
};

int pb_emit_run(const struct pb_config *cfg, const struct pb_emit_opts *o,
                struct pb_emit_result *res, struct pb_error *err);

struct pb_ingest_result {
    uint64_t confirmed, failed, absent, unmatched, customers;
};

/* One answer of a QBPOS response document (a ...Rs element). */
struct pb_qbpos_answer {
    char *request_id, *element, *severity, *message;
    long code;                /* statusCode, -1 when absent */
    char *id;                 /* the first TxnID or ListID of a ...Ret */
    int rets;                 /* how many ...Ret it holds */
    char *iterator_id;        /* iteratorID, or NULL */
    long remaining;           /* iteratorRemainingCount, -1 when absent */
};
typedef int (*pb_answer_fn)(void *user, const struct pb_qbpos_answer *a, struct pb_error *err);

/*
 * Read a response document (the file at path, or data/size when data is not NULL; path
 * then only names it in messages) and call fn for each answer in document order.  A DTD is
 * refused; so is a document over 256 MiB.  -1 with err (file:line:column) on a document
 * that is not well-formed or not a qbposXML response.
 */
int pb_qbpos_read_responses(const char *path, const char *data, size_t size, pb_answer_fn fn,
                            void *user, struct pb_error *err);

/* Read response documents (any encoding, any order) and record each answer. */
int pb_ingest_run(const struct pb_config *cfg, const char *batch_dir, char **files, int nfiles,
                  struct pb_ingest_result *res, struct pb_error *err);

/* "[pb:KEY]", the marker emit writes into a receipt's Comments. */
int pb_receipt_marker(const char *key, char *out, size_t n);
/* The CustomerID emit gives a new customer: "pb-" and 16 hex digits of its key's SHA-256. */
void pb_customer_code(const char *key, char out[20]);

#endif
