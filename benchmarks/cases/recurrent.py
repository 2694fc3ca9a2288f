"""The fourth document's stacked LSTM (and the same network with GRUs) on MNIST read row by row:
28 steps of 28 pixels, LSTM(128, return_sequences=True) -> LSTM(128) -> Dense(10, softmax),
Adam, batch 32. PyTorch runs the same network (nn.LSTM / nn.GRU, batch_first, the last
step's output into a Linear layer) on the same data."""
import numpy as np

from benchmarks.harness import TrainCase


def mnist_rows():
    from dlkit.datasets import mnist

    (x, y), _ = mnist.load_data()
    return (x / np.float32(255)).astype(np.float32), y.astype(np.int64)


def _dlkit_stack(cell):
    def make():
        import dlkit
        from dlkit import Sequential
        from dlkit import layers
        from dlkit.optimizers import Adam

        dlkit.set_seed(0)
        rnn = getattr(layers, cell)
        model = Sequential([rnn(128, return_sequences=True, input_shape=(28, 28)), rnn(128),
                            layers.Dense(10, activation="softmax")])
        model.compile(optimizer=Adam(), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model
    return make


def _torch_stack(cell):
    def make():
        import torch

        class Stack(torch.nn.Module):
            def __init__(self):
                super().__init__()
                rnn = getattr(torch.nn, cell)
                self.rnn1 = rnn(28, 128, batch_first=True)
                self.rnn2 = rnn(128, 128, batch_first=True)
                self.fc = torch.nn.Linear(128, 10)

            def forward(self, x):
                h, _ = self.rnn1(x)
                h, _ = self.rnn2(h)
                return self.fc(h[:, -1])

        module = Stack()
        return (module, torch.optim.Adam(module.parameters(), lr=0.001, eps=1e-7),
                torch.nn.CrossEntropyLoss())
    return make


TRAIN = [
    TrainCase("LSTM(128, seq) -> LSTM(128) -> Dense(10), MNIST rows 28x28, Adam", 32,
              mnist_rows, _dlkit_stack("LSTM"), _torch_stack("LSTM"), floor=1.0),
    TrainCase("GRU(128, seq) -> GRU(128) -> Dense(10), MNIST rows 28x28, Adam", 32,
              mnist_rows, _dlkit_stack("GRU"), _torch_stack("GRU"), floor=1.0),
]
