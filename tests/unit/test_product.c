/* Product helpers: the content hash upload compares is stable and reads only its value. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "transform/transform_int.h"

/* The content hash, byte by byte, as it is defined. */
static uint64_t
reference(uint64_t h, const unsigned char *s, size_t n)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = 0;
        for (int b = 0; b < 8; b++)
            w |= (uint64_t)s[i + b] << (8 * b);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    for (size_t b = 0; i + b < n; b++)
        w |= (uint64_t)s[i + b] << (8 * b);
    h = (h ^ w ^ ((uint64_t)n << 56)) * k;
    h ^= h >> 32;
    return h;
}

static void
test_content_hash(void)
{
    /* Every length up to 40, from every offset of a buffer, each value alone in its own
     * allocation (AddressSanitizer sees any read past it). */
    unsigned char src[48];
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (unsigned char)(i * 37 + 11);
    int diff = 0;
    for (size_t n = 0; n <= 40; n++)
        for (size_t off = 0; off + n <= sizeof(src); off++) {
            char *v = malloc(n ? n : 1);
            memcpy(v, src + off, n);
            diff += pb_content_hash(7, v, n) != reference(7, src + off, n);
            free(v);
        }
    CHECK(diff == 0);
    /* Values stored in the state: they must not change from one release to the next
     * (worked out apart from this code). */
    CHECK(pb_content_hash(1, "abc", 3) == 0xe322e218d8af73f8ull);
    CHECK(pb_content_hash(1, "Maple Hot Sauce", 15) == 0x7cf338c78b2fae32ull);
    /* The length closes each value: ("ab", "c") is not ("a", "bc"). */
    CHECK(pb_content_hash(pb_content_hash(1, "ab", 2), "c", 1) !=
          pb_content_hash(pb_content_hash(1, "a", 1), "bc", 2));
}

int
main(void)
{
    RUN(test_content_hash);
    return check_summary();
}
