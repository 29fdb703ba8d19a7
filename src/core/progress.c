/* The terminal progress line.  See include/posbridge/progress.h. */
#include "posbridge/progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "posbridge/log.h"
#include "posbridge/banned.h"

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void
pb_progress_start(struct pb_progress *p, const char *label, uint64_t total)
{
    memset(p, 0, sizeof(*p));
    p->label = label;
    p->total = total;
    p->start = now();
    p->on = pb_log_tty(); /* total 0: not known, a count and a rate are drawn */
}

static void
draw(struct pb_progress *p, double t)
{
    double secs = t - p->start, rate = secs > 0 ? (double)p->done / secs : 0;
    if (!p->total) {
        fprintf(stderr, "\r%s %llu so far  %.1f/s ", p->label, (unsigned long long)p->done, rate);
        fflush(stderr);
        p->drawn = t;
        return;
    }
    if (p->done > p->total)
        p->done = p->total; /* a product can finish in two steps */
    double left = rate > 0 ? (double)(p->total - p->done) / rate : 0;
    int width = 30, fill = p->total ? (int)((double)width * (double)p->done / (double)p->total) : 0;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r%s [%s] %llu/%llu  %.1f/s  %02d:%02d left ", p->label, bar,
            (unsigned long long)p->done, (unsigned long long)p->total, rate,
            (int)(left / 60), (int)left % 60);
    fflush(stderr);
    p->drawn = t;
}

void
pb_progress_add(struct pb_progress *p, uint64_t n)
{
    p->done += n;
    if (!p->on)
        return;
    double t = now();
    if (t - p->drawn >= 0.2 || (p->total && p->done >= p->total))
        draw(p, t);
}

void
pb_progress_end(struct pb_progress *p)
{
    if (p->on && p->drawn > 0) {
        fprintf(stderr, "\r%*s\r", 100, "");
        fflush(stderr);
    }
    p->on = 0;
}
