"""BLAS thread control.

At the book's sizes (a 32x784 batch times a 784x32 matrix) OpenBLAS with two threads is about
20x slower than with one: thread wake-up costs more than the arithmetic. Training and
inference therefore run BLAS on one thread; Numba's own parallel loops use the cores.
"""
from contextlib import contextmanager

_limiter = None


@contextmanager
def single_threaded_blas():
    """Within the block, every loaded BLAS library runs on one thread."""
    global _limiter
    from threadpoolctl import ThreadpoolController

    if _limiter is None:
        # numba's np.dot calls scipy's BLAS: load it first so the controller sees it
        import scipy.linalg.cython_blas  # noqa: F401

        _limiter = ThreadpoolController()
    with _limiter.limit(limits=1, user_api="blas"):
        yield
