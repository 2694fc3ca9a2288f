"""Pictures of autoencoders: reconstructions, the latent space, decoded sweeps of it, and
interpolations between two digits.

    from dlkit import viz
    viz.plot_reconstructions(x_test, autoencoder.predict(x_test))
    viz.plot_latent_space(encoder.predict(x_test), y_test)     # 2-D codes coloured by digit
    viz.plot_latent_grid(decoder)              # decode a 15 x 15 sweep of a 2-D latent space
    viz.plot_interpolation(encoder, decoder, x_test[0], x_test[1])
    viz.plot_anomaly_scores(scores_normal, scores_odd, threshold=limit)

Every plot function draws on a matplotlib ``Axes`` (``ax=``, or a new pyplot figure when
omitted, so a notebook shows it inline) and returns that Axes, with a title and labelled axes.
Images are flat (784,), (28, 28) or (28, 28, 1); ``image_shape=(H, W)`` overrides the guess.
The helpers that compute (``tile_images``, ``decode_grid``, ``interpolate_codes``) return
arrays and draw nothing.
"""
import numpy as np

__all__ = ["tile_images", "decode_grid", "interpolate_codes", "plot_reconstructions",
           "plot_latent_space", "plot_latent_grid", "plot_interpolation", "plot_anomaly_scores"]


def _axes(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize, layout="constrained")[1]


def _as_images(images, image_shape=None):
    """(N, ...) -> (N, H, W) grayscale images."""
    images = np.asarray(images, dtype=np.float64)
    n, per = len(images), images.shape[1:]
    if image_shape is None:
        if len(per) == 3 and per[-1] == 1:
            image_shape = per[:2]
        elif len(per) == 2:
            image_shape = per
        elif len(per) == 1 and int(round(np.sqrt(per[0]))) ** 2 == per[0]:
            side = int(round(np.sqrt(per[0])))
            image_shape = (side, side)
        else:
            raise ValueError(f"cannot tell the image layout of samples of shape {per}; pass "
                             "image_shape=(H, W)")
    if int(np.prod(per)) != int(np.prod(image_shape)):
        raise ValueError(f"samples of shape {per} do not fit image_shape={tuple(image_shape)}")
    return images.reshape((n,) + tuple(image_shape))


def tile_images(images, rows, cols, image_shape=None, pad=1, fill=1.0):
    """Lay images out row by row on one canvas: (N, ...) -> (rows*(H+pad)-pad, cols*(W+pad)-pad).

    Image i goes to row i // cols, column i % cols; missing cells and the ``pad``-pixel gaps
    between cells hold ``fill`` (white on the usual gray_r map, where 0 is white).
    """
    imgs = _as_images(images, image_shape)
    if len(imgs) > rows * cols:
        raise ValueError(f"{len(imgs)} images do not fit a {rows} x {cols} grid")
    h, w = imgs.shape[1:]
    canvas = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), fill, dtype=np.float64)
    for i, img in enumerate(imgs):
        r, c = divmod(i, cols)
        canvas[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = img
    return canvas


def _show_strip_rows(ax, rows, names, image_shape, title, xlabels=None):
    """Draw equally long lists of images as the rows of one mosaic, rows named on the left."""
    cols = len(rows[0])
    imgs = np.concatenate([_as_images(r, image_shape) for r in rows])
    h, w = imgs.shape[1:]
    canvas = tile_images(imgs, len(rows), cols, pad=1, fill=0.0)
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks([r * (h + 1) + h / 2 - 0.5 for r in range(len(rows))], names)
    if xlabels is None:
        ax.set_xticks([])
    else:
        ax.set_xticks([c * (w + 1) + w / 2 - 0.5 for c in range(cols)], xlabels)
    ax.tick_params(length=0)
    ax.set_title(title)
    return ax


def plot_reconstructions(x, x_hat, x_noisy=None, n=10, image_shape=None, ax=None,
                         title="Originals and reconstructions"):
    """The first n inputs above their reconstructions (and, for a denoising autoencoder, the
    corrupted inputs it was given on top: pass ``x_noisy``). Pixel values 0 (white) to 1."""
    n = min(int(n), len(x))
    rows, names = [np.asarray(x)[:n], np.asarray(x_hat)[:n]], ["original", "reconstruction"]
    if x_noisy is not None:
        rows, names = [np.asarray(x_noisy)[:n]] + rows, ["noisy input"] + names
    ax = _axes(ax, (n * 0.8, len(rows) * 0.9 + 0.5))
    _show_strip_rows(ax, [np.clip(r, 0, 1) for r in rows], names, image_shape, title)
    ax.set_xlabel("sample")
    return ax


def _pca_2d(codes):
    """Project codes (N, d) on their two principal axes (centred SVD)."""
    centred = codes - codes.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T, s[:2] ** 2 / max(float(np.sum(s ** 2)), 1e-300)


def plot_latent_space(codes, labels, ax=None, title="Latent space", s=6, alpha=0.7):
    """Scatter codes (N, d) coloured by label (N,), e.g. each test digit's code by its digit.

    2-D codes are drawn as they are; codes with d > 2 are projected on their two principal
    components first (the axis labels say so, with the share of variance each one explains).
    """
    codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(codes):
        raise ValueError(f"{len(codes)} codes but {len(labels)} labels")
    if codes.shape[1] == 1:
        codes = np.column_stack([codes[:, 0], np.zeros(len(codes))])
        xlabel, ylabel = "$z_1$", ""
    elif codes.shape[1] == 2:
        xlabel, ylabel = "$z_1$", "$z_2$"
    else:
        codes, share = _pca_2d(codes)
        xlabel, ylabel = (f"principal component {i + 1} ({share[i]:.0%} of variance)"
                          for i in range(2))
    ax = _axes(ax, (5.5, 4.5))
    classes = np.unique(labels)
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if len(classes) <= 10 else "viridis"]
    for i, c in enumerate(classes):
        pick = labels == c
        ax.scatter(codes[pick, 0], codes[pick, 1], s=s, alpha=alpha, label=str(c),
                   color=cmap(i % 10 if len(classes) <= 10 else i / max(len(classes) - 1, 1)))
    ax.legend(title="label", markerscale=2, fontsize="small", loc="center left",
              bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def decode_grid(decoder, n=15, limits=None):
    """Decode an n x n sweep of a 2-D latent space.

    decoder: a model (with ``predict``) from (N, 2) codes to images.
    limits: ((z1_min, z1_max), (z2_min, z2_max)) for an evenly spaced sweep; None sweeps the
        standard normal's quantiles 5%..95% on both axes, the VAE prior's typical region
        (as Kingma & Welling's Figure 4).
    Returns (images (n*n, ...), z1 (n,), z2 (n,)): image r*n + c decodes (z1[c], z2[n-1-r]),
    so in a grid the top row has the largest z2, as on a plot.
    """
    if limits is None:
        from scipy.stats import norm

        z1 = z2 = norm.ppf(np.linspace(0.05, 0.95, n))
    else:
        (a, b), (c, d) = limits
        z1, z2 = np.linspace(a, b, n), np.linspace(c, d, n)
    if tuple(decoder.input_shape[1:]) != (2,):
        raise ValueError(f"decode_grid sweeps a 2-D latent space, but the decoder takes codes of "
                         f"shape {decoder.input_shape[1:]}; train a model with latent_dim=2")
    g1, g2 = np.meshgrid(z1, z2[::-1])
    codes = np.column_stack([g1.ravel(), g2.ravel()]).astype(decoder.dtype)
    return decoder.predict(codes), z1, z2


def plot_latent_grid(decoder, n=15, limits=None, image_shape=None, ax=None,
                     title="Decoded sweep of the latent space"):
    """Show ``decode_grid``: each cell is the decoder's image of one point (z1, z2)."""
    images, z1, z2 = decode_grid(decoder, n, limits)
    imgs = _as_images(images, image_shape)
    h, w = imgs.shape[1:]
    ax = _axes(ax, (6, 6))
    ax.imshow(tile_images(imgs, n, n, pad=0), cmap="gray_r", vmin=0, vmax=1,
              interpolation="nearest")
    step = max(1, n // 5)
    ax.set_xticks([c * w + w / 2 - 0.5 for c in range(0, n, step)],
                  [f"{v:.1f}" for v in z1[::step]])
    ax.set_yticks([r * h + h / 2 - 0.5 for r in range(0, n, step)],
                  [f"{v:.1f}" for v in z2[::-1][::step]])
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(title)
    return ax


def interpolate_codes(z_a, z_b, steps=10):
    """Points on the straight line from z_a to z_b: (steps, d), first z_a, last z_b."""
    z_a, z_b = np.asarray(z_a, dtype=np.float64).ravel(), np.asarray(z_b, dtype=np.float64).ravel()
    if z_a.shape != z_b.shape:
        raise ValueError(f"codes of different sizes: {z_a.shape} and {z_b.shape}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (the two ends), got {steps!r}")
    t = np.linspace(0.0, 1.0, int(steps))[:, None]
    return (1 - t) * z_a + t * z_b


def plot_interpolation(encoder, decoder, x_a, x_b, steps=10, image_shape=None, ax=None,
                       title="Interpolation in the latent space"):
    """Encode two inputs, walk the straight line between their codes, decode each point.

    x_a, x_b: one sample each, in the encoder's input shape. The row shows x_a, the decoded
    points for t = 0 ... 1, then x_b: a smooth morph means nearby codes decode to similar
    images (a VAE's latent space is trained to be like that; a plain autoencoder's may not be).
    """
    x_a, x_b = np.asarray(x_a), np.asarray(x_b)
    z = encoder.predict(np.stack([x_a, x_b]).astype(encoder.dtype))
    codes = interpolate_codes(z[0], z[1], steps).reshape((steps,) + z.shape[1:])
    decoded = decoder.predict(codes.astype(decoder.dtype))
    row = np.concatenate([_as_images(x_a[None], image_shape), _as_images(decoded, image_shape),
                          _as_images(x_b[None], image_shape)])
    labels = ["$x_a$"] + [f"{t:.2g}" for t in np.linspace(0, 1, steps)] + ["$x_b$"]
    ax = _axes(ax, ((steps + 2) * 0.8, 1.6))
    _show_strip_rows(ax, [np.clip(row, 0, 1)], [""], None, title, xlabels=labels)
    ax.set_xlabel("t (0 = code of $x_a$, 1 = code of $x_b$)")
    return ax


def plot_anomaly_scores(normal, anomalous, threshold=None, bins=40, ax=None,
                        labels=("normal", "anomalous"), title="Reconstruction error"):
    """Histograms of the anomaly scores of normal and anomalous samples (see
    ``dlkit.anomaly.reconstruction_error``), with the decision threshold as a vertical line."""
    normal = np.asarray(normal, dtype=np.float64).ravel()
    anomalous = np.asarray(anomalous, dtype=np.float64).ravel()
    ax = _axes(ax, (6, 3.5))
    edges = np.histogram_bin_edges(np.concatenate([normal, anomalous]), bins=bins)
    ax.hist(normal, bins=edges, alpha=0.6, density=True, label=labels[0])
    ax.hist(anomalous, bins=edges, alpha=0.6, density=True, label=labels[1])
    if threshold is not None:
        ax.axvline(threshold, color="k", linestyle="--", label=f"threshold {threshold:.3g}")
    ax.set_xlabel("reconstruction error per sample")
    ax.set_ylabel("density")
    ax.legend(frameon=False)
    ax.set_title(title)
    return ax
