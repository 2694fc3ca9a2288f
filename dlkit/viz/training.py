"""Static plots the book's chapters need: decision boundaries, small computational graphs,
a function next to its derivative, and optimizer paths over a contour plot.

Every function draws on a matplotlib ``Axes`` (``ax=``, or a new pyplot figure when omitted,
so a notebook shows it inline) and returns that Axes. Every plot gets a title and labelled
axes (the book's rule), which the caller may override.

    from dlkit import viz
    viz.plot_decision_boundary(model, X, y, title="XOR after training")
"""
import numpy as np

__all__ = ["plot_decision_boundary", "draw_graph", "plot_function_and_derivative",
           "plot_paths_on_contour"]


def _axes(ax, figsize=(5, 4)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def _scores(predict, grid):
    """Model outputs on grid points (M, 2) -> (class labels (M,), P(class 1) (M,) or None)."""
    out = predict.predict(grid) if hasattr(predict, "predict") else predict(grid)
    out = np.asarray(out, dtype=np.float64)
    if out.ndim == 1 or out.shape[1] == 1:      # one sigmoid output: P(class 1)
        p = out.reshape(-1)
        return (p > 0.5).astype(int), p
    return out.argmax(axis=1), None


def plot_decision_boundary(predict, X, y, ax=None, resolution=150, margin=0.3,
                           title="Decision boundary", xlabel="$x_1$", ylabel="$x_2$"):
    """Colour the plane by the class a classifier predicts and scatter the data on top.

    predict: a model with ``.predict`` or a function (M, 2) -> (M,) or (M, K): a probability
        of class 1 (one column, threshold 0.5) or one score per class (argmax).
    X: (N, 2) points; y: (N,) integer labels. resolution: grid points per axis.
    For a single probability output the 0.5 contour (the boundary itself) is drawn in black.
    """
    from matplotlib.colors import ListedColormap

    ax = _axes(ax)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary draws 2-D inputs: X must have shape (N, 2), "
                         f"got {X.shape}")
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
    labels, prob = _scores(predict, grid)
    k = max(int(y.max()) + 1, int(labels.max()) + 1, 2)
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"][:k]
    cmap = ListedColormap(colors)
    ax.contourf(gx, gy, labels.reshape(gx.shape), levels=np.arange(k + 1) - 0.5, cmap=cmap,
                alpha=0.25)
    if prob is not None and prob.min() < 0.5 < prob.max():
        ax.contour(gx, gy, prob.reshape(gx.shape), levels=[0.5], colors="k", linewidths=1)
    for c in range(k):
        sel = y == c
        if sel.any():
            ax.scatter(X[sel, 0], X[sel, 1], s=14, color=colors[c], edgecolors="k",
                       linewidths=0.3, label=f"class {c}")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, xlim=(x0, x1), ylim=(y0, y1))
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    return ax


def draw_graph(nodes, edges, ax=None, title="Computational graph", figsize=(8, 3)):
    """Draw a small computational graph: boxes joined by arrows, with optional edge labels.

    nodes: {name: (x, y, text)}: where to put each box and what to write in it (may hold
        several lines, e.g. the value in the forward pass and the gradient in the backward).
    edges: [(src, dst)] or [(src, dst, text)]: an arrow from box src to box dst, labelled by
        text halfway (e.g. the local derivative d dst / d src).
    The axes' coordinates are the nodes' (x, y); the frame is hidden (a diagram has no units),
    but the axes keep their labels for the book's rule: "data flow" along x.
    """
    ax = _axes(ax, figsize)
    boxes = {}
    for name, (x, y, text) in nodes.items():
        boxes[name] = ax.text(x, y, text, ha="center", va="center", fontsize=9, zorder=3,
                              bbox=dict(boxstyle="round,pad=0.4", fc="#eef3fb", ec="#1f4e8c"))
    for src, dst, *text in edges:
        if src not in nodes or dst not in nodes:
            missing = src if src not in nodes else dst
            raise ValueError(f"edge ({src!r}, {dst!r}) names node {missing!r}, which is not in "
                             f"nodes ({', '.join(map(repr, nodes))})")
        (xa, ya, _), (xb, yb, _) = nodes[src], nodes[dst]
        # patchA/patchB clip the arrow at the boxes' edges, so the heads stay visible
        ax.annotate("", xy=(xb, yb), xytext=(xa, ya), zorder=4,  # after the boxes: they place their patches when drawn
                    arrowprops=dict(arrowstyle="-|>", color="0.3", lw=1.2, shrinkA=2, shrinkB=2,
                                    patchA=boxes[src].get_bbox_patch(),
                                    patchB=boxes[dst].get_bbox_patch()))
        if text and text[0]:
            ax.text((xa + xb) / 2, (ya + yb) / 2 + 0.06, text[0], ha="center", va="bottom",
                    fontsize=8, color="#b03030")
    xs = [v[0] for v in nodes.values()]
    ys = [v[1] for v in nodes.values()]
    ax.set(xlim=(min(xs) - 0.6, max(xs) + 0.6), ylim=(min(ys) - 0.6, max(ys) + 0.6),
           title=title, xlabel="data flow (forward: left to right, backward: right to left)",
           ylabel="")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    return ax


def plot_function_and_derivative(name, z=None, ax=None, title=None):
    """Plot activation ``name`` (as ``dlkit.activations``) and its derivative over z."""
    from .. import activations

    ax = _axes(ax, (4, 3))
    z = np.linspace(-4, 4, 401) if z is None else np.asarray(z, dtype=np.float64)
    ax.plot(z, activations.apply(name, z), label=f"{name}(z)", lw=2)
    ax.plot(z, activations.derivative(name, z), "--", label=f"{name}'(z)", lw=1.5)
    ax.axhline(0, color="0.7", lw=0.6)
    ax.axvline(0, color="0.7", lw=0.6)
    ax.set(title=title or name, xlabel="z (pre-activation)", ylabel="value")
    ax.legend(fontsize=8)
    return ax


def plot_paths_on_contour(f, paths, xlim, ylim, ax=None, levels=30, log=True, minimum=None,
                          title="Optimizer paths", xlabel="$w_1$", ylabel="$w_2$"):
    """Contour lines of a 2-D function with one or more optimizer paths drawn over them.

    f: function of two broadcast arrays (w1, w2) -> values (the surface);
    paths: {label: (steps + 1, 2) array} as ``dlkit.optimizers.optimize_path`` returns
        (NaN rows, where a path diverged, are left out);
    log: space the contour levels logarithmically (valleys stay visible);
    minimum: (w1, w2) of the minimum, marked with a star.
    """
    ax = _axes(ax, (5, 4))
    gx, gy = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))
    fz = np.asarray(f(gx, gy), dtype=np.float64)
    if log:
        lo = max(fz.min(), 0.0)
        lv = np.geomspace(1e-3, 1, levels) * (fz.max() - lo) + lo
        ax.contour(gx, gy, fz, levels=np.unique(lv), cmap="viridis", linewidths=0.7)
    else:
        ax.contour(gx, gy, fz, levels=levels, cmap="viridis", linewidths=0.7)
    for label, path in paths.items():
        path = np.asarray(path, dtype=np.float64)
        path = path[np.all(np.isfinite(path), axis=1)]
        ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1.2, label=label)
    if minimum is not None:
        ax.plot(*minimum, "k*", ms=12, label="minimum")
    ax.set(xlim=xlim, ylim=ylim, title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=8, loc="best")
    return ax
