"""Benchmark cases, one module per part of the library; each defines TRAIN and KERNELS lists."""
