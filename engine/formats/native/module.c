/* engine.formats._blockscan: the CHECK_FILES accelerator's Python face. scan_blocks checks a
 * batch of data blocks of one table with the GIL released for the whole batch: per block the
 * checksum, decompression and the table's scanner (rows.c, columns.c), returning a summary for
 * Python's cross-block checks or None (defer: Python checks that block itself and raises the
 * exact error, or accepts it). No state outside a call, so threads may scan disjoint batches
 * of one buffer at once. The small helpers (crc32c, xxh64, decompress) let tests compare the
 * building blocks against the Python libraries. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#include "blockscan.h"

static PyObject *summary_tuple(const block_summary *s) {
    /* y# turns a NULL pointer into None: an empty key has no buffer yet */
    const char *first = s->first.p ? (const char *)s->first.p : "";
    const char *last = s->last.p ? (const char *)s->last.p : "";
    return Py_BuildValue("(Ky#Ky#K)", (unsigned long long)s->rows, first, (Py_ssize_t)s->first.len,
                         (unsigned long long)s->first_trailer, last, (Py_ssize_t)s->last.len,
                         (unsigned long long)s->last_trailer);
}

static PyObject *scan_blocks(PyObject *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"data", "handles", "end", "checksum", "pebble_version", "comparer",
                            "columnar", NULL};
    Py_buffer buf;
    PyObject *handles;
    Py_ssize_t end;
    scan_table t;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "y*Oniiip", names, &buf, &handles, &end,
                                     &t.checksum, &t.pebble_version, &t.comparer, &t.columnar))
        return NULL;
    PyObject *result = NULL, *seq = NULL;
    uint64_t *hs = NULL;
    block_summary *sums = NULL;
    int *status = NULL;
    if (end < 0 || end > buf.len) {
        PyErr_SetString(PyExc_ValueError, "end is outside the buffer");
        goto done;
    }
    if (t.checksum != CHECKSUM_CRC32C && t.checksum != CHECKSUM_XXHASH64) {
        PyErr_SetString(PyExc_ValueError, "unknown checksum type");
        goto done;
    }
    seq = PySequence_Fast(handles, "handles must be a sequence of (offset, length)");
    if (!seq) goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    hs = malloc(sizeof(uint64_t) * 2 * (size_t)(n ? n : 1));
    sums = calloc((size_t)(n ? n : 1), sizeof(block_summary));
    status = malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (!hs || !sums || !status) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long long off, len;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "KK", &off, &len)) goto done;
        hs[2 * i] = off;
        hs[2 * i + 1] = len;
    }
    Py_BEGIN_ALLOW_THREADS
    keybuf scratch = {0};
    for (Py_ssize_t i = 0; i < n; i++)
        status[i] = scan_data_block(buf.buf, (size_t)end, hs[2 * i], hs[2 * i + 1], &t, &scratch,
                                    &sums[i]);
    keybuf_free(&scratch);
    Py_END_ALLOW_THREADS
    result = PyList_New(n);
    if (!result) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item;
        if (status[i] == SCAN_OK) {
            item = summary_tuple(&sums[i]);
            if (!item) {
                Py_CLEAR(result);
                goto done;
            }
        } else {
            item = Py_NewRef(Py_None);
        }
        PyList_SET_ITEM(result, i, item);
    }
done:
    if (sums) {
        for (Py_ssize_t i = 0; seq && i < PySequence_Fast_GET_SIZE(seq); i++) {
            keybuf_free(&sums[i].first);
            keybuf_free(&sums[i].last);
        }
    }
    free(hs);
    free(sums);
    free(status);
    Py_XDECREF(seq);
    PyBuffer_Release(&buf);
    return result;
}

static PyObject *scan_block(PyObject *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"block", "pebble_version", "comparer", "columnar", NULL};
    Py_buffer buf;
    scan_table t = {CHECKSUM_CRC32C, 0, 0, 0};
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "y*iip", names, &buf, &t.pebble_version,
                                     &t.comparer, &t.columnar))
        return NULL;
    block_summary s;
    memset(&s, 0, sizeof s);
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = scan_decoded_block(buf.buf, (size_t)buf.len, &t, &s);
    Py_END_ALLOW_THREADS
    PyObject *r = st == SCAN_OK ? summary_tuple(&s) : Py_NewRef(Py_None);
    keybuf_free(&s.first);
    keybuf_free(&s.last);
    PyBuffer_Release(&buf);
    return r;
}

static PyObject *index_entries(PyObject *self, PyObject *args) {
    Py_buffer buf;
    unsigned long long off, len;
    Py_ssize_t end;
    int checksum;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*KKni", &buf, &off, &len, &end, &checksum)) return NULL;
    PyObject *result = NULL;
    keybuf scratch = {0}, keys = {0}, entries = {0};
    const uint8_t *blk;
    size_t blen;
    if (end < 0 || end > buf.len || (checksum != CHECKSUM_CRC32C && checksum != CHECKSUM_XXHASH64)) {
        PyErr_SetString(PyExc_ValueError, "bad end or checksum type");
        goto done;
    }
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = read_block(buf.buf, (size_t)end, off, len, checksum, &scratch, &blk, &blen);
    if (st == SCAN_OK) st = parse_index_block(blk, blen, (uint64_t)end, &keys, &entries);
    Py_END_ALLOW_THREADS
    if (st != SCAN_OK) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    Py_ssize_t n = (Py_ssize_t)(entries.len / sizeof(index_entry));
    result = PyList_New(n);
    if (!result) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        index_entry e;
        memcpy(&e, entries.p + (size_t)i * sizeof e, sizeof e);
        const char *k = keys.p ? (const char *)keys.p + e.key_off : "";
        PyObject *item = Py_BuildValue("(y#(KK))", k, (Py_ssize_t)e.key_len,
                                       (unsigned long long)e.offset, (unsigned long long)e.length);
        if (!item) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, item);
    }
done:
    keybuf_free(&scratch);
    keybuf_free(&keys);
    keybuf_free(&entries);
    PyBuffer_Release(&buf);
    return result;
}

static PyObject *py_compare(PyObject *self, PyObject *args) {
    Py_buffer a, b;
    int comparer;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*i", &a, &b, &comparer)) return NULL;
    int c = key_cmp(comparer, a.buf, (size_t)a.len, b.buf, (size_t)b.len);
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    return PyLong_FromLong(c);
}

/* A bytes object's bytes, or -1 with TypeError. */
static int bytes_of(PyObject *o, const uint8_t **p, size_t *n) {
    if (!PyBytes_Check(o)) {
        PyErr_SetString(PyExc_TypeError, "check_boundaries: keys must be bytes");
        return -1;
    }
    *p = (const uint8_t *)PyBytes_AS_STRING(o);
    *n = (size_t)PyBytes_GET_SIZE(o);
    return 0;
}

static int trailer_of(PyObject *o, uint64_t *out) {
    unsigned long long v = PyLong_AsUnsignedLongLong(o);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) return -1;
    *out = v;
    return 0;
}

/* sst_check's cross-block rules over a run of native-accepted (sep, handle, summary) entries
 * from `start`, as _check_rows (columnar=0) or _check_columnar (columnar=1) apply them to one
 * entry, with the state carried between entries (prev last key or None, its trailer, prev
 * separator or None). Stops at the first entry a rule rejects (or, columnar, a summary of no
 * rows, which the Python path checks): (its index or len, rows before it, state before it).
 * Python re-checks that entry with its own code, so the error text is its own. */
static PyObject *check_boundaries(PyObject *self, PyObject *args) {
    PyObject *entries, *prev_last, *prev_sep;
    Py_ssize_t start;
    int comparer, columnar;
    unsigned long long clear, sep_clear, prev_trailer;
    (void)self;
    if (!PyArg_ParseTuple(args, "O!nipKKOKO", &PyList_Type, &entries, &start, &comparer,
                          &columnar, &clear, &sep_clear, &prev_last, &prev_trailer, &prev_sep))
        return NULL;
    if (comparer != CMP_BYTEWISE && comparer != CMP_COCKROACH) {
        PyErr_SetString(PyExc_ValueError, "unknown comparer");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(entries), i = start < 0 ? 0 : start;
    const uint8_t *pl = NULL, *ps = NULL;
    size_t pln = 0, psn = 0;
    if (prev_last != Py_None && bytes_of(prev_last, &pl, &pln)) return NULL;
    if (prev_sep != Py_None && bytes_of(prev_sep, &ps, &psn)) return NULL;
    uint64_t pt = prev_trailer, total = 0;
    for (; i < n; i++) {
        PyObject *e = PyList_GET_ITEM(entries, i), *s;
        if (!PyTuple_Check(e) || PyTuple_GET_SIZE(e) != 3 || !PyTuple_Check(s = PyTuple_GET_ITEM(e, 2)) ||
            PyTuple_GET_SIZE(s) != 5) {
            PyErr_SetString(PyExc_TypeError,
                            "check_boundaries: entries are (sep, handle, 5-tuple summary)");
            return NULL;
        }
        PyObject *sep_o = PyTuple_GET_ITEM(e, 0), *first_o = PyTuple_GET_ITEM(s, 1),
                 *last_o = PyTuple_GET_ITEM(s, 3);
        const uint8_t *sep, *first, *last;
        size_t sepn, firstn, lastn;
        uint64_t rows, ft, lt;
        if (trailer_of(PyTuple_GET_ITEM(s, 0), &rows) || bytes_of(sep_o, &sep, &sepn) ||
            bytes_of(first_o, &first, &firstn) || bytes_of(last_o, &last, &lastn) ||
            trailer_of(PyTuple_GET_ITEM(s, 2), &ft) || trailer_of(PyTuple_GET_ITEM(s, 4), &lt))
            return NULL;
        if (!columnar) {
            if (!rows) continue; /* _check_rows skips an empty block, separator and all */
            ft &= clear;
            lt &= clear;
            if (pl) {
                int c = key_cmp(comparer, pl, pln, first, firstn);
                if (c > 0 || (c == 0 && pt <= ft)) break;
            }
            if (sepn < 8) break;
            int c = key_cmp(comparer, last, lastn, sep, sepn - 8);
            uint64_t st = 0;
            for (int k = 7; k >= 0; k--) st = st << 8 | sep[sepn - 8 + (size_t)k];
            if (c > 0 || (c == 0 && lt < (st & sep_clear))) break;
        } else {
            if (!rows) break; /* _check_columnar takes the Python path for it */
            if (pl) {
                int c = key_cmp(comparer, pl, pln, first, firstn);
                if (c > 0 || (c == 0 && pt <= ft)) break;
            }
            if (key_cmp(comparer, sep, sepn, last, lastn) < 0) break;
            if (ps && key_cmp(comparer, ps, psn, first, firstn) > 0) break;
            prev_sep = sep_o;
            ps = sep;
            psn = sepn;
        }
        prev_last = last_o;
        pl = last;
        pln = lastn;
        pt = lt;
        total += rows;
    }
    return Py_BuildValue("(nKOKO)", i, (unsigned long long)total, prev_last,
                         (unsigned long long)pt, prev_sep);
}

static PyObject *py_crc32c(PyObject *self, PyObject *args) {
    Py_buffer b;
    int software = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*|p", &b, &software)) return NULL;
    uint32_t c;
    Py_BEGIN_ALLOW_THREADS
    c = software ? crc32c_sw_value(b.buf, (size_t)b.len) : crc32c_extend(0, b.buf, (size_t)b.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&b);
    return PyLong_FromUnsignedLong(c);
}

static PyObject *py_block_checksum(PyObject *self, PyObject *args) {
    Py_buffer b;
    int kind;
    (void)self;
    if (!PyArg_ParseTuple(args, "iy*", &kind, &b)) return NULL;
    uint32_t c = block_checksum(kind, b.buf, (size_t)b.len);
    PyBuffer_Release(&b);
    return PyLong_FromUnsignedLong(c);
}

static PyObject *py_decompress(PyObject *self, PyObject *args) {
    Py_buffer b;
    int indicator, portable = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "iy*|p", &indicator, &b, &portable)) return NULL;
    keybuf scratch = {0};
    const uint8_t *out;
    size_t out_len;
    int st;
    Py_BEGIN_ALLOW_THREADS
    if (portable && indicator == COMPRESSION_SNAPPY) {
        st = snappy_decode(b.buf, (size_t)b.len, &scratch, &out_len, 1) ? SCAN_DEFER : SCAN_OK;
        out = scratch.p;
    } else {
        st = decompress_block(indicator, b.buf, (size_t)b.len, &scratch, &out, &out_len);
    }
    Py_END_ALLOW_THREADS
    PyObject *r = st == SCAN_OK ? PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)out_len)
                                : Py_NewRef(Py_None);
    keybuf_free(&scratch);
    PyBuffer_Release(&b);
    return r;
}

static PyMethodDef methods[] = {
    {"scan_blocks", (PyCFunction)(void (*)(void))scan_blocks, METH_VARARGS | METH_KEYWORDS,
     "scan_blocks(data, handles, end, checksum, pebble_version, comparer, columnar) -> list of "
     "(rows, first_key, first_trailer, last_key, last_trailer) or None (defer) per block"},
    {"scan_block", (PyCFunction)(void (*)(void))scan_block, METH_VARARGS | METH_KEYWORDS,
     "scan_block(block, pebble_version, comparer, columnar) -> the summary of one block that "
     "Python already verified and decompressed, or None (defer)"},
    {"index_entries", index_entries, METH_VARARGS,
     "index_entries(data, offset, length, end, checksum) -> [(separator, (offset, length))] of a "
     "row table's index block, or None where Python must decide"},
    {"compare", py_compare, METH_VARARGS,
     "compare(a, b, comparer) -> -1, 0 or 1 under CMP_BYTEWISE or CMP_COCKROACH (EngineKeyCompare)"},
    {"check_boundaries", check_boundaries, METH_VARARGS,
     "check_boundaries(entries, start, comparer, columnar, clear, sep_clear, prev_last, "
     "prev_trailer, prev_sep) -> (index of the first entry a cross-block rule rejects, or len; "
     "rows before it; prev_last, prev_trailer, prev_sep before it)"},
    {"crc32c", py_crc32c, METH_VARARGS, "crc32c(data, software=False) -> standard CRC-32C"},
    {"block_checksum", py_block_checksum, METH_VARARGS,
     "block_checksum(kind, data) -> the stored block checksum (masked CRC-32C or xxhash64 low 32)"},
    {"decompress", py_decompress, METH_VARARGS,
     "decompress(indicator, block, portable=False) -> the decoded block, or None where Python "
     "must decide (portable: snappy's decoder without SSSE3, for tests)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "engine.formats._blockscan",
                                    "Native data block scanners for CHECK_FILES.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__blockscan(void) {
    blockscan_init();
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (PyModule_AddIntConstant(m, "CMP_BYTEWISE", CMP_BYTEWISE) < 0 ||
        PyModule_AddIntConstant(m, "CMP_COCKROACH", CMP_COCKROACH) < 0)
        return NULL;
    return m;
}
