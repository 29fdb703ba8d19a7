/*
 * Differential harness: the staged CSV reader's fast path (src/staged/csv.c) against
 * libcsv alone.  Both must give the same cells, rows, physical line numbers and errors on
 * any input, however the input is cut into the chunks the reader is handed.
 *
 * Input: the first byte's low three bits are how many cut points follow, two bytes each
 * (taken modulo the text's length); the rest is the CSV text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_csv_split.h"
#include "posbridge/buf.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "staged/staged_int.h"

static int
note_row(void *user, long line, size_t n, const char *const *v, const size_t *len)
{
    struct pb_buf *b = user;
    if (pb_buf_addf(b, "%ld:%zu", line, n) < 0)
        return -1;
    for (size_t j = 0; j < n; j++) {
        if (v[j][len[j]] != '\0') { /* every cell ends with a NUL, either way */
            fprintf(stderr, "cell %zu of the row at line %ld has no NUL after it\n", j, line);
            abort();
        }
        if (pb_buf_addf(b, "|%zu:", len[j]) < 0 || pb_buf_add(b, v[j], len[j]) < 0)
            return -1;
    }
    return pb_buf_addch(b, '\n');
}

/* Split and describe the outcome in out: the rows, the lines seen and the error. */
static void
describe(const char *text, size_t len, const size_t *cuts, size_t ncuts, int fast,
         struct pb_buf *out)
{
    struct pb_error err;
    long lines = -1;
    pb_error_init(&err);
    pb_buf_reset(out);
    int rc = pb_csv_split(text, len, cuts, ncuts, fast, note_row, out, &lines, &err);
    if (pb_buf_addf(out, "= %d lines %ld", rc, lines) < 0 ||
        (rc < 0 && pb_buf_addf(out, " error %ld: %s", err.line, err.msg) < 0))
        abort(); /* out of memory: not a finding */
}

static void
show(const char *what, const struct pb_buf *b)
{
    fprintf(stderr, "--- %s (%zu bytes)\n%.4000s\n", what, b->len, b->data);
}

int
pb_fuzz_csv_split_check(const char *text, size_t len, const size_t *cuts, size_t ncuts)
{
    struct pb_buf fast = PB_BUF_INIT, slow = PB_BUF_INIT, whole = PB_BUF_INIT;
    int bad = 0;
    describe(text, len, cuts, ncuts, 1, &fast);
    describe(text, len, cuts, ncuts, 0, &slow);
    if (fast.len != slow.len || memcmp(fast.data, slow.data, fast.len) != 0) {
        show("fast path", &fast);
        show("libcsv", &slow);
        bad = 1;
    }
    /* How the bytes are cut must not matter either (short of the row-length check, which
     * looks at the row being read at the end of each chunk). */
    if (!bad && len < PB_LINE_MAX) {
        describe(text, len, NULL, 0, 0, &whole);
        if (fast.len != whole.len || memcmp(fast.data, whole.data, fast.len) != 0) {
            show("fast path, cut", &fast);
            show("libcsv, whole", &whole);
            bad = 1;
        }
    }
    if (bad) {
        fprintf(stderr, "--- cut at:");
        for (size_t k = 0; k < ncuts; k++)
            fprintf(stderr, " %zu", cuts[k]);
        fprintf(stderr, "\n");
    }
    pb_buf_release(&fast);
    pb_buf_release(&slow);
    pb_buf_release(&whole);
    return bad;
}

static int
cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cuts[7], ncuts = 0;
    pb_log_level = -1;
    if (size == 0)
        return 0;
    size_t want = data[0] & 7, at = 1;
    const char *text;
    size_t len;
    uint16_t pos[7];
    for (size_t k = 0; k < want && at + 2 <= size; k++, at += 2)
        pos[k] = (uint16_t)(data[at] | data[at + 1] << 8), ncuts++;
    text = (const char *)data + at;
    len = size - at;
    for (size_t k = 0; k < ncuts; k++)
        cuts[k] = len ? pos[k] % len : 0;
    qsort(cuts, ncuts, sizeof(cuts[0]), cmp_size);
    if (pb_fuzz_csv_split_check(text, len, cuts, ncuts))
        abort();
    return 0;
}
