/* libFuzzer harness: the QBPOS response reader (ingest) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>

#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/receipts.h"

static int
on_answer(void *user, const struct pb_qbpos_answer *a, struct pb_error *err)
{
    (void)err;
    /* Touch every string so a bad pointer would show. */
    size_t *n = user;
    *n += (a->request_id ? strlen(a->request_id) : 0) + (a->element ? strlen(a->element) : 0) +
          (a->message ? strlen(a->message) : 0) + (a->id ? strlen(a->id) : 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        xmlInitParser();
        pb_log_level = -1;
        init = 1;
    }
    struct pb_error err;
    size_t n = 0;
    pb_error_init(&err);
    (void)pb_qbpos_read_responses("fuzz.xml", (const char *)data, size, on_answer, &n, &err);
    return 0;
}
