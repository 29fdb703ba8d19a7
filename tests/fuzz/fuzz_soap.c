/* libFuzzer harness: the Web Connector's SOAP reader (posbridge qbwc) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>

#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/qbwc.h"

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
    struct pb_soap_call c;
    struct pb_error err;
    struct pb_buf out = PB_BUF_INIT;
    pb_error_init(&err);
    if (pb_soap_parse((const char *)data, size, &c, &err) == 0) {
        /* Touch every string, and echo each parameter through the answer writer. */
        size_t n = strlen(c.method);
        for (int i = 0; i < c.nparams; i++) {
            n += strlen(c.name[i]) + strlen(c.value[i]);
            if (pb_soap_reply_string(&out, c.method, c.value[i]) < 0)
                break;
        }
        (void)n;
        pb_soap_call_release(&c);
    }
    pb_buf_release(&out);
    return 0;
}
