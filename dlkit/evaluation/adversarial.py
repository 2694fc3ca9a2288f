"""Adversarial examples (chapter 11): the gradient of a classifier's loss with respect to its
input, and the fast gradient sign method (FGSM, Goodfellow, Shlens and Szegedy 2015)."""
import numpy as np

from .classification import _labels

__all__ = ["input_gradient", "fgsm"]


def input_gradient(model, x, y, batch_size=256):
    """d CE(y_i, model(x_i)) / d x_i for every sample: the gradient of each sample's own
    cross-entropy with respect to its input (the mean over a batch would divide it by N).

    model: a Sequential classifier ending in a softmax; x: (N, *input_shape); y: labels (N,)
    or one-hot rows. Returns an array of x's shape. The softmax and the cross-entropy fuse:
    dL/dz = p - onehot(y) at the logits z, then backpropagation down to the input.
    """
    if getattr(model.output_layer, "activation", None) != "softmax":
        raise ValueError("input_gradient needs a classifier whose last layer has a softmax")
    x = np.asarray(x)
    if x.shape[1:] != tuple(model.input_shape[1:]):
        raise ValueError(f"input_gradient: the model expects inputs of shape "
                         f"{model.input_shape}, got x of shape {x.shape}")
    labels = _labels(y, "y")
    if labels.shape != (len(x),):
        raise ValueError(f"{len(x)} inputs but {labels.size} labels")
    x = np.ascontiguousarray(x, dtype=model.dtype)       # as fit and predict cast it
    out = np.empty_like(x)
    saved = model.skip_input_grad
    model.skip_input_grad = False   # fit skips dL/dx at the first layer; we need it
    try:
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size], labels[i:i + batch_size]
            p = model.forward(xb, training=False)
            if yb.size and (yb.min() < 0 or yb.max() >= p.shape[-1]):
                raise ValueError(f"labels must lie in [0, {p.shape[-1] - 1}]")
            dz = p.copy()
            dz[np.arange(len(xb)), yb] -= 1.0                  # p - onehot(y), per sample
            out[i:i + batch_size] = model.backward_logits(dz)
    finally:
        model.skip_input_grad = saved
    return out


def fgsm(model, x, y, epsilon, clip=(0.0, 1.0)):
    """Fast gradient sign method: x_adv = clip(x + epsilon * sign(dL/dx)), the step of size
    epsilon per pixel (L-infinity) that raises the loss most to first order. clip: the valid
    pixel range, or None. Returns x_adv, of x's shape and dtype."""
    if epsilon < 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon}")
    x = np.asarray(x)
    x_adv = x + epsilon * np.sign(input_gradient(model, x, y))
    if clip is not None:
        x_adv = np.clip(x_adv, *clip)
    return x_adv.astype(x.dtype)
