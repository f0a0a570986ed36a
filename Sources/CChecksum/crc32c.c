#include "cchecksum.h"

#include <string.h>

static uint32_t table[256];
static int ready;
static int hardware;

static void prepare(void) {
    for (uint32_t index = 0; index < 256; index++) {
        uint32_t crc = index;
        for (int bit = 0; bit < 8; bit++) {
            crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        table[index] = crc;
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    hardware = __builtin_cpu_supports("sse4.2");
#endif
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
}

static uint32_t software(uint32_t crc, const uint8_t *bytes, size_t length) {
    for (size_t index = 0; index < length; index++) {
        crc = (crc >> 8) ^ table[(crc ^ bytes[index]) & 0xFF];
    }
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t accelerated(uint32_t crc, const uint8_t *bytes, size_t length) {
    uint64_t wide = crc;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        wide = __builtin_ia32_crc32di(wide, word);
        bytes += 8;
        length -= 8;
    }
    crc = (uint32_t)wide;
    while (length > 0) {
        crc = __builtin_ia32_crc32qi(crc, *bytes);
        bytes++;
        length--;
    }
    return crc;
}
#endif

uint32_t chatlog_crc32c(uint32_t crc, const void *bytes, size_t length) {
    // Preparing twice from two threads writes the same values: harmless.
    if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) prepare();
    crc = ~crc;
#if defined(__x86_64__)
    if (hardware) return ~accelerated(crc, bytes, length);
#endif
    return ~software(crc, bytes, length);
}
