/*
 * The staged CSV reader's fast path against libcsv alone (src/staged/csv.c): nasty texts,
 * each split whole, at every cut point and at every pair of cut points, must give the
 * same cells, rows, line numbers and errors both ways; the whole-text outcome is pinned.
 * tests/fuzz/fuzz_csv_split.c makes the same comparison on random inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fuzz_csv_split.c" /* pb_fuzz_csv_split_check and describe() */

struct split_case {
    const char *name;
    const char *text;
    size_t len; /* 0: strlen(text) */
    const char *want; /* describe()'s outcome, fast path, whole text */
    size_t want_len;
};

static const struct split_case cases[] = {
    {"plain", "a,b,c\n1,2,3\n", 0,
     "1:3|1:a|1:b|1:c\n2:3|1:1|1:2|1:3\n= 0 lines 2", 43},
    {"quotes inside quotes", "a,\"say \"\"hi\"\"\",\"\"\"\"\n", 0,
     "1:3|1:a|8:say \"hi\"|1:\"\n= 0 lines 1", 34},
    {"quote inside an unquoted cell", "a,b\"c\"d,e\n", 0,
     "1:3|1:a|5:b\"c\"d|1:e\n= 0 lines 1", 31},
    {"text after a closing quote", "\"a\"b,c\n", 0,
     "= -1 lines 0 error 1: a quoted cell is never closed (its row starts on this line)", 81},
    {"crlf", "a,b\r\n1,2\r\n", 0,
     "1:2|1:a|1:b\n2:2|1:1|1:2\n= 0 lines 2", 35},
    {"lone cr", "a,b\r1,2\r\r3,4", 0,
     "1:2|1:a|1:b\n2:2|1:1|1:2\n4:2|1:3|1:4\n= 0 lines 3", 47},
    {"mixed line ends", "a\n\rb\r\n\nc\r", 0,
     "1:1|1:a\n3:1|1:b\n5:1|1:c\n= 0 lines 5", 35},
    {"quoted line breaks", "k,v\n1,\"x\ny\r\nz\rw\"\n2,\"\n\"\n", 0,
     "1:2|1:k|1:v\n2:2|1:1|8:x\ny\r\nz\rw\n6:2|1:2|1:\n\n= 0 lines 7", 54},
    {"bom", "\xef\xbb\xbf" "a,b\n1,2\n", 0,
     "1:2|1:a|1:b\n2:2|1:1|1:2\n= 0 lines 2", 35},
    {"bom not at the start", "a\n\xef\xbb\xbf" "b\n", 0,
     "1:1|1:a\n2:1|4:\xef""\xbb""\xbf""b\n= 0 lines 2", 30},
    {"empty fields", ",,\n,\"\",\n\n", 0,
     "1:3|0:|0:|0:\n2:3|0:|0:|0:\n= 0 lines 3", 37},
    {"blank lines and blanks", "  \n\t\na , b\t,\" c \"\n   \n", 0,
     "3:3|1:a|1:b|3: c \n= 0 lines 4", 29},
    {"trailing delimiter", "a,b,\n1,2,\n", 0,
     "1:3|1:a|1:b|0:\n2:3|1:1|1:2|0:\n= 0 lines 2", 41},
    {"no newline at the end", "a,b\n1,2", 0,
     "1:2|1:a|1:b\n2:2|1:1|1:2\n= 0 lines 1", 35},
    {"unterminated quote at eof", "a,b\n1,\"2\n3\n", 0,
     "1:2|1:a|1:b\n= -1 lines 1 error 2: a quoted cell is never closed (its row starts on this line)", 93},
    {"unterminated quote, empty", "a\n\"", 0,
     "1:1|1:a\n= -1 lines 1 error 2: a quoted cell is never closed (its row starts on this line)", 89},
    {"nul bytes", "a,b\n\0,x\0y\n", 11,
     "1:2|1:a|1:b\n2:2|1:\x00""|3:x\x00""y\n3:1|1:\x00""\n= 0 lines 2", 45},
    {"only a newline", "\n", 0,
     "= 0 lines 1", 11},
    {"empty", "", 0,
     "= 0 lines 0", 11},
};

static void
test_nasty_cases(void)
{
    struct pb_buf got = PB_BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct split_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->text);
        describe(c->text, len, NULL, 0, 1, &got);
        if (getenv("SHOW_SPLIT"))
            printf("# %s:\n%s\n", c->name, got.data);
        if (got.len != c->want_len || memcmp(got.data, c->want, got.len) != 0) {
            printf("#   case '%s': got\n%s\n", c->name, got.data);
            CHECK(0);
        }
        if (pb_fuzz_csv_split_check(c->text, len, NULL, 0) != 0) {
            printf("#   case '%s', whole\n", c->name);
            CHECK(0);
        }
        for (size_t a = 1; a < len; a++) {
            if (pb_fuzz_csv_split_check(c->text, len, &a, 1) != 0) {
                printf("#   case '%s', cut at %zu\n", c->name, a);
                CHECK(0);
            }
            for (size_t b = a + 1; b < len; b++) {
                size_t two[2] = {a, b};
                if (pb_fuzz_csv_split_check(c->text, len, two, 2) != 0) {
                    printf("#   case '%s', cut at %zu and %zu\n", c->name, a, b);
                    CHECK(0);
                }
            }
        }
    }
    pb_buf_release(&got);
}

/* Cells past the size cap fail the same way on both roads, in reader-sized chunks. */
static void
test_long_field(void)
{
    size_t big = PB_LINE_MAX + 4096, len = 0;
    char *text = malloc(big + 64);
    struct pb_buf got = PB_BUF_INIT;
    CHECK(text != NULL);
    if (!text)
        return;
    for (int quoted = 0; quoted < 2; quoted++) {
        len = 0;
        memcpy(text, "a,b\n1,", 6);
        len = 6;
        if (quoted)
            text[len++] = '"';
        memset(text + len, 'x', big);
        len += big;
        if (quoted)
            text[len++] = '"';
        text[len++] = '\n';
        size_t cuts[64], n = 0;
        for (size_t at = 65536; at < len && n < 64; at += 65536)
            cuts[n++] = at;
        describe(text, len, cuts, n, 1, &got);
        CHECK(strstr(got.data, "= -1 lines 1 error 2: a cell is longer than 1048576 bytes") !=
              NULL);
        CHECK(pb_fuzz_csv_split_check(text, len, cuts, n) == 0);
    }
    /* A long cell under the cap, in a row under the cap, is read whole. */
    len = 0;
    memcpy(text, "a,b\n1,", 6);
    len = 6;
    memset(text + len, 'y', 200000);
    len += 200000;
    text[len++] = '\n';
    size_t cut = 100;
    describe(text, len, &cut, 1, 1, &got);
    CHECK(strncmp(got.data, "1:2|1:a|1:b\n2:2|1:1|200000:yyy", 30) == 0);
    CHECK(strstr(got.data, "= 0 lines 2") != NULL);
    CHECK(pb_fuzz_csv_split_check(text, len, &cut, 1) == 0);
    pb_buf_release(&got);
    free(text);
}

int
main(void)
{
    RUN(test_nasty_cases);
    RUN(test_long_field);
    return check_summary();
}
