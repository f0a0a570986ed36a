#ifndef CCHECKSUM_H
#define CCHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli) of `length` bytes, continuing from `crc` (start with 0).
/// Uses the SSE 4.2 crc32 instruction when the CPU has it, a table otherwise.
uint32_t chatlog_crc32c(uint32_t crc, const void *bytes, size_t length);

#endif
