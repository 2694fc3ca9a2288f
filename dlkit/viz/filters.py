"""What a CNN learned: its first layer's filters, and the feature maps one image produces,
layer by layer.

    viz.plot_filters(model.layers[0])            # each 3x3 kernel as a small grey image
    viz.plot_feature_maps(model, x_test[0])      # one row per conv/pool layer

Both return a ``matplotlib.figure.Figure`` (shown as a PNG in a notebook).
"""
import numpy as np

from .render import new_figure

__all__ = ["plot_filters", "plot_feature_maps", "feature_maps"]


def _grid(n, max_cols):
    cols = min(n, max_cols)
    return (n + cols - 1) // cols, cols


def plot_filters(layer, channel=None, max_filters=64, cols=8, cmap="gray"):
    """One small image per filter of a Conv2D layer (or a kernel array (kh, kw, C, F)).

    channel: which input channel to show; None averages over channels (for a first layer on
    grey images there is one). Each filter is scaled to its own range, light = large weight.
    """
    kernel = np.asarray(getattr(layer, "kernel", layer), dtype=np.float64)
    if kernel.ndim != 4:
        raise ValueError(f"plot_filters takes a Conv2D layer or a (kh, kw, C, F) kernel, got an "
                         f"array of shape {kernel.shape}")
    k = kernel.mean(axis=2) if channel is None else kernel[:, :, channel, :]
    n = min(k.shape[-1], max_filters)
    rows, cols = _grid(n, cols)
    fig = new_figure(figsize=(1.1 * cols, 1.1 * rows + 0.4))
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < n:
            ax.imshow(k[:, :, i], cmap=cmap, interpolation="nearest")
            ax.set_title(str(i), fontsize=7)
    name = getattr(layer, "name", None) or "kernel"
    fig.suptitle(f"{name}: {n} of {kernel.shape[-1]} filters, {kernel.shape[0]}x{kernel.shape[1]}"
                 + ("" if channel is None else f", input channel {channel}"), fontsize=9)
    return fig


def feature_maps(model, image):
    """[(layer, output (H, W, C)), ...] for every layer of ``model`` whose output is an image,
    for one input image (H, W, C) or (H, W). Inference mode; outputs are copies."""
    x = np.asarray(image, dtype=model.dtype)
    want = model.input_shape[1:] if model.input_shape else None
    if want is not None and x.shape != tuple(want):
        if x.size != int(np.prod(want)):
            raise ValueError(f"feature_maps: the model takes one input of shape {want}, got "
                             f"an image of shape {x.shape}")
        x = x.reshape(want)
    out, x = [], x[None]
    for layer in model.layers:
        x = layer.forward(x)
        if x.ndim == 4:
            out.append((layer, np.array(x[0])))
    return out


def plot_feature_maps(model, image, max_maps=8, cmap="viridis"):
    """The input image, then one row per layer with image-shaped output (Conv2D, pooling, ...),
    showing its first ``max_maps`` channels: what each filter responds to, and how pooling
    halves the resolution while the number of channels grows."""
    maps = feature_maps(model, image)
    if not maps:
        raise ValueError("plot_feature_maps: no layer of the model outputs images (N, H, W, C)")
    cols = max_maps + 1
    fig = new_figure(figsize=(1.05 * cols, 1.15 * len(maps) + 0.3))
    axes = fig.subplots(len(maps), cols, squeeze=False)
    img = np.asarray(image, dtype=np.float64)
    for r, (layer, fmap) in enumerate(maps):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                if r == 0:
                    ax.imshow(img.reshape(img.shape[:2]) if img.ndim == 3 and img.shape[2] == 1
                              else img, cmap="gray")
                    ax.set_title("input", fontsize=7)
                else:
                    ax.set_axis_off()
                continue
            if c - 1 < fmap.shape[-1]:
                ax.imshow(fmap[:, :, c - 1], cmap=cmap, interpolation="nearest")
            else:
                ax.set_axis_off()
        axes[r, 1].set_ylabel(f"{layer.name}\n{fmap.shape[0]}x{fmap.shape[1]}x{fmap.shape[2]}",
                              fontsize=7, rotation=0, ha="right", va="center")
    return fig
