"""Looking inside a trained classifier: confusion matrices, misclassified digits, saliency,
occlusion and LIME maps (the book's chapters 7 and 11).

    from dlkit import viz
    viz.plot_confusion_matrix(cm)
    viz.plot_misclassified(x_test, y_test, model.predict(x_test))
    s = viz.saliency_map(model, x[:8])               # |d z_c / d x|, the shape of x
    h = viz.occlusion_map(model, x[0], patch=6)      # (H, W): drop in p_c when a patch is hidden
    m = viz.lime_map(model, x[0], patch=4, seed=0)   # (H, W): LIME's weight of each patch
    viz.plot_explanations(x[:8], s, title="Saliency")

The plot functions draw with pyplot (shown once by ``%matplotlib inline``; end the line with
``;`` so the returned figure is not shown a second time) and return the Figure.
"""
import numpy as np

__all__ = ["saliency_map", "occlusion_map", "lime_map", "plot_confusion_matrix",
           "plot_misclassified", "plot_explanations"]


def _class_indices(y, class_index):
    n, k = y.shape[0], y.shape[-1]
    if class_index is None:
        return y.reshape(n, -1, k)[:, -1].argmax(axis=1)
    c = np.broadcast_to(np.asarray(class_index, dtype=np.int64), (n,))
    if c.min() < 0 or c.max() >= k:
        raise ValueError(f"class_index must lie in [0, {k - 1}], got {class_index}")
    return c


def saliency_map(model, x, class_index=None, batch_size=256):
    """Vanilla gradient saliency (Simonyan, Vedaldi and Zisserman 2014): |d z_c / d x|.

    model: a Sequential classifier; x: (N, *input_shape) -> (N, *input_shape) (float32).
    z_c is the score of class c before the softmax (the logit), c = the predicted class unless
    ``class_index`` (an int or (N,) ints) says otherwise. A large value marks a pixel whose
    small change would move the class score most. If the output has no softmax/sigmoid the
    gradient of the output itself is used.
    """
    x = np.asarray(x)
    if x.shape[1:] != tuple(model.input_shape[1:]):
        raise ValueError(f"saliency_map: the model expects inputs of shape "
                         f"{model.input_shape}, got x of shape {x.shape}")
    first = model
    while hasattr(first, "layers"):
        first = first.layers[0]
    x = np.ascontiguousarray(x, dtype=first.dtype)   # float64 models give float64 maps
    logits = getattr(model.output_layer, "activation", None) in ("softmax", "sigmoid")
    out = np.empty_like(x)
    saved = model.skip_input_grad
    model.skip_input_grad = False   # we want dL/dx, which fit skips computing
    try:
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size]
            y = model.forward(xb, training=False)
            c = _class_indices(y, None if class_index is None
                               else np.broadcast_to(class_index, (len(x),))[i:i + batch_size])
            dy = np.zeros_like(y).reshape(len(xb), -1, y.shape[-1])
            dy[np.arange(len(xb)), -1, c] = 1.0
            dy = dy.reshape(y.shape)
            dx = model.backward_logits(dy) if logits else model.backward(dy)
            out[i:i + batch_size] = np.abs(dx)
    finally:
        model.skip_input_grad = saved
    return out


def occlusion_map(model, image, patch=6, stride=2, fill=0.0, class_index=None, image_shape=None):
    """Occlusion sensitivity (Zeiler and Fergus 2014) for one input.

    image: one sample in the model's input shape (e.g. (784,) or (28, 28, 1)); image_shape:
    its (H, W) layout when that is not the first two axes (default: (28, 28) for 784 inputs).
    A patch x patch square of ``fill`` slides with ``stride`` over the image; for each
    position the model's probability of class c (the predicted class unless given) is
    recomputed. Returns heat: (H, W), at each pixel the mean drop p_c(image) - p_c(occluded)
    over the patches covering it: large where hiding the pixel hurts the prediction.
    """
    image = np.asarray(image, dtype=model.dtype)
    per_sample = tuple(model.input_shape[1:])
    if image.shape != per_sample:
        raise ValueError(f"occlusion_map takes one sample of shape {per_sample}, got "
                         f"{image.shape}; pass x[i], not x[i:i+1]")
    if image_shape is None:
        image_shape = (28, 28) if image.ndim == 1 and image.size == 784 else image.shape[:2]
    h, w = image_shape
    if image.size % (h * w):
        raise ValueError(f"image_shape {image_shape} does not divide an input of {image.size} values")
    grid = image.reshape(h, w, -1)
    if not 1 <= patch <= min(h, w) or stride < 1:
        raise ValueError(f"need 1 <= patch <= {min(h, w)} and stride >= 1, got {patch}, {stride}")
    base = model.predict(image[None])[0].reshape(-1)
    c = int(base.argmax()) if class_index is None else int(class_index)
    tops = list(range(0, h - patch + 1, stride))
    lefts = list(range(0, w - patch + 1, stride))
    batch = np.repeat(grid[None], len(tops) * len(lefts), axis=0)
    pos = [(i, j) for i in tops for j in lefts]
    for b, (i, j) in enumerate(pos):
        batch[b, i:i + patch, j:j + patch] = fill
    probs = model.predict(batch.reshape((len(batch),) + per_sample), batch_size=256)
    drop = base[c] - probs.reshape(len(batch), -1)[:, c]
    heat = np.zeros((h, w))
    count = np.zeros((h, w))
    for d, (i, j) in zip(drop, pos):
        heat[i:i + patch, j:j + patch] += d
        count[i:i + patch, j:j + patch] += 1
    return np.divide(heat, count, out=np.zeros_like(heat), where=count > 0)


def lime_map(model, image, patch=4, num_samples=1000, kernel_width=0.25, ridge=1.0, fill=0.0,
             class_index=None, seed=0, image_shape=None):
    """LIME (Ribeiro, Singh and Guestrin 2016) for one input, with square patches as the
    interpretable features ("superpixels").

    The image is cut into d patches of patch x patch pixels (the last row and column of patches
    may be smaller). Sample i switches each patch on or off, z_i in {0, 1}^d (z_0 = all on: the
    image itself; the others uniformly at random from ``np.random.default_rng(seed)``), and the
    model gives f_i = p_c(image with the off patches set to ``fill``). Each sample is weighted by
    the kernel pi_i = exp(-D_i^2 / kernel_width^2) of its cosine distance to the image,
    D_i = 1 - cos(z_i, 1) = 1 - sqrt(|z_i| / d), and a weighted ridge regression
    f_i ~ b + z_i . beta (penalty ridge * |beta|^2, the intercept b not penalised) is fitted.
    beta_j is patch j's contribution to p_c near this image. c = the predicted class unless
    ``class_index`` is given. image: one sample in the model's input shape; image_shape: as in
    ``occlusion_map``. Returns (H, W): every pixel holds its patch's beta.
    """
    image = np.asarray(image, dtype=model.dtype)
    per_sample = tuple(model.input_shape[1:])
    if image.shape != per_sample:
        raise ValueError(f"lime_map takes one sample of shape {per_sample}, got {image.shape}; "
                         "pass x[i], not x[i:i+1]")
    if image_shape is None:
        image_shape = (28, 28) if image.ndim == 1 and image.size == 784 else image.shape[:2]
    h, w = image_shape
    if image.size % (h * w):
        raise ValueError(f"image_shape {image_shape} does not divide an input of {image.size} "
                         "values")
    if not 1 <= patch <= min(h, w) or num_samples < 2 or kernel_width <= 0 or ridge < 0:
        raise ValueError(f"need 1 <= patch <= {min(h, w)}, num_samples >= 2, kernel_width > 0 "
                         f"and ridge >= 0, got {patch}, {num_samples}, {kernel_width}, {ridge}")
    cols = -(-w // patch)
    segment = (np.arange(h)[:, None] // patch) * cols + np.arange(w)[None, :] // patch   # (H, W)
    d = int(segment.max()) + 1
    z = np.random.default_rng(seed).random((num_samples, d)) < 0.5                     # (n, d)
    z[0] = True
    keep = z[:, segment]                                                                 # (n, H, W)
    grid = image.reshape(h, w, -1)
    batch = np.where(keep[..., None], grid, np.asarray(fill, dtype=image.dtype))
    probs = model.predict(batch.reshape((num_samples,) + per_sample), batch_size=256)
    probs = probs.reshape(num_samples, -1)
    c = int(probs[0].argmax()) if class_index is None else int(class_index)
    f = probs[:, c].astype(np.float64)
    distance = 1 - np.sqrt(z.sum(axis=1) / d)
    pi = np.exp(-distance ** 2 / kernel_width ** 2)
    A = np.hstack([np.ones((num_samples, 1)), z])                                      # (n, 1 + d)
    penalty = ridge * np.eye(d + 1)
    penalty[0, 0] = 0.0
    coef = np.linalg.solve(A.T @ (pi[:, None] * A) + penalty, A.T @ (pi * f))
    return coef[1:][segment]


def _as_images(x):
    """(N, 784) / (N, 28, 28) / (N, 28, 28, 1) -> (N, H, W) for imshow."""
    x = np.asarray(x)
    if x.ndim == 2:
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise ValueError(f"cannot show rows of {x.shape[1]} values as square images")
        return x.reshape(len(x), side, side)
    if x.ndim == 4:
        return x[..., 0] if x.shape[-1] == 1 else x.mean(axis=-1)
    return x


def plot_confusion_matrix(cm, normalize=False, class_names=None, title="Confusion matrix",
                          ax=None):
    """Heat map of a confusion matrix (rows: true class, columns: predicted), each cell
    annotated with its count (or, with normalize=True, the fraction of its row = per-class
    recall on the diagonal)."""
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    k = cm.shape[0]
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.45 * k + 2.5, 0.45 * k + 2))
    else:
        fig = ax.figure
    im = ax.imshow(shown, cmap="Blues")
    names = class_names if class_names is not None else [str(i) for i in range(k)]
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    hi = shown.max() if shown.size else 1
    for i in range(k):
        for j in range(k):
            v = shown[i, j]
            if v:
                ax.text(j, i, f"{v:.2f}" if normalize else str(int(v)), ha="center",
                        va="center", fontsize=7, color="white" if v > 0.5 * hi else "black")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04,
                 label="fraction of the row" if normalize else "number of samples")
    return fig


def plot_misclassified(x, y_true, y_pred, n=12, cols=6, title="Misclassified test digits"):
    """A grid of the first ``n`` samples whose predicted class differs from the true one.

    x: images (N, 784), (N, 28, 28) or (N, 28, 28, 1); y_true: labels (N,) or one-hot;
    y_pred: labels (N,) or probabilities (N, K) (then the panel shows the predicted class's
    probability too).
    """
    import matplotlib.pyplot as plt

    from ..evaluation import _labels

    images = _as_images(x)
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    wrong = np.flatnonzero(t != p)[:n]
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.5 * cols, 1.75 * rows + 0.6), squeeze=False)
    probs = np.asarray(y_pred) if np.ndim(y_pred) == 2 else None
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_frame_on(False)
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(images[i], cmap="gray_r")
        extra = f" ({probs[i, p[i]]:.2f})" if probs is not None else ""
        ax.set_title(f"{t[i]} → {p[i]}{extra}", fontsize=9)
    fig.suptitle(f"{title}: true → predicted" + (" (probability)" if probs is not None else ""))
    fig.supxlabel("pixel column (28 per image)", fontsize=9)
    fig.supylabel("pixel row", fontsize=9)
    fig.tight_layout()
    return fig


def plot_explanations(images, maps, titles=None, title="Saliency", cmap="hot", map_label="saliency",
                      symmetric=False):
    """Two rows: the input images, and below each its map (saliency, occlusion, LIME, ...).
    ``map_label`` names the second row (its y-axis label); ``title`` is the figure's title.
    symmetric=True colours each map over [-max|map|, max|map|], so that 0 is the middle of a
    diverging ``cmap`` (for signed maps such as LIME's weights).

    images: (n, 784), (n, H, W) or (n, H, W, 1); maps: the same number of maps of any of
    those shapes (a map with channels is reduced by its maximum over them).
    """
    import matplotlib.pyplot as plt

    images = _as_images(images)
    maps = np.asarray(maps)
    maps = maps.max(axis=-1) if maps.ndim == 4 else _as_images(maps)
    n = len(images)
    if len(maps) != n:
        raise ValueError(f"{n} images but {len(maps)} maps")
    fig, axes = plt.subplots(2, n, figsize=(1.5 * n + 0.4, 3.6), squeeze=False)
    for k in range(n):
        axes[0, k].imshow(images[k], cmap="gray_r")
        limit = np.abs(maps[k]).max() if symmetric else None
        axes[1, k].imshow(maps[k], cmap=cmap, vmin=None if limit is None else -limit,
                          vmax=limit)
        if titles is not None:
            axes[0, k].set_title(str(titles[k]), fontsize=9)
        for ax in axes[:, k]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("input")
    axes[1, 0].set_ylabel(map_label)
    fig.suptitle(title)
    fig.supxlabel("pixel column", fontsize=9)
    fig.tight_layout()
    return fig
