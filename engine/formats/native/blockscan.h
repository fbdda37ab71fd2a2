/* The contract between the native data-block scanners of engine.formats._blockscan.
 *
 * The native module is an accelerator for CHECK_FILES, never a second checker: a scanner
 * returns SCAN_OK only when the Python checker (engine/formats/sst_check.py and the readers it
 * calls) would accept every per-block rule of that block, and SCAN_DEFER otherwise (a fault, or
 * anything it does not handle). Python then checks a deferred block itself, so every error
 * message and its order stay exactly the Python path's. Scanners run with the GIL released:
 * no Python calls, no globals, no state beyond their arguments.
 */
#ifndef REWRAP_BLOCKSCAN_H
#define REWRAP_BLOCKSCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum scan_status { SCAN_OK = 0, SCAN_DEFER = 1 };

enum scan_comparer { CMP_BYTEWISE = 0, CMP_COCKROACH = 1 };

/* EngineKeyCompare on two versions of one roach key (each the bytes between the roach key and
 * the trailing length byte: the 0x00 sentinel and the timestamp, or nothing), as
 * engine/formats/mvcc.py engine_compare does it: an empty version first, else newer (larger)
 * timestamps first after normalizeEngineKeyVersionForCompare (a synthetic byte dropped, then a
 * zero logical part). Shared by the row (rows.c) and the columnar (columns.c) scanners. */
static inline size_t mvcc_normalized_len(const uint8_t *v, size_t n) {
    if (n == 1 + 8 + 4 + 1) n = 1 + 8 + 4;
    if (n == 1 + 8 + 4 && !(v[9] | v[10] | v[11] | v[12])) n = 1 + 8;
    return n;
}

static inline int mvcc_version_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    if (!an || !bn) return (an > 0) - (bn > 0);
    an = mvcc_normalized_len(a, an);
    bn = mvcc_normalized_len(b, bn);
    size_t m = an < bn ? an : bn;
    int c = m ? memcmp(b, a, m) : 0;
    if (c) return c > 0 ? 1 : -1;
    return (bn > an) - (bn < an);
}

/* Bytewise order: memcmp, then the shorter key first. -1, 0 or 1. */
static inline int bytewise_key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    size_t m = an < bn ? an : bn;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c > 0 ? 1 : -1;
    return (an > bn) - (an < bn);
}

/* engine/formats/mvcc.py engine_compare (CockroachDB's EngineKeyCompare, the
 * "cockroach_comparator"), step for step: an empty key, or a key whose trailing version length
 * byte points before its start (malformed), compares bytewise, except that two keys whose
 * length byte both equal their length (a bare version and its length byte, no roach key)
 * compare as versions; otherwise roach keys bytewise, then mvcc_version_cmp on the versions.
 * -1, 0 or 1. */
static inline int engine_key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    if (!an || !bn) return bytewise_key_cmp(a, an, b, bn);
    long long as = (long long)an - 1 - a[an - 1];
    long long bs = (long long)bn - 1 - b[bn - 1];
    if (as == -1 && bs == -1) as = bs = 0;
    if (as < 0 || bs < 0) return bytewise_key_cmp(a, an, b, bn);
    int c = bytewise_key_cmp(a, (size_t)as, b, (size_t)bs);
    if (c) return c;
    return mvcc_version_cmp(a + as, an - 1 - (size_t)as, b + bs, bn - 1 - (size_t)bs);
}

static inline int key_cmp(int comparer, const uint8_t *a, size_t an, const uint8_t *b,
                          size_t bn) {
    return comparer == CMP_COCKROACH ? engine_key_cmp(a, an, b, bn)
                                     : bytewise_key_cmp(a, an, b, bn);
}

/* A growable copy of a key (the block it came from is scratch memory). */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} keybuf;

/* Copy n bytes into kb, growing it; 0 on success, -1 when out of memory. */
int keybuf_set(keybuf *kb, const uint8_t *p, size_t n);

/* What Python needs of an accepted block to check it against its neighbours and its index
 * separator: row count, first and last user keys (no trailer), their trailers as stored. */
typedef struct {
    uint64_t rows;
    keybuf first, last;
    uint64_t first_trailer, last_trailer;
} block_summary;

/* blk/len: one data block after its checksum was verified and it was decompressed (no 5-byte
 * trailer). pebble_version: the table's Pebble format version (Table.version: 0 for LevelDB and
 * RocksDB v2 footers, else 1..7). */
int scan_row_block(const uint8_t *blk, size_t len, int pebble_version, int comparer,
                   block_summary *out);
int scan_colblk_crdb1(const uint8_t *blk, size_t len, int comparer, block_summary *out);


/* --- Added by the module's build (block.c, module.c): framing shared by both scanners. ------ */

enum { CHECKSUM_CRC32C = 1, CHECKSUM_XXHASH64 = 3 };
enum { COMPRESSION_NONE = 0, COMPRESSION_SNAPPY = 1 }; /* what scan_data_block decodes */
#define BLOCK_TRAILER_LEN 5
#define MAX_BLOCK_LEN ((size_t)1 << 30) /* a larger decoded length defers */

/* What the scanners need of a table. */
typedef struct {
    int checksum;       /* CHECKSUM_* of the footer */
    int pebble_version; /* as scan_row_block takes it */
    int comparer;       /* enum scan_comparer */
    int columnar;       /* 1: scan_colblk_crdb1 (the crdb1 key schema only), 0: scan_row_block */
} scan_table;

int keybuf_reserve(keybuf *kb, size_t n);
void keybuf_free(keybuf *kb);

void blockscan_init(void); /* once, before any scan: the CRC table and the CPU's features */
uint32_t crc32c_extend(uint32_t crc, const uint8_t *p, size_t n); /* standard CRC-32C */
uint32_t crc32c_sw_value(const uint8_t *p, size_t n);             /* the table fallback */
uint32_t block_checksum(int kind, const uint8_t *p, size_t n);    /* the stored form */
int get_uvarint(const uint8_t *p, size_t *pos, size_t limit, uint64_t *out); /* Go's */

/* snappy.c: raw snappy. The decoded length from the stream's header (0, or -1: malformed);
 * then the tags after the header into out, which has room for len_out + SNAPPY_SLACK bytes
 * (0: exactly len_out bytes decoded and every input byte used; -1: invalid). */
#define SNAPPY_SLACK 64
void snappy_init(void); /* once, from blockscan_init */
int snappy_decoded_length(const uint8_t *src, size_t n, size_t *len, size_t *header);
int snappy_decode_tags(const uint8_t *ip, const uint8_t *ipend, uint8_t *out, size_t len_out);
/* The decoder built without SSSE3, for tests (snappy_decode_tags takes the SSSE3 build when
 * the CPU has the instructions, else this one). */
int snappy_decode_tags_portable(const uint8_t *ip, const uint8_t *ipend, uint8_t *out,
                                size_t len_out);
/* A whole stream into scratch (its decoded bytes at scratch->p, *out_len of them); 0 or -1.
 * portable: snappy_decode_tags_portable. */
int snappy_decode(const uint8_t *src, size_t n, keybuf *scratch, size_t *out_len, int portable);

/* Decompress src per its indicator: SCAN_OK with *out (src itself, or scratch's memory). */
int decompress_block(int indicator, const uint8_t *src, size_t n, keybuf *scratch,
                     const uint8_t **out, size_t *out_len);

/* A data block already verified and decoded (by Python: zstd, MinLZ): the table's scanner. */
int scan_decoded_block(const uint8_t *blk, size_t len, const scan_table *t, block_summary *out);

/* One data block of a table at data[offset, offset+length+5), all before `end` (where the
 * footer starts): checksum, decompression, then the table's scanner. */
int scan_data_block(const uint8_t *data, size_t end, uint64_t offset, uint64_t length,
                    const scan_table *t, keybuf *scratch, block_summary *out);


/* A row table's index block, decoded (Python builds the separators' bytes from `keys`). */
typedef struct {
    uint64_t key_off, key_len, offset, length;
} index_entry;
int parse_index_block(const uint8_t *blk, size_t len, uint64_t end, keybuf *keys,
                      keybuf *entries);

/* Verify and decode one block at data[offset, offset+length+5) before `end`: *out is inside
 * data or scratch. */
int read_block(const uint8_t *data, size_t end, uint64_t offset, uint64_t length, int checksum,
               keybuf *scratch, const uint8_t **out, size_t *out_len);

#endif
