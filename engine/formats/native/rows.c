/* The row data block scanner: SCAN_OK exactly when the Python path would accept the block's
 * per-block rules, i.e. engine/formats/sst_reader.py row_block_columns (restart array, varints,
 * entry bounds, restart entries share nothing), Table.row_block with values_wanted=False (keys
 * of at least the 8-byte trailer, kinds SET / SETWITHDEL after clearing the v4+ obsolete bit,
 * v3+ SET values carry an in-place prefix byte) and sst_check._check_sorted (strictly increasing
 * internal keys; under the cockroach comparer EngineKeyCompare: roach keys bytewise, versions of
 * one key newest first). Whatever else it meets defers: out-of-line values, malformed engine
 * keys (EngineKeyCompare's bytewise fallback), unsorted restart arrays.
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
    size_t i = *pos;
    if (i < limit && p[i] < 0x80) {
        *out = p[i];
        *pos = i + 1;
        return 0;
    }
    if (i + 1 < limit && p[i + 1] < 0x80) { /* p[i] >= 0x80 here */
        *out = (uint64_t)(p[i] & 0x7F) | (uint64_t)p[i + 1] << 7;
        *pos = i + 2;
        return 0;
    }
    return get_uvarint(p, pos, limit, out);
}

/* Compare prev = buf[0:pn) with cur = buf[0:s) + tail[0:cn-s), the two keys sharing their first
 * s bytes (cur is not built yet: it will overwrite buf from s on). */
static inline int shared_cmp(const uint8_t *buf, size_t pn, size_t s, const uint8_t *tail,
                             size_t cn) {
    size_t m = pn < cn ? pn : cn;
    if (m > s) {
        int c = memcmp(buf + s, tail, m - s);
        if (c) return c;
    }
    return (pn > cn) - (pn < cn);
}

/* Byte i of cur = buf[0:s) + tail. */
static inline uint8_t cur_at(const uint8_t *buf, size_t s, const uint8_t *tail, size_t i) {
    return i < s ? buf[i] : tail[i - s];
}

/* A row block's restart array (the last 4 bytes count it): the end of the entries and the
 * offsets, which must be sorted (Pebble writes them so) and inside the entries, each masked
 * (data blocks of v3+ keep a flag in the top bit). 0, or SCAN_DEFER. */
static int restart_array(const uint8_t *blk, size_t len, uint32_t mask, uint64_t *n,
                         size_t *limit, const uint8_t **rs) {
    if (len < 4) return SCAN_DEFER;
    *n = le32(blk + len - 4);
    if (*n == 0 || 4 * *n > len - 4) return SCAN_DEFER;
    *limit = len - 4 - 4 * (size_t)*n;
    *rs = blk + *limit;
    uint32_t last_restart = 0;
    for (uint64_t i = 0; i < *n; i++) {
        uint32_t r = le32(*rs + 4 * i) & mask;
        if (r < last_restart) return SCAN_DEFER;
        last_restart = r;
    }
    return (size_t)last_restart >= (*limit > 1 ? *limit : 1) ? SCAN_DEFER : 0;
}

/* One entry's header at *pos: shared / unshared key lengths and value length, inside the
 * entries and the previous key; then whether the entry starts at a restart point (where
 * shared must be 0), moving *ri / *next_restart along the restart array. 0, or SCAN_DEFER. */
static inline int entry_header(const uint8_t *blk, size_t *pos, size_t limit, size_t klen,
                               const uint8_t *rs, uint64_t n, uint32_t mask, uint64_t *ri,
                               uint64_t *next_restart, uint64_t *shared, uint64_t *unshared,
                               uint64_t *vlen) {
    size_t at = *pos;
    if (varint(blk, pos, limit, shared) || varint(blk, pos, limit, unshared) ||
        varint(blk, pos, limit, vlen))
        return SCAN_DEFER;
    if (*shared > klen || *unshared > limit - *pos || *vlen > limit - *pos - *unshared)
        return SCAN_DEFER;
    while (*next_restart < at) {
        if (++*ri >= n) {
            *next_restart = UINT64_MAX;
            break;
        }
        *next_restart = le32(rs + 4 * *ri) & mask;
    }
    return *shared && *next_restart == at ? SCAN_DEFER : 0;
}

static int scan(const uint8_t *blk, size_t len, int version, int comparer, block_summary *out,
                keybuf *kb) {
    uint32_t mask = version >= 3 ? 0x7FFFFFFFu : 0xFFFFFFFFu;
    uint64_t n;
    size_t limit;
    const uint8_t *rs;
    if (restart_array(blk, len, mask, &n, &limit, &rs)) return SCAN_DEFER;
    /* the key buffer can hold any key of the block: keys are built from its bytes */
    if (keybuf_reserve(kb, limit ? limit : 1) < 0) return SCAN_DEFER;
    uint8_t *key = kb->p;
    size_t klen = 0;   /* the current (previous, once the next entry is read) internal key */
    long plen = -1;    /* its roach part's length (cockroach comparer) */
    uint8_t ver_a[256], ver_b[256]; /* its version and the next one's (the length is a byte) */
    uint8_t *pver = ver_a;
    size_t pvlen = 0;
    uint64_t ri = 0, rows = 0;
    uint64_t next_restart = le32(rs) & mask; /* the first restart at or after pos */
    uint64_t prev_trailer = 0;
    size_t pos = 0;
    while (pos < limit) {
        uint64_t shared, unshared, vlen;
        if (entry_header(blk, &pos, limit, klen, rs, n, mask, &ri, &next_restart, &shared,
                         &unshared, &vlen))
            return SCAN_DEFER;
        size_t s = (size_t)shared, cn = s + (size_t)unshared;
        if (cn < 8) return SCAN_DEFER;
        const uint8_t *tail = blk + pos;
        size_t cu = cn - 8;
        uint64_t trailer;
        if (unshared >= 8) {
            trailer = le64(tail + unshared - 8);
        } else {
            uint8_t tr[8];
            for (int j = 0; j < 8; j++) tr[j] = cur_at(key, s, tail, cu + (size_t)j);
            trailer = le64(tr);
        }
        uint64_t cleared = version >= 4 ? trailer & ~(uint64_t)OBSOLETE_BIT : trailer;
        unsigned kind = (unsigned)(cleared & 0xFF);
        if (kind != KIND_SET && kind != KIND_SET_WITH_DELETE) return SCAN_DEFER;
        const uint8_t *value = tail + unshared;
        if (version >= 3 && kind == KIND_SET && (vlen == 0 || value[0] & VALUE_KIND_MASK))
            return SCAN_DEFER; /* no prefix byte (an error) or an out-of-line value */
        if (comparer == CMP_COCKROACH) {
            if (cu == 0) return SCAN_DEFER;
            size_t v = cur_at(key, s, tail, cu - 1);
            if (v > cu - 1) return SCAN_DEFER; /* malformed: Python compares these itself */
            long cl = (long)(cu - 1 - v);
            /* the version (sentinel, timestamp) as Python slices it: user key[cl : cu-1] */
            uint8_t *cver = pver == ver_a ? ver_b : ver_a;
            for (size_t j = 0; j < v; j++) cver[j] = cur_at(key, s, tail, (size_t)cl + j);
            if (rows) {
                int c = shared_cmp(key, (size_t)plen, s, tail, (size_t)cl);
                if (c == 0) c = mvcc_version_cmp(pver, pvlen, cver, v); /* versions of one key */
                if (c > 0 || (c == 0 && prev_trailer <= cleared)) return SCAN_DEFER;
            }
            plen = cl;
            pver = cver;
            pvlen = v;
        } else if (rows) {
            int c = shared_cmp(key, klen - 8, s, tail, cu);
            if (c > 0 || (c == 0 && prev_trailer <= cleared)) return SCAN_DEFER;
        }
        memcpy(key + s, tail, (size_t)unshared);
        klen = cn;
        if (!rows) {
            if (keybuf_set(&out->first, key, cu) < 0) return SCAN_DEFER;
            out->first_trailer = trailer;
        }
        out->last_trailer = trailer;
        prev_trailer = cleared;
        rows++;
        pos += (size_t)unshared + (size_t)vlen;
    }
    if (rows && keybuf_set(&out->last, key, klen - 8) < 0) return SCAN_DEFER;
    out->rows = rows;
    return SCAN_OK;
}

int scan_row_block(const uint8_t *blk, size_t len, int pebble_version, int comparer,
                   block_summary *out) {
    keybuf kb = {0};
    int status = scan(blk, len, pebble_version, comparer, out, &kb);
    keybuf_free(&kb);
    return status;
}

/* An index block of a row table: Table._index_entries' rules (row_block_columns with the whole
 * restart offset, Table.decode_handle on each value: two uvarints, trailing bytes ignored, the
 * block inside the file). Separators go to `keys` back to back, one index_entry each. */
int parse_index_block(const uint8_t *blk, size_t len, uint64_t end, keybuf *keys,
                      keybuf *entries) {
    uint64_t n;
    size_t limit;
    const uint8_t *rs;
    if (restart_array(blk, len, 0xFFFFFFFFu, &n, &limit, &rs)) return SCAN_DEFER;
    keys->len = entries->len = 0;
    size_t klen = 0, kstart = 0; /* the current key: keys->p[kstart, kstart + klen) */
    uint64_t ri = 0, next_restart = le32(rs);
    size_t pos = 0;
    while (pos < limit) {
        uint64_t shared, unshared, vlen;
        if (entry_header(blk, &pos, limit, klen, rs, n, 0xFFFFFFFFu, &ri, &next_restart,
                         &shared, &unshared, &vlen))
            return SCAN_DEFER;
        size_t cn = (size_t)(shared + unshared);
        if (keybuf_reserve(keys, keys->len + cn) < 0) return SCAN_DEFER;
        uint8_t *dst = keys->p + keys->len;
        if (shared) memcpy(dst, keys->p + kstart, (size_t)shared);
        memcpy(dst + shared, blk + pos, (size_t)unshared);
        kstart = keys->len;
        klen = cn;
        keys->len += cn;
        pos += (size_t)unshared;
        size_t vpos = 0;
        uint64_t off, length;
        if (get_uvarint(blk + pos, &vpos, (size_t)vlen, &off) ||
            get_uvarint(blk + pos, &vpos, (size_t)vlen, &length))
            return SCAN_DEFER; /* "corrupt block handle" */
        if (off > end || length > end - off || end - off - length < BLOCK_TRAILER_LEN)
            return SCAN_DEFER; /* "points past the end of the file" */
        index_entry e = {kstart, cn, off, length};
        if (keybuf_reserve(entries, entries->len + sizeof e) < 0) return SCAN_DEFER;
        memcpy(entries->p + entries->len, &e, sizeof e);
        entries->len += sizeof e;
        pos += (size_t)vlen;
    }
    return SCAN_OK;
}
