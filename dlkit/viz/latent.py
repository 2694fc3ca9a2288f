"""The latent-space explorer: move a point in a 2-D latent space, see the digit it decodes to.

    viz.latent_explorer(decoder, codes, labels)        # widget: sliders z1, z2 (and clicks)
    viz.plot_latent_point(decoder, codes, labels, z=(0.5, -1.0))   # the same picture, static

Left, the codes of the test digits (a VAE encoder's means, (N, 2)) coloured by their labels,
and a marker at the chosen point z = (z1, z2); right, decoder(z) as an image. The scatter is
drawn once; a control change decodes one point (a single forward pass through the decoder),
moves the marker and replaces the image's pixels, then renders the PNG. Clicking the scatter
moves the point where the ``ipyevents`` package is installed; the sliders work everywhere.
"""
import numpy as np

from .render import WidgetFigure, new_figure

__all__ = ["LatentFigure", "decode_point", "plot_latent_point", "LatentExplorer",
           "latent_explorer"]


def _check_codes(codes, labels):
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"the explorer draws a 2-D latent space: codes must have shape (N, 2), "
                         f"got {codes.shape}; train a VAE with latent_dim=2")
    if labels is None:
        labels = np.zeros(len(codes), dtype=int)
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(codes):
        raise ValueError(f"{len(codes)} codes but {len(labels)} labels")
    if not np.all(np.isfinite(codes)):
        raise ValueError("codes contain NaN or inf")
    return codes, labels


def _check_decoder(decoder):
    if not callable(decoder) and not hasattr(decoder, "predict"):
        raise TypeError(f"decoder must be a dlkit model (with predict) or a function from "
                        f"codes (N, 2) to images, got {type(decoder).__name__}")
    shape = getattr(decoder, "input_shape", None)
    if hasattr(decoder, "predict") and shape is not None and tuple(shape[1:]) != (2,):
        raise ValueError(f"the decoder takes codes of shape {tuple(shape[1:])}, but the explorer "
                         "moves a point in a 2-D latent space; train a VAE with latent_dim=2")
    return decoder


def decode_point(decoder, z, image_shape=None):
    """decoder(z) for one point z = (z1, z2), as an (H, W) image (flat outputs of a square
    number of pixels are made square). decoder: a dlkit model (``predict``) or a function
    from (N, 2) codes to (N, ...) outputs."""
    z = np.asarray(z, dtype=np.float64).reshape(1, 2)
    if hasattr(decoder, "predict"):
        out = decoder.predict(z.astype(getattr(decoder, "dtype", np.float32)))
    else:
        out = decoder(z)
    out = np.asarray(out, dtype=np.float64)
    pixels = out.reshape(-1)
    if image_shape is None:
        per = out.shape[1:]
        if len(per) == 3 and per[-1] == 1:
            image_shape = per[:2]
        elif len(per) == 2:
            image_shape = per
        else:
            side = int(round(np.sqrt(pixels.size)))
            if side * side != pixels.size:
                raise ValueError(f"cannot show a decoder output of shape {out.shape} as an image; "
                                 "pass image_shape=(H, W)")
            image_shape = (side, side)
    if int(np.prod(image_shape)) != pixels.size:
        raise ValueError(f"a decoder output of shape {out.shape} does not fit "
                         f"image_shape={tuple(image_shape)}")
    return pixels.reshape(tuple(image_shape))


class LatentFigure:
    """The explorer's picture: the codes coloured by label with a marker at z, and decoder(z).

    draw(z, image) moves the marker and replaces the image's pixels; the scatter is drawn once.
    """

    def __init__(self, codes, labels, limits, figsize=(8.4, 3.9), dpi=72):
        import matplotlib

        self.figure = new_figure(figsize, dpi, layout=None)
        self.ax_map = self.figure.add_axes([0.08, 0.13, 0.46, 0.78])
        self.ax_img = self.figure.add_axes([0.68, 0.17, 0.28, 0.70])
        classes = np.unique(labels)
        cmap = matplotlib.colormaps["tab10" if len(classes) <= 10 else "viridis"]
        for i, c in enumerate(classes):
            pick = labels == c
            color = cmap(i % 10) if len(classes) <= 10 else cmap(i / max(len(classes) - 1, 1))
            self.ax_map.scatter(codes[pick, 0], codes[pick, 1], s=4, alpha=0.5, color=color,
                                label=str(c), rasterized=True)
        if len(classes) > 1:
            self.ax_map.legend(title="label", markerscale=2.5, fontsize=7, title_fontsize=7,
                               loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
                               handletextpad=0.1, borderaxespad=0.3)
        (x0, x1), (y0, y1) = limits
        self.ax_map.set_xlim(x0, x1)
        self.ax_map.set_ylim(y0, y1)
        self.ax_map.set_xlabel("$z_1$")
        self.ax_map.set_ylabel("$z_2$")
        self.ax_map.set_title("codes of the test digits; ✕ = the chosen z", fontsize=9)
        self.marker, = self.ax_map.plot([], [], "x", color="k", ms=9, mew=2.2, zorder=5)
        self.ring, = self.ax_map.plot([], [], "o", mfc="none", mec="k", ms=13, mew=1, zorder=5)
        self.img = None
        self.ax_img.set_xticks([])
        self.ax_img.set_yticks([])

    def draw(self, z, image):
        self.marker.set_data([z[0]], [z[1]])
        self.ring.set_data([z[0]], [z[1]])
        if self.img is None or self.img.get_array().shape != image.shape:
            self.ax_img.clear()
            self.ax_img.set_xticks([])
            self.ax_img.set_yticks([])
            self.img = self.ax_img.imshow(image, cmap="gray_r", vmin=0, vmax=1,
                                          interpolation="nearest")
        else:
            self.img.set_data(image)
        self.ax_img.set_title(f"decoder(z), z = ({z[0]:.2f}, {z[1]:.2f})", fontsize=9)
        return self.figure


def _limits(codes, limits):
    """((z1_min, z1_max), (z2_min, z2_max)): given, or the codes' range padded by 10%."""
    if limits is not None:
        (a, b), (c, d) = limits
        if not (a < b and c < d):
            raise ValueError(f"limits must be ((z1_min, z1_max), (z2_min, z2_max)) with "
                             f"min < max, got {limits!r}")
        return (float(a), float(b)), (float(c), float(d))
    lo, hi = codes.min(axis=0), codes.max(axis=0)
    pad = np.maximum(0.1 * (hi - lo), 0.5)
    return tuple((float(l), float(h)) for l, h in zip(lo - pad, hi + pad))


def plot_latent_point(decoder, codes, labels=None, z=(0.0, 0.0), limits=None, image_shape=None):
    """A static Figure: the codes coloured by label, a marker at z, and decoder(z) beside them."""
    decoder = _check_decoder(decoder)
    codes, labels = _check_codes(codes, labels)
    plot = LatentFigure(codes, labels, _limits(codes, limits))
    return plot.draw(tuple(float(v) for v in z), decode_point(decoder, z, image_shape))


class LatentExplorer(WidgetFigure):
    """Widget: choose a point z = (z1, z2) of a 2-D latent space, see the digit it decodes to.

    ``self.controls``: z1, z2 (sliders over the codes' range, updated on release).
    ``self.z`` is the point, ``self.image_data`` the decoded image drawn. Clicking the scatter
    moves z where ``ipyevents`` is installed.
    """

    def __init__(self, decoder, codes, labels=None, z=None, limits=None, image_shape=None):
        import ipywidgets as w

        self.decoder = _check_decoder(decoder)
        self.codes, self.labels = _check_codes(codes, labels)
        self.limits = _limits(self.codes, limits)
        self.image_shape = image_shape
        if z is None:
            z = (0.0, 0.0)
        self._init_image()
        self.plot = LatentFigure(self.codes, self.labels, self.limits)
        self.figure = self.plot.figure
        self.controls = {}
        for key, (lo, hi), v in zip(("z1", "z2"), self.limits, z):
            self.controls[key] = w.FloatSlider(
                value=float(np.clip(v, lo, hi)), min=lo, max=hi, step=(hi - lo) / 200,
                description=key, readout_format=".2f", continuous_update=False,
                style={"description_width": "initial"})
            self.controls[key].observe(self._changed, names="value")
        self.widget = w.VBox([w.HBox([self.controls["z1"], self.controls["z2"]]), self.image])
        self._attach_click()
        self.update()

    @property
    def z(self):
        return (self.controls["z1"].value, self.controls["z2"].value)

    def update(self):
        self.image_data = decode_point(self.decoder, self.z, self.image_shape)
        self.plot.draw(self.z, self.image_data)
        self.refresh()

    def on_click(self, event):
        """Move z to a click on the scatter (an ipyevents click event dict)."""
        point = self._clicked_point(event, self.plot.ax_map)
        if point is not None:
            self.set(z1=point[0], z2=point[1])

    def __repr__(self):
        return (f"LatentExplorer(z=({self.z[0]:.2f}, {self.z[1]:.2f}), {len(self.codes)} codes, "
                f"{len(np.unique(self.labels))} labels)")


def latent_explorer(decoder, codes, labels=None, z=None, limits=None, image_shape=None):
    """Show a LatentExplorer (see its docstring); returns it, so ``w = latent_explorer(...)``
    gives access to ``w.controls``, ``w.z``, ``w.image_data`` and ``w.figure``.

    decoder: a dlkit model taking (N, 2) codes (a VAE's decoder) or a function doing the same;
    codes: (N, 2), e.g. ``encoder.predict(x_test)`` (the means at inference); labels: (N,)
    colours for the scatter (the digits); z: the starting point (default the origin, the
    prior's mean); limits: the sliders' ranges, default the codes' range padded by 10%.
    """
    return LatentExplorer(decoder, codes, labels, z=z, limits=limits, image_shape=image_shape)
