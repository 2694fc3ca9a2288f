"""What the recurrent layers share (``RecurrentBase``): arguments, weights, input checks, the
time-major layout, go_backwards, states, masks, and the input projection and its gradients
around the sequence kernels. ``dlkit.layers.recurrent`` defines the cells on top of it.

States (``return_state=True``), as Keras: calling the layer on its own, ``layer(x)`` returns
``[output, h_T]`` (SimpleRNN, GRU) or ``[output, h_T, c_T]`` (LSTM). ``forward`` always returns
the output alone (so the layer can sit in a Sequential, which passes one array from layer to
layer; the states are then in ``layer.states``). ``backward`` takes either ``dy`` or the list
``[dy, dh_T]`` / ``[dy, dh_T, dc_T]`` (any entry may be None): the gradients of the loss
w.r.t. what ``layer(x)`` returned. With ``initial_state=[h_0(, c_0)]`` given to forward,
backward leaves dL/dh_0 (and dL/dc_0) in ``layer.initial_state_grads``.

Masks: ``forward(x, mask=m)`` with m: (N, T) bool skips the steps where m is False: the state
is carried over unchanged, as Keras does. ``Embedding(mask_zero=True)`` makes that mask from
padding id 0 (``Embedding.compute_mask``); see dlkit.layers.embedding for how it reaches a
recurrent layer inside a Sequential.
"""
import numpy as np

from .. import activations, kernels
from .._threads import chunks
from ..errors import ShapeError
from .base import Layer

__all__ = ["RecurrentBase", "check_sequence_input"]


#: The fewest samples a thread's block may have: below that the per-step products get too
#: small to pay for the thread.
MIN_ROWS_PER_THREAD = 8


def check_sequence_input(layer, x):
    """Rank-3 float input of the right feature size (and length, if fixed); builds the layer."""
    x = np.asarray(x)
    what = f"layer {layer.name or type(layer).__name__!r} ({type(layer).__name__})"
    if x.ndim != 3:
        hint = ""
        if x.ndim == 2:
            hint = (" (a rank-2 array: for one sequence of shape (time, features) use x[None]; "
                    "for flat MNIST images use x.reshape(len(x), 28, 28), 28 steps of 28 pixels)")
        raise ShapeError(f"{what} expects a 3-D input of shape (batch, time, features), got "
                         f"shape {x.shape}{hint}")
    if not layer.built:
        declared = layer.declared_input_shape
        layer.build((None,) + (declared if declared is not None else x.shape[1:]))
    _, steps, feats = layer.input_shape
    if x.shape[2] != feats:
        raise ShapeError(f"{what} was built for {feats} features per step (input shape "
                         f"(batch, time, features) = {layer.input_shape}), got {x.shape[2]} "
                         f"features (input shape {x.shape})")
    if steps is not None and x.shape[1] != steps:
        raise ShapeError(f"{what} was built for sequences of {steps} time steps (input shape "
                         f"(batch, time, features) = {layer.input_shape}), got {x.shape[1]} "
                         f"steps (input shape {x.shape}); pad or cut the sequences to {steps} "
                         f"steps, or declare input_shape=(None, {feats}) for any length")
    if x.dtype != layer.dtype:
        x = x.astype(layer.dtype)
    return x


class RecurrentBase(Layer):
    """What SimpleRNN, GRU and LSTM share: arguments, weights, input checks, the time-major
    layout, go_backwards, states and masks. Subclasses set ``_gates`` and the two kernel calls
    ``_run`` (the forward recursion) and ``_bptt`` (backpropagation through time)."""

    _gates = 1
    _has_cell = False
    supports_masking = True   # Sequential passes the previous layer's output_mask

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", return_sequences=False, return_state=False,
                 go_backwards=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"{type(self).__name__} units must be a positive integer, "
                             f"got {units!r}")
        self.units = int(units)
        self.activation = activations.resolve(activation)
        if self.activation == "softmax":
            raise ValueError("softmax is not an element-wise activation; use it in a Dense "
                             "layer after the recurrent one")
        self._act, self._alpha = activations.code(self.activation, self.dtype)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.states = None
        self.initial_state_grads = None

    # -- weights ----------------------------------------------------------------------------
    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ShapeError(f"{type(self).__name__} expects inputs of shape (batch, time, "
                             f"features), got input shape {tuple(input_shape)}")
        d_in = input_shape[-1]
        if d_in is None:
            raise ShapeError(f"{type(self).__name__} needs a known number of features, got "
                             f"input shape {tuple(input_shape)}")
        g = self._gates * self.units
        self.kernel = self.add_weight("kernel", (d_in, g), self.kernel_initializer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, g),
                                                self.recurrent_initializer)
        if self.use_bias:
            self.bias = self.add_weight("bias", self._bias_shape(), self._bias_init())
            self._dbias = self.grads[2]
        else:
            self.bias = np.zeros(self._bias_shape(), dtype=self.dtype)
            self._dbias = np.zeros_like(self.bias)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (input_shape[0], input_shape[1], self.units)
        return (input_shape[0], self.units)

    # -- forward ----------------------------------------------------------------------------
    def __call__(self, x, training=False, initial_state=None, mask=None):
        """As Keras: the output, or [output, *final states] with return_state=True."""
        if getattr(x, "_dlkit_symbolic", False):   # the functional API
            return super().__call__(x, training=training)
        y = self.forward(np.asarray(x), training=training, initial_state=initial_state,
                         mask=mask)
        return [y] + list(self.states) if self.return_state else y

    def forward(self, x, training=False, initial_state=None, mask=None):
        """x: (N, T, D) -> (N, T, u) or (N, u). initial_state: [h_0] or [h_0, c_0], each (N, u);
        mask: (N, T) bool or None. Final states go to ``self.states``."""
        x = check_sequence_input(self, x)
        n, t, d = x.shape
        if t == 0:
            raise ShapeError(f"{type(self).__name__} got sequences of length 0")
        if self.go_backwards:
            x = x[:, ::-1]
        X = np.ascontiguousarray(x.transpose(1, 0, 2))              # (T, N, D)
        self._mask = self._time_major_mask(mask, n, t)
        g, u = self._gates * self.units, self.units
        Z = np.empty((t, n, g), dtype=self.dtype)
        self._blocks = chunks(n * t, min_rows=MIN_ROWS_PER_THREAD)
        kernels.projection.project(X.reshape(t * n, d), self.kernel, self._input_bias(),
                           Z.reshape(t * n, g), self._blocks)
        H = np.empty((t + 1, n, u), dtype=self.dtype)
        states = self._initial_states(initial_state, n)
        H[0] = states[0]
        self._chunks = chunks(n, min_rows=MIN_ROWS_PER_THREAD)
        self._X, self._Z, self._H = X, Z, H
        self._run(states)
        self.states = [H[t].copy()] + ([self._C[t].copy()] if self._has_cell else [])
        self._seq_shape = (n, t, d)
        if self.return_sequences:
            return np.ascontiguousarray(H[1:].transpose(1, 0, 2))
        return H[t].copy()

    def _input_bias(self):
        return self.bias

    def _time_major_mask(self, mask, n, t):
        if mask is None:
            return None
        mask = np.asarray(mask)
        if mask.shape != (n, t):
            raise ShapeError(f"{type(self).__name__} mask must have shape (batch, time) = "
                             f"{(n, t)}, got {mask.shape}")
        if self.go_backwards:
            mask = mask[:, ::-1]
        return np.ascontiguousarray(mask.T, dtype=np.uint8)

    def _initial_states(self, initial_state, n):
        count = 2 if self._has_cell else 1
        if initial_state is None:
            self._given_state = False
            return [np.zeros((n, self.units), dtype=self.dtype) for _ in range(count)]
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if len(states) != count:
            raise ValueError(f"{type(self).__name__} takes initial_state=[{'h_0, c_0' if count == 2 else 'h_0'}]"
                             f" ({count} arrays), got {len(states)}")
        out = []
        for s in states:
            s = np.asarray(s, dtype=self.dtype)
            if s.shape != (n, self.units):
                raise ShapeError(f"{type(self).__name__} initial states must have shape "
                                 f"(batch, units) = {(n, self.units)}, got {s.shape}")
            out.append(np.ascontiguousarray(s))
        self._given_state = True
        return out

    def _mask_args(self):
        if self._mask is None:
            return np.ones((1, 1), dtype=np.uint8), False
        return self._mask, True

    # -- backward ---------------------------------------------------------------------------
    def backward(self, dy):
        """dy: dL/d output, or [dy, dh_T(, dc_T)] as ``layer(x)`` returned (None for zero).
        Returns dx: (N, T, D) (None when skip_input_grad); fills grads (kernel,
        recurrent_kernel, bias)."""
        n, t, d = self._seq_shape
        u = self.units
        dstates = []
        if isinstance(dy, (list, tuple)):
            dy, *dstates = dy
        dh = np.zeros((n, u), dtype=self.dtype)
        dc = np.zeros((n, u), dtype=self.dtype)
        for acc, ds in zip((dh, dc), dstates):
            if ds is not None:
                acc += ds
        seq = self.return_sequences and dy is not None
        dH = np.zeros((1, 1, 1), dtype=self.dtype)
        if dy is not None:
            dy = np.asarray(dy, dtype=self.dtype)
            if seq:
                dH = np.ascontiguousarray(dy.transpose(1, 0, 2))
            else:
                dh += dy
        dP, dR = self._bptt(dH, seq, dh, dc)
        g = self._gates * u
        need_dx = not self.skip_input_grad
        dX = np.empty((t * n, d), dtype=self.dtype) if need_dx else np.empty((1, 1), self.dtype)
        db_in, db_rec = self._bias_grads()
        kernels.projection.dense_grads(self._X.reshape(t * n, d), dP.reshape(t * n, g), self.kernel,
                               self.grads[0], db_in, self.use_bias, dX, need_dx, self._blocks)
        kernels.projection.dense_grads(self._H[:t].reshape(t * n, u), dR.reshape(t * n, g),
                               self.recurrent_kernel, self.grads[1], db_rec,
                               self.use_bias and db_rec is not db_in, dX, False, self._blocks)
        if self._given_state:
            self.initial_state_grads = [dh, dc] if self._has_cell else [dh]
        if not need_dx:
            return None
        dx = dX.reshape(t, n, d).transpose(1, 0, 2)
        if self.go_backwards:
            dx = dx[:, ::-1]
        return np.ascontiguousarray(dx)

    def _bias_grads(self):
        return self._dbias, self._dbias

    def _ut(self):
        return kernels.gemm.transposed(self.recurrent_kernel)

    def hidden_states(self):
        """(N, T, u): h_t of every step of the last forward call, in processing order
        (reversed in time when go_backwards)."""
        return np.ascontiguousarray(self._H[1:].transpose(1, 0, 2))

    # -- configuration ----------------------------------------------------------------------
    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer,
                "recurrent_initializer": self.recurrent_initializer,
                "bias_initializer": self.bias_initializer,
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards}

    def _repr_args(self):
        args = [str(self.units)]
        for flag in ("return_sequences", "return_state", "go_backwards"):
            if getattr(self, flag):
                args.append(f"{flag}=True")
        return ", ".join(args)
