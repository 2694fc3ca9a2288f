"""The source documents' three dense networks on the bundled MNIST training split."""
import numpy as np

from benchmarks.harness import KernelCase, TrainCase


def mnist_flat():
    from dlkit.datasets import mnist

    (x, y), _ = mnist.load_data()
    return (x.reshape(len(x), -1) / np.float32(255)).astype(np.float32), y.astype(np.int64)


def one_hot_data():
    from dlkit.utils import to_categorical

    x, y = mnist_flat()
    return x, to_categorical(y, 10)


def _dlkit_mlp(sizes, optimizer, loss):
    def make():
        import dlkit
        from dlkit import Sequential
        from dlkit.layers import Dense

        dlkit.set_seed(0)
        layers = [Dense(sizes[1], activation="relu", input_shape=(sizes[0],))]
        layers += [Dense(n, activation="relu") for n in sizes[2:-1]]
        layers += [Dense(sizes[-1], activation="softmax")]
        model = Sequential(layers)
        model.compile(optimizer=optimizer(), loss=loss, metrics=["accuracy"])
        return model
    return make


def _torch_mlp(sizes, optimizer):
    def make():
        import torch

        mods = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            mods += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        module = torch.nn.Sequential(*mods[:-1])  # logits; CrossEntropyLoss applies softmax
        return module, optimizer(module.parameters()), torch.nn.CrossEntropyLoss()
    return make


def _sgd():
    from dlkit.optimizers import SGD
    return SGD(learning_rate=0.01, momentum=0.9)


def _adam():
    from dlkit.optimizers import Adam
    return Adam()


def _torch_sgd(p):
    import torch
    return torch.optim.SGD(p, lr=0.01, momentum=0.9)


def _torch_adam(p):
    import torch
    return torch.optim.Adam(p, lr=0.001, eps=1e-7)


TRAIN = [
    TrainCase("MLP 784-32-10, SGD+momentum", 32, one_hot_data,
              _dlkit_mlp((784, 32, 10), _sgd, "categorical_crossentropy"),
              _torch_mlp((784, 32, 10), _torch_sgd), floor=3.0,
              torch_target=lambda y: y.argmax(1), epochs=8),
    TrainCase("MLP 784-128-10, Adam", 32, one_hot_data,
              _dlkit_mlp((784, 128, 10), _adam, "categorical_crossentropy"),
              _torch_mlp((784, 128, 10), _torch_adam), floor=2.0,
              torch_target=lambda y: y.argmax(1), epochs=8),
    TrainCase("MLP 784-10-10-10, Adam, sparse CE", 128, mnist_flat,
              _dlkit_mlp((784, 10, 10, 10), _adam, "sparse_categorical_crossentropy"),
              _torch_mlp((784, 10, 10, 10), _torch_adam), floor=3.0, epochs=8),
]


def _dense_kernel_case(n, d_in, d_out):
    from dlkit.kernels import dense

    rng = np.random.default_rng(0)
    x = rng.random((n, d_in), dtype=np.float32)
    w = rng.random((d_in, d_out), dtype=np.float32)
    b = np.zeros(d_out, np.float32)
    z = np.empty((n, d_out), np.float32)
    y = np.empty_like(z)
    return KernelCase(f"dense forward {n}x{d_in} @ {d_in}x{d_out} + relu",
                      2.0 * n * d_in * d_out,
                      run_dlkit=lambda: dense.forward(x, w, b, 1, np.float32(0), z, y),
                      run_numpy=lambda: np.maximum(x @ w + b, 0, out=y))


def kernels():
    return [_dense_kernel_case(32, 784, 128), _dense_kernel_case(256, 784, 128)]


KERNELS = kernels
