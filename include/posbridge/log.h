/*
 * Logging to stderr with levels.  The default level shows warnings; -v raises it and
 * -q lowers it to errors only.  Errors are never hidden: cron mails stderr.  Each line
 * starts with "posbridge: level: ".  Messages carry no trailing newline.
 */
#ifndef PB_LOG_H
#define PB_LOG_H

#include <stdio.h>

enum pb_log_level { PB_LOG_ERROR = 0, PB_LOG_WARN, PB_LOG_INFO, PB_LOG_DEBUG, PB_LOG_TRACE };

/* The current threshold; messages above it are dropped. */
extern int pb_log_level;

/* Also copy every line (regardless of level, up to DEBUG) to fp, e.g. a run log. */
void pb_log_set_file(FILE *fp);

void pb_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Keep this thread's lines in `into` instead of writing them (NULL: write again): each
 * line as its level's digit, the text and a NUL.
 */
struct pb_buf;
void pb_log_capture(struct pb_buf *into);

struct pb_error;
/* Log an error record at `level`, rendered by pb_error_format. */
void pb_log_error(int level, const struct pb_error *err);

/* True when progress bars may be drawn (stderr is a terminal and not quiet). */
int pb_log_tty(void);

#endif
