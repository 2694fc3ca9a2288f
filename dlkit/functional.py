"""A small functional API: ``Input``, symbolic tensors and ``Model(inputs, outputs)``.

The fourth source document writes its autoencoder this way, as Keras does:

    input_img = Input(shape=(784,))
    encoded = Dense(32, activation="relu")(input_img)
    decoded = Dense(784, activation="sigmoid")(encoded)
    autoencoder = Model(input_img, decoded)
    encoder = Model(input_img, encoded)        # shares the first Dense layer (its weights)

Calling a layer on a symbolic tensor runs no numbers: it builds the layer for that shape and
returns a new symbolic tensor that remembers the layer and its input. ``Model`` walks back
from the output to the input and gets the chain of layers in between; it *is* a Sequential
over that chain, so compile / fit / evaluate / predict / summary / save are Sequential's own.

Supported graphs: a linear path from one input to one output (side branches that the output
does not depend on are fine: ``encoded`` above also feeds ``decoded``). dlkit has no merge
layers, so that is every graph its layers can express; lists of inputs or outputs raise an
error that says so.
"""
import numpy as np

from .layers.input import Input, SymbolicTensor
from .model import Sequential

__all__ = ["Input", "SymbolicTensor", "Model"]


def _single(t, what):
    if isinstance(t, (list, tuple)):
        if len(t) != 1:
            raise NotImplementedError(
                f"Model got {len(t)} {what}; dlkit's functional Model has one input and one "
                "output (a chain of layers)")
        t = t[0]
    if not getattr(t, "_dlkit_symbolic", False):
        raise TypeError(f"Model {what} must be symbolic tensors (from Input(shape=...) and "
                        f"layer calls), got {t!r}")
    return t


def _trace(inputs, outputs):
    """The layers on the path from ``inputs`` to ``outputs``, first to last."""
    chain, t = [], outputs
    while t is not inputs:
        if t.layer is None:
            raise ValueError(
                f"the outputs {outputs!r} do not depend on the inputs {inputs!r}: they come from "
                "another Input; pass the Input the layers were called on")
        chain.append(t.layer)
        t = t.parent
    if not chain:
        raise ValueError("Model's outputs are its inputs: call at least one layer on the Input")
    return chain[::-1]


class Model(Sequential):
    """A model given by its input and output tensors (Keras's functional API).

        inputs = Input(shape=(784,))
        outputs = Dense(784, activation="sigmoid")(Dense(32, activation="relu")(inputs))
        model = Model(inputs, outputs)

    The layers between inputs and outputs are the model's ``layers`` (the same objects, so
    models built on overlapping paths share weights). ``model.input`` / ``model.output`` are the
    symbolic tensors. Deviation from Keras: ``layers`` does not start with an InputLayer.
    """

    def __init__(self, inputs, outputs, name=None, **kwargs):
        inputs, outputs = _single(inputs, "inputs"), _single(outputs, "outputs")
        layers = _trace(inputs, outputs)
        super().__init__(layers, name=name, dtype=inputs.dtype, **kwargs)
        self.input, self.output = inputs, outputs
        # the first layer was built on the Input, so Sequential.add has built the model
        if not self.built or self.input_shape[1:] != inputs.shape[1:]:
            self.build(inputs.shape)

    @property
    def inputs(self):
        return [self.input]

    @property
    def outputs(self):
        return [self.output]

    def summary(self, print_fn=print):
        from .summary import summary_text

        text = summary_text(self)
        if self.name is None:  # Keras calls an unnamed functional model "functional"
            text = text.replace('Model: "sequential"', 'Model: "functional"', 1)
        print_fn(text)

    def get_config(self):
        cfg = super().get_config()
        cfg["input_shape"] = list(self.input.shape[1:])
        cfg["input_dtype"] = np.dtype(self.input.dtype).name
        if self.input.name is not None:
            cfg["input_name"] = self.input.name
        return cfg

    @classmethod
    def from_config(cls, config):
        """Rebuild the chain by calling the layers on a fresh Input, as the model was made."""
        from .layers.base import get_layer_class

        inputs = Input(shape=config["input_shape"], dtype=config.get("input_dtype"),
                       name=config.get("input_name"))
        x = inputs
        for c in config["layers"]:
            x = get_layer_class(c["class_name"]).from_config(c["config"])(x)
        return cls(inputs, x, name=config.get("name"), seed=config.get("seed"))

    def __repr__(self):
        steps = " -> ".join([f"Input(shape={self.input.shape[1:]})"]
                            + [repr(layer) for layer in self.layers])
        name = f", name={self.name!r}" if self.name else ""
        return f"Model({steps}{name})"
