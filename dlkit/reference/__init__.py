"""Plain NumPy reference implementations, short and slow, that the fast kernels are tested
against and that the book shows beside them (one module per kernel family)."""
