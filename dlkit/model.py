"""Sequential: a stack of layers that is itself a layer, and trains (compile / fit / evaluate /
predict come from ``dlkit.trainer.Trainer``).

    forward:   y = layer_k(...layer_2(layer_1(x)))
    backward:  dL/dx = layer_1.backward(...layer_k.backward(dL/dy))   (each fills its grads)

Being a Layer, models nest: ``Sequential([encoder, decoder])`` shares the encoder's weights
with the autoencoder rather than copying them.
"""
import re

import numpy as np

from .errors import ShapeError
from .layers.base import Layer, set_sublayer_weights
from .trainer import Trainer

__all__ = ["Sequential"]


def _snake(name):
    # Keras's layer-name rule: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, LSTM -> lstm
    s = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()


class Sequential(Trainer, Layer):
    """A linear stack of layers.

        model = Sequential([Dense(32, activation="relu", input_shape=(784,)),
                            Dense(10, activation="softmax")])
        model.compile(optimizer=SGD(learning_rate=0.01, momentum=0.9),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=10, batch_size=32, validation_data=(xv, yv))
    """

    def __init__(self, layers=None, name=None, seed=None, **kwargs):
        super().__init__(name=name, seed=seed, **kwargs)
        self.layers = []
        self.metrics = []
        for layer in layers or []:
            self.add(layer)

    # -- structure --------------------------------------------------------------------------
    def add(self, layer):
        """Append a layer (or a whole Sequential, whose weights are then shared)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential takes dlkit layers, got {layer!r} ({type(layer).__name__})")
        if layer.name is None:
            base = _snake(type(layer).__name__)
            taken = {l.name for l in self.layers}
            layer.name, i = base, 0
            while layer.name in taken:
                i += 1
                layer.name = f"{base}_{i}"
        elif layer.name in {l.name for l in self.layers}:
            raise ValueError(f"a layer named {layer.name!r} is already in the model")
        self.layers.append(layer)
        self.built = False
        first = self.layers[0]
        shape = first.declared_input_shape
        if shape is None and first.built:
            shape = first.input_shape[1:]
        if shape is not None:
            self.build((None,) + tuple(shape))

    def build(self, input_shape):
        shape = tuple(input_shape)
        self.input_shape = shape
        for layer in self.layers:
            if layer.built and layer.input_shape[1:] != shape[1:]:
                raise ShapeError(
                    f"layer {layer.name!r} ({type(layer).__name__}) was built for inputs of shape "
                    f"{layer.input_shape} but the layer before it outputs {shape}")
            shape = layer.maybe_build(shape)
        self.output_shape = shape
        self.built = True
        self._head = None   # the loss head is made again for the new output layer

    def compute_output_shape(self, input_shape):
        if not self.built:
            self.build(input_shape)
        return self.output_shape

    @property
    def params(self):
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self):
        return [g for layer in self.layers for g in layer.grads]

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def param_names(self):
        return [f"{layer.name}/{n}" for layer in self.layers for n in layer.param_names]

    @property
    def weight_names(self):
        return [f"{layer.name}/{n}" for layer in self.layers for n in layer.weight_names]

    def trainable_pairs(self):
        if not self.trainable:
            return []
        return [pair for layer in self.layers for pair in layer.trainable_pairs()]

    def get_layer(self, name=None, index=None):
        """A layer by name or by position (as Keras)."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; layers: {[l.name for l in self.layers]}")

    @property
    def output_layer(self):
        """The layer that makes the model's output: the last one, looking inside nested
        models (the loss head fuses with its activation)."""
        last = self.layers[-1]
        return last.output_layer if isinstance(last, Sequential) else last

    @property
    def skip_input_grad(self):
        return self.layers[0].skip_input_grad if self.layers else False

    @skip_input_grad.setter
    def skip_input_grad(self, value):
        # only the very first leaf layer of the outermost model may skip its input gradient
        if self.layers:
            self.layers[0].skip_input_grad = value

    # -- the layer contract -----------------------------------------------------------------
    def forward(self, x, training=False):
        """x: (N, *input_shape) -> (N, *output_shape), through every layer in turn."""
        if not self.layers:
            raise ValueError("the model has no layers; add some with model.add(...)")
        if not self.built:
            self.build((None,) + tuple(np.shape(x)[1:]))
        mask = None   # Embedding(mask_zero=True) -> the next (recurrent) layer skips padding
        for layer in self.layers:
            if mask is not None and getattr(layer, "supports_masking", False):
                x = layer.forward(x, training=training, mask=mask)
            else:
                x = layer.forward(x, training=training)
            mask = getattr(layer, "output_mask", None)
        return x

    def backward(self, dy):
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def backward_logits(self, dz):
        """Backward from dL/dz of the last layer's pre-activation (the fused loss head)."""
        dz = self.layers[-1].backward_logits(dz)
        for layer in reversed(self.layers[:-1]):
            dz = layer.backward(dz)
        return dz

    def added_loss(self):
        """The terms the layers add to the model's loss (see ``Layer.added_loss``)."""
        return sum(layer.added_loss() for layer in self.layers)

    # -- weights, summary, saving -----------------------------------------------------------
    def set_weights(self, weights):
        set_sublayer_weights(f"model {self.name!r}", self.layers, weights)

    def summary(self, print_fn=print):
        """Print a Keras-style table: each layer's output shape and parameter count."""
        from .summary import summary_text

        print_fn(summary_text(self))

    def save(self, path):
        """Save architecture, weights and compile settings to one ``.npz`` file (atomic)."""
        from .saving import save_model

        save_model(self, path)

    def save_weights(self, path):
        from .saving import save_weights

        save_weights(self, path)

    def load_weights(self, path):
        from .saving import load_weights

        load_weights(self, path)

    def get_config(self):
        cfg = {"name": self.name, "trainable": self.trainable,
               "layers": [{"class_name": type(l).__name__, "config": l.get_config()}
                          for l in self.layers]}
        if self.seed is not None:
            cfg["seed"] = self.seed
        return cfg

    @classmethod
    def from_config(cls, config):
        from . import functional  # noqa: F401  (registers Model, which a stack may contain)
        from .layers.base import get_layer_class

        layers = [get_layer_class(c["class_name"]).from_config(c["config"])
                  for c in config["layers"]]
        return cls(layers, name=config.get("name"), seed=config.get("seed"))

    def __repr__(self):
        inner = ", ".join(repr(l) for l in self.layers)
        name = f", name={self.name!r}" if self.name else ""
        return f"Sequential([{inner}]{name})"

