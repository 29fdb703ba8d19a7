/* SHA-256 (FIPS 180-4): HMAC and PBKDF2 on it for the Web Connector's password and
 * OAuth signatures, and short fingerprints of keys and settings. */
#ifndef PB_SHA256_H
#define PB_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct pb_sha256 {
    uint32_t h[8];
    uint64_t n;        /* bytes hashed */
    unsigned char blk[64];
    size_t used;
};

void pb_sha256_init(struct pb_sha256 *s);
void pb_sha256_update(struct pb_sha256 *s, const void *data, size_t len);
/* Finish and write the 32-byte digest. */
void pb_sha256_final(struct pb_sha256 *s, unsigned char out[32]);
/* Finish and write 64 lowercase hex digits and a NUL to hex. */
void pb_sha256_hex(struct pb_sha256 *s, char hex[65]);

/* PBKDF2-HMAC-SHA-256 (RFC 8018): outlen bytes derived from a password and a salt. */
void pb_pbkdf2_sha256(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
                      unsigned long iterations, unsigned char *out, size_t outlen);

/* 1 when the n bytes at a and b are equal; the time taken does not depend on where they
 * differ (for comparing secrets). */
int pb_const_equal(const void *a, const void *b, size_t n);

#endif
