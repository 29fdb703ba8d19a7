/*
 * rejects.csv: every record a stage refused, with the stage, its source file, line,
 * column, record number, field, the reason, and the record as read.  Opened on the
 * first reject, so a clean run leaves no rejects file.
 */
#ifndef PB_REJECTS_H
#define PB_REJECTS_H

#include <stdint.h>

#include "posbridge/record.h"
#include "posbridge/staged.h"

struct pb_error;

struct pb_rejects {
    char *path;
    const char *stage;
    struct pb_writer *w;
    struct pb_columns cols;
    struct pb_rec rec;
    uint64_t count;
};

int pb_rejects_init(struct pb_rejects *rj, const char *path, const char *stage,
                    struct pb_error *err);
/* Record one refused record: why (position and reason) and the record's raw values. */
int pb_rejects_add(struct pb_rejects *rj, const struct pb_error *why,
                   const struct pb_rec *raw, struct pb_error *err);
/* Commit the file (if any reject was added): sets its digest ("" when none). */
int pb_rejects_commit(struct pb_rejects *rj, char digest[65], struct pb_error *err);
void pb_rejects_release(struct pb_rejects *rj);

#endif
