/* SHA-256 against the FIPS 180-4 / NIST example vectors, in one piece and in chunks. */
#include <string.h>

#include "check.h"
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

int
main(void)
{
    RUN(test_vectors);
    RUN(test_million_a);
    RUN(test_padding_boundaries);
    return check_summary();
}
