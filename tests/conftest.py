"""Shared pytest configuration for the unit tests (the book is collected by nbval)."""
import os

import numpy as np
import pytest
from browser_helpers import browser  # noqa: F401 - the fixture of the real-browser tests

# Notebooks used by individual tests (e.g. the browser test) are not chapters: nbval must not
# collect them.
collect_ignore_glob = ["notebooks/*", "artifacts/*"]


@pytest.fixture
def chinese():
    """dlkit speaks Chinese for one test (dlkit.config.set_language("zh")), English after."""
    from dlkit import config

    config.set_language("zh")
    try:
        yield
    finally:
        config.set_language("en")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def mnist_flat():
    """Bundled MNIST as float32 rows in [0, 1]: (x_train, y_train), (x_test, y_test)."""
    from dlkit.datasets import mnist

    (x, y), (xt, yt) = mnist.load_data()
    f = lambda a: (a.reshape(len(a), -1) / np.float32(255)).astype(np.float32)  # noqa: E731
    return (f(x), y.astype(np.int64)), (f(xt), yt.astype(np.int64))


def pytest_report_header(config):
    return f"numba threads: {os.environ.get('NUMBA_NUM_THREADS', 'default')}"
