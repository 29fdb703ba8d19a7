/*
 * What a batch did, per store: the counts `posbridge status` prints and `posbridge report`
 * shows, computed in one place.
 *
 * A catalog batch, per store: every product key of <store>/plan.csv classified by the last
 * line the journal (<store>/results.jsonl) has about it: created or updated (done),
 * unchanged, failed, pending (an intent with no outcome: a run that died), rejected (by
 * the plan, or by transform before it: the manifest's rejected_products) or not sent.
 * A sales batch: its receipts (qbpos/receipts.*) classified by the QBPOS ledger:
 * confirmed, refused, waiting for QBPOS's answer, or not sent; plus what download and
 * transform recorded in the manifest.
 */
#ifndef PB_SUMMARY_H
#define PB_SUMMARY_H

#include <jansson.h>

struct pb_config;

enum pb_summary_state {
    PB_SUM_CREATED, PB_SUM_UPDATED, PB_SUM_UNCHANGED, PB_SUM_FAILED, PB_SUM_PENDING,
    PB_SUM_REJECTED, PB_SUM_NOT_SENT,
    /* a sales batch's receipts */
    PB_SUM_CONFIRMED, PB_SUM_REFUSED, PB_SUM_WAITING
};

/* One record as it is classified (optional).  store: the store name, or "qbpos" for a
 * sales batch's receipts; last: the journal or ledger line about key (borrowed, may be
 * NULL); sku and reason: a plan rejection's first variant and its reason (else NULL). */
struct pb_summary_visit {
    void (*record)(void *user, const char *store, const char *key, enum pb_summary_state st,
                   json_t *last, const char *sku, const char *reason);
    void *user;
};

/*
 * The batch directory arg names: arg itself when it holds a manifest.json, else
 * <home>/batches/<arg> when that does.  Returns a malloc'd path, or NULL when neither is
 * a batch (or out of memory).
 */
char *pb_summary_find_batch(const struct pb_config *cfg, const char *arg);

/*
 * The summary of one batch (a new reference the caller owns), or NULL when batch has no
 * readable manifest.json:
 *   {"batch", "kind", "stores": [
 *      {"store", "created", "updated", "done", "unchanged", "failed", "pending",
 *       "rejected", "not_sent", "replay"?}              (a catalog store)
 *      {"store": "qbpos", "downloaded": {...}?, "receipts", "emitted", "confirmed",
 *       "refused", "waiting_for_qbpos", "not_sent", "rejected", "replay"?}  (a sales batch)
 *   ], "rejected_records"}
 * "replay" is the command that sends what is left.  visit (may be NULL) sees each record.
 */
json_t *pb_summary_batch(const struct pb_config *cfg, const char *batch,
                         const struct pb_summary_visit *visit);

#endif
