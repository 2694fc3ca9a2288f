"""Compression by quantisation (chapter 11): symmetric post-training quantisation of weight
arrays to 8 or fewer bits, and a copy of a model whose kernels went through those integers."""
import numpy as np

__all__ = ["quantize", "quantize_int8", "dequantize", "quantize_model", "model_nbytes"]


def quantize(w, bits=8, axis=None):
    """Symmetric linear quantisation to signed ``bits``-bit integers: w ~ scale * q with
    q in [-(2^(bits-1) - 1), 2^(bits-1) - 1] (for 8 bits: [-127, 127]).

    scale = max|w| / qmax over the whole array (axis=None, "per tensor") or over every slice
    along ``axis`` (e.g. axis=-1: one scale per output unit, "per channel"). The rounding error
    is at most scale / 2 per weight. Returns (q as int8 of w's shape, scale float32
    broadcastable to w); for bits < 8 the int8 array holds the smaller range (a real
    implementation would pack two 4-bit values per byte).
    """
    if not isinstance(bits, (int, np.integer)) or not 2 <= bits <= 8:
        raise ValueError(f"bits must be an integer from 2 to 8, got {bits!r}")
    qmax = 2 ** (bits - 1) - 1
    w = np.asarray(w, dtype=np.float32)
    if axis is None:
        m = np.abs(w).max(initial=0.0)
    else:
        axes = tuple(a for a in range(w.ndim) if a != axis % w.ndim)
        m = np.abs(w).max(axis=axes, keepdims=True, initial=0.0)
    scale = np.where(m > 0, m / qmax, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -qmax, qmax).astype(np.int8)
    return q, scale


def quantize_int8(w, axis=None):
    """``quantize(w, bits=8, axis)``: q in [-127, 127], the common post-training int8 scheme."""
    return quantize(w, 8, axis)


def dequantize(q, scale):
    """float32 weights back from int8: scale * q."""
    return (q.astype(np.float32) * scale).astype(np.float32)


def _clone(model):
    clone = type(model).from_config(model.get_config())
    if not clone.built:
        clone.build(model.input_shape)
    clone.set_weights(model.get_weights())
    return clone


def quantize_model(model, axis=None, bits=8):
    """A copy of ``model`` whose kernels (every weight of 2 or more dimensions) went through
    ``bits``-bit integers and back (weight-only post-training quantisation; biases, which are
    few, stay float32, as in common int8 schemes where they are kept at higher precision).

    Returns (quantized copy, {"float32_bytes": ..., "quantized_bytes": ..., "int8_bytes": ...}):
    sizes counting a kernel at bits/8 bytes per weight (packed) plus its float32 scales
    ("int8_bytes" is the same number, kept for the 8-bit case). The copy computes in float32
    with the rounded weights, so its accuracy is exactly that of the quantised-weight model.
    """
    clone = _clone(model)
    weights = clone.get_weights()
    int8_bytes = 0
    for i, w in enumerate(weights):
        if w.ndim >= 2:
            q, scale = quantize(w, bits, axis)
            weights[i] = dequantize(q, scale)
            int8_bytes += -(-q.size * bits // 8) + scale.nbytes
        else:
            int8_bytes += w.astype(np.float32).nbytes
    clone.set_weights(weights)
    if getattr(model, "loss", None) is not None:
        clone.compile(optimizer="sgd", loss=model.loss,
                      metrics=model.get_compile_config()["metrics"])
    return clone, {"float32_bytes": model_nbytes(model), "quantized_bytes": int(int8_bytes),
                   "int8_bytes": int(int8_bytes)}


def model_nbytes(model):
    """Bytes of all weights stored as float32 (4 bytes per number)."""
    return int(sum(w.size for w in model.get_weights()) * 4)
