"""Output-size arithmetic of convolution and pooling windows, in one place.

A window of size k slides over an axis of length L with stride s (Keras/TensorFlow rules):

    padding="valid":  L' = (L - k) // s + 1                 (no padding; needs L >= k)
    padding="same":   L' = ceil(L / s) = (L + s - 1) // s,
                      padded with p = max((L' - 1) s + k - L, 0) zeros in total,
                      p // 2 before and the rest after (TensorFlow puts the odd one after).

With explicit padding p on both sides this is CS231n's H' = (H + 2p - k) // s + 1.
A transposed convolution runs the same geometry backwards: its output is the input of the
convolution whose gradient it computes (``transpose_output_length``).
"""
from ..errors import ShapeError

PADDINGS = ("valid", "same")


def normalize_tuple(value, n, what):
    """3 -> (3, 3); (3, 2) -> (3, 2); checked positive integers."""
    t = (value,) * n if isinstance(value, int) else tuple(value)
    if len(t) != n or not all(isinstance(v, int) and v > 0 for v in t):
        raise ValueError(f"{what} must be a positive integer or a tuple of {n} of them, "
                         f"got {value!r}")
    return t


def normalize_padding(padding):
    p = str(padding).lower()
    if p not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return p


def output_length(length, kernel, stride, padding):
    """L' for one axis (formulas in the module docstring)."""
    if padding == "same":
        return (length + stride - 1) // stride
    return (length - kernel) // stride + 1


def pad_amounts(length, kernel, stride, padding):
    """(before, after) zeros added to an axis of ``length``."""
    if padding == "valid":
        return 0, 0
    total = max((output_length(length, kernel, stride, padding) - 1) * stride + kernel - length, 0)
    return total // 2, total - total // 2


def window_geometry(hw, kernel, strides, padding, who):
    """(H', W', pad_top, pad_left) of a kh x kw window sliding over an H x W input.

    Raises ShapeError naming the layer ``who`` when the window does not fit.
    """
    (h, w), (kh, kw), (sh, sw) = hw, kernel, strides
    ho, wo = output_length(h, kh, sh, padding), output_length(w, kw, sw, padding)
    if ho <= 0 or wo <= 0:
        raise ShapeError(
            f"{who}: a {kh}x{kw} window does not fit a {h}x{w} input with padding='valid' "
            f"(output would be {ho}x{wo}); use padding='same', a smaller kernel/pool size, or "
            f"remove a pooling layer before it")
    return ho, wo, pad_amounts(h, kh, sh, padding)[0], pad_amounts(w, kw, sw, padding)[0]


def transpose_output_length(length, kernel, stride, padding):
    """L' of a transposed convolution (Keras, output_padding=None):
    valid: L s + max(k - s, 0);  same: L s."""
    if padding == "same":
        return length * stride
    return length * stride + max(kernel - stride, 0)
