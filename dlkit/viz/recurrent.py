"""Pictures of recurrent networks: how strongly the loss depends on each input time step
(the vanishing-gradient picture: SimpleRNN against LSTM/GRU), and the hidden state over a
sequence as a heat map.

    fig = viz.plot_time_gradients({"SimpleRNN": rnn_model, "LSTM": lstm_model}, x, y)
    fig = viz.hidden_state_heatmap(model, x[:1])
"""
import numpy as np

from .render import new_figure

__all__ = ["time_step_gradients", "plot_time_gradients", "hidden_state_heatmap"]


def time_step_gradients(model, x, y=None):
    """||dL/dx_t|| for every time step t, averaged over the samples: (T,).

    model: a Sequential (or a single layer) taking x: (N, T, D). L is the model's compiled
    loss against y when both are given, else the mean of the outputs' sum (which still shows
    how far back the gradient reaches). Runs forward and backward once; no weight changes.
    """
    x = np.asarray(x)
    out = model.forward(x)
    if y is not None and getattr(model, "loss", None) is not None:
        k = out.shape[-1]
        t = model.loss.prepare_targets(y, (None,) + out.shape[1:], out.dtype)
        t = t.reshape(-1) if model.loss.sparse else t.reshape(-1, k)
        _, dy = model.loss.value_and_grad(t, out.reshape(-1, k))
        dy = dy.reshape(out.shape)
    else:
        dy = np.full_like(out, 1.0 / len(out))
    old = model.skip_input_grad
    model.skip_input_grad = False
    try:
        dx = model.backward(dy)
    finally:
        model.skip_input_grad = old
    return np.linalg.norm(dx.reshape(dx.shape[0], dx.shape[1], -1), axis=2).mean(axis=0)


def plot_time_gradients(models, x, y=None, log=True, ax=None):
    """One curve per model: ||dL/dx_t|| against t (models: {label: model}). A SimpleRNN's
    curve falls off exponentially going back from the last step (Bengio et al. 1994);
    an LSTM's or GRU's stays up: its additive cell/state path carries the gradient back."""
    fig = None
    if ax is None:
        fig = new_figure((7.0, 3.4))
        ax = fig.add_subplot()
    for label, model in models.items():
        g = time_step_gradients(model, x, y)
        ax.plot(np.arange(len(g)), g, marker=".", label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("input time step t")
    ax.set_ylabel(r"$\|\partial L / \partial x_t\|$ (mean over samples)")
    ax.set_title("How far back does the gradient reach?")
    ax.legend()
    return fig if fig is not None else ax.figure


def _recurrent_layer(model, which):
    layers = getattr(model, "layers", None)
    if layers is None:
        return model
    found = [l for l in layers if hasattr(l, "hidden_states")]
    if not found:
        raise ValueError("the model has no recurrent layer (SimpleRNN, GRU, LSTM)")
    return found[which]


def hidden_state_heatmap(model, x, sample=0, layer=0, max_units=64, ax=None):
    """Heat map of h_t (units down, time across) of one sample of x: (N, T, D).

    model: a recurrent layer, or a Sequential (then its ``layer``-th recurrent layer is shown,
    after running the whole model so that layer sees its real input). Values are in [-1, 1]
    for tanh units; at most ``max_units`` units are drawn.
    """
    x = np.asarray(x)
    model.forward(x)
    rnn = _recurrent_layer(model, layer)
    h = rnn.hidden_states()[sample, :, :max_units]
    fig = None
    if ax is None:
        fig = new_figure((7.0, 3.6))
        ax = fig.add_subplot()
    lim = max(1e-6, float(np.abs(h).max()))
    im = ax.imshow(h.T, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim,
                   interpolation="nearest")
    ax.set_xlabel("time step t" + (" (processing order: reversed)" if rnn.go_backwards else ""))
    ax.set_ylabel("hidden unit")
    ax.set_title(f"hidden state of {type(rnn).__name__}({rnn.units}), sample {sample}")
    ax.figure.colorbar(im, ax=ax, label="$h_t$")
    return fig if fig is not None else ax.figure
