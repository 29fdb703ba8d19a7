/*
 * A progress line for long stages: records done of total, rate and time left, redrawn in
 * place on stderr when it is a terminal (and not -q).  Under cron nothing is drawn; the
 * stage's log lines say what happened.
 */
#ifndef PB_PROGRESS_H
#define PB_PROGRESS_H

#include <stdint.h>

struct pb_progress {
    const char *label;
    uint64_t total, done;
    double start, drawn;
    int on;
};

/* total 0: not known in advance (a count and a rate are drawn instead of a bar). */
void pb_progress_start(struct pb_progress *p, const char *label, uint64_t total);
void pb_progress_add(struct pb_progress *p, uint64_t n);
/* Erase the line (the summary follows). */
void pb_progress_end(struct pb_progress *p);

#endif
