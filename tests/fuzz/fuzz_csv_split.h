/* The CSV fast path's differential check, shared by its fuzz harness and unit test. */
#ifndef PB_FUZZ_CSV_SPLIT_H
#define PB_FUZZ_CSV_SPLIT_H

#include <stddef.h>

/* Split text at the cuts with the fast path and with libcsv alone (and uncut); 0 when all
 * agree, else 1 with both outcomes printed to stderr. */
int pb_fuzz_csv_split_check(const char *text, size_t len, const size_t *cuts, size_t ncuts);

#endif
