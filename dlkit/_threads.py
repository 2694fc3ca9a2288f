"""BLAS thread control during training and inference.

Two BLAS libraries are in play with pip wheels: NumPy's, which the Dense layers call for their
matrix products, and SciPy's, which Numba's ``np.dot`` calls inside the convolution and
recurrent kernels. Those kernels already split the batch over the cores with ``prange``, so a
multi-threaded BLAS inside them would oversubscribe the machine: SciPy's BLAS is limited to one
thread. NumPy's keeps its threads: on an idle 2-core machine two threads make the book's dense
products 1.5-1.7x faster (60 -> 36 us for 32x784 @ 784x128). When both share one BLAS library
(conda), that library runs on one thread.
"""
import os
from contextlib import contextmanager

_controller = None


def _kernel_blas(controller):
    """The BLAS libraries Numba's kernels may call: every one except NumPy's own copy."""
    libs = [lib for lib in controller.lib_controllers if lib.user_api == "blas"]
    mine = [lib for lib in libs
            if os.path.basename(os.path.dirname(lib.filepath)) != "numpy.libs"]
    return controller.select(filepath=[lib.filepath for lib in mine]) if mine else None


@contextmanager
def single_threaded_kernel_blas(everything=False):
    """Within the block, the BLAS used inside Numba kernels runs on one thread; with
    ``everything`` (a model with parallel Numba kernels: conv, recurrent) NumPy's too, since its
    threads and Numba's spinning OpenMP threads slow each other down (measured: the CNN ran
    6x slower with both pools active)."""
    global _controller
    from threadpoolctl import ThreadpoolController

    if _controller is None:
        # numba's np.dot calls scipy's BLAS: load it first so the controller sees it
        import scipy.linalg.cython_blas  # noqa: F401

        _controller = ThreadpoolController()
    selected = (_controller.select(user_api="blas") if everything
                else _kernel_blas(_controller))
    if selected is None:
        yield
        return
    with selected.limit(limits=1):
        yield
