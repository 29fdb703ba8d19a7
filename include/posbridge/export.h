/*
 * The export stage: QBPOS item files (qbposXML ItemInventoryQueryRs answers or the
 * "Export to Excel" item CSV) -> a new catalog batch holding items.csv|jsonl[.gz],
 * manifest.json and, when something was refused, rejects.csv.
 *
 * Streaming in constant memory: parsed items are spooled to disk, then written once the
 * columns in use and the newest copy of each duplicated item are known.  Duplicates (the
 * same ListID in several iterator chunks or files) keep the newest TimeModified.  A
 * malformed or refused document fails the whole export and leaves no batch behind.
 */
#ifndef PB_EXPORT_H
#define PB_EXPORT_H

#include <stdint.h>

#include "posbridge/staged.h"

struct pb_error;

struct pb_export_opts {
    const char *const *inputs;
    int ninputs;
    const char *batches_dir; /* where a new batch goes, unless out_dir */
    const char *out_dir;     /* -o: publish exactly here */
    int force;               /* --force: replace out_dir if it exists */
    enum pb_enc enc;
    int gzip;
    const char *tz;          /* QBPOS time zone for times without offset */
    int64_t now;             /* batch creation time */
};

struct pb_export_result {
    char *batch_dir;    /* malloc'd; the published batch */
    uint64_t read;      /* items read */
    uint64_t written;
    uint64_t rejected;
    uint64_t duplicates;
    uint64_t responses;
};

/* Run the stage.  0 (check result.rejected for exit 65) or -1 with err. */
int pb_export_run(const struct pb_export_opts *o, struct pb_export_result *res,
                  struct pb_error *err);

#endif
