/*
 * Exact decimals: money in integer minor units, quantities in fixed point.
 *
 * Text is parsed digit by digit, never through strtod, so "39.99" is exactly 3999
 * cents.  A value with more fractional digits than the scale allows is refused rather
 * than rounded ("1.005" as money), except trailing zeros ("39.9900" is 39.99).
 */
#ifndef PB_MONEY_H
#define PB_MONEY_H

#include <stddef.h>
#include <stdint.h>

#define PB_MONEY_SCALE 2 /* minor units per major: 10^2 */
#define PB_QTY_SCALE 4   /* quantities: 1 unit = 10000 */
#define PB_DEC_SCALE 6   /* free decimals such as weight */

/*
 * Parse an optionally signed decimal ("-12", "3.5", ".5", "+4.00") into value * 10^scale.
 * Returns 0, or -1 with *why set to a static reason.
 */
int pb_dec_parse(const char *s, size_t len, int scale, int64_t *out, const char **why);

/*
 * Format v / 10^scale.  With fixed, always `scale` decimals ("39.90"); otherwise
 * trailing zeros and a bare point are dropped ("2.5", "4").  Returns the length written
 * (out needs 32 bytes).
 */
size_t pb_dec_format(int64_t v, int scale, int fixed, char out[32]);

static inline int
pb_money_parse(const char *s, size_t len, int64_t *cents, const char **why)
{
    return pb_dec_parse(s, len, PB_MONEY_SCALE, cents, why);
}

static inline size_t
pb_money_format(int64_t cents, char out[32])
{
    return pb_dec_format(cents, PB_MONEY_SCALE, 1, out);
}

static inline int
pb_qty_parse(const char *s, size_t len, int64_t *q, const char **why)
{
    return pb_dec_parse(s, len, PB_QTY_SCALE, q, why);
}

static inline size_t
pb_qty_format(int64_t q, char out[32])
{
    return pb_dec_format(q, PB_QTY_SCALE, 0, out);
}

#endif
