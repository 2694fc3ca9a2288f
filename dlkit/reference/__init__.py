"""Plain NumPy definitions of what the kernels in ``dlkit.kernels`` compute: short and slow,
the formulas as a textbook writes them. ``tests/test_reference.py`` compares every kernel
with its definition here (float32 and float64), and the book shows them beside the layers.

activations, dense, losses, metrics, optimizers: a Dense network and its training step;
conv: convolution, pooling, upsampling and batch normalisation; recurrent: SimpleRNN, LSTM
and GRU; embedding; arrays: the matrix product and the sums the kernels are built from.
attention: scaled dot-product attention (chapter 12), which has no kernel: it is the reference
the book's from-scratch attention and its exercise are checked against.
"""
