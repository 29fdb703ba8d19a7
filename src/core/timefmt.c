/* ISO-8601 timestamps in and out, normalised to UTC. */
#define _GNU_SOURCE
#include "posbridge/timefmt.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "posbridge/banned.h"

static int
num(const char *s, size_t len, size_t at, int n, int *out)
{
    int v = 0;
    if (at + (size_t)n > len)
        return -1;
    for (int i = 0; i < n; i++) {
        char c = s[at + (size_t)i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 0;
}

static int
days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

static int
parse_date(const char *s, size_t len, int *y, int *mo, int *d, const char **why)
{
    if (num(s, len, 0, 4, y) || len < 10 || s[4] != '-' || num(s, len, 5, 2, mo) ||
        s[7] != '-' || num(s, len, 8, 2, d)) {
        *why = "not a date (expected YYYY-MM-DD)";
        return -1;
    }
    if (*mo < 1 || *mo > 12 || *d < 1 || *d > days_in_month(*y, *mo) || *y < 1900) {
        *why = "not a real date";
        return -1;
    }
    return 0;
}

int
pb_date_check(const char *s, size_t len, const char **why)
{
    int y, mo, d;
    if (parse_date(s, len, &y, &mo, &d, why) < 0)
        return -1;
    if (len != 10) {
        *why = "not a date (expected YYYY-MM-DD)";
        return -1;
    }
    return 0;
}

/* The time zone is switched through TZ, which the whole process shares: one at a time
 * (records are built on several threads). */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t
local_to_utc(struct tm *tm, const char *tz)
{
    pthread_mutex_lock(&tz_lock);
    char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZ", tz, 1);
    tzset();
    tm->tm_isdst = -1;
    time_t t = mktime(tm);
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    tzset();
    pthread_mutex_unlock(&tz_lock);
    return (int64_t)t;
}

void
pb_time_local_date(int64_t epoch, const char *tz, char out[11])
{
    time_t t = (time_t)epoch;
    struct tm tm;
    if (tz && *tz) {
        pthread_mutex_lock(&tz_lock);
        char *old = getenv("TZ");
        char *saved = old ? strdup(old) : NULL;
        setenv("TZ", tz, 1);
        tzset();
        localtime_r(&t, &tm);
        if (saved) {
            setenv("TZ", saved, 1);
            free(saved);
        } else {
            unsetenv("TZ");
        }
        tzset();
        pthread_mutex_unlock(&tz_lock);
    } else {
        gmtime_r(&t, &tm);
    }
    char buf[32];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02d", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

/* In UTC the time must still be a year we can write back: 1900 to 9999. */
static int
in_range(int64_t epoch, const char **why)
{
    if (epoch < -2208988800LL || epoch >= 253402300800LL) {
        *why = "timestamp out of range (years 1900 to 9999 in UTC)";
        return -1;
    }
    return 0;
}

int
pb_time_known_zone(const char *tz)
{
    /* A zone the C library does not know is silently UTC, so look for its file. */
    if (!tz || !*tz || !strcmp(tz, "UTC") || !strcmp(tz, "Etc/UTC"))
        return 1;
    if (tz[0] == '/' || strstr(tz, ".."))
        return 0;
    char path[512];
    pthread_mutex_lock(&tz_lock); /* the environment changes under local_to_utc */
    const char *dir = getenv("TZDIR");
    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
    pthread_mutex_unlock(&tz_lock);
    return access(path, R_OK) == 0;
}

int
pb_time_parse(const char *s, size_t len, const char *tz, int allow_naive, int64_t *epoch,
              const char **why)
{
    int y, mo, d, h, mi, se;
    struct tm tm;
    if (parse_date(s, len, &y, &mo, &d, why) < 0)
        return -1;
    if (len < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        num(s, len, 11, 2, &h) || s[13] != ':' || num(s, len, 14, 2, &mi) || s[16] != ':' ||
        num(s, len, 17, 2, &se) || h > 23 || mi > 59 || se > 60) {
        *why = "not a timestamp (expected YYYY-MM-DDThh:mm:ss with a UTC offset)";
        return -1;
    }
    size_t i = 19;
    if (i < len && s[i] == '.') {
        size_t digits = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == digits) {
            *why = "a decimal point with no digits in the seconds";
            return -1;
        }
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    if (i == len) {
        if (!allow_naive) {
            *why = "timestamp has no UTC offset (add Z or +hh:mm)";
            return -1;
        }
        if (tz && *tz && !pb_time_known_zone(tz)) {
            *why = "unknown time zone for a timestamp without offset";
            return -1;
        }
        *epoch = (tz && *tz) ? local_to_utc(&tm, tz) : (int64_t)timegm(&tm);
        return in_range(*epoch, why);
    }
    int64_t t = (int64_t)timegm(&tm);
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        *epoch = t;
        return in_range(*epoch, why);
    }
    int oh, om, sign = s[i] == '-' ? -1 : 1;
    if ((s[i] != '+' && s[i] != '-') || num(s, len, i + 1, 2, &oh)) {
        *why = "bad UTC offset in timestamp";
        return -1;
    }
    size_t j = i + 3;
    if (j < len && s[j] == ':')
        j++;
    if (num(s, len, j, 2, &om) || j + 2 != len || oh > 14 || om > 59) {
        *why = "bad UTC offset in timestamp";
        return -1;
    }
    *epoch = t - sign * (int64_t)(oh * 3600 + om * 60);
    return in_range(*epoch, why);
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm): no locale, no tz. */
void
pb_time_format(int64_t epoch, char out[32])
{
    int64_t days = epoch / 86400, secs = epoch % 86400;
    if (secs < 0)
        secs += 86400, days--;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    y += m <= 2;
    int h = (int)(secs / 3600), mi = (int)(secs / 60 % 60), s = (int)(secs % 60);
    if (y < 0 || y > 9999) {
        snprintf(out, 32, "0000-01-01T00:00:00Z");
        return;
    }
    int yy = (int)y;
    char *o = out;
    o[0] = (char)('0' + yy / 1000), o[1] = (char)('0' + yy / 100 % 10);
    o[2] = (char)('0' + yy / 10 % 10), o[3] = (char)('0' + yy % 10), o[4] = '-';
    o[5] = (char)('0' + m / 10), o[6] = (char)('0' + m % 10), o[7] = '-';
    o[8] = (char)('0' + d / 10), o[9] = (char)('0' + d % 10), o[10] = 'T';
    o[11] = (char)('0' + h / 10), o[12] = (char)('0' + h % 10), o[13] = ':';
    o[14] = (char)('0' + mi / 10), o[15] = (char)('0' + mi % 10), o[16] = ':';
    o[17] = (char)('0' + s / 10), o[18] = (char)('0' + s % 10), o[19] = 'Z';
    o[20] = '\0';
}
