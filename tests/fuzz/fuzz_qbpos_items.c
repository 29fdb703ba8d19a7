/* libFuzzer harness: the qbposXML item reader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include <libxml/parser.h>

#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/qbpos_items.h"

static int
on_item(void *user, struct pb_rec *rec, const struct pb_error *bad, struct pb_error *err)
{
    (void)user, (void)bad, (void)err;
    /* Touch every value so a bad offset would show. */
    size_t n;
    for (int i = 0; i < rec->schema->nfields; i++)
        (void)pb_rec_get(rec, i, &n);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pb_error err;
    struct pb_qbpos_stats st = {0};
    static int init;
    if (!init) {
        init = 1;
        pb_log_level = -1;
        xmlInitParser();
    }
    pb_error_init(&err);
    pb_qbpos_read_items_mem("fuzz.xml", (const char *)data, size, "UTC", on_item, NULL, &st,
                            &err);
    return 0;
}
