/* libFuzzer harness: the staged JSONL reader. */
#include "fuzz_staged.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_read(data, size, "jsonl", PB_READ_STAGED);
}
