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
    int indicator;
    (void)self;
    if (!PyArg_ParseTuple(args, "iy*", &indicator, &b)) return NULL;
    keybuf scratch = {0};
    const uint8_t *out;
    size_t out_len;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = decompress_block(indicator, b.buf, (size_t)b.len, &scratch, &out, &out_len);
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
    {"crc32c", py_crc32c, METH_VARARGS, "crc32c(data, software=False) -> standard CRC-32C"},
    {"block_checksum", py_block_checksum, METH_VARARGS,
     "block_checksum(kind, data) -> the stored block checksum (masked CRC-32C or xxhash64 low 32)"},
    {"decompress", py_decompress, METH_VARARGS,
     "decompress(indicator, block) -> the decoded block, or None where Python must decide"},
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
