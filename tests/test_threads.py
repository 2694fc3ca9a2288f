"""dlkit._threads: how a batch is split over threads, and the one BLAS rule."""
import numba
import pytest
from threadpoolctl import threadpool_info

from dlkit import _threads
from dlkit._threads import blas_policy, chunks


def _numpy_blas_threads():
    return [i["num_threads"] for i in threadpool_info()
            if i["user_api"] == "blas" and "numpy.libs" in i["filepath"]]


def test_chunks_one_per_thread_within_the_limits(monkeypatch):
    monkeypatch.setattr(numba, "get_num_threads", lambda: 4)
    assert chunks(100) == 4
    assert chunks(3) == 3                                # never more pieces than rows
    assert chunks(100, min_rows=8) == 4 and chunks(20, min_rows=8) == 2
    assert chunks(7, min_rows=8) == 1
    assert chunks(100, work=_threads.PARALLEL_MIN_WORK - 1) == 1   # too little work
    assert chunks(100, work=_threads.PARALLEL_MIN_WORK) == 4


def test_numpy_blas_keeps_its_threads_until_a_kernel_splits_a_batch(monkeypatch):
    before = _numpy_blas_threads()
    if not before or max(before) < 2:
        pytest.skip("NumPy's BLAS is not a separate multi-threaded library here")
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    with blas_policy() as policy:
        policy.step_done()
        assert _numpy_blas_threads() == before     # no kernel has split anything yet
        chunks(64)
        assert _numpy_blas_threads() == before     # the rule acts between steps
        policy.step_done()
        assert set(_numpy_blas_threads()) == {1}
    assert _numpy_blas_threads() == before         # restored on exit
