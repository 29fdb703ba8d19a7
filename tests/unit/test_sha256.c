/* SHA-256 against the FIPS 180-4 / NIST example vectors, in one piece and in chunks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "posbridge/err.h"
#include "posbridge/sha256.h"

struct vec {
    const char *in;
    const char *hex;
};

static const struct vec vectors[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    {"The quick brown fox jumps over the lazy dog",
     "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"},
};

static void
hash_chunked(const char *data, size_t len, size_t chunk, char hex[65])
{
    struct pb_sha256 s;
    pb_sha256_init(&s);
    for (size_t off = 0; off < len; off += chunk)
        pb_sha256_update(&s, data + off, len - off < chunk ? len - off : chunk);
    pb_sha256_hex(&s, hex);
}

static void
test_vectors(void)
{
    static const size_t chunks[] = {1, 3, 7, 55, 56, 63, 64, 65, 1000};
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char hex[65];
        struct pb_sha256 s;
        pb_sha256_init(&s);
        pb_sha256_update(&s, vectors[i].in, strlen(vectors[i].in));
        pb_sha256_hex(&s, hex);
        CHECK_STR(hex, vectors[i].hex);
        CHECK(strlen(hex) == 64);
        for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
            hash_chunked(vectors[i].in, strlen(vectors[i].in), chunks[k], hex);
            CHECK_STR(hex, vectors[i].hex);
        }
    }
}

/* One million 'a', fed in odd sizes so buffered and whole-block paths mix. */
static void
test_million_a(void)
{
    static const char *const want =
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    static const size_t sizes[] = {1, 3, 63, 64, 65, 127, 1000, 4099};
    char a[4099];
    memset(a, 'a', sizeof(a));
    char hex[65];
    /* a rotating pattern of sizes */
    struct pb_sha256 s;
    pb_sha256_init(&s);
    size_t left = 1000000, k = 0;
    while (left) {
        size_t n = sizes[k++ % (sizeof(sizes) / sizeof(sizes[0]))];
        if (n > left)
            n = left;
        pb_sha256_update(&s, a, n);
        left -= n;
    }
    CHECK(s.n == 1000000);
    pb_sha256_hex(&s, hex);
    CHECK_STR(hex, want);
    /* each size alone */
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        pb_sha256_init(&s);
        for (left = 1000000; left;) {
            size_t n = sizes[i] < left ? sizes[i] : left;
            pb_sha256_update(&s, a, n);
            left -= n;
        }
        pb_sha256_hex(&s, hex);
        CHECK_STR(hex, want);
    }
}

/* Lengths around the padding boundary (55, 56, 64 bytes) against a chunk-of-one hash. */
static void
test_padding_boundaries(void)
{
    char data[200];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)(i * 7 + 1);
    for (size_t len = 50; len < 140; len++) {
        char h1[65], h2[65];
        hash_chunked(data, len, len ? len : 1, h1);
        hash_chunked(data, len, 1, h2);
        CHECK_STR(h1, h2);
    }
    /* 55 and 56 bytes: known values of 'a' repeated. */
    char a[64];
    memset(a, 'a', sizeof(a));
    char hex[65];
    hash_chunked(a, 55, 55, hex);
    CHECK_STR(hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    hash_chunked(a, 56, 56, hex);
    CHECK_STR(hex, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    hash_chunked(a, 64, 64, hex);
    CHECK_STR(hex, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

/* The second-thread hasher gives the same digests, whatever the feed sizes. */
static void
test_async(void)
{
    static const size_t sizes[] = {1, 63, 4096, 256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1,
                                   1000000};
    static const char *const million =
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    char *a = malloc(1000000);
    memset(a, 'a', 1000000);
    char hex[65];
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        struct pb_sha256_async *h = pb_sha256_async_start();
        CHECK(h != NULL);
        CHECK(pb_sha256_async_feed(h, vectors[i].in, strlen(vectors[i].in)) == 0);
        CHECK(pb_sha256_async_finish(h, hex) == 0);
        CHECK_STR(hex, vectors[i].hex);
    }
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct pb_sha256_async *h = pb_sha256_async_start();
        CHECK(h != NULL);
        for (size_t left = 1000000; left;) {
            size_t n = sizes[i] < left ? sizes[i] : left;
            CHECK(pb_sha256_async_feed(h, a, n) == 0);
            left -= n;
        }
        CHECK(pb_sha256_async_finish(h, hex) == 0);
        CHECK_STR(hex, million);
    }
    /* several megabytes, so the queue fills and the producer waits */
    struct pb_sha256_async *h = pb_sha256_async_start();
    struct pb_sha256 s;
    pb_sha256_init(&s);
    for (int k = 0; k < 9; k++) {
        a[k] = 'b';
        CHECK(pb_sha256_async_feed(h, a, 1000000) == 0);
        pb_sha256_update(&s, a, 1000000);
    }
    char want[65];
    pb_sha256_hex(&s, want);
    CHECK(pb_sha256_async_finish(h, hex) == 0);
    CHECK_STR(hex, want);
    /* cancel, with and without data, frees everything */
    h = pb_sha256_async_start();
    CHECK(pb_sha256_async_feed(h, a, 700000) == 0);
    pb_sha256_async_cancel(h);
    pb_sha256_async_cancel(pb_sha256_async_start());
    pb_sha256_async_cancel(NULL);
    CHECK(pb_sha256_async_feed(NULL, "x", 1) == -1);
    CHECK(pb_sha256_async_finish(NULL, hex) == -1);
    free(a);
}

/* Streams in a group (lanes side by side) give their one-stream digests: unequal
 * lengths, uneven feeding, more streams than lanes, and one cancelled midway. */
static void
test_group(void)
{
    enum { N = 10 };
    static const size_t lens[N] = {0, 1, 63, 64, 100000, 262144, 262145, 1234567, 3000000,
                                   700001};
    static const size_t steps[N] = {1, 7, 64, 4096, 60000, 65536, 1000, 262144, 99999, 5};
    char *a = malloc(3000000);
    for (size_t i = 0; i < 3000000; i++)
        a[i] = (char)(i * 131 + (i >> 9));
    struct pb_sha256_group *g = pb_sha256_group_new();
    CHECK(g != NULL);
    struct pb_sha256_async *h[N];
    size_t at[N] = {0};
    for (int k = 0; k < N; k++)
        CHECK((h[k] = pb_sha256_async_start_in(g)) != NULL);
    struct pb_sha256_async *gone = pb_sha256_async_start_in(g);
    CHECK(pb_sha256_async_feed(gone, a, 300000) == 0);
    pb_sha256_async_cancel(gone);
    for (int more = 1; more;) {
        more = 0;
        for (int k = 0; k < N; k++) {
            size_t n = lens[k] - at[k] < steps[k] ? lens[k] - at[k] : steps[k];
            CHECK(pb_sha256_async_feed(h[k], a + at[k], n) == 0);
            at[k] += n;
            more |= at[k] < lens[k];
        }
    }
    for (int k = 0; k < N; k++) {
        char hex[65], want[65];
        struct pb_sha256 s;
        pb_sha256_init(&s);
        pb_sha256_update(&s, a, lens[k]);
        pb_sha256_hex(&s, want);
        CHECK(pb_sha256_async_finish(h[k], hex) == 0);
        CHECK_STR(hex, want);
    }
    pb_sha256_group_free(g);
    pb_sha256_group_free(NULL);
    free(a);
}

static void
test_file(void)
{
    char dir[] = "/tmp/pb-test-sha-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof(path), "%s/f", dir);
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (!fp)
        return;
    fputs("abc", fp);
    fclose(fp);
    char hex[65];
    unsigned long long size = 0;
    struct pb_error err;
    pb_error_init(&err);
    CHECK(pb_sha256_file(path, hex, &size, &err) == 0);
    CHECK_STR(hex, vectors[1].hex);
    CHECK(size == 3);
    /* a missing file */
    char missing[80];
    snprintf(missing, sizeof(missing), "%s/nope", dir);
    CHECK(pb_sha256_file(missing, hex, NULL, &err) == -1);
    CHECK(err.code == PB_ENOINPUT);
    CHECK(strstr(err.msg, "nope") != NULL);
    /* the same on a second thread */
    pb_error_init(&err);
    size = 0;
    struct pb_sha256_job *job = pb_sha256_file_start(path);
    CHECK(job != NULL);
    CHECK(pb_sha256_file_join(job, hex, &size, &err) == 0);
    CHECK_STR(hex, vectors[1].hex);
    CHECK(size == 3);
    pb_error_init(&err);
    job = pb_sha256_file_start(missing);
    CHECK(pb_sha256_file_join(job, hex, NULL, &err) == -1);
    CHECK(err.code == PB_ENOINPUT);
    CHECK(strstr(err.msg, "nope") != NULL);
    pb_error_init(&err);
    CHECK(pb_sha256_file_join(NULL, hex, NULL, &err) == -1);
    CHECK(err.code == PB_EOS);
    unlink(path);
    rmdir(dir);
}

/* A file hashed in a lane of a group while two streams are fed beside it: the file waits
 * on them (it is patient) and still comes out right, before and after they finish. */
/* The job's join fails, saying the file is not there. */
static int
join_says_missing(struct pb_sha256_job *job)
{
    struct pb_error err;
    char hex[65];
    pb_error_init(&err);
    return pb_sha256_file_join(job, hex, NULL, &err) == -1 && err.code == PB_ENOINPUT;
}

static void
test_file_in_group(void)
{
    char dir[] = "/tmp/pb-test-shag-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof(path), "%s/f", dir);
    enum { FILE_LEN = 5000003, FED = 700001 };
    char *a = malloc(FILE_LEN);
    for (size_t i = 0; i < FILE_LEN; i++)
        a[i] = (char)(i * 7 + (i >> 11));
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (!fp) {
        free(a);
        return;
    }
    fwrite(a, 1, FILE_LEN, fp);
    fclose(fp);
    char want_file[65], want_fed[65], hex[65];
    struct pb_sha256 s;
    pb_sha256_init(&s);
    pb_sha256_update(&s, a, FILE_LEN);
    pb_sha256_hex(&s, want_file);
    pb_sha256_init(&s);
    pb_sha256_update(&s, a, FED);
    pb_sha256_hex(&s, want_fed);
    struct pb_sha256_group *g = pb_sha256_group_new();
    struct pb_sha256_async *x = pb_sha256_async_start_in(g), *y = pb_sha256_async_start_in(g);
    struct pb_sha256_job *job = pb_sha256_file_start_in(g, path);
    CHECK(g && x && y && job);
    for (size_t at = 0; at < FED; at += 1000) {
        size_t n = FED - at < 1000 ? FED - at : 1000;
        CHECK(pb_sha256_async_feed(x, a + at, n) == 0);
        CHECK(pb_sha256_async_feed(y, a + at, n) == 0);
    }
    CHECK(pb_sha256_async_finish(x, hex) == 0);
    CHECK_STR(hex, want_fed);
    CHECK(pb_sha256_async_finish(y, hex) == 0);
    CHECK_STR(hex, want_fed);
    struct pb_error err;
    pb_error_init(&err);
    unsigned long long size = 0;
    CHECK(pb_sha256_file_join(job, hex, &size, &err) == 0);
    CHECK_STR(hex, want_file);
    CHECK(size == FILE_LEN);
    /* a missing file in a group */
    char missing[80];
    snprintf(missing, sizeof(missing), "%s/nope", dir);
    CHECK(join_says_missing(pb_sha256_file_start_in(g, missing)));
    pb_sha256_group_free(g);
    free(a);
    unlink(path);
    rmdir(dir);
}

/* A file begun in idle time and moved on at any point hashes as a whole: moved at once,
 * part way, when done; to a group or to a thread of its own; a length that is a whole
 * number of blocks and one that is not; a file that is missing. */
static void
test_file_idle(void)
{
    char dir[] = "/tmp/pb-test-shai-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    static const size_t lens[] = {1u << 20, (1u << 20) + 17};
    static const int waits_ms[] = {0, 10, 250};
    size_t maxlen = 0;
    for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
        maxlen = lens[l] > maxlen ? lens[l] : maxlen;
    char *a = malloc(maxlen);
    for (size_t i = 0; i < maxlen; i++)
        a[i] = (char)(i * 13 + (i >> 9));
    char path[64];
    snprintf(path, sizeof(path), "%s/f", dir);
    struct pb_sha256_group *g = pb_sha256_group_new();
    CHECK(g != NULL);
    for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
        FILE *fp = fopen(path, "w");
        CHECK(fp != NULL);
        if (!fp)
            break;
        fwrite(a, 1, lens[l], fp);
        fclose(fp);
        char want[65], hex[65];
        struct pb_sha256 s;
        pb_sha256_init(&s);
        pb_sha256_update(&s, a, lens[l]);
        pb_sha256_hex(&s, want);
        for (size_t w = 0; w < sizeof(waits_ms) / sizeof(waits_ms[0]); w++)
            for (int to_group = 0; to_group < 2; to_group++) {
                struct pb_sha256_job *job = pb_sha256_file_start_idle(path);
                CHECK(job != NULL);
                usleep((useconds_t)waits_ms[w] * 1000);
                /* another stream in the group, as a stage writing files would have */
                struct pb_sha256_async *x = to_group ? pb_sha256_async_start_in(g) : NULL;
                pb_sha256_file_move(job, to_group ? g : NULL);
                for (size_t at = 0; x && at < 300000; at += 1000)
                    CHECK(pb_sha256_async_feed(x, a + at, 1000) == 0);
                if (x)
                    CHECK(pb_sha256_async_finish(x, hex) == 0);
                struct pb_error err;
                pb_error_init(&err);
                unsigned long long size = 0;
                hex[0] = '\0';
                CHECK(pb_sha256_file_join(job, hex, &size, &err) == 0);
                CHECK_STR(hex, want);
                CHECK(size == lens[l]);
            }
    }
    /* missing: moved or not, the join says so */
    char missing[80];
    snprintf(missing, sizeof(missing), "%s/nope", dir);
    for (int move = 0; move < 2; move++) {
        struct pb_sha256_job *job = pb_sha256_file_start_idle(missing);
        if (move)
            pb_sha256_file_move(job, g);
        CHECK(join_says_missing(job));
    }
    pb_sha256_group_free(g);
    free(a);
    unlink(path);
    rmdir(dir);
}

int
main(void)
{
    RUN(test_vectors);
    RUN(test_million_a);
    RUN(test_padding_boundaries);
    RUN(test_async);
    RUN(test_group);
    RUN(test_file);
    RUN(test_file_in_group);
    RUN(test_file_idle);
    return check_summary();
}
