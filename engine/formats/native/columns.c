/* Placeholder until helper ncol's columnar scanner lands: every columnar block defers to the
 * Python path. */
#include "blockscan.h"

int scan_colblk_crdb1(const uint8_t *blk, size_t len, int comparer, block_summary *out) {
    (void)blk;
    (void)len;
    (void)comparer;
    (void)out;
    return SCAN_DEFER;
}
