"""The layer contract every layer follows.

    y  = layer.forward(x, training=False)     # caches what backward needs
    dx = layer.backward(dy)                    # fills layer.grads, same order as layer.params

``params`` and ``grads`` are lists of arrays that keep their identity for the layer's life:
``set_weights`` and the optimizers write into them in place, so the lists a model hands to
its optimizer stay valid. Weights are created lazily by ``build(input_shape)`` on the first
call (or at once when ``input_shape=`` is given), in Keras's order and shapes.
Shapes include the batch axis as None: ``(None, 784)``.
"""
import numpy as np

from .. import initializers
from .._random import make_rng
from ..config import standardize_dtype
from ..errors import ShapeError

_REGISTRY = {}


def get_layer_class(name):
    """The layer class registered under ``name``: every Layer subclass registers itself when
    its module is imported (``dlkit.layers`` imports all layer modules; ``Sequential`` and
    ``Model`` register when ``dlkit.model`` and ``dlkit.functional`` are imported, which
    loading a saved model does)."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown layer class {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


class Layer:
    """Base class. Subclasses implement ``build``, ``forward``, ``backward``,
    ``compute_output_shape`` and ``get_config``.

    input_shape: per-sample shape (without the batch axis), as in Keras: ``input_shape=(784,)``.
    dtype: "float32" (default) or "float64" (gradient checks).
    seed: int or None; None draws from the generator reset by ``dlkit.set_seed``.
    """

    # Set by a training step on the model's first layer: the gradient w.r.t. the model's
    # input is never needed, so layers that can skip computing it do.
    skip_input_grad = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    def __init__(self, name=None, dtype=None, input_shape=None, trainable=True, seed=None,
                 input_dim=None):
        self.name = name
        self.dtype = standardize_dtype(dtype)
        if input_dim is not None:  # Keras 2 spelling, used by the source documents
            input_shape = (input_dim,)
        self._declared_input_shape = None if input_shape is None else _as_shape(input_shape)
        self.trainable = trainable
        self.seed = seed
        self._rng = make_rng(seed)
        self._params, self._grads, self._param_names = [], [], []
        self._weights, self._weight_names = [], []  # trainable and not, in creation order
        self.input_shape = None
        self.output_shape = None
        self.built = False

    # -- parameters -------------------------------------------------------------------------
    @property
    def params(self):
        """The layer's parameter arrays (Keras order)."""
        return self._params

    @property
    def grads(self):
        """Gradients of the loss w.r.t. ``params``, filled by ``backward``."""
        return self._grads

    @property
    def param_names(self):
        return self._param_names

    @property
    def weight_names(self):
        return self._weight_names

    @property
    def weights(self):
        """All weight arrays, trainable or not (e.g. BatchNormalization's moving statistics)."""
        return self._weights

    def add_weight(self, name, shape, initializer="zeros", trainable=True):
        """Create a weight drawn from ``initializer``; a trainable one also gets a gradient
        buffer and is listed in ``params``."""
        shape = tuple(int(s) for s in shape)
        value = np.ascontiguousarray(initializers.get(initializer)(self._rng, shape),
                                     dtype=self.dtype)
        self._weights.append(value)
        self._weight_names.append(name)
        if trainable:
            self._params.append(value)
            self._grads.append(np.zeros_like(value))
            self._param_names.append(name)
        return value

    def trainable_pairs(self):
        """[(param, grad), ...] the optimizer updates: none when ``trainable`` is False."""
        return list(zip(self.params, self.grads)) if self.trainable else []

    def added_loss(self):
        """The term this layer adds to the model's loss: a weight penalty (L2), or a term of
        its last forward pass (a VAE's KL divergence, a mean over the batch); 0.0 for most
        layers. Protocol: ``backward`` already includes the term's gradient, so the model only
        adds the values to the loss it reports."""
        return 0.0

    @property
    def declared_input_shape(self):
        """The per-sample input shape given to the constructor (``input_shape=``), or None."""
        return self._declared_input_shape

    def count_params(self):
        return int(sum(w.size for w in self.weights))

    def get_weights(self):
        """Copies of all weights, in Keras's order and shapes."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Write ``weights`` (Keras's order and shapes) into the layer, in place."""
        weights = list(weights)
        if len(weights) != len(self.weights):
            raise ValueError(f"layer {self.name!r} has {len(self.weights)} weight arrays "
                             f"({', '.join(self.weight_names) or 'none'}), got {len(weights)}")
        for p, w, n in zip(self.weights, weights, self.weight_names):
            w = np.asarray(w)
            if w.shape != p.shape:
                raise ShapeError(f"layer {self.name!r} weight {n!r} has shape {p.shape}, "
                                 f"got {w.shape}")
            p[...] = w

    # -- building ---------------------------------------------------------------------------
    def build(self, input_shape):
        """Create weights for inputs of ``input_shape`` (with None batch axis)."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True

    def maybe_build(self, input_shape):
        if not self.built:
            self.build(tuple(input_shape))
        return self.output_shape

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _check_input(self, x):
        """Ensure x matches the shape the layer was built for; build on first use."""
        if not self.built:
            self.build((None,) + tuple(x.shape[1:]))
        elif x.shape[1:] != self.input_shape[1:]:
            raise ShapeError(
                f"layer {self.name or type(self).__name__!r} ({type(self).__name__}) expects "
                f"input of shape {self.input_shape} (batch first), got {x.shape}")
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        return x

    # -- the contract -----------------------------------------------------------------------
    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    def __call__(self, x, training=False):
        if _is_symbolic(x):  # the functional API: Dense(32)(Input(shape=(784,)))
            from .input import call_symbolic

            return call_symbolic(self, x)
        return self.forward(np.asarray(x), training=training)

    # -- configuration ----------------------------------------------------------------------
    def get_config(self):
        cfg = {"name": self.name, "trainable": self.trainable,
               "dtype": np.dtype(self.dtype).name}
        if self.seed is not None and not isinstance(self.seed, np.random.Generator):
            cfg["seed"] = self.seed
        if self.input_shape is not None:
            cfg["input_shape"] = list(self.input_shape[1:])
        elif self._declared_input_shape is not None:
            cfg["input_shape"] = list(self._declared_input_shape)
        return cfg

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _repr_args(self):
        return ""

    def __repr__(self):
        args = self._repr_args()
        if self.name:
            args = f"{args}, name={self.name!r}" if args else f"name={self.name!r}"
        return f"{type(self).__name__}({args})"


def _is_symbolic(x):
    if isinstance(x, (list, tuple)):
        return any(getattr(t, "_dlkit_symbolic", False) for t in x)
    return getattr(x, "_dlkit_symbolic", False)


def set_sublayer_weights(owner, layers, weights):
    """Split ``weights`` (the owner's flat list, in order) over ``layers`` and set each one's.
    Used by every layer made of layers (Sequential, TimeDistributed, Bidirectional)."""
    weights = list(weights)
    expected = sum(len(layer.weights) for layer in layers)
    if len(weights) != expected:
        raise ValueError(f"{owner} has {expected} weight arrays, got {len(weights)}")
    i = 0
    for layer in layers:
        k = len(layer.weights)
        layer.set_weights(weights[i:i + k])
        i += k


def _as_shape(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(None if s is None else int(s) for s in shape)
