/*
 * Reading QBPOS item answers (qbposXML ItemInventoryQueryRs) into items records.
 *
 * A streaming SAX2 push parse: constant memory whatever the file size, elements read by
 * name in any order (real QBPOS answers are not in schema order), any encoding the
 * document declares (QBPOS writes windows-1252), several ItemInventoryQueryRs per
 * document.  Hostile input is refused: no DTD of any kind (so no external entities and
 * no entity expansion), no network, a cap on each value.
 */
#ifndef PB_QBPOS_ITEMS_H
#define PB_QBPOS_ITEMS_H

#include "posbridge/record.h"

struct pb_error;

/*
 * Called once per ItemInventoryRet.  bad is NULL for a good item; otherwise it says what
 * is wrong (file:line:column, field) and rec holds the raw values.  Return 0 to go on,
 * -1 to stop (with err set by the callback).
 */
typedef int (*pb_item_fn)(void *user, struct pb_rec *rec, const struct pb_error *bad,
                          struct pb_error *err);

struct pb_qbpos_stats {
    long responses; /* ItemInventoryQueryRs elements */
    long items;     /* ItemInventoryRet elements */
    long declared;  /* sum of retCount attributes */
    long remaining; /* iteratorRemainingCount of the last response */
};

/*
 * Parse one document.  tz: time zone for times without offset (NULL = UTC).
 * -1 with err on a malformed or refused document, a QBPOS error status, or a callback
 * stop; err then has file:line:column.
 */
int pb_qbpos_read_items(const char *path, const char *tz, pb_item_fn fn, void *user,
                        struct pb_qbpos_stats *st, struct pb_error *err);

/*
 * Fill in what an item's source left out but implies: the company quantity on hand as the
 * sum of the stores, and the available quantity as on hand minus customer orders.
 * -1 when out of memory, -2 when a quantity would overflow.
 */
int pb_items_complete(struct pb_rec *r);

/* Same, from memory (for the fuzzer and tests); name is used in messages. */
int pb_qbpos_read_items_mem(const char *name, const char *data, size_t len, const char *tz,
                            pb_item_fn fn, void *user, struct pb_qbpos_stats *st,
                            struct pb_error *err);

#endif
