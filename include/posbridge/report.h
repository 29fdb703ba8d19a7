/*
 * The batch report: one self-contained HTML page a retailer opens in a browser.  Per
 * batch: a summary table per store (the counts of src/core/summary.c), the rejected
 * records with their reasons and source rows, the failed records with the store's error
 * and the command that sends them again, the values that need a mapping, and links to the
 * staged files.  Inline CSS only, no script, no external resource; links are relative to
 * the page's directory, so the folder can be copied elsewhere.  Every string from data is
 * escaped (src/core/html.c).  Long lists stop after max_rows rows per section with a line
 * saying how many more there are and which file has them all.  Written as it goes, never
 * built whole in memory.
 */
#ifndef PB_REPORT_H
#define PB_REPORT_H

#include <stdint.h>
#include <stdio.h>

struct pb_config;
struct pb_error;

struct pb_report_opts {
    const char *const *batches; /* batch directories */
    int nbatches;
    const char *page_dir;       /* the directory the page will be in (links start there);
                                   NULL: the current directory */
    const char *title;          /* the heading, e.g. "run 20261127T020000Z"; NULL: the batch */
    long max_rows;              /* rows per section; 0: 1000 */
    int64_t now;                /* when, for the page's footer (seconds since the epoch) */
};

/*
 * Write the page to fp.  A batch without a manifest is an error (PB_ENOINPUT, nothing
 * written); a write error is PB_EIO.  Returns 0 or -1 with err.
 */
int pb_report_write(const struct pb_config *cfg, const struct pb_report_opts *o, FILE *fp,
                    struct pb_error *err);

#endif
