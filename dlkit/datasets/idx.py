"""Reader for the IDX format that MNIST is distributed in.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the array
itself in C order, also big-endian:

    magic = 0x00 0x00 <dtype code> <ndim>     e.g. 0x00000803: uint8, 3-D (MNIST images)
    dims  = ndim x uint32                      e.g. 10000, 28, 28
    data  = prod(dims) x itemsize bytes

MNIST ships its files gzip-compressed; `read_idx` recognises gzip by its magic bytes, so a
file works whether or not it was decompressed by hand (or renamed).
"""
import gzip
import os
import zlib

import numpy as np

__all__ = ["CorruptDataError", "read_idx"]

# The dtype codes of the IDX specification (http://yann.lecun.com/exdb/mnist/), all big-endian.
_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"

_WHAT_TO_DO = (
    "Delete the file and call load_data() again to download it afresh (or re-download it by "
    "hand); if it is one of the files bundled with dlkit, reinstall dlkit."
)


class CorruptDataError(ValueError):
    """A data file is damaged: truncated, not the expected format, or failed its checksum."""


def _corrupt(name, problem):
    return CorruptDataError(f"{name} is corrupt: {problem}. {_WHAT_TO_DO}")


def _read_bytes(source):
    """Return (all bytes, a name for error messages) of a path, Traversable or binary file."""
    if hasattr(source, "read_bytes"):  # pathlib.Path or an importlib.resources Traversable
        return source.read_bytes(), str(source)
    if isinstance(source, (str, bytes, os.PathLike)):
        with open(source, "rb") as f:
            return f.read(), os.fsdecode(source)
    return source.read(), str(getattr(source, "name", "<file object>"))


def read_idx(source, ndim=None):
    """Read an IDX file (gzip-compressed or raw) into a NumPy array.

    source: a path, a pathlib/importlib.resources path, or a binary file object.
    ndim: if given, the number of dimensions the file must have (3 for MNIST images,
        1 for labels); anything else raises CorruptDataError.
    Returns an array of shape dims (e.g. (10000, 28, 28) uint8 for MNIST test images),
    in native byte order, writable and owning its memory.

    Raises CorruptDataError (a ValueError) naming the file and what was expected versus
    found, for a damaged gzip stream, an unknown magic number, a short header, or a
    payload whose length differs from the product of the header's dimensions.
    """
    data, name = _read_bytes(source)

    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            # A download cut short ends the deflate stream early: EOFError. Say so plainly.
            raise _corrupt(name, f"damaged gzip stream ({type(exc).__name__}: {exc}); "
                                 "the file was probably cut short while downloading") from None

    if len(data) < 4:
        raise _corrupt(name, f"expected a 4-byte IDX magic number, file has {len(data)} bytes")
    zero, code, n_dims = int.from_bytes(data[:2], "big"), data[2], data[3]
    magic = int.from_bytes(data[:4], "big")
    if zero != 0 or code not in _DTYPES:
        raise _corrupt(name, f"not an IDX file: magic number 0x{magic:08X} should be "
                             "0x0000TTNN (TT = dtype code such as 08 for uint8, NN = ndim)")
    if ndim is not None and n_dims != ndim:
        expected = (code << 8) | ndim
        raise _corrupt(name, f"expected magic 0x{expected:08X} ({ndim}-D), found 0x{magic:08X} "
                             f"({n_dims}-D); images are 0x00000803 and labels 0x00000801")

    header_len = 4 + 4 * n_dims
    if len(data) < header_len:
        raise _corrupt(name, f"truncated header: {n_dims} dimensions need {header_len} bytes, "
                             f"file has {len(data)}")
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(n_dims))

    dtype = _DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header_len
    if found != expected:
        what = "truncated" if found < expected else "too long"
        shape = "x".join(map(str, dims))
        raise _corrupt(name, f"{what}: header says {shape} = {expected} bytes of "
                             f"{dtype.newbyteorder('=').name} data, file has {found}")

    # frombuffer views the immutable bytes; astype makes the writable, native-order copy.
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(dims)
    return array.astype(dtype.newbyteorder("="))
