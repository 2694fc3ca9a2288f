"""Recurrent layers: SimpleRNN, GRU, LSTM (Keras 3 names, arguments and weight layouts).

x: (N, T, D) -> (N, T, u) with return_sequences=True, else (N, u) (the last step's output).

Each layer runs its whole sequence, and its whole backpropagation through time, in one
Numba call (``dlkit.kernels.recurrent``), caching every step's gate values so that backward
is exact. The plain NumPy versions of the same formulas are in ``dlkit.reference.recurrent``.
What the three share (states, masks, go_backwards, the input projection x_t W + b for all
steps at once) is in ``dlkit.layers.rnn_base``.
"""
import numpy as np

from .. import activations, initializers, kernels
from .rnn_base import RecurrentBase

__all__ = ["SimpleRNN", "GRU", "LSTM"]


class SimpleRNN(RecurrentBase):
    """Elman network: h_t = f(x_t W + h_{t-1} U + b), f = tanh by default.

    kernel W: (D, u), recurrent_kernel U: (u, u), bias b: (u,) (Keras layout).
    """

    def _run(self, states):
        mask, has_mask = self._mask_args()
        # for t = 1..T: H[t] = f(Z[t-1] + H[t-1] U), Z = x W + b from the projection
        kernels.recurrent.simple_rnn_forward(self._Z, self.recurrent_kernel, mask, has_mask,
                                             self._act, self._alpha, self._H, self._chunks)

    def _bptt(self, dH, seq, dh, dc):
        mask, has_mask = self._mask_args()
        dZ = np.empty_like(self._Z)
        # for t = T..1: dZ[t-1] = (dH[t] + dh) * f'(.);  dh = dZ[t-1] U^T  (BPTT)
        kernels.recurrent.simple_rnn_backward(dH, seq, mask, has_mask, self._Z, self._H,
                                              self._ut(), self._act, self._alpha, dh, dZ,
                                              self._chunks)
        return dZ, dZ


class _Gated(RecurrentBase):
    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.resolve(recurrent_activation)
        if self.recurrent_activation == "softmax":
            raise ValueError("recurrent_activation must be element-wise (e.g. 'sigmoid')")
        self._ract, self._ralpha = activations.code(self.recurrent_activation, self.dtype)

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation}


class LSTM(_Gated):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), Keras's formulation:

        [i, f, c~, o] = split(x_t W + h_{t-1} U + b)      (gate order i, f, c, o)
        i, f, o = sigmoid(.);  g = tanh(c~)
        c_t = f * c_{t-1} + i * g;   h_t = o * tanh(c_t)

    kernel W: (D, 4u), recurrent_kernel U: (u, 4u), bias: (4u,). unit_forget_bias=True (the
    Keras default) starts the forget gate's bias at 1, so early on the cell remembers
    (Jozefowicz et al. 2015).
    """

    _gates = 4
    _has_cell = True

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, u = initializers.get(self.bias_initializer), self.units

        def forget_ones(rng, shape):
            return np.concatenate([init(rng, (u,)), np.ones(u), init(rng, (2 * u,))])
        return forget_ones

    def _run(self, states):
        t, n, _ = self._Z.shape
        self._C = np.empty((t + 1, n, self.units), dtype=self.dtype)
        self._C[0] = states[1]
        self._A = np.empty_like(self._Z)
        self._S = np.empty((t, n, self.units), dtype=self.dtype)
        mask, has_mask = self._mask_args()
        # caches the gates A = [i, f, g, o], the cells C and S = tanh(c_t) for backward
        kernels.recurrent.lstm_forward(self._Z, self.recurrent_kernel, mask, has_mask, self._act,
                                       self._alpha, self._ract, self._ralpha, self._A, self._C,
                                       self._S, self._H, self._chunks)

    def _bptt(self, dH, seq, dh, dc):
        mask, has_mask = self._mask_args()
        dZ = np.empty_like(self._Z)
        kernels.recurrent.lstm_backward(dH, seq, mask, has_mask, self._Z, self._A, self._C,
                                        self._S, self._ut(), self._act, self._alpha, self._ract,
                                        self._ralpha, dh, dc, dZ, self._chunks)
        return dZ, dZ

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRU(_Gated):
    """Gated recurrent unit (Cho et al. 2014), Keras's default ``reset_after=True`` form
    (the one cuDNN uses), gate order z, r, h:

        [xz, xr, xh] = x_t W + b_in;   [rz, rr, rh] = h_{t-1} U + b_rec
        z = sigmoid(xz + rz);  r = sigmoid(xr + rr);  hh = tanh(xh + r * rh)
        h_t = z * h_{t-1} + (1 - z) * hh

    kernel W: (D, 3u), recurrent_kernel U: (u, 3u), bias: (2, 3u) = [b_in, b_rec].
    reset_after=False (the 2014 paper's order, r applied before U) is not implemented.
    """

    _gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        if not reset_after:
            raise ValueError("GRU(reset_after=False) is not implemented; dlkit implements "
                             "Keras's default reset_after=True (bias shape (2, 3*units))")
        super().__init__(units, **kwargs)
        self.reset_after = True

    def _bias_shape(self):
        return (2, 3 * self.units)

    def _input_bias(self):
        return self.bias[0]

    def _bias_grads(self):
        return self._dbias[0], self._dbias[1]

    def _run(self, states):
        t, n, _ = self._Z.shape
        self._A = np.empty_like(self._Z)
        self._RH = np.empty((t, n, self.units), dtype=self.dtype)
        mask, has_mask = self._mask_args()
        # caches the gates A = [z, r, hh] and h_{t-1} U_h + b_rec,h in RH for backward
        kernels.recurrent.gru_forward(self._Z, self.recurrent_kernel, self.bias[1], mask,
                                      has_mask, self._act, self._alpha, self._ract, self._ralpha,
                                      self._A, self._RH, self._H, self._chunks)

    def _bptt(self, dH, seq, dh, dc):
        mask, has_mask = self._mask_args()
        dP = np.empty_like(self._Z)
        dR = np.empty_like(self._Z)
        kernels.recurrent.gru_backward(dH, seq, mask, has_mask, self._Z, self._A, self._RH,
                                       self._H, self._ut(), self._act, self._alpha, self._ract,
                                       self._ralpha, dh, dP, dR, self._chunks)
        return dP, dR

    def get_config(self):
        return {**super().get_config(), "reset_after": True}
