/* Raw snappy decoding for the scanners (Pebble's block compression 1), per the format in
 * google/snappy format_description.txt: a uvarint of the decoded length, then tags (literal;
 * copies with 1-, 2- and 4-byte offsets).
 *
 * Not libsnappy: Debian's build targets baseline x86-64, and its copies with offsets below 16
 * (the repeated short patterns of MVCC keys and of many values) stall on store forwarding; on
 * the blocks of tests/bench/bench_check_files.py's 180-byte v2 table it decoded 2.4 GB/s,
 * this decoder 5.3 GB/s (a C harness over those blocks; the bench's --floor shows the native
 * scan per MiB). Short-offset copies build the repeating pattern in a 16-byte
 * vector (one shuffle per 16 bytes: pshufb with SSSE3, NEON's tbl on arm64) instead of reading
 * back bytes just written; everything else copies 16 bytes at a time into the decoded buffer's
 * SNAPPY_SLACK bytes of spare room.
 *
 * It accepts exactly the streams the Python path's decoder (cramjam, i.e. rust-snappy's
 * snap::raw::Decoder) accepts and decodes them to the same bytes (a stream decodes one way);
 * anything else returns -1 and the block defers to Python, which then words the error. Each
 * bound is checked before a byte is read or written. tests/formats/
 * test_native_rows_codecs.py compares it with cramjam tag by tag. */
#include <string.h>

#include "blockscan.h"

typedef uint8_t v16 __attribute__((vector_size(16)));

/* pat_mask[o]: pattern[i] = src[i % o]; pat_step[o]: the next 16 bytes of that pattern. */
static v16 pat_mask[16], pat_step[16]; /* written once by snappy_init, read-only after */
#if defined(__x86_64__)
static int have_ssse3; /* likewise */
#endif

void snappy_init(void) {
#if defined(__x86_64__)
    have_ssse3 = __builtin_cpu_supports("ssse3"); /* blockscan_init ran __builtin_cpu_init */
#endif
    for (int o = 1; o < 16; o++)
        for (int i = 0; i < 16; i++) {
            pat_mask[o][i] = (uint8_t)(i % o);
            pat_step[o][i] = (uint8_t)((i + 16 % o) % o);
        }
}

static inline void copy16(uint8_t *dst, const uint8_t *src) {
    v16 t;
    memcpy(&t, src, 16);
    memcpy(dst, &t, 16);
}

/* Up to 64 bytes, 16 at a time: n bytes at dst are right, up to 63 past them are scratch. */
static inline void copy64(uint8_t *dst, const uint8_t *src, size_t n) {
    copy16(dst, src);
    if (n > 16) {
        copy16(dst + 16, src + 16);
        if (n > 32) {
            copy16(dst + 32, src + 32);
            copy16(dst + 48, src + 48);
        }
    }
}

int snappy_decoded_length(const uint8_t *src, size_t n, size_t *len, size_t *header) {
    uint32_t v = 0;
    for (size_t i = 0; i < 5 && i < n; i++) {
        uint8_t b = src[i];
        if (i == 4 && b > 0x0F) return -1; /* over 32 bits */
        v |= (uint32_t)(b & 0x7F) << (7 * i);
        if (b < 0x80) {
            *len = v;
            *header = i + 1;
            return 0;
        }
    }
    return -1;
}

/* The decoder, compiled twice below: with SSSE3 the shuffles are one pshufb each, without it
 * (and off x86) GCC lowers them to what the target has (NEON's tbl on arm64). */
static inline __attribute__((always_inline)) int decode_tags(const uint8_t *ip,
                                                             const uint8_t *ipend, uint8_t *out,
                                                             size_t len_out) {
    uint8_t *op = out, *opend = out + len_out;
    while (ip < ipend) {
        uint8_t tag = *ip++;
        size_t len, off;
        switch (tag & 3) {
        case 0: /* literal: length - 1 in the tag, or in 1..4 bytes after it */
            len = (size_t)(tag >> 2) + 1;
            if (len <= 60 && ipend - ip >= 64) {
                if ((size_t)(opend - op) < len) return -1;
                copy64(op, ip, len);
                op += len;
                ip += len;
                continue;
            }
            if (len > 60) {
                /* 1..4 length bytes; like the Python path's decoder (cramjam: rust-snappy
                 * src/decompress.rs read_literal) at least 4 input bytes must follow the tag */
                size_t nb = len - 60;
                if (ipend - ip < 4) return -1;
                uint32_t v = 0;
                for (size_t i = 0; i < nb; i++) v |= (uint32_t)ip[i] << (8 * i);
                ip += nb;
                len = (size_t)v + 1;
            }
            if ((size_t)(ipend - ip) < len || (size_t)(opend - op) < len) return -1;
            memcpy(op, ip, len);
            op += len;
            ip += len;
            continue;
        case 1: /* copy: length 4..11, offset 11 bits */
            if (ip >= ipend) return -1;
            len = (size_t)((tag >> 2) & 7) + 4;
            off = (size_t)(tag >> 5) << 8 | *ip++;
            break;
        case 2: /* copy: length 1..64, offset 16 bits */
            if (ipend - ip < 2) return -1;
            len = (size_t)(tag >> 2) + 1;
            off = (size_t)ip[0] | (size_t)ip[1] << 8;
            ip += 2;
            break;
        default: /* copy: length 1..64, offset 32 bits */
            if (ipend - ip < 4) return -1;
            len = (size_t)(tag >> 2) + 1;
            off = (size_t)ip[0] | (size_t)ip[1] << 8 | (size_t)ip[2] << 16 | (size_t)ip[3] << 24;
            ip += 4;
            break;
        }
        if (off == 0 || off > (size_t)(op - out) || (size_t)(opend - op) < len) return -1;
        const uint8_t *src = op - off;
        if (off >= 16) {
            copy64(op, src, len); /* each 16 bytes read were written before */
        } else {
            v16 pat; /* the off bytes at src, repeated (bytes past op are not read into it) */
            memcpy(&pat, src, 16);
            pat = __builtin_shuffle(pat, pat_mask[off]);
            v16 step = pat_step[off];
            for (uint8_t *d = op, *e = op + len;;) {
                memcpy(d, &pat, 16);
                d += 16;
                if (d >= e) break;
                pat = __builtin_shuffle(pat, step);
            }
        }
        op += len;
    }
    return op == opend ? 0 : -1;
}

int snappy_decode_tags_portable(const uint8_t *ip, const uint8_t *ipend, uint8_t *out,
                                size_t len_out) {
    return decode_tags(ip, ipend, out, len_out);
}

#if defined(__x86_64__)
__attribute__((target("ssse3"))) static int decode_tags_ssse3(const uint8_t *ip,
                                                              const uint8_t *ipend,
                                                              uint8_t *out, size_t len_out) {
    return decode_tags(ip, ipend, out, len_out);
}
#endif

int snappy_decode_tags(const uint8_t *ip, const uint8_t *ipend, uint8_t *out, size_t len_out) {
#if defined(__x86_64__)
    if (have_ssse3) return decode_tags_ssse3(ip, ipend, out, len_out);
#endif
    return decode_tags(ip, ipend, out, len_out);
}

int snappy_decode(const uint8_t *src, size_t n, keybuf *scratch, size_t *out_len, int portable) {
    size_t size, header;
    if (snappy_decoded_length(src, n, &size, &header) || size > MAX_BLOCK_LEN ||
        keybuf_reserve(scratch, size + SNAPPY_SLACK) < 0)
        return -1;
    int (*decode)(const uint8_t *, const uint8_t *, uint8_t *, size_t) =
        portable ? snappy_decode_tags_portable : snappy_decode_tags;
    if (decode(src + header, src + n, scratch->p, size)) return -1;
    *out_len = size;
    return 0;
}
