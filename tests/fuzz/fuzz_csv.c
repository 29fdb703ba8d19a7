/* libFuzzer harness: the staged CSV reader (our files and foreign exports). */
#include "fuzz_staged.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_read(data, size, "csv", size && data[0] & 1 ? PB_READ_FOREIGN : PB_READ_STAGED);
}
