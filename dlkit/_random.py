"""One seeded source of randomness for the whole library.

Every random choice in dlkit (weight initialisation, dropout masks, shuffling, noise,
synthetic data) draws from a ``numpy.random.Generator``. A component given ``seed=`` makes
its own generator; otherwise it spawns one from the library generator set by ``set_seed``.
Same seed, same machine: the same numbers, bit for bit.
"""
import numpy as np

_root = np.random.default_rng()


def set_seed(seed):
    """Reset the library generator: everything created afterwards is reproducible.

    seed: a non-negative int.
    """
    global _root
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"set_seed expects a non-negative integer, got {seed!r}")
    _root = np.random.default_rng(int(seed))


def default_rng():
    """The library generator (reset by ``set_seed``)."""
    return _root


def make_rng(seed=None):
    """A generator for one component: from ``seed`` if given, else spawned from the library one.

    Spawning (rather than sharing) keeps components independent: adding a Dropout layer does
    not change the initial weights of the layers built after it... only the order of creation
    matters, which is fixed by the code.
    """
    if seed is None:
        return _root.spawn(1)[0]
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
