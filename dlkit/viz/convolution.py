"""The convolution explorer (chapter 8): slide a kernel over an MNIST digit and watch the
output size and the feature map change together.

    viz.conv_explorer()                          # widget: digit, kernel, size, stride, padding
    viz.plot_convolution(0, "blur", kernel_size=5, stride=2, padding=1)    # a static Figure

The picture has three panels: the zero-padded input with the window (receptive field) of one
output position outlined, the kernel with its weights, and the feature map with that output
position marked (the position of the strongest response). Above them, the output-size formula of §8.1 with the numbers filled in,
H' = floor((H + 2p - k) / s) + 1. The map is the padded digit convolved with valid padding,
one strided view per kernel weight (tests check it against Conv2D and its NumPy reference).
"""
import numpy as np

from ..words import say
from .render import WidgetFigure, new_figure

__all__ = ["KERNELS", "make_kernel", "conv_output_size", "size_formula", "feature_map",
           "plot_convolution", "ConvExplorer", "conv_explorer"]

KERNELS = ("vertical edge", "horizontal edge", "blur", "sharpen", "identity")


def make_kernel(name, size):
    """A (size, size) float64 kernel: size odd, 1 to 7.

    vertical edge: +1 in the columns left of the centre, -1 right of it (bright-to-dark
    edges from left to right respond); horizontal edge: the same, transposed; blur: the mean
    of the window; sharpen: 2 x identity - blur; identity: 1 at the centre. With size 1 an
    edge kernel is 0 (one pixel has no edge) and the others are a single weight.
    """
    if name not in KERNELS:
        raise ValueError(f"unknown kernel {name!r}; choose one of {KERNELS}")
    if not isinstance(size, (int, np.integer)) or size < 1 or size > 7 or size % 2 == 0:
        raise ValueError(f"kernel size must be an odd integer from 1 to 7, got {size!r}")
    c = size // 2
    if name == "vertical edge":
        return np.tile(np.sign(c - np.arange(size, dtype=np.float64)), (size, 1))
    if name == "horizontal edge":
        return make_kernel("vertical edge", size).T.copy()
    identity = np.zeros((size, size))
    identity[c, c] = 1.0
    blur = np.full((size, size), 1.0 / size ** 2)
    return {"blur": blur, "sharpen": 2 * identity - blur, "identity": identity}[name]


def conv_output_size(n, k, s, p):
    """H' = floor((H + 2p - k) / s) + 1: outputs along an axis of n pixels, kernel k, stride s,
    p zeros of padding on each side."""
    for name, v, low in (("size", n, 1), ("kernel size", k, 1), ("stride", s, 1), ("padding", p, 0)):
        if not isinstance(v, (int, np.integer)) or v < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
    if n + 2 * p < k:
        raise ValueError(f"the kernel ({k}) is larger than the padded input ({n} + 2·{p})")
    return (n + 2 * p - k) // s + 1


def size_formula(n, k, s, p):
    """The formula with the numbers filled in, e.g. '⌊(28 + 2·1 − 3) / 2⌋ + 1 = 14'."""
    return f"⌊({n} + 2·{p} − {k}) / {s}⌋ + 1 = {conv_output_size(n, k, s, p)}"


def feature_map(image, kernel, stride=1, padding=0):
    """The convolution of one image with one kernel: image (H, W) zero-padded by ``padding``
    on each side, then a valid, strided cross-correlation -> (H', W') (no bias)."""
    image, kernel = np.asarray(image, dtype=np.float64), np.asarray(kernel, dtype=np.float64)
    ho, wo = (conv_output_size(n, k, stride, padding) for n, k in zip(image.shape, kernel.shape))
    xp = np.pad(image, padding)
    z = np.zeros((ho, wo))
    for di in range(kernel.shape[0]):       # one strided view of the input per kernel weight
        for dj in range(kernel.shape[1]):
            z += kernel[di, dj] * xp[di:di + stride * (ho - 1) + 1:stride,
                                     dj:dj + stride * (wo - 1) + 1:stride]
    return z


def _digits():
    global _DIGITS
    if _DIGITS is None:
        from ..datasets import mnist

        (x, y), _ = mnist.load_data()
        _DIGITS = (x.astype(np.float64) / 255.0, y)
    return _DIGITS


_DIGITS = None


class _ConvFigure:
    """The three panels, drawn once; ``draw`` moves their artists (no re-plotting)."""

    def __init__(self, dpi=80):
        from matplotlib.patches import Rectangle

        self.figure = fig = new_figure((9.6, 3.7), dpi, layout=None)
        self.ax_in = fig.add_axes([0.05, 0.17, 0.28, 0.63])
        self.ax_k = fig.add_axes([0.375, 0.22, 0.21, 0.5])
        self.ax_out = fig.add_axes([0.625, 0.17, 0.28, 0.63])
        self.cax = fig.add_axes([0.915, 0.17, 0.012, 0.63])
        self.im_in = self.ax_in.imshow(np.zeros((2, 2)), cmap="gray_r", vmin=0, vmax=1,
                                       interpolation="nearest")
        self.im_k = self.ax_k.imshow(np.zeros((1, 1)), cmap="RdBu_r", vmin=-1, vmax=1,
                                     interpolation="nearest")
        self.im_out = self.ax_out.imshow(np.zeros((2, 2)), cmap="RdBu_r", vmin=-1, vmax=1,
                                         interpolation="nearest")
        fig.colorbar(self.im_out, cax=self.cax)
        self.image_edge = self.ax_in.add_patch(Rectangle((0, 0), 1, 1, fill=False, ec="tab:blue",
                                                         lw=1, ls="--"))
        self.window = self.ax_in.add_patch(Rectangle((0, 0), 1, 1, fill=False, ec="tab:orange",
                                                     lw=2))
        self.cell = self.ax_out.add_patch(Rectangle((0, 0), 1, 1, fill=False, ec="tab:orange",
                                                    lw=2))
        self.title = fig.text(0.5, 0.94, "", ha="center", va="center", fontsize=12)
        self.weights = []
        # few tick labels: text is most of a redraw's cost
        from matplotlib.ticker import MaxNLocator

        for ax in (self.ax_in, self.ax_out):
            ax.tick_params(labelsize=7)
            ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(4, integer=True))
        self.ax_k.set_xticks([])
        self.ax_k.set_yticks([])
        self.cax.tick_params(labelsize=7)

    def draw(self, image, label, kernel, name, stride, padding, fmap):
        h, w = image.shape
        k = kernel.shape[0]
        ho, wo = fmap.shape
        xp = np.pad(image, padding)
        # the padded input, in pixel coordinates of the padded array (-0.5 .. size - 0.5)
        self.im_in.set_data(xp)
        self.im_in.set_extent((-0.5, xp.shape[1] - 0.5, xp.shape[0] - 0.5, -0.5))
        self.ax_in.set_xlim(-0.5, xp.shape[1] - 0.5)
        self.ax_in.set_ylim(xp.shape[0] - 0.5, -0.5)
        self.image_edge.set_xy((padding - 0.5, padding - 0.5))
        self.image_edge.set_width(w)
        self.image_edge.set_height(h)
        self.image_edge.set_visible(padding > 0)
        # the output with the strongest response (the first, on ties) reads the window of
        # rows i s .. i s + k - 1 and columns j s .. j s + k - 1 of the padded input
        i, j = np.unravel_index(np.argmax(np.abs(fmap)), fmap.shape)
        self.window.set_xy((j * stride - 0.5, i * stride - 0.5))
        self.window.set_width(k)
        self.window.set_height(k)
        self.ax_in.set_title(f"input: a {label}, {h}×{w}, padded by {padding} → "
                             f"{xp.shape[0]}×{xp.shape[1]}", fontsize=9)
        self.ax_in.set_xlabel(f"orange: the {k}×{k} window read by output ({i}, {j})"
                              + (f"\ndashed: the {h}×{w} image" if padding else ""), fontsize=8)
        # the kernel and its weights
        self.im_k.set_data(kernel)
        self.im_k.set_clim(-max(np.abs(kernel).max(), 1e-12), max(np.abs(kernel).max(), 1e-12))
        self.im_k.set_extent((-0.5, k - 0.5, k - 0.5, -0.5))
        self.ax_k.set_xlim(-0.5, k - 0.5)
        self.ax_k.set_ylim(k - 0.5, -0.5)
        for t in self.weights:
            t.remove()
        big = 0.6 * np.abs(kernel).max()
        self.weights = [self.ax_k.text(b, a, f"{kernel[a, b]:.2g}", ha="center", va="center",
                                       fontsize=9 if k <= 3 else 7,
                                       color="white" if abs(kernel[a, b]) > big else "black")
                        for a in range(k) for b in range(k)] if k <= 5 else []
        self.ax_k.set_title(f"kernel: {name}, {k}×{k}", fontsize=9)
        # the feature map, on a symmetric colour scale
        lim = max(float(np.abs(fmap).max()), 1e-12)
        self.im_out.set_data(fmap)
        self.im_out.set_clim(-lim, lim)
        self.im_out.set_extent((-0.5, wo - 0.5, ho - 0.5, -0.5))
        self.ax_out.set_xlim(-0.5, wo - 0.5)
        self.ax_out.set_ylim(ho - 0.5, -0.5)
        self.cell.set_xy((j - 0.5, i - 0.5))
        self.ax_out.set_title(f"feature map {ho}×{wo}, stride {stride}", fontsize=9)
        self.ax_out.set_xlabel(f"orange: output ({i}, {j}) = {fmap[i, j]:.3g},\n"
                               f"the strongest response", fontsize=8)
        self.title.set_text(f"output size  H′ = ⌊(H + 2p − k) / s⌋ + 1 = "
                            f"{size_formula(h, k, stride, padding)}")
        return self.figure


def _check_index(index):
    x, _ = _digits()
    if not isinstance(index, (int, np.integer)) or not 0 <= index < len(x):
        raise ValueError(f"digit index must be an integer from 0 to {len(x) - 1}, got {index!r}")
    return int(index)


def plot_convolution(index=0, kernel="vertical edge", kernel_size=3, stride=1, padding=0):
    """A static Figure: training digit ``index`` of the bundled MNIST, padded by ``padding``
    zeros, convolved with a ``kernel_size`` x ``kernel_size`` kernel (a name from KERNELS) at
    ``stride``; the formula of the output size above it."""
    x, y = _digits()
    index = _check_index(index)
    k = make_kernel(kernel, kernel_size)
    fmap = feature_map(x[index], k, stride, padding)
    return _ConvFigure().draw(x[index], y[index], k, kernel, stride, padding, fmap)


class ConvExplorer(WidgetFigure):
    """Widget: one MNIST digit convolved with a kernel; every control redraws at once.

    ``self.controls``: digit (index into the bundled training set), kernel (a name from
    KERNELS), kernel_size (1..7, odd), stride (1..4), padding (0..3 zeros on each side).
    ``self.map`` is the feature map drawn, ``self.output_size`` its (H', W') and
    ``self.formula`` the filled-in formula shown above the panels and in ``self.label``.
    """

    def __init__(self, index=0, kernel="vertical edge", kernel_size=3, stride=1, padding=0):
        import ipywidgets as w

        index = _check_index(index)
        make_kernel(kernel, kernel_size)
        for name, v, low, high in (("stride", stride, 1, 4), ("padding", padding, 0, 3)):
            if not isinstance(v, (int, np.integer)) or not low <= v <= high:
                raise ValueError(f"{name} must be an integer from {low} to {high}, got {v!r}")
        self._init_image()
        self.plot = _ConvFigure()
        self.figure = self.plot.figure
        style = {"description_width": "initial"}
        slider = dict(continuous_update=False, style=style)
        n_digits = len(_digits()[0])
        c = self.controls = dict(
            digit=w.BoundedIntText(value=index, min=0, max=n_digits - 1, description=say("digit"),
                                   style=style, layout=w.Layout(width="140px")),
            kernel=w.Dropdown(options=[(say(k), k) for k in KERNELS], value=kernel,
                              description=say("kernel")),
            kernel_size=w.IntSlider(value=kernel_size, min=1, max=7, step=2,
                                    description=say("kernel size"), **slider),
            stride=w.IntSlider(value=stride, min=1, max=4, step=1, description=say("stride"),
                               **slider),
            padding=w.IntSlider(value=padding, min=0, max=3, step=1, description=say("padding"),
                                **slider),
        )
        for ctl in c.values():
            ctl.observe(self._changed, names="value")
        self.label = w.HTML()
        self.widget = w.VBox([w.HBox([c["digit"], c["kernel"]]),
                              w.HBox([c["kernel_size"], c["stride"], c["padding"]]),
                              self.label, self.image])
        self.update()

    def update(self):
        c = self.controls
        x, y = _digits()
        image, label = x[c["digit"].value], y[c["digit"].value]
        k, s, p = c["kernel_size"].value, c["stride"].value, c["padding"].value
        kernel = make_kernel(c["kernel"].value, k)
        self.map = feature_map(image, kernel, s, p)
        self.output_size = self.map.shape
        self.formula = size_formula(image.shape[0], k, s, p)
        self.label.value = say("output size: <b>{formula}</b> (rows and columns alike)",
                               formula=self.formula)
        self.plot.draw(image, label, kernel, c["kernel"].value, s, p, self.map)
        self.refresh()

    def __repr__(self):
        c = self.controls
        ho, wo = self.output_size
        return (f"ConvExplorer(digit={c['digit'].value}, kernel={c['kernel'].value!r}, "
                f"kernel_size={c['kernel_size'].value}, stride={c['stride'].value}, "
                f"padding={c['padding'].value}, output={ho}x{wo})")


def conv_explorer(index=0, kernel="vertical edge", kernel_size=3, stride=1, padding=0):
    """Show a ConvExplorer (see its docstring); returns it, so ``w = conv_explorer()`` gives
    access to ``w.controls``, ``w.map`` and ``w.formula``."""
    return ConvExplorer(index, kernel, kernel_size, stride, padding)
