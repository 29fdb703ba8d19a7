/*
 * Timestamps.  Staged files hold UTC ISO-8601 ("2026-11-20T23:42:49Z").  QBPOS writes
 * local times with an offset ("2026-11-20T17:42:49-06:00"); a time without an offset is
 * read in the QBPOS time zone from the config.
 */
#ifndef PB_TIMEFMT_H
#define PB_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse "YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm|±hhmm]" (a space may replace the T).
 * A value without zone is local time in tz (an IANA name; NULL or "" means UTC), and is
 * refused with allow_naive 0.  Sets *epoch (seconds, UTC).  -1 with *why on error.
 */
int pb_time_parse(const char *s, size_t len, const char *tz, int allow_naive, int64_t *epoch,
                  const char **why);

/* True if tz names a time zone this machine knows (an IANA name with a zoneinfo file). */
int pb_time_known_zone(const char *tz);

/* Format as "YYYY-MM-DDThh:mm:ssZ" (21 bytes with the NUL). */
void pb_time_format(int64_t epoch, char out[32]);

/* The calendar date of an instant in time zone tz (NULL or "": UTC), "YYYY-MM-DD". */
void pb_time_local_date(int64_t epoch, const char *tz, char out[11]);

/* Parse a "YYYY-MM-DD" date; -1 with *why if it is not a real date. */
int pb_date_check(const char *s, size_t len, const char **why);

#endif
