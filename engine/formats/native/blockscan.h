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

enum scan_status { SCAN_OK = 0, SCAN_DEFER = 1 };

enum scan_comparer { CMP_BYTEWISE = 0, CMP_COCKROACH = 1 };

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
 * trailer). pebble_version: the table's Pebble format version (2..7). */
int scan_row_block(const uint8_t *blk, size_t len, int pebble_version, int comparer,
                   block_summary *out);
int scan_colblk_crdb1(const uint8_t *blk, size_t len, int comparer, block_summary *out);

#endif
