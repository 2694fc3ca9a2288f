"""A biological neuron beside the artificial one (chapter 2's brain analogy), as schematics.

    from dlkit.viz.neuron import plot_neuron_analogy
    plot_neuron_analogy()                 # a static Figure: two panels, matching parts named alike

The biological panel is a cartoon (dendrites, soma, axon, synapses), not an anatomical drawing;
the artificial panel is the neuron y = f(x . w + b) of section 2.1 with three inputs. The
captions under each part say which part of the other panel it corresponds to.
"""
import numpy as np

from .render import new_figure

__all__ = ["plot_neuron_analogy"]


def _dendrite(ax, start, angle, length, depth, rng, tips):
    """A branching dendrite from ``start`` (recursive, two branches per fork)."""
    end = start + length * np.array([np.cos(angle), np.sin(angle)])
    ax.plot([start[0], end[0]], [start[1], end[1]], color="tab:purple", lw=0.8 + depth)
    if depth == 0:
        tips.append(end)
        return
    for turn in (-0.45, 0.45):
        _dendrite(ax, end, angle + turn + rng.uniform(-0.1, 0.1), length * 0.65, depth - 1,
                  rng, tips)


def _biological(ax):
    rng = np.random.default_rng(3)
    soma = np.array([0.0, 0.0])
    tips = []
    for angle in (np.pi * 0.72, np.pi, np.pi * 1.28):
        _dendrite(ax, soma + 0.3 * np.array([np.cos(angle), np.sin(angle)]), angle, 0.7, 2, rng,
                  tips)
    for tip in tips[::2]:   # incoming synapses from other neurons' axons
        ax.plot(*tip, "o", color="tab:green", ms=5)
    ax.add_patch(_circle(soma, 0.33, "tab:purple"))
    ax.plot([0.33, 3.0], [0, 0], color="tab:purple", lw=3)                   # the axon
    for dy in (-0.35, 0.0, 0.35):                                            # its terminals
        ax.plot([3.0, 3.4], [0, dy], color="tab:purple", lw=1.5)
        ax.plot(3.45, dy, "o", color="tab:green", ms=6)
    t = np.linspace(0, 1, 200)                                               # a spike train
    ax.plot(1.0 + 1.6 * t, 0.45 + 0.3 * (np.sin(40 * t) > 0.96), color="black", lw=1)
    notes = [((-1.45, 1.3), "dendrites: receive\n(inputs $x_i$)"),
             ((2.3, -1.05), "synapses (green dots): their strengths\nchange with learning (weights $w_i$)"),
             ((0.95, -0.5), "soma: integrates, fires\nat a threshold ($z$, $f$)"),
             ((1.8, 1.05), "axon: carries spikes\n(output $y$ as a rate)")]
    for xy, text in notes:
        ax.text(*xy, text, ha="center", va="center", fontsize=8, zorder=5,
                bbox=dict(fc="white", ec="none", alpha=0.85, pad=1))
    ax.set_title("a biological neuron (cartoon)", fontsize=10)
    ax.set_xlim(-2.3, 3.7)
    ax.set_ylim(-1.6, 1.5)


def _circle(center, radius, color):
    from matplotlib.patches import Circle

    return Circle(center, radius, color=color, alpha=0.85, zorder=3)


def _artificial(ax):
    ys = (0.9, 0.0, -0.9)
    for i, y in enumerate(ys, 1):
        ax.add_patch(_circle((-1.6, y), 0.2, "tab:blue"))
        ax.text(-1.6, y, f"$x_{i}$", ha="center", va="center", color="white", fontsize=10,
                zorder=4)
        ax.annotate("", xy=(-0.45, 0.25 * y), xytext=(-1.38, y),
                    arrowprops=dict(arrowstyle="->", color="tab:green", lw=1.5))
        ax.text(-0.95, 0.62 * y + 0.14, f"$w_{i}$", ha="center", fontsize=10, color="tab:green")
    ax.add_patch(_circle((0.0, 0.0), 0.45, "tab:orange"))
    ax.text(0.0, 0.0, "$\\Sigma$, $f$", ha="center", va="center", fontsize=11, zorder=4)
    ax.annotate("", xy=(1.5, 0), xytext=(0.47, 0),
                arrowprops=dict(arrowstyle="->", color="black", lw=2))
    ax.text(1.65, 0.0, "$y$", va="center", fontsize=12)
    ax.text(0.0, -0.75, "$z = x \\cdot w + b$\n$y = f(z)$", ha="center", va="top", fontsize=9)
    ax.text(0.0, 0.6, "bias $b$", ha="center", fontsize=8)
    ax.text(0.9, 0.22, "one number,\nnot spikes", ha="center", fontsize=8)
    ax.set_title("an artificial neuron (section 2.1)", fontsize=10)
    ax.set_xlim(-2.1, 2.1)
    ax.set_ylim(-1.6, 1.5)


def plot_neuron_analogy(figsize=(10.0, 3.6)):
    """A static Figure: a cartoon of a biological neuron beside an artificial neuron."""
    fig = new_figure(figsize)
    ax_bio, ax_art = fig.subplots(1, 2, width_ratios=[1.45, 1])
    _biological(ax_bio)
    _artificial(ax_art)
    for ax in (ax_bio, ax_art):
        ax.set_aspect("equal")
        ax.axis("off")
    return fig
