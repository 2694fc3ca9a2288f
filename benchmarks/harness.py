"""Shared timing code for the benchmarks: training throughput of dlkit vs PyTorch, kernels
vs NumPy. Both frameworks get 2 threads, the same data, batch size and optimizer."""
import contextlib
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

THREADS = 2


@dataclass
class TrainCase:
    """One network trained by both frameworks on the same (x, y).

    make_data() -> (x float32, y) ; y as the dlkit loss wants it (labels or one-hot/targets).
    make_dlkit() -> a compiled dlkit model; make_torch() -> (module, optimizer, loss_fn) where
    loss_fn(output, target) and target = torch_target(y).
    """
    name: str
    batch_size: int
    make_data: Callable
    make_dlkit: Callable
    make_torch: Callable
    floor: float
    torch_target: Callable = None
    torch_input: Callable = None
    epochs: int = 2
    note: str = ""


@dataclass
class KernelCase:
    """A forward kernel's GFLOP/s next to NumPy's matmul of the same work."""
    name: str
    flops: float
    run_dlkit: Callable
    run_numpy: Callable
    repeats: int = 200
    extra: dict = field(default_factory=dict)
    # the thread set-up dlkit's fit/predict use around these kernels (None: as they are)
    dlkit_context: Callable = None


def _best_rate(fn, n_samples, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return n_samples / min(times), n_samples / statistics.median(times)


def time_dlkit(case, x, y):
    model = case.make_dlkit()
    model.fit(x[: case.batch_size * 4], y[: case.batch_size * 4], epochs=1,
              batch_size=case.batch_size, verbose=0)  # compile / warm caches
    return _best_rate(lambda: model.fit(x, y, epochs=1, batch_size=case.batch_size, verbose=0),
                      len(x), case.epochs)


def time_torch(case, x, y):
    import torch

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    module, opt, loss_fn = case.make_torch()
    xt = torch.from_numpy(case.torch_input(x) if case.torch_input else x)
    yt = torch.from_numpy(case.torch_target(y) if case.torch_target else y)
    bs = case.batch_size

    def epoch():
        perm = torch.randperm(len(xt))
        xs, ys = xt[perm], yt[perm]   # the same one-copy-per-epoch shuffle dlkit does
        for i in range(0, len(xs), bs):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(module(xs[i:i + bs]), ys[i:i + bs])
            loss.backward()
            opt.step()

    epoch()
    return _best_rate(epoch, len(x), case.epochs)


def time_kernel(case):
    with (case.dlkit_context() if case.dlkit_context else contextlib.nullcontext()):
        case.run_dlkit()
        d, _ = _best_rate(case.run_dlkit, case.flops, case.repeats)
    case.run_numpy()
    n, _ = _best_rate(case.run_numpy, case.flops, case.repeats)
    return d / 1e9, n / 1e9
