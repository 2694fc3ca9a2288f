"""Layers: ``from dlkit.layers import Dense, Conv2D, LSTM, ...``.

Every layer follows the contract in ``dlkit.layers.base``: forward/backward, params/grads,
Keras-ordered get_weights/set_weights.
"""
from .base import Layer, get_layer_class
from .core import Activation, Dense, Dropout, Flatten, Reshape
from .recurrent import GRU, LSTM, SimpleRNN
from .embedding import Embedding
from .wrappers import Bidirectional, TimeDistributed
from .conv import Conv2D, Conv2DTranspose
from .pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D
from .reshaping import UpSampling2D, ZeroPadding2D
from .normalization import BatchNormalization
from .noise import GaussianNoise, MaskingNoise
from .vae import Sampling
from .input import Input

__all__ = ["Layer", "get_layer_class", "Dense", "Activation", "Dropout", "Flatten", "Reshape"]
__all__ += ["SimpleRNN", "GRU", "LSTM", "Embedding", "TimeDistributed", "Bidirectional"]
__all__ += ["GaussianNoise", "MaskingNoise", "Sampling", "Input"]
__all__ += ["Conv2D", "Conv2DTranspose", "MaxPooling2D", "AveragePooling2D",
            "GlobalAveragePooling2D", "UpSampling2D", "ZeroPadding2D", "BatchNormalization"]
