/* SHA-256, straight from FIPS 180-4. */
#define _GNU_SOURCE /* SCHED_IDLE */
#include "posbridge/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "posbridge/err.h"
#include "posbridge/banned.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define S0(x) (ROR(x, 2) ^ ROR(x, 13) ^ ROR(x, 22))
#define S1(x) (ROR(x, 6) ^ ROR(x, 11) ^ ROR(x, 25))
#define s0(x) (ROR(x, 7) ^ ROR(x, 18) ^ ((x) >> 3))
#define s1(x) (ROR(x, 17) ^ ROR(x, 19) ^ ((x) >> 10))
#define CH(x, y, z) (((x) & ((y) ^ (z))) ^ (z))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))

/* One round with the variables renamed instead of moved: the compiler keeps all eight
 * in registers and the message schedule in a 16-word ring. */
#define ROUND(a, b, c, d, e, f, g, h, i, wi)                                             \
    do {                                                                                 \
        uint32_t t1 = h + S1(e) + CH(e, f, g) + K[i] + (wi);                             \
        d += t1;                                                                         \
        h = t1 + S0(a) + MAJ(a, b, c);                                                   \
    } while (0)
#define W(i) (w[(i) & 15] += s1(w[((i) - 2) & 15]) + w[((i) - 7) & 15] + s0(w[((i) - 15) & 15]))

/* With BMI2 the rotations become single rorx instructions: about a fifth faster. */
__attribute__((target_clones("bmi2", "default"))) static void
block(struct pb_sha256 *s, const unsigned char *p)
{
    uint32_t w[16];
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
    uint32_t e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 0; i < 16; i += 8) {
        ROUND(a, b, c, d, e, f, g, h, i + 0, w[i + 0]);
        ROUND(h, a, b, c, d, e, f, g, i + 1, w[i + 1]);
        ROUND(g, h, a, b, c, d, e, f, i + 2, w[i + 2]);
        ROUND(f, g, h, a, b, c, d, e, i + 3, w[i + 3]);
        ROUND(e, f, g, h, a, b, c, d, i + 4, w[i + 4]);
        ROUND(d, e, f, g, h, a, b, c, i + 5, w[i + 5]);
        ROUND(c, d, e, f, g, h, a, b, i + 6, w[i + 6]);
        ROUND(b, c, d, e, f, g, h, a, i + 7, w[i + 7]);
    }
    for (int i = 16; i < 64; i += 8) {
        ROUND(a, b, c, d, e, f, g, h, i + 0, W(i + 0));
        ROUND(h, a, b, c, d, e, f, g, i + 1, W(i + 1));
        ROUND(g, h, a, b, c, d, e, f, i + 2, W(i + 2));
        ROUND(f, g, h, a, b, c, d, e, i + 3, W(i + 3));
        ROUND(e, f, g, h, a, b, c, d, i + 4, W(i + 4));
        ROUND(d, e, f, g, h, a, b, c, i + 5, W(i + 5));
        ROUND(c, d, e, f, g, h, a, b, i + 6, W(i + 6));
        ROUND(b, c, d, e, f, g, h, a, i + 7, W(i + 7));
    }
    s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
    s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

/* ---- several streams at once: one stream per lane of a SIMD register ---- */

#define LANES 8
typedef uint32_t lanes_t __attribute__((vector_size(4 * LANES)));

#define VROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define VS0(x) (VROR(x, 2) ^ VROR(x, 13) ^ VROR(x, 22))
#define VS1(x) (VROR(x, 6) ^ VROR(x, 11) ^ VROR(x, 25))
#define Vs0(x) (VROR(x, 7) ^ VROR(x, 18) ^ ((x) >> 3))
#define Vs1(x) (VROR(x, 17) ^ VROR(x, 19) ^ ((x) >> 10))
#define VROUND(a, b, c, d, e, f, g, h, i, wi)                                            \
    do {                                                                                 \
        lanes_t t1 = h + VS1(e) + CH(e, f, g) + K[i] + (wi);                             \
        d += t1;                                                                         \
        h = t1 + VS0(a) + MAJ(a, b, c);                                                  \
    } while (0)

/* The message words of a block from each lane, big-endian: w[i][l] is lane l's word i. */
typedef void lanes_load(lanes_t w[16], const unsigned char *const q[LANES]);

static inline __attribute__((always_inline)) void
load_plain(lanes_t w[16], const unsigned char *const q[LANES])
{
    for (int i = 0; i < 16; i++)
        for (int l = 0; l < LANES; l++) {
            const unsigned char *x = q[l] + 4 * i;
            w[i][l] = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 | (uint32_t)x[2] << 8 | x[3];
        }
}

/* With AVX2: each lane's 32 bytes in one load, the bytes swapped in one shuffle, and the
 * eight rows turned into eight columns with twelve more. */
static inline __attribute__((always_inline, target("avx2"))) void
load_avx2(lanes_t w[16], const unsigned char *const q[LANES])
{
    const __m256i swap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
                                          3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
    for (int h = 0; h < 2; h++) {
        __m256i r[8], t[8], u[8];
        for (int l = 0; l < 8; l++)
            r[l] = _mm256_shuffle_epi8(
                _mm256_loadu_si256((const __m256i *)(const void *)(q[l] + 32 * h)), swap);
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

/* nblocks 64-byte blocks of each lane's data; a lane whose p is NULL is left alone. */
static inline __attribute__((always_inline)) void
lanes_blocks(struct pb_sha256 *const st[LANES], const unsigned char *const p[LANES],
             size_t nblocks, lanes_load *load)
{
    static const unsigned char zero[64];
    const unsigned char *q[LANES];
    lanes_t v[8], w[16];
    for (int k = 0; k < 8; k++)
        for (int l = 0; l < LANES; l++)
            v[k][l] = p[l] ? st[l]->h[k] : 0;
    for (int l = 0; l < LANES; l++)
        q[l] = p[l] ? p[l] : zero;
    for (size_t b = 0; b < nblocks; b++) {
        load(w, q);
        lanes_t a = v[0], bb = v[1], c = v[2], d = v[3], e = v[4], f = v[5], g = v[6],
                h = v[7];
        for (int i = 0; i < 16; i += 8) {
            VROUND(a, bb, c, d, e, f, g, h, i + 0, w[i + 0]);
            VROUND(h, a, bb, c, d, e, f, g, i + 1, w[i + 1]);
            VROUND(g, h, a, bb, c, d, e, f, i + 2, w[i + 2]);
            VROUND(f, g, h, a, bb, c, d, e, i + 3, w[i + 3]);
            VROUND(e, f, g, h, a, bb, c, d, i + 4, w[i + 4]);
            VROUND(d, e, f, g, h, a, bb, c, i + 5, w[i + 5]);
            VROUND(c, d, e, f, g, h, a, bb, i + 6, w[i + 6]);
            VROUND(bb, c, d, e, f, g, h, a, i + 7, w[i + 7]);
        }
#define VW(i) (w[(i) & 15] += Vs1(w[((i) - 2) & 15]) + w[((i) - 7) & 15] + Vs0(w[((i) - 15) & 15]))
        for (int i = 16; i < 64; i += 8) {
            VROUND(a, bb, c, d, e, f, g, h, i + 0, VW(i + 0));
            VROUND(h, a, bb, c, d, e, f, g, i + 1, VW(i + 1));
            VROUND(g, h, a, bb, c, d, e, f, i + 2, VW(i + 2));
            VROUND(f, g, h, a, bb, c, d, e, i + 3, VW(i + 3));
            VROUND(e, f, g, h, a, bb, c, d, i + 4, VW(i + 4));
            VROUND(d, e, f, g, h, a, bb, c, i + 5, VW(i + 5));
            VROUND(c, d, e, f, g, h, a, bb, i + 6, VW(i + 6));
            VROUND(bb, c, d, e, f, g, h, a, i + 7, VW(i + 7));
        }
#undef VW
        v[0] += a, v[1] += bb, v[2] += c, v[3] += d;
        v[4] += e, v[5] += f, v[6] += g, v[7] += h;
        for (int l = 0; l < LANES; l++)
            if (p[l])
                q[l] += 64;
    }
    for (int l = 0; l < LANES; l++) {
        if (!p[l])
            continue;
        for (int k = 0; k < 8; k++)
            st[l]->h[k] = v[k][l];
        st[l]->n += 64 * nblocks;
    }
}

/* Rotations are single instructions with AVX-512VL; AVX2 still does eight lanes a step. */
__attribute__((target("avx512f,avx512vl,avx2"))) static void
lanes_avx512(struct pb_sha256 *const st[LANES], const unsigned char *const p[LANES], size_t n)
{
    lanes_blocks(st, p, n, load_avx2);
}
__attribute__((target("avx2"))) static void
lanes_avx2(struct pb_sha256 *const st[LANES], const unsigned char *const p[LANES], size_t n)
{
    lanes_blocks(st, p, n, load_avx2);
}
static void
lanes_plain(struct pb_sha256 *const st[LANES], const unsigned char *const p[LANES], size_t n)
{
    lanes_blocks(st, p, n, load_plain);
}

static void
lanes(struct pb_sha256 *const st[LANES], const unsigned char *const p[LANES], size_t n)
{
    if (__builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512f"))
        lanes_avx512(st, p, n);
    else if (__builtin_cpu_supports("avx2"))
        lanes_avx2(st, p, n);
    else
        lanes_plain(st, p, n);
}

void
pb_sha256_init(struct pb_sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof(iv));
    s->n = 0;
    s->used = 0;
}

void
pb_sha256_update(struct pb_sha256 *s, const void *data, size_t len)
{
    const unsigned char *p = data;
    s->n += len;
    if (s->used) {
        size_t k = 64 - s->used < len ? 64 - s->used : len;
        memcpy(s->blk + s->used, p, k);
        s->used += k, p += k, len -= k;
        if (s->used < 64)
            return;
        block(s, s->blk);
        s->used = 0;
    }
    for (; len >= 64; p += 64, len -= 64)
        block(s, p);
    memcpy(s->blk, p, len);
    s->used = len;
}

void
pb_sha256_final(struct pb_sha256 *s, unsigned char out[32])
{
    uint64_t bits = s->n * 8;
    unsigned char pad = 0x80, zero = 0, len[8];
    pb_sha256_update(s, &pad, 1);
    while (s->used != 56)
        pb_sha256_update(s, &zero, 1);
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    pb_sha256_update(s, len, 8);
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 4; k++)
            out[4 * i + k] = (unsigned char)(s->h[i] >> (24 - 8 * k));
}

void
pb_sha256_hex(struct pb_sha256 *s, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char d[32];
    pb_sha256_final(s, d);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

int
pb_sha256_file(const char *path, char hex[65], unsigned long long *size, struct pb_error *err)
{
    unsigned char buf[65536];
    struct pb_sha256 s;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pb_error_sys(err, PB_ENOINPUT, errno, "cannot open '%s'", path);
    pb_sha256_init(&s);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return pb_error_sys(err, PB_EIO, e, "cannot read '%s'", path);
        }
        if (n == 0)
            break;
        pb_sha256_update(&s, buf, (size_t)n);
    }
    close(fd);
    if (size)
        *size = s.n;
    pb_sha256_hex(&s, hex);
    return 0;
}

/* ---- hashing on a second thread ---- */

#define ASYNC_BLOCKS 4
#define ASYNC_BLOCK PB_SHA256_ASYNC_BLOCK

/*
 * A stream is hashed either by its own thread or, when it belongs to a group, by the
 * group's thread in one lane of lanes().  Either way the producer fills blocks of
 * ASYNC_BLOCK bytes (a multiple of 64, so only a stream's last block can end mid-block)
 * and the hashing thread takes them in order.  In a group, `mu` and `cv` are the group's.
 */
struct pb_sha256_async {
    pthread_t th;
    pthread_mutex_t own_mu;
    pthread_cond_t own_cv;
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    struct pb_sha256_group *group;
    unsigned char *blk[ASYNC_BLOCKS];
    size_t len[ASYNC_BLOCKS];
    size_t pos; /* bytes of blk[head] already hashed (group only) */
    int head;   /* next block to hash */
    int queued; /* blocks waiting for the thread */
    int fill;   /* block being filled by the producer */
    int done;
    int patient; /* a full queue is no reason to hash the lanes half empty (a file read
                    beside the others, whose reader can wait) */
    struct pb_sha256 sha;
};

struct pb_sha256_group {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pb_sha256_async *lane[LANES];
    int nlanes;
    int stop;
};

static void *
async_main(void *arg)
{
    struct pb_sha256_async *a = arg;
    pthread_mutex_lock(a->mu);
    for (;;) {
        while (!a->queued && !a->done)
            pthread_cond_wait(a->cv, a->mu);
        if (!a->queued && a->done)
            break;
        int i = a->head;
        pthread_mutex_unlock(a->mu);
        pb_sha256_update(&a->sha, a->blk[i], a->len[i]);
        pthread_mutex_lock(a->mu);
        a->len[i] = 0;
        a->head = (a->head + 1) % ASYNC_BLOCKS;
        a->queued--;
        pthread_cond_broadcast(a->cv);
    }
    pthread_mutex_unlock(a->mu);
    return NULL;
}

/*
 * The group's thread: hash when every stream has a block queued, or when one of them
 * cannot wait (its producer is blocked on a full queue, or it is finishing).  The lanes
 * go forward together by as many whole 64-byte blocks as the shortest one has.
 */
static void *
group_main(void *arg)
{
    struct pb_sha256_group *g = arg;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        int ready = 0, urgent = 0;
        for (int l = 0; l < g->nlanes; l++) {
            struct pb_sha256_async *a = g->lane[l];
            ready += a->queued > 0;
            urgent |= (a->queued == ASYNC_BLOCKS && !a->patient) || (a->done && a->queued);
        }
        if (!ready || (ready < g->nlanes && !urgent)) {
            if (g->stop && !g->nlanes)
                break;
            pthread_cond_wait(&g->cv, &g->mu);
            continue;
        }
        struct pb_sha256 *st[LANES] = {0};
        const unsigned char *p[LANES] = {0};
        struct pb_sha256_async *take[LANES] = {0};
        size_t avail[LANES] = {0}, n = SIZE_MAX;
        for (int l = 0; l < g->nlanes; l++) {
            struct pb_sha256_async *a = g->lane[l];
            if (!a->queued)
                continue;
            take[l] = a;
            avail[l] = a->len[a->head] - a->pos;
            if (avail[l] / 64 < n)
                n = avail[l] / 64;
        }
        pthread_mutex_unlock(&g->mu);
        if (n) {
            for (int l = 0; l < LANES; l++)
                if (take[l]) {
                    st[l] = &take[l]->sha;
                    p[l] = take[l]->blk[take[l]->head] + take[l]->pos;
                }
            lanes(st, p, n);
        }
        for (int l = 0; l < LANES; l++) {
            struct pb_sha256_async *a = take[l];
            if (!a)
                continue;
            a->pos += 64 * n;
            if (avail[l] - 64 * n < 64) {
                /* The block is used up but for a tail, which only a stream's last block
                 * has: the one-stream code buffers it for pb_sha256_hex. */
                pb_sha256_update(&a->sha, a->blk[a->head] + a->pos, avail[l] - 64 * n);
                a->pos = ASYNC_BLOCK + 1; /* retired below */
            }
        }
        pthread_mutex_lock(&g->mu);
        for (int l = 0; l < LANES; l++) {
            struct pb_sha256_async *a = take[l];
            if (!a || a->pos != ASYNC_BLOCK + 1)
                continue;
            a->pos = 0;
            a->len[a->head] = 0;
            a->head = (a->head + 1) % ASYNC_BLOCKS;
            a->queued--;
        }
        pthread_cond_broadcast(&g->cv);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

struct pb_sha256_group *
pb_sha256_group_new(void)
{
    struct pb_sha256_group *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    if (pthread_create(&g->th, NULL, group_main, g) != 0) {
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cv);
        free(g);
        return NULL;
    }
    return g;
}

void
pb_sha256_group_free(struct pb_sha256_group *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    if (g->nlanes)
        PB_BUG("a hash group freed with streams still in it");
    g->stop = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->th, NULL);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}

static struct pb_sha256_async *
async_new(void)
{
    struct pb_sha256_async *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    for (int i = 0; i < ASYNC_BLOCKS; i++)
        if (!(a->blk[i] = malloc(ASYNC_BLOCK))) {
            for (int k = 0; k < i; k++)
                free(a->blk[k]);
            free(a);
            return NULL;
        }
    pb_sha256_init(&a->sha);
    return a;
}

static void
async_free(struct pb_sha256_async *a)
{
    for (int i = 0; i < ASYNC_BLOCKS; i++)
        free(a->blk[i]);
    free(a);
}

struct pb_sha256_async *
pb_sha256_async_start(void)
{
    struct pb_sha256_async *a = async_new();
    if (!a)
        return NULL;
    pthread_mutex_init(&a->own_mu, NULL);
    pthread_cond_init(&a->own_cv, NULL);
    a->mu = &a->own_mu;
    a->cv = &a->own_cv;
    if (pthread_create(&a->th, NULL, async_main, a) != 0) {
        pthread_mutex_destroy(&a->own_mu);
        pthread_cond_destroy(&a->own_cv);
        async_free(a);
        return NULL;
    }
    return a;
}

struct pb_sha256_async *
pb_sha256_async_start_in(struct pb_sha256_group *g)
{
    if (!g)
        return pb_sha256_async_start();
    pthread_mutex_lock(&g->mu);
    int full = g->nlanes == LANES;
    pthread_mutex_unlock(&g->mu);
    if (full)
        return pb_sha256_async_start();
    struct pb_sha256_async *a = async_new();
    if (!a)
        return NULL;
    a->group = g;
    a->mu = &g->mu;
    a->cv = &g->cv;
    pthread_mutex_lock(&g->mu);
    if (g->nlanes == LANES) {
        pthread_mutex_unlock(&g->mu);
        async_free(a);
        return pb_sha256_async_start();
    }
    g->lane[g->nlanes++] = a;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    return a;
}

/* Hand the block being filled to the thread and wait for a free one. */
static void
async_submit(struct pb_sha256_async *a)
{
    pthread_mutex_lock(a->mu);
    a->queued++;
    pthread_cond_broadcast(a->cv);
    a->fill = (a->fill + 1) % ASYNC_BLOCKS;
    while (a->queued == ASYNC_BLOCKS)
        pthread_cond_wait(a->cv, a->mu);
    pthread_mutex_unlock(a->mu);
}

int
pb_sha256_async_feed(struct pb_sha256_async *a, const void *data, size_t len)
{
    const unsigned char *p = data;
    if (!a)
        return -1;
    while (len) {
        size_t room = ASYNC_BLOCK - a->len[a->fill];
        size_t k = len < room ? len : room;
        memcpy(a->blk[a->fill] + a->len[a->fill], p, k);
        a->len[a->fill] += k;
        p += k, len -= k;
        if (a->len[a->fill] == ASYNC_BLOCK)
            async_submit(a);
    }
    return 0;
}

unsigned char *
pb_sha256_async_block(struct pb_sha256_async *a, size_t *used)
{
    *used = a->len[a->fill];
    return a->blk[a->fill];
}

void
pb_sha256_async_wrote(struct pb_sha256_async *a, size_t n)
{
    a->len[a->fill] += n;
    if (a->len[a->fill] == ASYNC_BLOCK)
        async_submit(a);
}

static void
async_stop(struct pb_sha256_async *a)
{
    pthread_mutex_lock(a->mu);
    if (a->len[a->fill])
        a->queued++;
    a->done = 1;
    pthread_cond_broadcast(a->cv);
    if (a->group) {
        struct pb_sha256_group *g = a->group;
        while (a->queued)
            pthread_cond_wait(a->cv, a->mu);
        int l = 0;
        while (g->lane[l] != a)
            l++;
        memmove(&g->lane[l], &g->lane[l + 1], (size_t)(g->nlanes - l - 1) * sizeof(a));
        g->nlanes--;
        pthread_cond_broadcast(a->cv);
        pthread_mutex_unlock(a->mu);
        return;
    }
    pthread_mutex_unlock(a->mu);
    pthread_join(a->th, NULL);
    pthread_mutex_destroy(&a->own_mu);
    pthread_cond_destroy(&a->own_cv);
}

int
pb_sha256_async_finish(struct pb_sha256_async *a, char hex[65])
{
    if (!a)
        return -1;
    async_stop(a);
    pb_sha256_hex(&a->sha, hex);
    async_free(a);
    return 0;
}

void
pb_sha256_async_cancel(struct pb_sha256_async *a)
{
    if (!a)
        return;
    async_stop(a);
    async_free(a);
}

struct pb_sha256_job {
    pthread_t th;
    int running;              /* th is to be joined */
    struct pb_sha256_group *group;
    char *path;
    char hex[65];
    unsigned long long size;
    struct pb_error err;
    int rc;
    /* begun in idle time (pb_sha256_file_start_idle): */
    atomic_int stop;          /* stop at the next block */
    struct pb_sha256 sha;     /* the bytes hashed so far, whole blocks until the end */
    int whole;                /* the file is all in sha */
};

/* The file through a stream of the job's group: read here, hashed in a lane. */
static int
file_in_group(struct pb_sha256_job *j)
{
    int fd = open(j->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pb_error_sys(&j->err, PB_ENOINPUT, errno, "cannot open '%s'", j->path);
    struct pb_sha256_async *a = pb_sha256_async_start_in(j->group);
    unsigned char *buf = malloc(ASYNC_BLOCK);
    if (!a || !buf) {
        close(fd);
        free(buf);
        pb_sha256_async_cancel(a);
        return pb_error_set(&j->err, PB_EOS, "cannot start hashing '%s'", j->path);
    }
    unsigned long long size = j->sha.n; /* carried on from there (or 0) */
    if (size && lseek(fd, (off_t)size, SEEK_SET) < 0) {
        int e = errno;
        close(fd);
        free(buf);
        pb_sha256_async_cancel(a);
        return pb_error_sys(&j->err, PB_EIO, e, "cannot read '%s'", j->path);
    }
    if (size)
        a->sha = j->sha;
    pthread_mutex_lock(a->mu);
    a->patient = 1;
    pthread_mutex_unlock(a->mu);
    for (;;) {
        ssize_t n = read(fd, buf, ASYNC_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            free(buf);
            pb_sha256_async_cancel(a);
            return pb_error_sys(&j->err, PB_EIO, e, "cannot read '%s'", j->path);
        }
        if (n == 0)
            break;
        size += (unsigned long long)n;
        pb_sha256_async_feed(a, buf, (size_t)n);
    }
    close(fd);
    free(buf);
    j->size = size;
    return pb_sha256_async_finish(a, j->hex);
}

static void *
job_main(void *arg)
{
    struct pb_sha256_job *j = arg;
    j->rc = j->group || j->sha.n ? file_in_group(j)
                                 : pb_sha256_file(j->path, j->hex, &j->size, &j->err);
    return NULL;
}

/* Read up to n bytes, fewer only at the end of the file. */
static ssize_t
read_full(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

/* The file hashed here, one block at a time, until the end or until asked to stop. */
static void *
idle_main(void *arg)
{
    struct pb_sha256_job *j = arg;
#ifdef SCHED_IDLE
    /* Only when a core has nothing else to do (a hint: without it, it just runs). */
    struct sched_param sp = {0};
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
#endif
    int fd = open(j->path, O_RDONLY | O_CLOEXEC);
    unsigned char *buf = malloc(ASYNC_BLOCK);
    if (fd < 0 || !buf) {
        j->rc = fd < 0 ? pb_error_sys(&j->err, PB_ENOINPUT, errno, "cannot open '%s'", j->path)
                       : pb_error_set(&j->err, PB_EOS, "out of memory");
        j->whole = 1;
    }
    while (!j->whole && !atomic_load(&j->stop)) {
        ssize_t n = read_full(fd, buf, ASYNC_BLOCK);
        if (n < 0) {
            j->rc = pb_error_sys(&j->err, PB_EIO, errno, "cannot read '%s'", j->path);
            j->whole = 1;
            break;
        }
        pb_sha256_update(&j->sha, buf, (size_t)n);
        j->whole = n < ASYNC_BLOCK;
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

static struct pb_sha256_job *
job_start(struct pb_sha256_group *g, const char *path, void *(*fn)(void *))
{
    struct pb_sha256_job *j = calloc(1, sizeof(*j));
    if (!j || !(j->path = strdup(path))) {
        free(j);
        return NULL;
    }
    j->group = g;
    pb_error_init(&j->err);
    pb_sha256_init(&j->sha);
    atomic_init(&j->stop, 0);
    if (pthread_create(&j->th, NULL, fn, j) != 0) {
        free(j->path);
        free(j);
        return NULL;
    }
    j->running = 1;
    return j;
}

struct pb_sha256_job *
pb_sha256_file_start(const char *path)
{
    return job_start(NULL, path, job_main);
}

struct pb_sha256_job *
pb_sha256_file_start_in(struct pb_sha256_group *g, const char *path)
{
    return job_start(g, path, job_main);
}

struct pb_sha256_job *
pb_sha256_file_start_idle(const char *path)
{
    return job_start(NULL, path, idle_main);
}

void
pb_sha256_file_move(struct pb_sha256_job *j, struct pb_sha256_group *g)
{
    if (!j)
        return;
    atomic_store(&j->stop, 1);
    pthread_join(j->th, NULL);
    j->running = 0;
    if (j->whole) {
        if (j->rc == 0) {
            j->size = j->sha.n;
            pb_sha256_hex(&j->sha, j->hex);
        }
        return;
    }
    j->group = g;
    if (pthread_create(&j->th, NULL, job_main, j) == 0)
        j->running = 1;
    else
        j->rc = pb_error_set(&j->err, PB_EOS, "cannot start a thread");
}

int
pb_sha256_file_join(struct pb_sha256_job *j, char hex[65], unsigned long long *size,
                    struct pb_error *err)
{
    if (!j)
        return pb_error_set(err, PB_EOS, "cannot start a thread");
    if (j->running)
        pthread_join(j->th, NULL);
    int rc = j->rc;
    if (rc < 0 && err && err->code == PB_OK)
        *err = j->err;
    memcpy(hex, j->hex, 65);
    if (size)
        *size = j->size;
    free(j->path);
    free(j);
    return rc;
}

/* ---- PBKDF2-HMAC-SHA-256 (RFC 8018), with the HMAC keyed once ---- */

static void
hmac_keys(struct pb_sha256 *inner, struct pb_sha256 *outer, const void *key, size_t klen)
{
    unsigned char k[64], pad[64];
    memset(k, 0, sizeof(k));
    if (klen > 64) {
        struct pb_sha256 s;
        pb_sha256_init(&s);
        pb_sha256_update(&s, key, klen);
        pb_sha256_final(&s, k);
    } else if (klen) {
        memcpy(k, key, klen);
    }
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    pb_sha256_init(inner);
    pb_sha256_update(inner, pad, 64);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    pb_sha256_init(outer);
    pb_sha256_update(outer, pad, 64);
    memset(k, 0, sizeof(k));
    memset(pad, 0, sizeof(pad));
}

/* The MAC of msg from the keyed states (copied, so they can be used again). */
static void
hmac_with(const struct pb_sha256 *inner, const struct pb_sha256 *outer, const void *msg,
          size_t len, unsigned char out[32])
{
    struct pb_sha256 s = *inner;
    unsigned char h[32];
    pb_sha256_update(&s, msg, len);
    pb_sha256_final(&s, h);
    s = *outer;
    pb_sha256_update(&s, h, 32);
    pb_sha256_final(&s, out);
}

void
pb_pbkdf2_sha256(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
                 unsigned long iterations, unsigned char *out, size_t outlen)
{
    struct pb_sha256 in, ou;
    hmac_keys(&in, &ou, pw, pwlen);
    for (uint32_t blockno = 1; outlen; blockno++) {
        unsigned char u[32], t[32], cnt[4] = {(unsigned char)(blockno >> 24),
                                               (unsigned char)(blockno >> 16),
                                               (unsigned char)(blockno >> 8),
                                               (unsigned char)blockno};
        struct pb_sha256 s = in;
        unsigned char h[32];
        pb_sha256_update(&s, salt, saltlen);
        pb_sha256_update(&s, cnt, 4);
        pb_sha256_final(&s, h);
        s = ou;
        pb_sha256_update(&s, h, 32);
        pb_sha256_final(&s, u);
        memcpy(t, u, 32);
        for (unsigned long i = 1; i < iterations; i++) {
            hmac_with(&in, &ou, u, 32, u);
            for (int k = 0; k < 32; k++)
                t[k] ^= u[k];
        }
        size_t n = outlen < 32 ? outlen : 32;
        memcpy(out, t, n);
        out += n;
        outlen -= n;
        memset(u, 0, sizeof(u));
        memset(t, 0, sizeof(t));
    }
    memset(&in, 0, sizeof(in));
    memset(&ou, 0, sizeof(ou));
}

int
pb_const_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= x[i] ^ y[i];
    return d == 0;
}
