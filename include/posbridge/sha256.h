/* SHA-256 (FIPS 180-4), for the manifest's content hashes. */
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
/* Finish and write 64 lowercase hex digits and a NUL to hex. */
void pb_sha256_hex(struct pb_sha256 *s, char hex[65]);

struct pb_error;
/* Hash a whole file.  -1 (PB_ENOINPUT/PB_EIO) on error. */
int pb_sha256_file(const char *path, char hex[65], unsigned long long *size,
                   struct pb_error *err);

#endif
