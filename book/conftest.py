"""Before the chapters run under nbval: compile every kernel they use (``dlkit.warmup``).

A cell that trains with ``verbose=1`` or ``2`` shows "compiling dlkit kernels for this CPU,
once" when a kernel is missing from the cache, and that line is not in the saved output: on a
fresh clone (an empty cache) the comparison would fail for a reason that has nothing to do with
the chapter. So the session compiles them first, as a class's image does with
``python -m dlkit warmup --book``; the notebooks' kernels, started by nbval with this process's
environment, load them from the same cache. With a warm cache this takes a few seconds.
"""


def pytest_collection_finish(session):
    if any(str(item.fspath).endswith(".ipynb") for item in session.items):
        from dlkit.warmup import warmup

        print(f"\ndlkit: {warmup(book=True, verbose=False)} kernels compiled before the book")
