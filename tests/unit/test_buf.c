/* Growable capped buffers: growth, the cap, formatting, detach/release, truncate. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "posbridge/buf.h"

/* The invariants of buf.h, checked after every operation. */
static int
buf_ok(const struct pb_buf *b)
{
    if (!b->data)
        return 0;
    if (b->cap == 0)
        return b->len == 0 && b->data == pb_buf_empty && b->data[0] == '\0';
    return b->len < b->cap && b->data[b->len] == '\0';
}

static void
test_init(void)
{
    struct pb_buf a = PB_BUF_INIT, b;
    CHECK(buf_ok(&a));
    CHECK(a.len == 0 && a.max == 0);
    CHECK_STR(a.data, "");
    pb_buf_init(&b, 10);
    CHECK(buf_ok(&b));
    CHECK(b.max == 10);
    /* Releasing a buffer that never allocated is a no-op. */
    pb_buf_release(&a);
    CHECK(buf_ok(&a));
    pb_buf_reset(&b);
    pb_buf_truncate(&b, 0);
    CHECK(buf_ok(&b));
}

/* Appends of every size, checked against a plain reference string. */
static void
test_growth(void)
{
    struct pb_buf b = PB_BUF_INIT;
    char *ref = malloc(100000);
    size_t n = 0;
    for (int i = 0; i < 3000; i++) {
        char piece[40];
        size_t k = (size_t)(i % 37);
        for (size_t j = 0; j < k; j++)
            piece[j] = (char)('a' + (i + (int)j) % 26);
        int rc;
        switch (i % 3) {
        case 0:
            rc = pb_buf_add(&b, piece, k);
            break;
        case 1:
            piece[k] = '\0';
            rc = pb_buf_adds(&b, piece);
            break;
        default:
            rc = pb_buf_addch(&b, 'Z');
            piece[0] = 'Z';
            k = 1;
        }
        CHECK(rc == 0);
        memcpy(ref + n, piece, k);
        n += k;
        if (!buf_ok(&b)) {
            CHECK(buf_ok(&b));
            break;
        }
    }
    CHECK(b.len == n);
    CHECK(memcmp(b.data, ref, n) == 0);
    /* Adding zero bytes changes nothing. */
    CHECK(pb_buf_add(&b, "", 0) == 0);
    CHECK(b.len == n);
    /* Bytes are bytes: NULs inside are kept. */
    pb_buf_reset(&b);
    CHECK(pb_buf_add(&b, "a\0b", 3) == 0);
    CHECK(b.len == 3 && memcmp(b.data, "a\0b", 4) == 0);
    pb_buf_release(&b);
    CHECK(buf_ok(&b));
    free(ref);
}

/* pb_buf_grow reserves: the following appends need no reallocation. */
static void
test_grow_reserve(void)
{
    struct pb_buf b = PB_BUF_INIT;
    CHECK(pb_buf_grow(&b, 1000) == 0);
    CHECK(b.cap > 1000);
    CHECK(b.len == 0 && b.data[0] == '\0');
    char *before = b.data;
    for (int i = 0; i < 1000; i++)
        CHECK(pb_buf_addch(&b, 'x') == 0);
    CHECK(b.data == before);
    CHECK(b.len == 1000);
    CHECK(buf_ok(&b));
    pb_buf_release(&b);
}

struct cap_case {
    size_t max;
    const char *first;  /* appended first, must fit */
    const char *second; /* appended next */
    int fits;
};

/* Reaching max exactly is allowed; passing it fails and leaves the buffer unchanged. */
static void
test_cap(void)
{
    static const struct cap_case cases[] = {
        {10, "12345", "67890", 1},
        {10, "12345", "678901", 0},
        {10, "", "12345678901", 0},
        {10, "1234567890", "", 1},
        {1, "", "x", 1},
        {1, "x", "y", 0},
        {100, "short", "a string that is certainly much longer than one hundred bytes, "
                       "which is the cap of this particular buffer in this test", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct cap_case *c = &cases[i];
        struct pb_buf b;
        pb_buf_init(&b, c->max);
        CHECK(pb_buf_adds(&b, c->first) == 0);
        size_t len = b.len, cap = b.cap;
        char *data = b.data;
        int rc = pb_buf_adds(&b, c->second);
        if (c->fits) {
            CHECK(rc == 0);
            CHECK(b.len == strlen(c->first) + strlen(c->second));
        } else {
            CHECK(rc == -1);
            CHECK(b.len == len && b.cap == cap && b.data == data);
            CHECK_STR(b.data, c->first);
        }
        CHECK(buf_ok(&b));
        pb_buf_release(&b);
        CHECK(b.max == c->max); /* release keeps the cap */
    }
}

/* The cap applies to every kind of append, whatever capacity is already allocated. */
static void
test_cap_all_appends(void)
{
    struct pb_buf b;
    pb_buf_init(&b, 10);
    CHECK(pb_buf_adds(&b, "123456789") == 0);
    CHECK(pb_buf_addf(&b, "%s", "ab") == -1);
    CHECK_STR(b.data, "123456789");
    CHECK(pb_buf_addf(&b, "%d", 0) == 0);
    CHECK_STR(b.data, "1234567890");
    CHECK(pb_buf_addf(&b, "%s", "") == 0);
    CHECK(pb_buf_grow(&b, 1) == -1);
    CHECK(pb_buf_add(&b, "x", 1) == -1);
    CHECK(b.len == 10);
    CHECK(pb_buf_addch(&b, 'x') == -1);
    CHECK(b.len == 10);
    CHECK_STR(b.data, "1234567890");
    CHECK(buf_ok(&b));
    pb_buf_release(&b);
}

/* Sizes near SIZE_MAX are refused, not wrapped. */
static void
test_overflow(void)
{
    struct pb_buf b = PB_BUF_INIT;
    CHECK(pb_buf_adds(&b, "abc") == 0);
    CHECK(pb_buf_grow(&b, (size_t)-1) == -1);
    CHECK(pb_buf_grow(&b, (size_t)-3) == -1);
    CHECK(pb_buf_grow(&b, PB_BUF_DEFAULT_MAX) == -1);
    CHECK_STR(b.data, "abc");
    pb_buf_release(&b);
}

static void
test_addf(void)
{
    struct pb_buf b = PB_BUF_INIT;
    CHECK(pb_buf_addf(&b, "%d-%s", 42, "x") == 0);
    CHECK_STR(b.data, "42-x");
    /* Longer than any internal scratch: 10000 characters through %s and through width. */
    char *big = malloc(10001);
    memset(big, 'q', 10000);
    big[10000] = '\0';
    CHECK(pb_buf_addf(&b, "[%s]", big) == 0);
    CHECK(b.len == 4 + 10002);
    CHECK(b.data[4] == '[' && b.data[5] == 'q' && b.data[10004] == 'q');
    CHECK(b.data[10005] == ']' && b.data[10006] == '\0');
    CHECK(pb_buf_addf(&b, "%300d|", 7) == 0);
    CHECK(b.len == 10006 + 301);
    CHECK(b.data[b.len - 2] == '7' && b.data[b.len - 1] == '|');
    CHECK(buf_ok(&b));
    /* Exactly around the 256-byte boundary. */
    for (size_t k = 250; k < 262; k++) {
        struct pb_buf c = PB_BUF_INIT;
        CHECK(pb_buf_addf(&c, "%.*s", (int)k, big) == 0);
        CHECK(c.len == k);
        CHECK(strlen(c.data) == k);
        CHECK(buf_ok(&c));
        pb_buf_release(&c);
    }
    free(big);
    pb_buf_release(&b);
}

static void
test_truncate(void)
{
    struct pb_buf b = PB_BUF_INIT;
    CHECK(pb_buf_adds(&b, "hello, world") == 0);
    pb_buf_truncate(&b, 5);
    CHECK(b.len == 5);
    CHECK_STR(b.data, "hello");
    pb_buf_truncate(&b, 50); /* longer than len: ignored */
    CHECK(b.len == 5);
    CHECK_STR(b.data, "hello");
    pb_buf_truncate(&b, 5);
    CHECK_STR(b.data, "hello");
    size_t cap = b.cap;
    pb_buf_reset(&b);
    CHECK(b.len == 0 && b.cap == cap); /* memory kept */
    CHECK_STR(b.data, "");
    CHECK(buf_ok(&b));
    pb_buf_release(&b);
}

static void
test_detach(void)
{
    struct pb_buf b;
    size_t len = 99;
    pb_buf_init(&b, 1000);
    CHECK(pb_buf_adds(&b, "owned") == 0);
    char *s = pb_buf_detach(&b, &len);
    CHECK_STR(s, "owned");
    CHECK(len == 5);
    CHECK(buf_ok(&b));
    CHECK(b.len == 0 && b.cap == 0 && b.max == 1000);
    free(s);
    /* The buffer is usable after a detach. */
    CHECK(pb_buf_adds(&b, "again") == 0);
    CHECK_STR(b.data, "again");
    pb_buf_release(&b);
    CHECK(buf_ok(&b) && b.max == 1000);
    /* Detaching an empty, never-allocated buffer still gives a malloc'd "". */
    s = pb_buf_detach(&b, &len);
    CHECK(s != NULL && s != pb_buf_empty);
    CHECK_STR(s, "");
    CHECK(len == 0);
    free(s);
    s = pb_buf_detach(&b, NULL);
    CHECK(s != NULL);
    free(s);
}

int
main(void)
{
    RUN(test_init);
    RUN(test_growth);
    RUN(test_grow_reserve);
    RUN(test_cap);
    RUN(test_cap_all_appends);
    RUN(test_overflow);
    RUN(test_addf);
    RUN(test_truncate);
    RUN(test_detach);
    return check_summary();
}
