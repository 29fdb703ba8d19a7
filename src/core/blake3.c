/*
 * BLAKE3 (the 256-bit hash of the BLAKE3 specification, unkeyed), for the manifest's file
 * digests.
 *
 * The input is cut into 1 KiB chunks, each hashed on its own with its index as counter,
 * and the chunks' chaining values are joined pairwise in a binary tree whose top node
 * gives the digest.  Chunks are independent, so eight of them are compressed side by side
 * in the lanes of one vector register: a single file is hashed with all the lanes busy.
 *
 * Whole subtrees of up to 64 chunks are worked out the same way, a level of parents at
 * a time.
 *
 * Only a node known not to be the last may be finished as an inner one (the last node on
 * each level is on the right edge of the tree, and the top one is flagged as the root).
 * So the open chunk stays open until more input comes, and a subtree's top node is kept
 * as its two children (`pend`) until then.
 */
#include "posbridge/digest.h"

#include <immintrin.h>
#include <stdatomic.h>
#include <string.h>

#include "posbridge/buf.h"
#include "posbridge/banned.h"

enum { CHUNK = 1024, CHUNK_START = 1, CHUNK_END = 2, PARENT = 4, ROOT = 8 };

static const uint32_t IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

/* Which message word each G takes, round by round (the message permutation applied
 * once more each round). */
static const unsigned char SCHED[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define G(a, b, c, d, x, y)                                                              \
    do {                                                                                 \
        a += b + (x);                                                                    \
        d = ROR(d ^ a, 16);                                                              \
        c += d;                                                                          \
        b = ROR(b ^ c, 12);                                                              \
        a += b + (y);                                                                    \
        d = ROR(d ^ a, 8);                                                               \
        c += d;                                                                          \
        b = ROR(b ^ c, 7);                                                               \
    } while (0)
/* Seven rounds over v[16] with message m[16]; works on words and on lanes alike. */
#define ROUNDS(v, m)                                                                     \
    do {                                                                                 \
        _Pragma("GCC unroll 7") for (int r_ = 0; r_ < 7; r_++)                           \
        {                                                                                \
            const unsigned char *s_ = SCHED[r_];                                         \
            G(v[0], v[4], v[8], v[12], m[s_[0]], m[s_[1]]);                              \
            G(v[1], v[5], v[9], v[13], m[s_[2]], m[s_[3]]);                              \
            G(v[2], v[6], v[10], v[14], m[s_[4]], m[s_[5]]);                             \
            G(v[3], v[7], v[11], v[15], m[s_[6]], m[s_[7]]);                             \
            G(v[0], v[5], v[10], v[15], m[s_[8]], m[s_[9]]);                             \
            G(v[1], v[6], v[11], v[12], m[s_[10]], m[s_[11]]);                           \
            G(v[2], v[7], v[8], v[13], m[s_[12]], m[s_[13]]);                            \
            G(v[3], v[4], v[9], v[14], m[s_[14]], m[s_[15]]);                            \
        }                                                                                \
    } while (0)

static inline uint32_t
le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The compression function: the full 16-word output (the first 8 are the chaining
 * value). */
static void
compress(const uint32_t cv[8], const unsigned char block[64], uint64_t counter,
         uint32_t len, uint32_t flags, uint32_t out[16])
{
    uint32_t m[16], v[16];
    for (int i = 0; i < 16; i++)
        m[i] = le32(block + 4 * i);
    memcpy(v, cv, 32);
    memcpy(v + 8, IV, 16);
    v[12] = (uint32_t)counter;
    v[13] = (uint32_t)(counter >> 32);
    v[14] = len;
    v[15] = flags;
    ROUNDS(v, m);
    for (int i = 0; i < 8; i++) {
        out[i] = v[i] ^ v[i + 8];
        out[i + 8] = v[i + 8] ^ cv[i];
    }
}

/* A parent node's block: its children's chaining values, left then right. */
static void
pair(const uint32_t left[8], const uint32_t right[8], unsigned char block[64])
{
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 4; k++) {
            block[4 * i + k] = (unsigned char)(left[i] >> 8 * k);
            block[32 + 4 * i + k] = (unsigned char)(right[i] >> 8 * k);
        }
}

static void
parent_cv(const uint32_t left[8], const uint32_t right[8], uint32_t out[8])
{
    unsigned char block[64];
    uint32_t o[16];
    pair(left, right, block);
    compress(IV, block, 0, 64, PARENT, o);
    memcpy(out, o, 32);
}

/* ---- eight chunks at once ---- */

#define LANES 8
typedef uint32_t lanes_t __attribute__((vector_size(4 * LANES)));

/* Word i of each lane's 64-byte block: w[i][l]. */
typedef void lanes_load(lanes_t w[16], const unsigned char *p, size_t stride);

static inline __attribute__((always_inline)) void
load_plain(lanes_t w[16], const unsigned char *p, size_t stride)
{
    for (int i = 0; i < 16; i++)
        for (int l = 0; l < LANES; l++)
            w[i][l] = le32(p + (size_t)l * stride + 4 * i);
}

/* With AVX2: each lane's 32 bytes in one load, and the eight rows turned into eight
 * columns with twelve more. */
static inline __attribute__((always_inline, target("avx2"))) void
load_avx2(lanes_t w[16], const unsigned char *p, size_t stride)
{
    for (int h = 0; h < 2; h++) {
        __m256i r[8], t[8], u[8];
        for (int l = 0; l < 8; l++)
            r[l] = _mm256_loadu_si256((const __m256i *)(const void *)(p + (size_t)l * stride +
                                                                      32 * h));
        for (int k = 0; k < 4; k++) {
            t[2 * k] = _mm256_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
            t[2 * k + 1] = _mm256_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
        }
        for (int k = 0; k < 2; k++) {
            u[4 * k + 0] = _mm256_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
            u[4 * k + 1] = _mm256_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
            u[4 * k + 2] = _mm256_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
            u[4 * k + 3] = _mm256_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
        }
        for (int k = 0; k < 4; k++) {
            __m256i lo = _mm256_permute2x128_si256(u[k], u[4 + k], 0x20);
            __m256i hi = _mm256_permute2x128_si256(u[k], u[4 + k], 0x31);
            memcpy(&w[8 * h + k], &lo, sizeof(lo));
            memcpy(&w[8 * h + 4 + k], &hi, sizeof(hi));
        }
    }
}

/* One compression in each lane: cv is the chaining value in and out, m the message words,
 * ctr[0] and ctr[1] the counter's low and high words. */
static inline __attribute__((always_inline)) void
compress_lanes(lanes_t cv[8], const lanes_t m[16], const lanes_t ctr[2], uint32_t len,
               uint32_t flags)
{
    lanes_t v[16];
    for (int i = 0; i < 8; i++)
        v[i] = cv[i];
    for (int i = 0; i < 4; i++)
        v[8 + i] = (lanes_t){0} + IV[i];
    v[12] = ctr[0];
    v[13] = ctr[1];
    v[14] = (lanes_t){0} + len;
    v[15] = (lanes_t){0} + flags;
    ROUNDS(v, m);
    for (int i = 0; i < 8; i++)
        cv[i] = v[i] ^ v[i + 8];
}

/* The chaining values of the eight whole chunks at p, the first with index counter. */
static inline __attribute__((always_inline)) void
leaves(const unsigned char *p, uint64_t counter, uint32_t out[LANES][8], lanes_load *load)
{
    lanes_t cv[8], ctr[2], m[16];
    for (int l = 0; l < LANES; l++) {
        ctr[0][l] = (uint32_t)(counter + (uint64_t)l);
        ctr[1][l] = (uint32_t)((counter + (uint64_t)l) >> 32);
    }
    for (int i = 0; i < 8; i++)
        cv[i] = (lanes_t){0} + IV[i];
    for (int b = 0; b < CHUNK / 64; b++) {
        load(m, p + 64 * b, CHUNK);
        compress_lanes(cv, m, ctr, 64,
                       (b == 0 ? CHUNK_START : 0) | (b == CHUNK / 64 - 1 ? CHUNK_END : 0));
    }
    for (int l = 0; l < LANES; l++)
        for (int i = 0; i < 8; i++)
            out[l][i] = cv[i][l];
}

/* Up to eight parents at once: the children in[2l] and in[2l+1] give out[l], for l below
 * count.  (The children are read as bytes: x86 keeps words little-endian, as BLAKE3 reads
 * them.)  All sixteen children are read before anything is written, so out may be in. */
static inline __attribute__((always_inline)) void
parents(const uint32_t in[][8], uint32_t out[][8], size_t count, lanes_load *load)
{
    lanes_t cv[8], m[16], ctr[2] = {{0}, {0}};
    for (int i = 0; i < 8; i++)
        cv[i] = (lanes_t){0} + IV[i];
    load(m, (const unsigned char *)in, 64);
    compress_lanes(cv, m, ctr, 64, PARENT);
    for (size_t l = 0; l < count; l++)
        for (int i = 0; i < 8; i++)
            out[l][i] = cv[i][l];
}

/*
 * The subtree of the n whole chunks at p (n a power of two, 8 to SUBTREE), the first with
 * index counter, down to the two children of its top node: nodes[0] and nodes[1].  The
 * top node itself is left to the caller, which alone knows whether it is the root.
 */
#define SUBTREE 64
static inline __attribute__((always_inline)) void
subtree_body(const unsigned char *p, uint64_t counter, size_t n, uint32_t nodes[SUBTREE][8],
             lanes_load *load)
{
    for (size_t k = 0; k < n; k += LANES)
        leaves(p + k * CHUNK, counter + k, nodes + k, load);
    /* A level of fewer than sixteen nodes still reads sixteen: the room after them is
     * never left unset. */
    if (n < 2 * LANES)
        memset(nodes[n], 0, (2 * LANES - n) * sizeof(nodes[0]));
    for (; n > 2; n /= 2)
        for (size_t k = 0; k < n; k += 2 * LANES)
            parents((const uint32_t(*)[8])(nodes + k), nodes + k / 2,
                    n - k < 2 * LANES ? (n - k) / 2 : LANES, load);
}

/* Rotations are single instructions with AVX-512VL; AVX2 still does eight lanes a step. */
__attribute__((target("avx512f,avx512vl,avx2"))) static void
subtree_avx512(const unsigned char *p, uint64_t counter, size_t n, uint32_t nodes[SUBTREE][8])
{
    subtree_body(p, counter, n, nodes, load_avx2);
}
__attribute__((target("avx2"))) static void
subtree_avx2(const unsigned char *p, uint64_t counter, size_t n, uint32_t nodes[SUBTREE][8])
{
    subtree_body(p, counter, n, nodes, load_avx2);
}
static void
subtree_plain(const unsigned char *p, uint64_t counter, size_t n, uint32_t nodes[SUBTREE][8])
{
    subtree_body(p, counter, n, nodes, load_plain);
}

typedef void subtree_fn(const unsigned char *, uint64_t, size_t, uint32_t[SUBTREE][8]);

static int
has_avx512(void)
{
    return __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512f");
}

/* The code path pb_blake3_use chose; NULL for the best the CPU has. */
static _Atomic(subtree_fn *) chosen;

static subtree_fn *
subtree_pick(void)
{
    subtree_fn *f = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (f)
        return f;
    if (has_avx512())
        return subtree_avx512;
    if (__builtin_cpu_supports("avx2"))
        return subtree_avx2;
    return subtree_plain;
}

int
pb_blake3_use(const char *isa)
{
    subtree_fn *f = NULL;
    if (isa) {
        if (!strcmp(isa, "avx512") && has_avx512())
            f = subtree_avx512;
        else if (!strcmp(isa, "avx2") && __builtin_cpu_supports("avx2"))
            f = subtree_avx2;
        else if (!strcmp(isa, "plain"))
            f = subtree_plain;
        else
            return -1;
    }
    atomic_store_explicit(&chosen, f, memory_order_relaxed);
    return 0;
}

/* ---- the hasher ---- */

/* A finished subtree of 2^level chunks onto the stack, its chaining value cv; the chunks
 * finished before it are a multiple of its size.  Each further trailing zero bit of the
 * count of chunks now finished completes a larger subtree, whose left half is on the
 * stack. */
static void
push_cv(struct pb_blake3 *s, const uint32_t cv[8], unsigned level)
{
    uint32_t c[8];
    uint64_t total = s->chunk >> level;
    memcpy(c, cv, 32);
    while (!(total & 1)) {
        parent_cv(s->stack[--s->depth], c, c);
        total >>= 1;
    }
    memcpy(s->stack[s->depth++], c, 32);
}

static void
chunk_reset(struct pb_blake3 *s)
{
    memcpy(s->cv, IV, sizeof(IV));
    s->buf_len = 0;
    s->blocks = 0;
}

void
pb_blake3_init(struct pb_blake3 *s)
{
    memset(s, 0, sizeof(*s));
    chunk_reset(s);
}

/* How many whole chunks at once: a power of two from 8 to SUBTREE that the input holds
 * and the chunks already finished are a multiple of (a subtree must start on its own
 * boundary); 0 when there is none. */
static size_t
subtree_size(uint64_t chunk, size_t len)
{
    size_t n = SUBTREE;
    while (n >= LANES && (n * CHUNK > len || (chunk & (n - 1))))
        n /= 2;
    return n >= LANES ? n : 0;
}

void
pb_blake3_update(struct pb_blake3 *s, const void *data, size_t len)
{
    const unsigned char *p = data;
    s->n += len;
    while (len) {
        if (s->pending) { /* more input follows: the subtree's top is an inner node */
            uint32_t cv[8];
            parent_cv(s->pend[0], s->pend[1], cv);
            push_cv(s, cv, s->pend_level);
            s->pending = 0;
        }
        size_t have = (size_t)s->blocks * 64 + s->buf_len, n;
        if (have == CHUNK) { /* the same for the open chunk */
            uint32_t o[16];
            compress(s->cv, s->buf, s->chunk, 64, (s->blocks ? 0 : CHUNK_START) | CHUNK_END,
                     o);
            s->chunk++;
            push_cv(s, o, 0);
            chunk_reset(s);
            have = 0;
        }
        if (have == 0 && (n = subtree_size(s->chunk, len))) {
            uint32_t nodes[SUBTREE][8];
            subtree_pick()(p, s->chunk, n, nodes);
            memcpy(s->pend, nodes, sizeof(s->pend));
            s->pend_level = (unsigned char)__builtin_ctzll(n);
            s->pending = 1;
            s->chunk += n;
            p += n * CHUNK;
            len -= n * CHUNK;
            continue;
        }
        if (s->buf_len == 64) {
            uint32_t o[16];
            compress(s->cv, s->buf, s->chunk, 64, s->blocks ? 0 : CHUNK_START, o);
            memcpy(s->cv, o, 32);
            s->blocks++;
            s->buf_len = 0;
        }
        size_t k = 64 - (size_t)s->buf_len < len ? 64 - (size_t)s->buf_len : len;
        memcpy(s->buf + s->buf_len, p, k);
        s->buf_len = (unsigned char)(s->buf_len + k);
        p += k;
        len -= k;
    }
}

void
pb_blake3_final(const struct pb_blake3 *s, unsigned char out[32])
{
    /* The node on the right edge of the tree, walked up to the root: its chaining value
     * in, block, counter, length and flags. */
    uint32_t cv[8], o[16];
    unsigned char block[64];
    uint64_t counter = 0;
    uint32_t len = 64, flags = PARENT;
    int i = s->depth;
    memcpy(cv, IV, 32);
    if (s->pending) {
        pair(s->pend[0], s->pend[1], block);
    } else {
        memcpy(cv, s->cv, 32);
        memset(block, 0, sizeof(block));
        memcpy(block, s->buf, s->buf_len);
        counter = s->chunk, len = s->buf_len;
        flags = (s->blocks ? 0 : CHUNK_START) | CHUNK_END;
    }
    while (i > 0) {
        compress(cv, block, counter, len, flags, o);
        pair(s->stack[--i], o, block);
        memcpy(cv, IV, 32);
        counter = 0, len = 64, flags = PARENT;
    }
    compress(cv, block, 0, len, flags | ROOT, o);
    for (int w = 0; w < 8; w++)
        for (int k = 0; k < 4; k++)
            out[4 * w + k] = (unsigned char)(o[w] >> 8 * k);
}

void
pb_blake3_hex(const struct pb_blake3 *s, char hex[65])
{
    unsigned char d[32];
    pb_blake3_final(s, d);
    pb_hex(d, sizeof(d), hex);
}
