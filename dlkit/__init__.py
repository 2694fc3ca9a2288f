"""dlkit: a compact NumPy + Numba deep-learning library, written to be read.

Importing dlkit is cheap: Numba and the kernels load only when a layer first runs.
"""
__version__ = "0.1.0"
