/*
 * BLAKE3 against the specification's test vectors (input byte i is i mod 251), fed whole
 * and in pieces of every awkward size; then the manifest's hashing threads: one stream,
 * a group of streams, whole files, and files begun in idle time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "posbridge/digest.h"
#include "posbridge/err.h"

struct vec {
    size_t len;
    const char *hex;
};

/* From the specification's test_vectors.json, with more lengths from b3sum: whole
 * subtrees of 64 chunks, and one past them. */
static const struct vec vectors[] = {
    {0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
    {1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"},
    {1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"},
    {1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"},
    {1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"},
    {2048, "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a"},
    {2049, "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030"},
    {3072, "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2"},
    {3073, "7124b49501012f81cc7f11ca069ec9226cecb8a2c850cfe644e327d22d3e1cd3"},
    {4096, "015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e969"},
    {4097, "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995"},
    {5120, "9cadc15fed8b5d854562b26a9536d9707cadeda9b143978f319ab34230535833"},
    {5121, "628bd2cb2004694adaab7bbd778a25df25c47b9d4155a55f8fbd79f2fe154cff"},
    {6144, "3e2e5b74e048f3add6d21faab3f83aa44d3b2278afb83b80b3c35164ebeca205"},
    {6145, "f1323a8631446cc50536a9f705ee5cb619424d46887f3c376c695b70e0f0507f"},
    {7168, "61da957ec2499a95d6b8023e2b0e604ec7f6b50e80a9678b89d2628e99ada77a"},
    {7169, "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e7817"},
    {8192, "aae792484c8efe4f19e2ca7d371d8c467ffb10748d8a5a1ae579948f718a2a63"},
    {8193, "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b"},
    {16384, "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4"},
    {31744, "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"},
    {65536, "68d647e619a930e7b1082f74f334b0c65a315725569bdc123f0ee11881717bfe"},
    {65537, "7c99f9840a73dfcb6e5bfe4ff6d1558acab7e015640790c26411818bdbe17eca"},
    {102400, "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085"},
    {132096, "634220dc80860b6ea34faf04004bcfc299cb3fe54d8cc00e3cb1a57c3ce27338"},
    {1000000, "5e82c663d164c54e4fcdfcd70e3ca464662228bdbad45cce2e0c2bff999064ef"},
};
#define NVEC (sizeof(vectors) / sizeof(vectors[0]))
#define ABC "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
#define MILLION_A "616f575a1b58d4c9797d4217b9730ae5e6eb319d76edef6549b46f4efe31ff8b"

static unsigned char input[1000000];

static void
hash_pieces(const unsigned char *data, size_t len, size_t piece, char hex[65])
{
    struct pb_blake3 s;
    pb_blake3_init(&s);
    for (size_t off = 0; off < len; off += piece)
        pb_blake3_update(&s, data + off, len - off < piece ? len - off : piece);
    CHECK(s.n == len);
    pb_blake3_hex(&s, hex);
}

/* Each vector in one piece and in pieces that cut blocks, chunks and subtrees anywhere:
 * the lanes and the one-chunk path must agree wherever the cuts fall. */
static void
test_vectors(void)
{
    static const size_t pieces[] = {1, 7, 63, 64, 65, 1000, 1024, 1025, 4096, 8191, 8192,
                                    8193, 65536, 65537, 262144};
    for (size_t i = 0; i < NVEC; i++) {
        char hex[65];
        hash_pieces(input, vectors[i].len, vectors[i].len ? vectors[i].len : 1, hex);
        CHECK_STR(hex, vectors[i].hex);
        CHECK(strlen(hex) == 64);
        for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
            if (vectors[i].len > 200000 && pieces[k] < 1000)
                continue; /* slow, and the cuts are covered by the shorter ones */
            hash_pieces(input, vectors[i].len, pieces[k], hex);
            CHECK_STR(hex, vectors[i].hex);
        }
    }
    char hex[65];
    hash_pieces((const unsigned char *)"abc", 3, 3, hex);
    CHECK_STR(hex, ABC);
}

/* Every code path this CPU can run gives the same digests. */
static void
test_paths(void)
{
    static const char *const isa[] = {"plain", "avx2", "avx512"};
    static const size_t pieces[] = {1000, 8192, 65536, 65537, 262144};
    int ran = 0;
    for (size_t a = 0; a < sizeof(isa) / sizeof(isa[0]); a++) {
        if (pb_blake3_use(isa[a]) < 0)
            continue;
        ran++;
        for (size_t i = 0; i < NVEC; i++)
            for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
                char hex[65];
                hash_pieces(input, vectors[i].len, pieces[k], hex);
                CHECK_STR(hex, vectors[i].hex);
            }
    }
    CHECK(ran >= 1);
    CHECK(pb_blake3_use("sse9") == -1);
    CHECK(pb_blake3_use(NULL) == 0);
}

/* A digest can be taken part way and the hashing goes on. */
static void
test_final_midway(void)
{
    struct pb_blake3 s;
    char hex[65];
    pb_blake3_init(&s);
    pb_blake3_update(&s, input, 8192);
    pb_blake3_hex(&s, hex);
    CHECK_STR(hex, vectors[17].hex);
    pb_blake3_update(&s, input + 8192, 1);
    pb_blake3_hex(&s, hex);
    CHECK_STR(hex, vectors[18].hex);
}

/* One million 'a', in a rotating pattern of sizes so every path is mixed. */
static void
test_million_a(void)
{
    static const size_t sizes[] = {1, 3, 63, 64, 65, 127, 1000, 4099, 70000};
    static char a[70000];
    memset(a, 'a', sizeof(a));
    struct pb_blake3 s;
    pb_blake3_init(&s);
    size_t left = 1000000, k = 0;
    while (left) {
        size_t n = sizes[k++ % (sizeof(sizes) / sizeof(sizes[0]))];
        if (n > left)
            n = left;
        pb_blake3_update(&s, a, n);
        left -= n;
    }
    char hex[65];
    pb_blake3_hex(&s, hex);
    CHECK_STR(hex, MILLION_A);
}

/* The second-thread hasher gives the same digests, whatever the feed sizes. */
static void
test_async(void)
{
    static const size_t sizes[] = {1, 63, 4096, 256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1,
                                   1000000};
    static const char *const million = MILLION_A;
    char *a = malloc(1000000);
    memset(a, 'a', 1000000);
    char hex[65];
    for (size_t i = 0; i < NVEC; i++) {
        struct pb_digest_async *h = pb_digest_async_start();
        CHECK(h != NULL);
        CHECK(pb_digest_async_feed(h, input, vectors[i].len) == 0);
        CHECK(pb_digest_async_finish(h, hex) == 0);
        CHECK_STR(hex, vectors[i].hex);
    }
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct pb_digest_async *h = pb_digest_async_start();
        CHECK(h != NULL);
        for (size_t left = 1000000; left;) {
            size_t n = sizes[i] < left ? sizes[i] : left;
            CHECK(pb_digest_async_feed(h, a, n) == 0);
            left -= n;
        }
        CHECK(pb_digest_async_finish(h, hex) == 0);
        CHECK_STR(hex, million);
    }
    /* several megabytes, so the queue fills and the producer waits */
    struct pb_digest_async *h = pb_digest_async_start();
    struct pb_blake3 s;
    pb_blake3_init(&s);
    for (int k = 0; k < 9; k++) {
        a[k] = 'b';
        CHECK(pb_digest_async_feed(h, a, 1000000) == 0);
        pb_blake3_update(&s, a, 1000000);
    }
    char want[65];
    pb_blake3_hex(&s, want);
    CHECK(pb_digest_async_finish(h, hex) == 0);
    CHECK_STR(hex, want);
    /* cancel, with and without data, frees everything */
    h = pb_digest_async_start();
    CHECK(pb_digest_async_feed(h, a, 700000) == 0);
    pb_digest_async_cancel(h);
    pb_digest_async_cancel(pb_digest_async_start());
    pb_digest_async_cancel(NULL);
    CHECK(pb_digest_async_feed(NULL, "x", 1) == -1);
    CHECK(pb_digest_async_finish(NULL, hex) == -1);
    free(a);
}

/* Streams in a group give their one-stream digests: unequal lengths, uneven feeding,
 * and one cancelled midway. */
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
    struct pb_digest_group *g = pb_digest_group_new();
    CHECK(g != NULL);
    struct pb_digest_async *h[N];
    size_t at[N] = {0};
    for (int k = 0; k < N; k++)
        CHECK((h[k] = pb_digest_async_start_in(g)) != NULL);
    struct pb_digest_async *gone = pb_digest_async_start_in(g);
    CHECK(pb_digest_async_feed(gone, a, 300000) == 0);
    pb_digest_async_cancel(gone);
    for (int more = 1; more;) {
        more = 0;
        for (int k = 0; k < N; k++) {
            size_t n = lens[k] - at[k] < steps[k] ? lens[k] - at[k] : steps[k];
            CHECK(pb_digest_async_feed(h[k], a + at[k], n) == 0);
            at[k] += n;
            more |= at[k] < lens[k];
        }
    }
    for (int k = 0; k < N; k++) {
        char hex[65], want[65];
        struct pb_blake3 s;
        pb_blake3_init(&s);
        pb_blake3_update(&s, a, lens[k]);
        pb_blake3_hex(&s, want);
        CHECK(pb_digest_async_finish(h[k], hex) == 0);
        CHECK_STR(hex, want);
    }
    pb_digest_group_free(g);
    pb_digest_group_free(NULL);
    free(a);
}

static void
test_file(void)
{
    char dir[] = "/tmp/pb-test-digest-XXXXXX";
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
    CHECK(pb_digest_file(path, hex, &size, &err) == 0);
    CHECK_STR(hex, ABC);
    CHECK(size == 3);
    /* a missing file */
    char missing[80];
    snprintf(missing, sizeof(missing), "%s/nope", dir);
    CHECK(pb_digest_file(missing, hex, NULL, &err) == -1);
    CHECK(err.code == PB_ENOINPUT);
    CHECK(strstr(err.msg, "nope") != NULL);
    /* the same on a second thread */
    pb_error_init(&err);
    size = 0;
    struct pb_digest_job *job = pb_digest_file_start(path);
    CHECK(job != NULL);
    CHECK(pb_digest_file_join(job, hex, &size, &err) == 0);
    CHECK_STR(hex, ABC);
    CHECK(size == 3);
    pb_error_init(&err);
    job = pb_digest_file_start(missing);
    CHECK(pb_digest_file_join(job, hex, NULL, &err) == -1);
    CHECK(err.code == PB_ENOINPUT);
    CHECK(strstr(err.msg, "nope") != NULL);
    pb_error_init(&err);
    CHECK(pb_digest_file_join(NULL, hex, NULL, &err) == -1);
    CHECK(err.code == PB_EOS);
    unlink(path);
    rmdir(dir);
}

/* The job's join fails, saying the file is not there. */
static int
join_says_missing(struct pb_digest_job *job)
{
    struct pb_error err;
    char hex[65];
    pb_error_init(&err);
    return pb_digest_file_join(job, hex, NULL, &err) == -1 && err.code == PB_ENOINPUT;
}

/* A file hashed in a group while two streams are fed beside it comes out right, before
 * and after they finish. */
static void
test_file_in_group(void)
{
    char dir[] = "/tmp/pb-test-digestg-XXXXXX";
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
    struct pb_blake3 s;
    pb_blake3_init(&s);
    pb_blake3_update(&s, a, FILE_LEN);
    pb_blake3_hex(&s, want_file);
    pb_blake3_init(&s);
    pb_blake3_update(&s, a, FED);
    pb_blake3_hex(&s, want_fed);
    struct pb_digest_group *g = pb_digest_group_new();
    struct pb_digest_async *x = pb_digest_async_start_in(g), *y = pb_digest_async_start_in(g);
    struct pb_digest_job *job = pb_digest_file_start_in(g, path);
    CHECK(g && x && y && job);
    for (size_t at = 0; at < FED; at += 1000) {
        size_t n = FED - at < 1000 ? FED - at : 1000;
        CHECK(pb_digest_async_feed(x, a + at, n) == 0);
        CHECK(pb_digest_async_feed(y, a + at, n) == 0);
    }
    CHECK(pb_digest_async_finish(x, hex) == 0);
    CHECK_STR(hex, want_fed);
    CHECK(pb_digest_async_finish(y, hex) == 0);
    CHECK_STR(hex, want_fed);
    struct pb_error err;
    pb_error_init(&err);
    unsigned long long size = 0;
    CHECK(pb_digest_file_join(job, hex, &size, &err) == 0);
    CHECK_STR(hex, want_file);
    CHECK(size == FILE_LEN);
    /* a missing file in a group */
    char missing[80];
    snprintf(missing, sizeof(missing), "%s/nope", dir);
    CHECK(join_says_missing(pb_digest_file_start_in(g, missing)));
    pb_digest_group_free(g);
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
    char dir[] = "/tmp/pb-test-digesti-XXXXXX";
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
    struct pb_digest_group *g = pb_digest_group_new();
    CHECK(g != NULL);
    for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
        FILE *fp = fopen(path, "w");
        CHECK(fp != NULL);
        if (!fp)
            break;
        fwrite(a, 1, lens[l], fp);
        fclose(fp);
        char want[65], hex[65];
        struct pb_blake3 s;
        pb_blake3_init(&s);
        pb_blake3_update(&s, a, lens[l]);
        pb_blake3_hex(&s, want);
        for (size_t w = 0; w < sizeof(waits_ms) / sizeof(waits_ms[0]); w++)
            for (int to_group = 0; to_group < 2; to_group++) {
                struct pb_digest_job *job = pb_digest_file_start_idle(path);
                CHECK(job != NULL);
                usleep((useconds_t)waits_ms[w] * 1000);
                /* another stream in the group, as a stage writing files would have */
                struct pb_digest_async *x = to_group ? pb_digest_async_start_in(g) : NULL;
                pb_digest_file_move(job, to_group ? g : NULL);
                for (size_t at = 0; x && at < 300000; at += 1000)
                    CHECK(pb_digest_async_feed(x, a + at, 1000) == 0);
                if (x)
                    CHECK(pb_digest_async_finish(x, hex) == 0);
                struct pb_error err;
                pb_error_init(&err);
                unsigned long long size = 0;
                hex[0] = '\0';
                CHECK(pb_digest_file_join(job, hex, &size, &err) == 0);
                CHECK_STR(hex, want);
                CHECK(size == lens[l]);
            }
    }
    /* missing: moved or not, the join says so */
    char missing[80];
    snprintf(missing, sizeof(missing), "%s/nope", dir);
    for (int move = 0; move < 2; move++) {
        struct pb_digest_job *job = pb_digest_file_start_idle(missing);
        if (move)
            pb_digest_file_move(job, g);
        CHECK(join_says_missing(job));
    }
    pb_digest_group_free(g);
    free(a);
    unlink(path);
    rmdir(dir);
}

int
main(void)
{
    for (size_t i = 0; i < sizeof(input); i++)
        input[i] = (unsigned char)(i % 251);
    RUN(test_vectors);
    RUN(test_paths);
    RUN(test_final_midway);
    RUN(test_million_a);
    RUN(test_async);
    RUN(test_group);
    RUN(test_file);
    RUN(test_file_in_group);
    RUN(test_file_idle);
    return check_summary();
}
