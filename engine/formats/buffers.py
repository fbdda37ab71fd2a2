"""Output buffers for whole-file decryption that cost no more than the bytes written into them.

`bytearray(n)` zero-fills its n bytes, and a fresh buffer of hundreds of MiB is faulted in 4 KiB
pages: for a 256 MiB file those two cost more than AES-GCM itself (~100 ms against ~60 ms on the
2-core bench box). `new_buffer` returns a bytearray whose bytes are left as allocated (the
caller overwrites every one, e.g. with AESGCM.decrypt_into) and, when it is large, asks the
kernel for transparent huge pages on it (2 MiB faults instead of 512 small ones), which is what
numpy does for its own arrays of 4 MiB and more (numpy/_core/src/multiarray/alloc.c).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
from typing import cast

HUGE_PAGE = 2 << 20
# numpy's threshold for MADV_HUGEPAGE; below it the 4 KiB faults are not worth a system call.
HUGE_PAGE_MIN = 4 << 20

_from_size = ctypes.pythonapi.PyByteArray_FromStringAndSize
_from_size.restype = ctypes.py_object
_from_size.argtypes = [ctypes.c_void_p, ctypes.c_ssize_t]

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_madvise = getattr(_libc, "madvise", None)
if _madvise is not None:
    _madvise.restype = ctypes.c_int
    _madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_MADV_HUGEPAGE = getattr(mmap, "MADV_HUGEPAGE", None)


def new_buffer(size: int) -> bytearray:
    """A bytearray of `size` bytes with unspecified contents, huge-page backed when large.

    The contents are whatever the allocator handed out (zero for a fresh mapping, possibly old
    heap bytes for small sizes), so the caller must overwrite all of it before anyone reads it,
    and drop it on failure."""
    if size < 0:
        raise ValueError(f"negative buffer size {size}")
    out = cast(bytearray, _from_size(None, size))
    if size >= HUGE_PAGE_MIN:
        advise_huge_pages(out)
    return out


def advise_huge_pages(buf: bytearray) -> None:
    """MADV_HUGEPAGE on the 2 MiB-aligned interior of `buf`'s memory; a no-op where the kernel
    or libc lacks it (the advice only changes how pages are faulted, never the contents)."""
    if _madvise is None or _MADV_HUGEPAGE is None or len(buf) < HUGE_PAGE:
        return
    view = (ctypes.c_char * len(buf)).from_buffer(buf)
    try:
        start = ctypes.addressof(view)
        aligned = -(-start // HUGE_PAGE) * HUGE_PAGE
        length = (start + len(buf) - aligned) // HUGE_PAGE * HUGE_PAGE
        if length > 0:
            _madvise(aligned, length, _MADV_HUGEPAGE)  # failure (EINVAL: THP off) is harmless
    finally:
        del view
