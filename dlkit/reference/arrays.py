"""The array operations the kernels are built from, as NumPy writes them: the matrix product
(``kernels.gemm``) and the copies and sums between threads' pieces
(``kernels.activations``). One line each: the kernels' versions exist for speed inside Numba
code, and this is what they must equal."""


def mm(a, b):
    """a (M, K) @ b (K, N)."""
    return a @ b


def mm_add(c, a, b):
    """c + a @ b: the product added to c (M, N)."""
    return c + a @ b


def transpose(a):
    """a^T, (N, M) for a (M, N)."""
    return a.T


def column_sums(a):
    """a (rows, F) summed over its rows: (F,) (the bias gradient)."""
    return a.sum(axis=0)


def sum_parts(parts):
    """parts (P, ...) summed over the first axis (the threads' partial sums)."""
    return parts.sum(axis=0)


def copy(src):
    """dst = src."""
    return src.copy()


def add(dst, src):
    """dst + src."""
    return dst + src
