"""The variational autoencoder's reparameterisation layer, and sampling from its prior.

A VAE (Kingma & Welling 2014, "Auto-Encoding Variational Bayes") encodes x to a Gaussian
q(z|x) = N(mu, diag(exp(logvar))) instead of a point, decodes a sample z of it, and is trained
on reconstruction loss + KL(q(z|x) || N(0, I)):

    encoder = Sequential([Dense(256, activation="relu", input_shape=(784,)),
                          Dense(2 * latent_dim),          # [mu | logvar] in one output
                          Sampling(kl_weight=1 / 784, seed=0)])
    decoder = Sequential([Dense(256, activation="relu", input_shape=(latent_dim,)),
                          Dense(784, activation="sigmoid")])
    vae = Sequential([encoder, decoder])
    vae.compile("adam", "binary_crossentropy");  vae.fit(x, x, ...)
    digits = sample_prior(decoder, 16, seed=1)   # decode z ~ N(0, I)

The KL term reaches the loss through the layers' *added loss* protocol (``Layer.added_loss``):
the layer reports the term it added in its last forward pass (a mean over the batch), and its
``backward`` already includes that term's gradient; the model adds the values to the loss it
reports.
"""
import numpy as np

from ..errors import ShapeError
from .base import Layer

__all__ = ["Sampling", "sample_prior"]


class Sampling(Layer):
    """Reparameterisation: z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) from the layer's own
    seeded generator, so that z is a differentiable function of (mu, logvar).

    x: (N, 2d) = [mu | logvar] along the last axis -> z: (N, d).
    Added loss: kl_weight * mean_n KL_n, with
        KL_n = -1/2 * sum_j (1 + logvar_nj - mu_nj^2 - exp(logvar_nj))
    and gradients  dKL/dmu = mu,  dKL/dlogvar = (exp(logvar) - 1) / 2  (per sample, / N).
    kl_weight: 1 gives the ELBO of a loss summed over the outputs; with dlkit's (and Keras's)
    binary cross-entropy, a *mean* over the d_out outputs, use 1 / d_out for the same ELBO
    (scaled by 1 / d_out), larger values for a beta-VAE (Higgins et al. 2017).

    Deviations from the layer in Keras's VAE example, which takes [mu, logvar] as two tensors
    and always samples: dlkit's models are chains, so mu and logvar come as one tensor; and at
    inference (``training=False``: predict, evaluate) z = mu, so reconstructions and latent
    plots are deterministic (as the noise layers). The KL term is computed in both modes.
    """

    def __init__(self, kl_weight=1.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if not isinstance(kl_weight, (int, float, np.floating, np.integer)) or not kl_weight >= 0:
            raise ValueError(f"Sampling kl_weight must be a number >= 0, got {kl_weight!r}")
        self.kl_weight = float(kl_weight)
        self._kl = 0.0

    def compute_output_shape(self, input_shape):
        two_d = input_shape[-1]
        if two_d is None or two_d % 2:
            raise ShapeError(
                f"Sampling {self.name!r} takes [mean | log-variance] along the last axis, so its "
                f"last input dimension must be even, got input shape {input_shape}; give the "
                "layer before it 2 * latent_dim units")
        return tuple(input_shape[:-1]) + (two_d // 2,)

    def forward(self, x, training=False):
        x = self._check_input(x)
        d = x.shape[-1] // 2
        mu, logvar = x[..., :d], x[..., d:]
        n = x.size // (2 * d)
        var = np.exp(logvar)
        # sums in float64: the KL of a float32 batch loses digits otherwise
        kl_sum = -0.5 * float(np.sum(1.0 + logvar - mu * mu - var, dtype=np.float64))
        self._kl = self.kl_weight * kl_sum / n
        self._mu, self._var, self._n = mu, var, n
        if not training:
            self._eps = None
            return np.ascontiguousarray(mu)
        eps = self._rng.standard_normal(mu.shape, dtype=self.dtype)
        self._sigma_eps = np.sqrt(var) * eps  # exp(logvar / 2) * eps, kept for backward
        self._eps = eps
        return mu + self._sigma_eps

    def added_loss(self):
        """kl_weight * (mean over the batch of KL_n) from the last forward pass."""
        return self._kl

    def backward(self, dz):
        """dz: (N, d) -> dx: (N, 2d) = [dL/dmu | dL/dlogvar], KL gradient included."""
        c = self.dtype(self.kl_weight / self._n)
        dmu = dz + c * self._mu
        dlogvar = c * self.dtype(0.5) * (self._var - 1)
        if self._eps is not None:
            dlogvar += self.dtype(0.5) * dz * self._sigma_eps   # dz/dlogvar = sigma * eps / 2
        return np.concatenate([dmu, dlogvar], axis=-1).astype(self.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "kl_weight": self.kl_weight}

    def _repr_args(self):
        return f"kl_weight={self.kl_weight:g}"


def sample_prior(decoder, n, seed=None):
    """Decode n draws z ~ N(0, I) from the VAE's prior: (n, *decoder output shape).

    decoder: a model (or layer) mapping (N, d) codes to outputs; d is read from its input shape.
    """
    from .._random import make_rng

    if decoder.input_shape is None:
        raise ValueError("the decoder is not built yet: give its first layer input_shape=(d,)")
    z = make_rng(seed).standard_normal((int(n),) + tuple(decoder.input_shape[1:]))
    z = z.astype(decoder.dtype)
    return decoder.predict(z) if hasattr(decoder, "predict") else decoder.forward(z)
