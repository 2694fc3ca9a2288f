"""The notice shown while dlkit's kernels compile: "compiling dlkit kernels for this CPU, once".

The first ``fit`` (or ``predict``/``evaluate``) of a model kind on a machine compiles the Numba
kernels it needs, a few seconds each; the machine code is cached, so later runs load it in
milliseconds. So that a reader never waits in front of a silent cell, ``compile_notice`` listens
to Numba's compile events while the model works: at the first kernel that really compiles (a
kernel loaded from the cache fires no event) a progress bar opens, counting the kernels as they
finish, and ``done()`` closes it when the batch that needed them has run. In a notebook the bar
is a widget like the training bar (tqdm.auto). With ``verbose=0`` nothing is shown.
``python -m dlkit warmup`` compiles everything ahead of time.
"""
import sys
from contextlib import contextmanager

MESSAGE = "compiling dlkit kernels for this CPU, once"


class _Notice:
    """Listens to Numba's "numba:compile" events (``on_start``/``on_end``)."""

    def __init__(self):
        self.bar = None
        self.depth = 0

    def on_start(self, event):
        self.depth += 1
        if self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(desc=MESSAGE, unit=" kernels", file=sys.stdout, leave=True,
                            bar_format="{desc}: {n_fmt} kernels [{elapsed}]{postfix}")
    def on_end(self, event):
        self.depth = max(0, self.depth - 1)
        if self.depth == 0 and self.bar is not None:
            fn = getattr((event.data or {}).get("dispatcher"), "py_func", None)
            if fn is not None:
                where = (getattr(fn, "__module__", None) or "").split(".")[-1]
                self.bar.set_postfix_str(f"{where}.{fn.__name__}".lstrip("."), refresh=False)
            self.bar.update(1)

    def done(self):
        """Close the bar (the work that needed the kernels has run)."""
        if self.bar is not None and self.depth == 0:
            self.bar.set_postfix_str("done, cached for the next run", refresh=False)
            self.bar.close()
            self.bar = None


@contextmanager
def compile_notice(verbose):
    """While the block runs, show a bar whenever kernels compile (not for verbose=0)."""
    if not verbose:
        yield None
        return
    from numba.core import event

    notice = type("CompileNotice", (_Notice, event.Listener), {})()
    event.register("numba:compile", notice)
    try:
        yield notice
    finally:
        event.unregister("numba:compile", notice)
        notice.depth = 0
        notice.done()
