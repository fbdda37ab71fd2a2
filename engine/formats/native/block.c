/* Block framing for the native scanners: checksums (masked CRC-32C with the SSE4.2 instruction or
 * a table, xxhash64 from libxxhash) and decompression (snappy.c), per
 * cockroachdb/pebble sstable/block/block.go (5-byte trailer: indicator, checksum over
 * block || indicator), sstable/block/compression.go (indicators) and internal/crc/crc.go
 * (the mask).
 * Anything unusual (a mismatch, an unknown indicator, MinLZ) is a defer, never an error text. */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "blockscan.h"

int keybuf_set(keybuf *kb, const uint8_t *p, size_t n) {
    if (keybuf_reserve(kb, n) < 0) return -1;
    if (n) memcpy(kb->p, p, n);
    kb->len = n;
    return 0;
}

int keybuf_reserve(keybuf *kb, size_t n) {
    if (n <= kb->cap) return 0;
    size_t cap = kb->cap ? kb->cap : 64;
    while (cap < n) cap *= 2;
    uint8_t *q = realloc(kb->p, cap);
    if (!q) return -1;
    kb->p = q;
    kb->cap = cap;
    return 0;
}

void keybuf_free(keybuf *kb) {
    free(kb->p);
    kb->p = NULL;
    kb->len = kb->cap = 0;
}

/* --- CRC-32C (Castagnoli) ----------------------------------------------------------------- */

static uint32_t crc_table[8][256]; /* written once by blockscan_init, read-only after */
static int have_sse42;

static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t n) {
    while (n >= 8) { /* slicing by 8 */
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24);
        crc = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
              crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^
              crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xFF];
    return crc;
}

#if defined(__x86_64__)
/* The crc32 instruction has a latency of 3 cycles and a throughput of 1: three independent
 * streams over consecutive stretches keep it busy, and their registers are combined after.
 * A raw CRC register is linear, so crc(A || B) = Z(crc(A)) ^ crc0(B) where Z appends |B| zero
 * bytes; Z is applied by four byte-indexed tables, computed once in blockscan_init by running
 * the instruction itself over zeros (no GF(2) matrix code to get wrong). */
#define CRC_LONG 8192
#define CRC_SHORT 256
static uint32_t crc_zeros_long[4][256], crc_zeros_short[4][256]; /* read-only after init */

__attribute__((target("sse4.2"))) static uint32_t crc_raw_zeros(uint32_t c, size_t n) {
    uint64_t r = c;
    for (size_t i = 0; i < n; i += 8) r = __builtin_ia32_crc32di(r, 0);
    return (uint32_t)r;
}

static void crc_zeros_tables(uint32_t t[4][256], size_t n) {
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++) t[k][b] = crc_raw_zeros(b << (8 * k), n);
}

static inline uint32_t crc_shift(uint32_t t[4][256], uint32_t c) {
    return t[0][c & 0xFF] ^ t[1][(c >> 8) & 0xFF] ^ t[2][(c >> 16) & 0xFF] ^ t[3][c >> 24];
}

__attribute__((target("sse4.2"))) static uint64_t crc_3way(uint64_t c0, const uint8_t **pp,
                                                             size_t *np, size_t stretch,
                                                             uint32_t t[4][256]) {
    const uint8_t *p = *pp;
    size_t n = *np;
    while (n >= 3 * stretch) {
        uint64_t c1 = 0, c2 = 0;
        const uint8_t *end = p + stretch;
        do {
            uint64_t a, b, d;
            memcpy(&a, p, 8);
            memcpy(&b, p + stretch, 8);
            memcpy(&d, p + 2 * stretch, 8);
            c0 = __builtin_ia32_crc32di(c0, a);
            c1 = __builtin_ia32_crc32di(c1, b);
            c2 = __builtin_ia32_crc32di(c2, d);
            p += 8;
        } while (p < end);
        c0 = crc_shift(t, (uint32_t)c0) ^ (uint32_t)c1;
        c0 = crc_shift(t, (uint32_t)c0) ^ (uint32_t)c2;
        p += 2 * stretch;
        n -= 3 * stretch;
    }
    *pp = p;
    *np = n;
    return c0;
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p,
                                                               size_t n) {
    uint64_t c = crc;
    c = crc_3way(c, &p, &n, CRC_LONG, crc_zeros_long);
    c = crc_3way(c, &p, &n, CRC_SHORT, crc_zeros_short);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

void blockscan_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
        crc_table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
#if defined(__x86_64__)
    if (have_sse42) {
        crc_zeros_tables(crc_zeros_long, CRC_LONG);
        crc_zeros_tables(crc_zeros_short, CRC_SHORT);
    }
#endif
    snappy_init();
}

uint32_t crc32c_extend(uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
#if defined(__x86_64__)
    if (have_sse42) return ~crc32c_hw(crc, p, n);
#endif
    return ~crc32c_sw(crc, p, n);
}

uint32_t crc32c_sw_value(const uint8_t *p, size_t n) { return ~crc32c_sw(~0u, p, n); }

static uint32_t masked_crc32c(const uint8_t *p, size_t n) {
    uint32_t c = crc32c_extend(0, p, n);
    return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

uint32_t block_checksum(int kind, const uint8_t *p, size_t n) {
    if (kind == CHECKSUM_CRC32C) return masked_crc32c(p, n);
    return (uint32_t)XXH64(p, n, 0);
}

/* --- decompression ------------------------------------------------------------------------ */

/* Go binary.Uvarint over p[*pos:limit]: 0 and *pos advanced, or -1 (truncated, overflow). */
int get_uvarint(const uint8_t *p, size_t *pos, size_t limit, uint64_t *out) {
    uint64_t v = 0;
    unsigned shift = 0;
    size_t i = *pos;
    while (i < limit) {
        uint8_t b = p[i++];
        if (shift == 63 && b > 1) return -1;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (b < 0x80) {
            *out = v;
            *pos = i;
            return 0;
        }
        shift += 7;
        if (shift > 63) return -1;
    }
    return -1;
}

int scan_decoded_block(const uint8_t *blk, size_t len, const scan_table *t, block_summary *out) {
    if (t->columnar) return scan_colblk_crdb1(blk, len, t->comparer, out);
    return scan_row_block(blk, len, t->pebble_version, t->comparer, out);
}

int decompress_block(int indicator, const uint8_t *src, size_t n, keybuf *scratch,
                     const uint8_t **out, size_t *out_len) {
    if (indicator == COMPRESSION_NONE) {
        *out = src;
        *out_len = n;
        return SCAN_OK;
    }
    if (indicator == COMPRESSION_SNAPPY) {
        if (snappy_decode(src, n, scratch, out_len, 0)) return SCAN_DEFER;
        *out = scratch->p;
        return SCAN_OK;
    }
    /* zstd, MinLZ and the rest: Python decodes them (sst_check then scans the decoded block
     * natively). Not libzstd: Debian's 1.5.4 decodes corrupt frames that the newer zstd inside
     * cramjam rejects, so a native verdict could differ from the Python path's. */
    return SCAN_DEFER;
}

int read_block(const uint8_t *data, size_t end, uint64_t offset, uint64_t length, int checksum,
               keybuf *scratch, const uint8_t **out, size_t *out_len) {
    if (offset > end || length > end - offset || end - offset - length < BLOCK_TRAILER_LEN)
        return SCAN_DEFER;
    const uint8_t *typed = data + offset;
    const uint8_t *tr = typed + length + 1;
    uint32_t stored = (uint32_t)tr[0] | (uint32_t)tr[1] << 8 | (uint32_t)tr[2] << 16 |
                      (uint32_t)tr[3] << 24;
    if (block_checksum(checksum, typed, length + 1) != stored) return SCAN_DEFER;
    return decompress_block(typed[length], typed, length, scratch, out, out_len);
}

int scan_data_block(const uint8_t *data, size_t end, uint64_t offset, uint64_t length,
                    const scan_table *t, keybuf *scratch, block_summary *out) {
    const uint8_t *blk;
    size_t len;
    if (read_block(data, end, offset, length, t->checksum, scratch, &blk, &len) != SCAN_OK)
        return SCAN_DEFER;
    return scan_decoded_block(blk, len, t, out);
}
