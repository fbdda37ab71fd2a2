/* scan_colblk_crdb1: one decompressed Pebble columnar data block under CockroachDB's "crdb1"
 * key schema, checked the way today's Python path checks it, or deferred to that path.
 *
 * The rules mirror, rule for rule, engine/formats/colblk/columns.py and blocks.py
 * (decode_data_block: header, column types, every encoding, length and end check that raises
 * ColumnError / struct.error / IndexError there) and the per-block part of
 * engine/formats/sst_check.py _check_columnar (trailer kinds in POINT_SETS, the prefix-changed
 * bitmap equal to the distinct-prefix pattern, roach keys increasing bytewise, no external
 * value, the cockroach comparer; where a roach key repeats, i.e. MVCC versions of one key, its
 * slow case: every user key materialized as DataBlock.user_keys does, the comparer on the two
 * versions (newest first), equal keys with a smaller trailer and the obsolete bit), and the
 * materializing of the first and last user keys of DataBlock.key_at. Those Python modules cite
 * the Pebble layouts (cockroachdb/pebble sstable/colblk and cockroachkvs at f82e3ff7); the
 * version order is CockroachDB's EngineKeyCompare (pkg/storage/engine_key.go). Everything
 * else, and every block those rules would reject, is SCAN_DEFER: Python then checks the block
 * itself and raises its own error. Integers are exact in Python: a value that would not fit a
 * uint64 here (a delta base plus an offset) defers instead of wrapping.
 *
 * No Python calls, no globals: this runs with the GIL released, on several threads at once.
 */
#include "blockscan.h"

#include <string.h>

#define DELTA_BIT 0x80u
#define TYPE_BOOL 1u
#define TYPE_UINT 2u
#define TYPE_BYTES 3u
#define TYPE_PREFIX_BYTES 4u
#define CRDB1_COLUMNS 9u
#define CUSTOM_HEADER 5u /* 1-byte suffix-types header (crdb1) + uint32 maximum key length */
#define HEADER_END (CUSTOM_HEADER + 7u + 5u * CRDB1_COLUMNS)
#define KIND_SET 1u
#define KIND_SET_WITH_DELETE 18u

static inline uint64_t rd_le(const uint8_t *p, unsigned width) {
    uint64_t v = 0;
    for (unsigned i = width; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

static inline size_t align_up(size_t off, size_t width) {
    return (off + width - 1) & ~(width - 1);
}

/* A decoded uint column (columns.py _uints): `count` values base + raw[i], raw little-endian
 * of `width` bytes at p (width 0: every value is base). */
typedef struct {
    const uint8_t *p;
    unsigned width;
    uint64_t base;
} uints;

static inline uint64_t raw_at(const uints *u, size_t i) {
    switch (u->width) {
    case 1: return u->p[i];
    case 2: return rd_le(u->p + 2 * i, 2);
    case 4: return rd_le(u->p + 4 * i, 4);
    case 8: return rd_le(u->p + 8 * i, 8);
    default: return 0;
    }
}

/* Value i as Python computes it; -1 when base + raw does not fit a uint64. */
static inline int uint_at(const uints *u, size_t i, uint64_t *v) {
    uint64_t raw = raw_at(u, i);
    *v = u->base + raw;
    return *v < raw ? -1 : 0;
}

/* The values of u are not decreasing (Python's offsets check) and all fit a uint64: 0 and
 * *last = the last value, or -1. Raw values not decreasing means the last is the largest, so
 * only base + last can overflow. One loop per width: this runs once per row. */
static int not_decreasing(const uints *u, uint64_t count, uint64_t *last) {
    uint64_t prev = 0;
#define NOT_DECREASING(W)                                                                          \
    for (uint64_t i = 0; i < count; i++) {                                                         \
        uint64_t x = rd_le(u->p + (W) * i, (W));                                                   \
        if (x < prev) return -1;                                                                   \
        prev = x;                                                                                  \
    }                                                                                              \
    break;
    switch (u->width) {
    case 0: break;
    case 1: NOT_DECREASING(1)
    case 2: NOT_DECREASING(2)
    case 4: NOT_DECREASING(4)
    case 8: NOT_DECREASING(8)
    default: return -1;
    }
#undef NOT_DECREASING
    *last = u->base + prev;
    return *last < prev ? -1 : 0;
}

/* sst_check: every trailer's kind (its low byte, obsolete bit included) is SET or SETWITHDEL,
 * and every trailer fits a uint64 (Python keeps base + raw exact). 0 or -1. */
static int point_sets(const uints *u, uint64_t count) {
    uint64_t room = ~(uint64_t)0 - u->base; /* the largest raw value that does not overflow */
#define POINT_SETS(W)                                                                              \
    for (uint64_t i = 0; i < count; i++) {                                                         \
        uint64_t raw = rd_le(u->p + (W) * i, (W));                                                 \
        unsigned kind = (unsigned)((u->base + raw) & 0xFF);                                        \
        if (raw > room || (kind != KIND_SET && kind != KIND_SET_WITH_DELETE)) return -1;           \
    }                                                                                              \
    return 0;
    switch (u->width) {
    case 0: {
        unsigned kind = (unsigned)(u->base & 0xFF);
        return kind == KIND_SET || kind == KIND_SET_WITH_DELETE ? 0 : -1;
    }
    case 1: POINT_SETS(1)
    case 2: POINT_SETS(2)
    case 4: POINT_SETS(4)
    case 8: POINT_SETS(8)
    default: return -1;
    }
#undef POINT_SETS
}

/* columns.py _uints with rows > 0: 0 and *stop = the column's end, or -1 (Python raises). */
static int decode_uints(const uint8_t *b, size_t off, size_t end, uint64_t count, uints *u,
                        size_t *stop) {
    if (off >= end) return -1;
    unsigned enc = b[off++];
    unsigned width = enc & ~DELTA_BIT & 0xFFu;
    int delta = (enc & DELTA_BIT) != 0;
    if (!(width == 0 || width == 1 || width == 2 || width == 4 || width == 8)) return -1;
    if (delta && width == 8) return -1;
    u->base = 0;
    u->width = width;
    if (delta) {
        if (off + 8 > end) return -1;
        u->base = rd_le(b + off, 8);
        off += 8;
    }
    if (width == 0) {
        u->p = b + off;
        *stop = off;
        return 0;
    }
    off = align_up(off, width);
    /* count <= 2^33 and width <= 8: no overflow in 64 bits. */
    uint64_t s = (uint64_t)off + count * width;
    if (s > end) return -1;
    u->p = b + off;
    *stop = (size_t)s;
    return 0;
}

/* columns.py decode_uints: the column must end exactly at its page end. */
static int decode_uints_exact(const uint8_t *b, size_t off, size_t end, uint64_t count, uints *u) {
    size_t stop;
    if (decode_uints(b, off, end, count, u, &stop) != 0) return -1;
    return stop == end ? 0 : -1;
}

/* columns.py decode_bitmap: 0 with *words (NULL for the all-zero encoding) or -1. */
static int decode_bitmap(const uint8_t *b, size_t off, size_t end, uint64_t rows,
                         const uint8_t **words) {
    if (off >= end) return -1;
    unsigned enc = b[off++];
    if (enc == 1) {
        *words = NULL;
        return off == end ? 0 : -1;
    }
    if (enc != 0) return -1;
    off = align_up(off, 8);
    uint64_t n_words = (rows + 63) >> 6, n_summary = (n_words + 63) >> 6;
    if ((uint64_t)off + 8 * (n_words + n_summary) != end) return -1;
    const uint8_t *w = b + off, *summary = w + 8 * n_words;
    if (rows & 63) { /* no bit past `rows` */
        uint64_t last = rd_le(w + 8 * (n_words - 1), 8);
        if (last >> (rows & 63)) return -1;
    }
    /* summary bit i set exactly when word i is non-zero; no summary bit past the words */
    for (uint64_t s = 0; s < n_summary; s++) {
        uint64_t want = 0, n = n_words - 64 * s;
        if (n > 64) n = 64;
        for (uint64_t i = 0; i < n; i++)
            if (rd_le(w + 8 * (64 * s + i), 8)) want |= (uint64_t)1 << i;
        if (rd_le(summary + 8 * s, 8) != want) return -1;
    }
    *words = w;
    return 0;
}

/* Is every bit of a decoded bitmap zero (the encoding-1 form, or all words zero)? */
static int bitmap_zero(const uint8_t *words, uint64_t rows) {
    if (!words) return 1;
    for (uint64_t i = 0; i < (rows + 63) >> 6; i++)
        if (rd_le(words + 8 * i, 8)) return 0;
    return 1;
}

/* columns.py _raw_bytes + decode_raw_bytes, count > 0: offsets (no delta with a width), not
 * decreasing, the data ending exactly at the page end. *data: absolute start of the data. */
static int decode_raw_bytes(const uint8_t *b, size_t off, size_t end, uint64_t count, uints *u,
                            size_t *data) {
    if (off < end && (b[off] & DELTA_BIT) && (b[off] & ~DELTA_BIT & 0xFFu)) return -1;
    size_t d;
    if (decode_uints(b, off, end, count + 1, u, &d) != 0) return -1;
    uint64_t v; /* offsets[-1]; one past 2^64 is, in Python, data past the page */
    if (not_decreasing(u, count + 1, &v) != 0) return -1;
    if (v > end || d + v != end) return -1;
    *data = d;
    return 0;
}

static inline void put_be(uint8_t *p, uint64_t v, unsigned width) {
    for (unsigned i = width; i-- > 0; v >>= 8) p[i] = (uint8_t)v;
}

/* A slice [a, b) of a block's bytes. */
typedef struct {
    const uint8_t *p;
    size_t n;
} span;

/* Bytewise three-way comparison (-1, 0, 1) of a = a1 ‖ a2 and b = b1 ‖ b2 (Python's bytes). */
static int cmp2(span a1, span a2, span b1, span b2) {
    const uint8_t *pa = a1.p, *pb = b1.p;
    size_t na = a1.n, nb = b1.n;
    int a_second = 0, b_second = 0;
    for (;;) {
        if (na == 0 && !a_second) { pa = a2.p; na = a2.n; a_second = 1; continue; }
        if (nb == 0 && !b_second) { pb = b2.p; nb = b2.n; b_second = 1; continue; }
        if (na == 0 || nb == 0) return (na != 0) - (nb != 0);
        size_t n = na < nb ? na : nb;
        int c = memcmp(pa, pb, n);
        if (c) return c < 0 ? -1 : 1;
        pa += n; pb += n; na -= n; nb -= n;
    }
}

static inline int cmp1(span a, span b) {
    size_t n = a.n < b.n ? a.n : b.n;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return (a.n > b.n) - (a.n < b.n);
}

/* The columns a repeated roach key is checked with (sst_check's slow case). */
typedef struct {
    const uint8_t *blk;
    uints walls, logicals, untyped, trailers;
    size_t untyped_data;
    const uint8_t *changed, *obsolete; /* decoded bitmaps (NULL: all zero) */
} crdb1_rows;

static inline int bit_at(const uint8_t *words, uint64_t i) {
    return words ? (int)((words[i >> 3] >> (i & 7)) & 1) : 0;
}

/* Row r's MVCC version as engine_compare slices it out of DataBlock.user_keys()[r]: the bytes
 * between the roach key and the length byte (0x00 ‖ BE wall [‖ BE logical] | 0x00 ‖ untyped |
 * nothing). -1 where Python's materializing raises (see materialize). */
static int version_at(const crdb1_rows *c, uint64_t r, uint8_t buf[256], size_t *n) {
    uint64_t wall, logical;
    if (uint_at(&c->walls, r, &wall) != 0 || uint_at(&c->logicals, r, &logical) != 0) return -1;
    buf[0] = 0;
    if (logical) {
        if (logical > 0xFFFFFFFFu) return -1;
        put_be(buf + 1, wall, 8);
        put_be(buf + 9, logical, 4);
        *n = 13;
    } else if (wall) {
        put_be(buf + 1, wall, 8);
        *n = 9;
    } else {
        uint64_t lo, hi;
        (void)uint_at(&c->untyped, r, &lo);
        (void)uint_at(&c->untyped, r + 1, &hi);
        if (hi - lo + 1 > 255) return -1;
        if (hi > lo) memcpy(buf + 1, c->blk + c->untyped_data + lo, (size_t)(hi - lo));
        *n = hi > lo ? (size_t)(hi - lo) + 1 : 0;
    }
    return 0;
}

/* sst_check's slow case for row r, whose roach key equals row r-1's: the cockroach comparer on
 * the two user keys (versions newest first), then equal keys need a smaller trailer and the
 * obsolete bit. 0 or -1. */
static int repeated_row(const crdb1_rows *c, uint64_t r) {
    uint8_t a[256], b[256];
    size_t an, bn;
    if (version_at(c, r - 1, a, &an) != 0 || version_at(c, r, b, &bn) != 0) return -1;
    int cmp = mvcc_version_cmp(a, an, b, bn);
    if (cmp > 0) return -1;
    if (cmp == 0) {
        uint64_t t0, t1;
        (void)uint_at(&c->trailers, r - 1, &t0);
        (void)uint_at(&c->trailers, r, &t1);
        if (t0 <= t1 || !bit_at(c->obsolete, r)) return -1;
    }
    return 0;
}

/* The roach key column (columns.py decode_prefix_bytes), checked as sst_check does: every
 * row's roach key bytewise not below the previous one, the prefix-changed bit of rows 1.. set
 * exactly where it differs, and a repeated roach key (MVCC versions of one key, sst_check's slow
 * case) checked by repeated_row. *repeats: whether any row repeats one. Keeps what the first
 * and last keys need: shared prefix, bundle prefixes and suffixes of rows 0 and rows-1. */
typedef struct {
    span shared, first_bundle, first_suffix, last_bundle, last_suffix;
} roach_keys;

static int scan_prefix_bytes(const uint8_t *b, size_t off, size_t end, uint64_t rows,
                             const crdb1_rows *cols, roach_keys *out, int *repeats) {
    if (off >= end) return -1;
    unsigned shift = b[off];
    if (shift > 16) return -1;
    uint64_t size = (uint64_t)1 << shift;
    uint64_t n_bundles = 1 + ((rows - 1) >> shift), total = rows + n_bundles;
    uints u;
    size_t data;
    if (decode_uints(b, off + 1, end, total + 1, &u, &data) != 0) return -1;
    uint64_t last;
    if (not_decreasing(&u, total + 1, &last) != 0) return -1;
    if (last > end || data + last != end) return -1;
    const uint8_t *blob = b + data;
    uint64_t o0;
    (void)uint_at(&u, 0, &o0);
    out->shared = (span){blob, (size_t)o0};
    span bundle = {blob, 0}, prev_bundle = {blob, 0}, prev_suffix = {blob, 0};
    *repeats = 0;
    for (uint64_t r = 0; r < rows; r++) {
        uint64_t lo, hi;
        if ((r & (size - 1)) == 0) { /* a new bundle: its prefix is slice (r>>shift)*(size+1) */
            uint64_t j = (r >> shift) * (size + 1);
            (void)uint_at(&u, j, &lo);
            (void)uint_at(&u, j + 1, &hi);
            prev_bundle = bundle;
            bundle = (span){blob + lo, (size_t)(hi - lo)};
        }
        uint64_t i = 1 + (r >> shift) + r;
        (void)uint_at(&u, i, &lo);
        (void)uint_at(&u, i + 1, &hi);
        span suffix = {blob + lo, (size_t)(hi - lo)};
        int c;
        if (r == 0) {
            out->first_bundle = bundle;
            out->first_suffix = suffix;
            prev_suffix = suffix;
            continue;
        } else if (r & (size - 1)) {
            /* an empty suffix repeats the previous row of the bundle (Python resolves it) */
            if (suffix.n == 0) suffix = prev_suffix;
            c = cmp1(prev_suffix, suffix);
        } else {
            c = cmp2(prev_bundle, prev_suffix, bundle, suffix);
        }
        if (c > 0) return -1;                          /* out of order, either case */
        if ((c != 0) != bit_at(cols->changed, r)) return -1; /* the bitmap disagrees */
        if (c == 0) {
            if (repeated_row(cols, r) != 0) return -1;
            *repeats = 1;
        }
        prev_suffix = suffix;
    }
    out->last_bundle = bundle;
    out->last_suffix = prev_suffix;
    return 0;
}

/* DataBlock.key_at: roach ‖ 0x00 ‖ (BE wall ‖ BE logical ‖ 13 | BE wall ‖ 9 | untyped ‖ len+1
 * | nothing). -1 where Python's struct.pack / bytes() would raise (wall >= 2^64, logical >=
 * 2^32, an untyped version of 255+ bytes) or out of memory. */
static int materialize(keybuf *kb, span shared, span bundle, span suffix, uint64_t wall,
                       uint64_t logical, span untyped) {
    uint8_t version[14];
    size_t vn;
    if (logical) {
        if (logical > 0xFFFFFFFFu) return -1;
        put_be(version, wall, 8);
        put_be(version + 8, logical, 4);
        version[12] = 13;
        vn = 13;
    } else if (wall) {
        put_be(version, wall, 8);
        version[8] = 9;
        vn = 9;
    } else if (untyped.n) {
        if (untyped.n + 1 > 255) return -1;
        vn = untyped.n + 1;
    } else {
        vn = 0;
    }
    size_t n = shared.n + bundle.n + suffix.n + 1 + vn;
    if (keybuf_reserve(kb, n) != 0) return -1;
    kb->len = n;
    uint8_t *p = kb->p;
    memcpy(p, shared.p, shared.n), p += shared.n;
    memcpy(p, bundle.p, bundle.n), p += bundle.n;
    memcpy(p, suffix.p, suffix.n), p += suffix.n;
    *p++ = 0;
    if (logical || wall) {
        memcpy(p, version, vn);
    } else if (untyped.n) {
        memcpy(p, untyped.p, untyped.n);
        p[untyped.n] = (uint8_t)(untyped.n + 1);
    }
    return 0;
}

int scan_colblk_crdb1(const uint8_t *blk, size_t len, int comparer, block_summary *out) {
    if (comparer != CMP_COCKROACH) return SCAN_DEFER;
    /* columns.py decode_header(buf, 5) and decode_data_block's column count and row count */
    if (len < CUSTOM_HEADER + 7 + 1 || blk[CUSTOM_HEADER] != 1) return SCAN_DEFER;
    if (rd_le(blk + CUSTOM_HEADER + 1, 2) != CRDB1_COLUMNS) return SCAN_DEFER;
    uint64_t rows = rd_le(blk + CUSTOM_HEADER + 3, 4);
    if (HEADER_END >= len || rows == 0) return SCAN_DEFER;
    static const uint8_t want_types[CRDB1_COLUMNS] = {
        TYPE_PREFIX_BYTES, TYPE_UINT, TYPE_UINT, TYPE_BYTES, /* roach key, wall, logical, untyped */
        TYPE_UINT, TYPE_BOOL, TYPE_BYTES, TYPE_BOOL, TYPE_BOOL, /* trailer, prefix changed, value,
                                                                 * is-value-external, is-obsolete */
    };
    size_t start[CRDB1_COLUMNS], end[CRDB1_COLUMNS];
    size_t prev = HEADER_END;
    for (unsigned c = 0; c < CRDB1_COLUMNS; c++) {
        const uint8_t *h = blk + CUSTOM_HEADER + 7 + 5 * c;
        if (h[0] != want_types[c]) return SCAN_DEFER;
        start[c] = (size_t)rd_le(h + 1, 4);
        if (start[c] < prev) return SCAN_DEFER;
        prev = start[c];
    }
    if (start[CRDB1_COLUMNS - 1] > len - 1) return SCAN_DEFER;
    for (unsigned c = 0; c + 1 < CRDB1_COLUMNS; c++) end[c] = start[c + 1];
    end[CRDB1_COLUMNS - 1] = len - 1; /* the trailing padding byte */

    /* the bitmaps first: they bound `rows` by the block's size before any per-row loop */
    const uint8_t *changed, *external, *obsolete;
    if (decode_bitmap(blk, start[5], end[5], rows, &changed) != 0 ||
        decode_bitmap(blk, start[7], end[7], rows, &external) != 0 ||
        decode_bitmap(blk, start[8], end[8], rows, &obsolete) != 0)
        return SCAN_DEFER;
    if (!bitmap_zero(external, rows)) return SCAN_DEFER;

    uints walls, logicals, untyped, trailers, values;
    size_t untyped_data, values_data;
    if (decode_uints_exact(blk, start[1], end[1], rows, &walls) != 0 ||
        decode_uints_exact(blk, start[2], end[2], rows, &logicals) != 0 ||
        decode_raw_bytes(blk, start[3], end[3], rows, &untyped, &untyped_data) != 0 ||
        decode_uints_exact(blk, start[4], end[4], rows, &trailers) != 0 ||
        decode_raw_bytes(blk, start[6], end[6], rows, &values, &values_data) != 0)
        return SCAN_DEFER;
    (void)values_data;

    if (point_sets(&trailers, rows) != 0) return SCAN_DEFER;

    crdb1_rows cols = {blk, walls, logicals, untyped, trailers, untyped_data, changed, obsolete};
    roach_keys keys;
    int repeats;
    if (scan_prefix_bytes(blk, start[0], end[0], rows, &cols, &keys, &repeats) != 0)
        return SCAN_DEFER;
    if (repeats) { /* the slow case materializes every row's key (user_keys): all must pack */
        uint8_t v[256];
        size_t vn;
        for (uint64_t r = 0; r < rows; r++)
            if (version_at(&cols, r, v, &vn) != 0) return SCAN_DEFER;
    }

    uint64_t ends[2] = {0, rows - 1};
    keybuf *bufs[2] = {&out->first, &out->last};
    span bundles[2] = {keys.first_bundle, keys.last_bundle};
    span suffixes[2] = {keys.first_suffix, keys.last_suffix};
    uint64_t trailer_at[2];
    for (int k = 0; k < 2; k++) {
        uint64_t r = ends[k], wall, logical, lo, hi;
        if (uint_at(&walls, r, &wall) != 0 || uint_at(&logicals, r, &logical) != 0)
            return SCAN_DEFER;
        (void)uint_at(&untyped, r, &lo);
        (void)uint_at(&untyped, r + 1, &hi);
        span u = {blk + untyped_data + lo, (size_t)(hi - lo)};
        if (materialize(bufs[k], keys.shared, bundles[k], suffixes[k], wall, logical, u) != 0)
            return SCAN_DEFER;
        (void)uint_at(&trailers, r, &trailer_at[k]);
    }
    out->rows = rows;
    out->first_trailer = trailer_at[0];
    out->last_trailer = trailer_at[1];
    return SCAN_OK;
}
