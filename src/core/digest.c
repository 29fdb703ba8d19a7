/*
 * The manifest's file digests, worked out beside the stage's own work: on a thread per
 * stream, or on one thread for a group of streams, or for a whole file read from disk.
 */
#define _GNU_SOURCE /* SCHED_IDLE */
#include "posbridge/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "posbridge/err.h"
#include "posbridge/banned.h"

int
pb_digest_file(const char *path, char hex[65], unsigned long long *size, struct pb_error *err)
{
    unsigned char buf[65536];
    struct pb_blake3 s;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pb_error_sys(err, PB_ENOINPUT, errno, "cannot open '%s'", path);
    pb_blake3_init(&s);
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
        pb_blake3_update(&s, buf, (size_t)n);
    }
    close(fd);
    if (size)
        *size = s.n;
    pb_blake3_hex(&s, hex);
    return 0;
}

/* ---- hashing on a second thread ---- */

#define ASYNC_BLOCKS 4
#define ASYNC_BLOCK PB_DIGEST_BLOCK

/*
 * A stream is hashed either by its own thread or, when it belongs to a group, by the
 * group's thread.  Either way the producer fills blocks of ASYNC_BLOCK bytes and the
 * hashing thread takes them in order.  In a group, `mu` and `cv` are the group's.
 */
struct pb_digest_async {
    pthread_t th;
    pthread_mutex_t own_mu;
    pthread_cond_t own_cv;
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    struct pb_digest_group *group;
    unsigned char *blk[ASYNC_BLOCKS];
    size_t len[ASYNC_BLOCKS];
    int head;   /* next block to hash */
    int queued; /* blocks waiting for the thread */
    int fill;   /* block being filled by the producer */
    int done;
    struct pb_blake3 hash;
};

#define GROUP_STREAMS 16

struct pb_digest_group {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pb_digest_async *stream[GROUP_STREAMS];
    int nstreams;
    int next; /* where the search for a queued block starts: each stream in turn */
    int stop;
};

/* The block at a's head is hashed: hand it back to the producer. */
static void
retire(struct pb_digest_async *a)
{
    a->len[a->head] = 0;
    a->head = (a->head + 1) % ASYNC_BLOCKS;
    a->queued--;
    pthread_cond_broadcast(a->cv);
}

static void *
async_main(void *arg)
{
    struct pb_digest_async *a = arg;
    pthread_mutex_lock(a->mu);
    for (;;) {
        while (!a->queued && !a->done)
            pthread_cond_wait(a->cv, a->mu);
        if (!a->queued && a->done)
            break;
        int i = a->head;
        pthread_mutex_unlock(a->mu);
        pb_blake3_update(&a->hash, a->blk[i], a->len[i]);
        pthread_mutex_lock(a->mu);
        retire(a);
    }
    pthread_mutex_unlock(a->mu);
    return NULL;
}

/*
 * The group's thread: a queued block of each stream in turn.  A block uses every vector
 * lane by itself (eight chunks of it at once), so the streams need not keep pace.
 */
static void *
group_main(void *arg)
{
    struct pb_digest_group *g = arg;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        struct pb_digest_async *a = NULL;
        for (int k = 0; k < g->nstreams && !a; k++) {
            struct pb_digest_async *s = g->stream[(g->next + k) % g->nstreams];
            if (s->queued) {
                a = s;
                g->next = (g->next + k + 1) % g->nstreams;
            }
        }
        if (!a) {
            if (g->stop && !g->nstreams)
                break;
            pthread_cond_wait(&g->cv, &g->mu);
            continue;
        }
        int i = a->head;
        pthread_mutex_unlock(&g->mu);
        pb_blake3_update(&a->hash, a->blk[i], a->len[i]);
        pthread_mutex_lock(&g->mu);
        retire(a);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

struct pb_digest_group *
pb_digest_group_new(void)
{
    struct pb_digest_group *g = calloc(1, sizeof(*g));
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
pb_digest_group_free(struct pb_digest_group *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    if (g->nstreams)
        PB_BUG("a hash group freed with streams still in it");
    g->stop = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->th, NULL);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}

static struct pb_digest_async *
async_new(void)
{
    struct pb_digest_async *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    for (int i = 0; i < ASYNC_BLOCKS; i++)
        if (!(a->blk[i] = malloc(ASYNC_BLOCK))) {
            for (int k = 0; k < i; k++)
                free(a->blk[k]);
            free(a);
            return NULL;
        }
    pb_blake3_init(&a->hash);
    return a;
}

static void
async_free(struct pb_digest_async *a)
{
    for (int i = 0; i < ASYNC_BLOCKS; i++)
        free(a->blk[i]);
    free(a);
}

struct pb_digest_async *
pb_digest_async_start(void)
{
    struct pb_digest_async *a = async_new();
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

struct pb_digest_async *
pb_digest_async_start_in(struct pb_digest_group *g)
{
    if (!g)
        return pb_digest_async_start();
    pthread_mutex_lock(&g->mu);
    int full = g->nstreams == GROUP_STREAMS;
    pthread_mutex_unlock(&g->mu);
    if (full)
        return pb_digest_async_start();
    struct pb_digest_async *a = async_new();
    if (!a)
        return NULL;
    a->group = g;
    a->mu = &g->mu;
    a->cv = &g->cv;
    pthread_mutex_lock(&g->mu);
    if (g->nstreams == GROUP_STREAMS) {
        pthread_mutex_unlock(&g->mu);
        async_free(a);
        return pb_digest_async_start();
    }
    g->stream[g->nstreams++] = a;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    return a;
}

/* Hand the block being filled to the thread and wait for a free one. */
static void
async_submit(struct pb_digest_async *a)
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
pb_digest_async_feed(struct pb_digest_async *a, const void *data, size_t len)
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
pb_digest_async_block(struct pb_digest_async *a, size_t *used)
{
    *used = a->len[a->fill];
    return a->blk[a->fill];
}

void
pb_digest_async_wrote(struct pb_digest_async *a, size_t n)
{
    a->len[a->fill] += n;
    if (a->len[a->fill] == ASYNC_BLOCK)
        async_submit(a);
}

static void
async_stop(struct pb_digest_async *a)
{
    pthread_mutex_lock(a->mu);
    if (a->len[a->fill])
        a->queued++;
    a->done = 1;
    pthread_cond_broadcast(a->cv);
    if (a->group) {
        struct pb_digest_group *g = a->group;
        while (a->queued)
            pthread_cond_wait(a->cv, a->mu);
        int l = 0;
        while (g->stream[l] != a)
            l++;
        memmove(&g->stream[l], &g->stream[l + 1], (size_t)(g->nstreams - l - 1) * sizeof(a));
        g->nstreams--;
        g->next = 0;
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
pb_digest_async_finish(struct pb_digest_async *a, char hex[65])
{
    if (!a)
        return -1;
    async_stop(a);
    pb_blake3_hex(&a->hash, hex);
    async_free(a);
    return 0;
}

void
pb_digest_async_cancel(struct pb_digest_async *a)
{
    if (!a)
        return;
    async_stop(a);
    async_free(a);
}

struct pb_digest_job {
    pthread_t th;
    int running;              /* th is to be joined */
    struct pb_digest_group *group;
    char *path;
    char hex[65];
    unsigned long long size;
    struct pb_error err;
    int rc;
    /* begun in idle time (pb_digest_file_start_idle): */
    atomic_int stop;          /* stop at the next block */
    struct pb_blake3 hash;    /* the bytes hashed so far, whole blocks until the end */
    int whole;                /* the file is all in hash */
};

/* The file through a stream of the job's group: read here, hashed there. */
static int
file_in_group(struct pb_digest_job *j)
{
    int fd = open(j->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pb_error_sys(&j->err, PB_ENOINPUT, errno, "cannot open '%s'", j->path);
    struct pb_digest_async *a = pb_digest_async_start_in(j->group);
    unsigned char *buf = malloc(ASYNC_BLOCK);
    if (!a || !buf) {
        close(fd);
        free(buf);
        pb_digest_async_cancel(a);
        return pb_error_set(&j->err, PB_EOS, "cannot start hashing '%s'", j->path);
    }
    unsigned long long size = j->hash.n; /* carried on from there (or 0) */
    if (size && lseek(fd, (off_t)size, SEEK_SET) < 0) {
        int e = errno;
        close(fd);
        free(buf);
        pb_digest_async_cancel(a);
        return pb_error_sys(&j->err, PB_EIO, e, "cannot read '%s'", j->path);
    }
    if (size)
        a->hash = j->hash;
    for (;;) {
        ssize_t n = read(fd, buf, ASYNC_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            free(buf);
            pb_digest_async_cancel(a);
            return pb_error_sys(&j->err, PB_EIO, e, "cannot read '%s'", j->path);
        }
        if (n == 0)
            break;
        size += (unsigned long long)n;
        pb_digest_async_feed(a, buf, (size_t)n);
    }
    close(fd);
    free(buf);
    j->size = size;
    return pb_digest_async_finish(a, j->hex);
}

static void *
job_main(void *arg)
{
    struct pb_digest_job *j = arg;
    j->rc = j->group || j->hash.n ? file_in_group(j)
                                 : pb_digest_file(j->path, j->hex, &j->size, &j->err);
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
    struct pb_digest_job *j = arg;
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
        pb_blake3_update(&j->hash, buf, (size_t)n);
        j->whole = n < ASYNC_BLOCK;
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

static struct pb_digest_job *
job_start(struct pb_digest_group *g, const char *path, void *(*fn)(void *))
{
    struct pb_digest_job *j = calloc(1, sizeof(*j));
    if (!j || !(j->path = strdup(path))) {
        free(j);
        return NULL;
    }
    j->group = g;
    pb_error_init(&j->err);
    pb_blake3_init(&j->hash);
    atomic_init(&j->stop, 0);
    if (pthread_create(&j->th, NULL, fn, j) != 0) {
        free(j->path);
        free(j);
        return NULL;
    }
    j->running = 1;
    return j;
}

struct pb_digest_job *
pb_digest_file_start(const char *path)
{
    return job_start(NULL, path, job_main);
}

struct pb_digest_job *
pb_digest_file_start_in(struct pb_digest_group *g, const char *path)
{
    return job_start(g, path, job_main);
}

struct pb_digest_job *
pb_digest_file_start_idle(const char *path)
{
    return job_start(NULL, path, idle_main);
}

void
pb_digest_file_move(struct pb_digest_job *j, struct pb_digest_group *g)
{
    if (!j)
        return;
    atomic_store(&j->stop, 1);
    pthread_join(j->th, NULL);
    j->running = 0;
    if (j->whole) {
        if (j->rc == 0) {
            j->size = j->hash.n;
            pb_blake3_hex(&j->hash, j->hex);
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
pb_digest_file_join(struct pb_digest_job *j, char hex[65], unsigned long long *size,
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

