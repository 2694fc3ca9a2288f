"""The fourth document's dense autoencoder (784 -> 32 relu -> 784 sigmoid, binary
cross-entropy, Adam, batch 256) on the bundled MNIST training split.

PyTorch gets the same network with its fastest equivalent head, ``BCEWithLogitsLoss`` on the
logits (what dlkit's fused sigmoid + cross-entropy computes), and Adam with Keras's epsilon.
"""
import numpy as np

from benchmarks.harness import TrainCase


def autoencoder_data():
    from dlkit.datasets import mnist

    (x, _), _ = mnist.load_data()
    x = (x.reshape(len(x), -1) / np.float32(255)).astype(np.float32)
    return x, x


def make_dlkit():
    import dlkit
    from dlkit import Input, Model
    from dlkit.layers import Dense

    dlkit.set_seed(0)
    input_img = Input(shape=(784,))
    encoded = Dense(32, activation="relu")(input_img)
    decoded = Dense(784, activation="sigmoid")(encoded)
    autoencoder = Model(input_img, decoded)
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    return autoencoder


def make_torch():
    import torch

    module = torch.nn.Sequential(torch.nn.Linear(784, 32), torch.nn.ReLU(),
                                 torch.nn.Linear(32, 784))   # logits; the loss applies sigmoid
    opt = torch.optim.Adam(module.parameters(), lr=0.001, eps=1e-7)
    return module, opt, torch.nn.BCEWithLogitsLoss()


TRAIN = [
    TrainCase("Autoencoder 784-32-784, Adam, BCE", 256, autoencoder_data, make_dlkit,
              make_torch, floor=1.5, epochs=8),
]
KERNELS = []
