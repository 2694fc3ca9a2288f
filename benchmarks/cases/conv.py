"""The fourth source document's CNN on the bundled MNIST training split, and the conv kernels'
GFLOP/s next to NumPy matmul's on the same work."""
import numpy as np

from benchmarks.harness import KernelCase, TrainCase


def mnist_images():
    from dlkit.datasets import mnist

    (x, y), _ = mnist.load_data()
    return (x[..., None] / np.float32(255)).astype(np.float32), y.astype(np.int64)


def _dlkit_cnn():
    import dlkit
    from dlkit import Sequential
    from dlkit.layers import Conv2D, Dense, Flatten, MaxPooling2D

    dlkit.set_seed(0)
    model = Sequential([
        Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), activation="relu"),
        MaxPooling2D((2, 2)),
        Flatten(),
        Dense(128, activation="relu"),
        Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _torch_cnn():
    import torch
    from torch import nn

    module = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                           nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(module.parameters(), lr=0.001, eps=1e-7)
    return module, opt, nn.CrossEntropyLoss()


TRAIN = [
    TrainCase("CNN conv32-pool-conv64-pool-128-10, Adam", 32, mnist_images, _dlkit_cnn,
              _torch_cnn, floor=1.0,
              # PyTorch's native layout is NCHW; the transpose happens once, outside the timing
              torch_input=lambda x: np.ascontiguousarray(x.transpose(0, 3, 1, 2)), epochs=3),
]


def _conv_kernel_case(n, h, c, f, k=3):
    from threadpoolctl import threadpool_limits

    from dlkit.layers import Conv2D

    rng = np.random.default_rng(0)
    x = rng.random((n, h, h, c), dtype=np.float32)
    layer = Conv2D(f, k, activation="relu", seed=0)
    layer(x)
    ho = h - k + 1
    cols = np.empty((n * ho * ho, k * k * c), np.float32)
    w2 = layer.kernel.reshape(-1, f)
    out = np.empty((n * ho * ho, f), np.float32)
    # NumPy matmul of the same (N H' W', kh kw C) x (kh kw C, F) product, on a ready-made cols
    # (so NumPy's figure leaves out the im2col copy that dlkit's includes)
    return KernelCase(f"conv forward {n}x{h}x{h}x{c} -> {f} filters 3x3 + relu (im2col + GEMM)",
                      2.0 * n * ho * ho * k * k * c * f,
                      run_dlkit=lambda: layer.forward(x),
                      run_numpy=lambda: np.maximum(np.matmul(cols, w2, out=out), 0, out=out),
                      # as in fit: the batch is split over the cores, each BLAS on one thread
                      dlkit_context=lambda: threadpool_limits(limits=1, user_api="blas"))


def kernels():
    return [_conv_kernel_case(32, 28, 1, 32), _conv_kernel_case(32, 13, 32, 64)]


KERNELS = kernels
