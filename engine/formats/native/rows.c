/* The row data block scanner: SCAN_OK exactly when the Python path would accept the block's
 * per-block rules, i.e. engine/formats/sst_reader.py row_block_columns (restart array, varints,
 * entry bounds, restart entries share nothing), Table.row_block with values_wanted=False (keys
 * of at least the 8-byte trailer, kinds SET / SETWITHDEL after clearing the v4+ obsolete bit,
 * v3+ SET values carry an in-place prefix byte) and sst_check._check_sorted (strictly increasing
 * internal keys). Whatever else it meets defers: out-of-line values, equal roach keys (MVCC
 * versions) under the cockroach comparer, malformed engine keys, unsorted restart arrays.
 * Layout per cockroachdb/pebble sstable/rowblk/rowblk_writer.go and rowblk_iter.go. */
#include <string.h>

#include "blockscan.h"

#define KIND_SET 1
#define KIND_SET_WITH_DELETE 18
#define OBSOLETE_BIT 0x40
#define VALUE_KIND_MASK 0xC0

static inline uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline int bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c) return c;
    return (an > bn) - (an < bn);
}

/* Inline one-byte varints (the rule), Go's decoder otherwise. */
static inline int varint(const uint8_t *p, size_t *pos, size_t limit, uint64_t *out) {
    if (*pos < limit && p[*pos] < 0x80) {
        *out = p[(*pos)++];
        return 0;
    }
    return get_uvarint(p, pos, limit, out);
}

/* The roach part of an engine key (EngineKeyCompare's split), or -1 if malformed or empty. */
static inline long roach_len(const uint8_t *k, size_t n) {
    if (n == 0) return -1;
    size_t v = k[n - 1];
    if (v > n - 1) return -1;
    return (long)(n - 1 - v);
}

static int scan(const uint8_t *blk, size_t len, int version, int comparer, block_summary *out,
                keybuf *a, keybuf *b) {
    if (len < 4) return SCAN_DEFER;
    uint64_t n = le32(blk + len - 4);
    if (n == 0 || 4 * n > len - 4) return SCAN_DEFER;
    size_t limit = len - 4 - 4 * (size_t)n;
    const uint8_t *rs = blk + limit;
    uint32_t mask = version >= 3 ? 0x7FFFFFFFu : 0xFFFFFFFFu;
    uint32_t last_restart = 0;
    for (uint64_t i = 0; i < n; i++) { /* sorted (Pebble writes them so) or defer */
        uint32_t r = le32(rs + 4 * i) & mask;
        if (r < last_restart) return SCAN_DEFER;
        last_restart = r;
    }
    if ((size_t)last_restart >= (limit > 1 ? limit : 1)) return SCAN_DEFER;

    keybuf *cur = a, *prev = b;
    cur->len = 0;
    uint64_t ri = 0, rows = 0;
    uint64_t prev_trailer = 0;
    size_t pos = 0;
    while (pos < limit) {
        size_t at = pos;
        uint64_t shared, unshared, vlen;
        if (varint(blk, &pos, limit, &shared) || varint(blk, &pos, limit, &unshared) ||
            varint(blk, &pos, limit, &vlen))
            return SCAN_DEFER;
        if (shared > cur->len || unshared > limit - pos || vlen > limit - pos - unshared)
            return SCAN_DEFER;
        while (ri < n && (le32(rs + 4 * ri) & mask) < at) ri++;
        if (shared && ri < n && (le32(rs + 4 * ri) & mask) == at) return SCAN_DEFER;
        size_t klen = (size_t)(shared + unshared);
        if (klen < 8) return SCAN_DEFER;
        /* the new key goes into prev's buffer: prev = cur[:shared] + unshared bytes */
        if (keybuf_reserve(prev, klen) < 0) return SCAN_DEFER;
        if (shared) memcpy(prev->p, cur->p, (size_t)shared);
        memcpy(prev->p + shared, blk + pos, (size_t)unshared);
        prev->len = klen;
        keybuf *t = cur;
        cur = prev;
        prev = t;
        pos += (size_t)unshared;
        const uint8_t *key = cur->p;
        size_t ulen = klen - 8;
        uint64_t trailer = le64(key + ulen);
        uint64_t cleared = version >= 4 ? trailer & ~(uint64_t)OBSOLETE_BIT : trailer;
        unsigned kind = (unsigned)(cleared & 0xFF);
        if (kind != KIND_SET && kind != KIND_SET_WITH_DELETE) return SCAN_DEFER;
        if (version >= 3 && kind == KIND_SET && (vlen == 0 || blk[pos] & VALUE_KIND_MASK))
            return SCAN_DEFER; /* no prefix byte (an error) or an out-of-line value */
        pos += (size_t)vlen;
        if (comparer == CMP_COCKROACH) {
            long cl = roach_len(key, ulen);
            if (cl < 0) return SCAN_DEFER;
            if (rows) {
                long pl = roach_len(prev->p, prev->len - 8);
                /* pl >= 0: prev passed this test; strictly increasing roach keys, or defer */
                if (bytes_cmp(prev->p, (size_t)pl, key, (size_t)cl) >= 0) return SCAN_DEFER;
            }
        } else if (rows) {
            int c = bytes_cmp(prev->p, prev->len - 8, key, ulen);
            if (c > 0 || (c == 0 && prev_trailer <= cleared)) return SCAN_DEFER;
        }
        if (!rows && keybuf_set(&out->first, key, ulen) < 0) return SCAN_DEFER;
        if (!rows) out->first_trailer = trailer;
        out->last_trailer = trailer;
        prev_trailer = cleared;
        rows++;
    }
    if (rows && keybuf_set(&out->last, cur->p, cur->len - 8) < 0) return SCAN_DEFER;
    out->rows = rows;
    return SCAN_OK;
}

int scan_row_block(const uint8_t *blk, size_t len, int pebble_version, int comparer,
                   block_summary *out) {
    keybuf a = {0}, b = {0};
    int status = scan(blk, len, pebble_version, comparer, out, &a, &b);
    keybuf_free(&a);
    keybuf_free(&b);
    return status;
}
