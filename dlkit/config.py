"""Library-wide settings: the default float type and thread counts.

Mirrors ``keras.config.floatx()``. float32 is the default for speed; gradient checks use
float64 (pass ``dtype="float64"`` to a layer or model).
"""
import numpy as np

_floatx = np.float32


def floatx():
    """The default float dtype of new layers (``numpy.float32`` unless changed)."""
    return _floatx


def set_floatx(dtype):
    """Set the default float dtype: "float32" or "float64"."""
    global _floatx
    _floatx = standardize_dtype(dtype)


def standardize_dtype(dtype):
    """Turn None/"float32"/np.float64/... into numpy.float32 or numpy.float64, or raise."""
    if dtype is None:
        return _floatx
    dt = np.dtype(dtype).type
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return dt
