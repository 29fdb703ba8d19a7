/* Exact decimal parsing and formatting for money and quantities. */
#include "posbridge/money.h"

#include <string.h>

#include "posbridge/banned.h"

int
pb_dec_parse(const char *s, size_t len, int scale, int64_t *out, const char **why)
{
    size_t i = 0;
    int neg = 0, digits = 0, frac = 0, point = 0;
    uint64_t v = 0;
    const uint64_t limit = (uint64_t)INT64_MAX;

    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i == len) {
        *why = "not a number";
        return -1;
    }
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.' && !point) {
            point = 1;
            continue;
        }
        if (c < '0' || c > '9') {
            *why = "not a number";
            return -1;
        }
        digits++;
        if (point) {
            if (frac == scale) {
                if (c != '0') {
                    static const char *const reasons[] = {
                        "not a whole number", "more than 1 decimal place",
                        "more than 2 decimal places", "more than 3 decimal places",
                        "more than 4 decimal places", "more than 5 decimal places",
                        "more than 6 decimal places",
                    };
                    *why = scale >= 0 && scale <= 6 ? reasons[scale] : "too many decimals";
                    return -1;
                }
                continue;
            }
            frac++;
        }
        if (v > (limit - (uint64_t)(c - '0')) / 10) {
            *why = "number out of range";
            return -1;
        }
        v = v * 10 + (uint64_t)(c - '0');
    }
    if (!digits) {
        *why = "not a number";
        return -1;
    }
    for (; frac < scale; frac++) {
        if (v > limit / 10) {
            *why = "number out of range";
            return -1;
        }
        v *= 10;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

size_t
pb_dec_format(int64_t v, int scale, int fixed, char out[32])
{
    char tmp[32];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int d = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
        d++;
        if (d == scale)
            tmp[n++] = '.';
    } while (u || d <= scale);
    /* tmp holds digits reversed, with the point after `scale` digits. */
    size_t k = 0;
    if (v < 0)
        out[k++] = '-';
    while (n)
        out[k++] = tmp[--n];
    out[k] = '\0';
    if (scale == 0) {
        return k;
    }
    if (!fixed) {
        while (k && out[k - 1] == '0')
            k--;
        if (k && out[k - 1] == '.')
            k--;
        out[k] = '\0';
        if (k == 1 && out[0] == '-') {
            out[0] = '0';
            out[1] = '\0';
        }
    }
    return k;
}
