"""Threads, in one place: how a kernel splits a batch over the cores, and how many threads BLAS
may use while the kernels run.

* ``chunks(n, work)``: a parallel kernel (a Numba ``prange`` over pieces of the batch) asks how
  many pieces to cut n independent rows into: one per Numba thread, never more than n //
  min_rows, and a single piece when the batch is too little work to pay for waking a thread.
  Inside a kernel, piece t of nt covers rows ``kernels._jit.bounds(t, nt, n)``.
* ``blas_policy()``: fit, evaluate and predict run inside it. BLAS libraries keep their own
  thread pools, whose threads spin for a while after each call; two pools spinning on the same
  cores slow each other down (the CNN ran 6x slower with Numba's threads and OpenBLAS's both
  active). The rule: the BLAS that Numba kernels call (SciPy's) always runs on one thread, since
  the kernels call it from inside their parallel loops; NumPy's BLAS (used for the products our
  own kernels do not do) keeps its threads until a kernel actually splits a batch (``chunks``
  returned more than 1), and from that step on runs on one thread too. So the decision follows
  the kernels a model really uses; no layer declares anything.
"""
import os
from contextlib import ExitStack

#: Below this many multiply-adds per call one thread is faster than waking a second one.
PARALLEL_MIN_WORK = 200_000

_split_used = False   # set when chunks() has split a batch since the last blas_policy began
_controller = None


def chunks(n, work=None, min_rows=1):
    """How many pieces (threads) a kernel should cut a batch of n rows into.

    work: the call's multiply-adds, if known (below PARALLEL_MIN_WORK: one piece);
    min_rows: the fewest rows a piece may have (recurrent kernels want 8 for their products).
    """
    global _split_used
    if work is not None and work < PARALLEL_MIN_WORK:
        return 1
    import numba

    nt = max(1, min(numba.get_num_threads(), n // min_rows))
    if nt > 1:
        _split_used = True
    return nt


def _kernel_blas(controller):
    """The BLAS libraries Numba's kernels may call: every one except NumPy's own copy."""
    libs = [lib for lib in controller.lib_controllers if lib.user_api == "blas"]
    mine = [lib for lib in libs
            if os.path.basename(os.path.dirname(lib.filepath)) != "numpy.libs"]
    return controller.select(filepath=[lib.filepath for lib in mine]) if mine else None


class blas_policy:
    """Context for a run of batches (fit, evaluate, predict): see the module's docstring.

        with blas_policy() as policy:
            for batch in batches:
                ...                      # forward, backward, optimizer
                policy.step_done()       # pins every BLAS once a kernel has split a batch
    """

    def __enter__(self):
        global _split_used, _controller
        from threadpoolctl import ThreadpoolController

        if _controller is None:
            # numba's np.dot calls scipy's BLAS: load it first so the controller sees it
            import scipy.linalg.cython_blas  # noqa: F401

            _controller = ThreadpoolController()
        self._stack = ExitStack()
        self._all_pinned = False
        _split_used = False
        kernel_blas = _kernel_blas(_controller)
        if kernel_blas is not None:
            self._stack.enter_context(kernel_blas.limit(limits=1))
        return self

    def step_done(self):
        if _split_used and not self._all_pinned:
            self._all_pinned = True
            self._stack.enter_context(_controller.select(user_api="blas").limit(limits=1))

    def __exit__(self, *exc):
        self._stack.close()
        return False
