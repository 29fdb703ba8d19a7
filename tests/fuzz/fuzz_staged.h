/* Shared body of the CSV and JSONL reader harnesses: bytes -> a file -> pb_reader. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pb_schemas.h"
#include "posbridge/err.h"
#include "posbridge/log.h"
#include "posbridge/staged.h"

static int
fuzz_read(const uint8_t *data, size_t size, const char *suffix, enum pb_read_mode mode)
{
    static char path[64];
    if (!path[0]) {
        pb_log_level = -1;
        snprintf(path, sizeof(path), "/tmp/pbfuzz-%ld-items.%s", (long)getpid(), suffix);
    }
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    struct pb_error err, bad;
    struct pb_rec rec;
    struct pb_read_opts ro = {mode, "UTC", -1, NULL};
    pb_error_init(&err);
    struct pb_reader *rd = pb_reader_open(path, &pb_schema_items, &ro, &err);
    if (!rd)
        return 0;
    if (pb_rec_init(&rec, &pb_schema_items, &err) == 0) {
        for (int i = 0; i < 100000; i++) {
            pb_error_init(&bad);
            int r = pb_reader_next(rd, &rec, &bad, &err);
            if (r <= 0)
                break;
        }
        pb_rec_release(&rec);
    }
    pb_reader_close(rd, NULL);
    unlink(path);
    return 0;
}
