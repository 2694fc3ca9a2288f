"""Numba kernels: plain functions on contiguous float arrays, no classes.

Each kernel has a NumPy reference in ``dlkit.kernels.reference`` that the tests compare it with.
"""
