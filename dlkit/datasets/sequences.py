"""Sequence data for the recurrent chapter: MNIST read row by row, noisy sine waves to
forecast, the adding problem (long-range memory), and a small character-level text corpus
(Shakespeare's sonnets, public domain, bundled) with sampling at a temperature.

All arrays are batch-first, (N, T, D), as the recurrent layers take them. Every random choice
comes from a seeded ``numpy.random.Generator`` (``seed=`` or ``dlkit.set_seed``).

    (x, y), (xt, yt) = mnist_rows()              # x: (8000, 28, 28) in [0, 1]
    x, y = adding_problem(2000, timesteps=50, seed=0)
    x, y, vocab = char_sequences(seq_len=40)
    print(generate(model, vocab, "Shall I compare", 200, temperature=0.5))
"""
from importlib import resources

import numpy as np

from .._random import make_rng

__all__ = ["mnist_rows", "sine_waves", "adding_problem", "load_text", "CharVocab",
           "char_sequences", "sample_with_temperature", "generate"]

TEXT_FILE = "sonnets.txt"


def mnist_rows(source="bundled", **kwargs):
    """MNIST as sequences: each image is 28 time steps (its rows) of 28 pixels, scaled to
    [0, 1] float32. Returns ((x_train, y_train), (x_test, y_test)) with x: (N, 28, 28) and
    integer labels y: (N,). Same split as ``mnist.load_data(source)``."""
    from . import mnist

    (x, y), (xt, yt) = mnist.load_data(source=source, **kwargs)
    scale = np.float32(1 / 255)
    return ((x.astype(np.float32) * scale, y.astype(np.int64)),
            (xt.astype(np.float32) * scale, yt.astype(np.int64)))


def sine_waves(n_samples=1000, timesteps=50, horizon=1, noise=0.1, seed=None):
    """Forecasting: x (N, T, 1) is a noisy sine wave, y (N, horizon) the next ``horizon``
    values of the same wave *without* noise (so the best possible MSE is 0, and a model that
    only copies the last noisy input scores about noise^2).

    Each sample has its own frequency (0.5 to 1.5 cycles per 20 steps), phase and
    amplitude (0.5 to 1): x_t = a sin(2 pi f t / 20 + phi) + noise * N(0, 1).
    """
    rng = make_rng(seed)
    t = np.arange(timesteps + horizon)
    f = rng.uniform(0.5, 1.5, (n_samples, 1))
    phase = rng.uniform(0, 2 * np.pi, (n_samples, 1))
    amp = rng.uniform(0.5, 1.0, (n_samples, 1))
    clean = amp * np.sin(2 * np.pi * f * t / 20 + phase)
    x = clean[:, :timesteps] + noise * rng.standard_normal((n_samples, timesteps))
    return x[..., None].astype(np.float32), clean[:, timesteps:].astype(np.float32)


def adding_problem(n_samples=1000, timesteps=50, seed=None):
    """The adding problem (Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton 2015).

    x: (N, T, 2). Channel 0 holds random numbers in [0, 1); channel 1 marks exactly two
    steps with 1, one in the first half and one in the second half. y: (N, 1) is the sum of
    the two marked numbers. Guessing the mean (1.0) gives MSE 1/6 = 0.167: a model must beat
    that by remembering a number for up to T steps.
    """
    if timesteps < 2:
        raise ValueError(f"adding_problem needs timesteps >= 2, got {timesteps}")
    rng = make_rng(seed)
    values = rng.random((n_samples, timesteps))
    half = timesteps // 2
    first = rng.integers(0, half, n_samples)
    second = rng.integers(half, timesteps, n_samples)
    marks = np.zeros((n_samples, timesteps))
    rows = np.arange(n_samples)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    x = np.stack([values, marks], axis=-1).astype(np.float32)
    y = (values[rows, first] + values[rows, second])[:, None].astype(np.float32)
    return x, y


def load_text():
    """The bundled corpus: nine of Shakespeare's sonnets (1609, public domain), ~5.6 kB."""
    return (resources.files(__package__) / "data" / TEXT_FILE).read_text(encoding="utf-8")


class CharVocab:
    """Characters <-> integer ids. ``encode("abc") -> array of ids``; ``decode(ids) -> str``.

    Ids follow the sorted characters of the text, so the same text gives the same ids.
    """

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {unknown!r}; the vocabulary "
                             f"has {len(self)} characters from the training text")
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, ids):
        return "".join(self.chars[int(i)] for i in ids)

    def __repr__(self):
        return f"CharVocab({len(self)} characters)"


def char_sequences(text=None, seq_len=40, step=3, one_hot=False):
    """Next-character prediction pairs from ``text`` (default: ``load_text()``).

    Returns (x, y, vocab): x (M, seq_len) integer ids of a window of the text (or one-hot
    (M, seq_len, V) floats with one_hot=True), y (M,) the id of the character after it;
    windows start every ``step`` characters.
    """
    text = load_text() if text is None else text
    if len(text) <= seq_len:
        raise ValueError(f"text of {len(text)} characters is too short for seq_len={seq_len}")
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    starts = np.arange(0, len(ids) - seq_len, step)
    x = ids[starts[:, None] + np.arange(seq_len)]
    y = ids[starts + seq_len]
    if one_hot:
        x = np.eye(len(vocab), dtype=np.float32)[x]
    return x, y, vocab


def sample_with_temperature(probs, temperature=1.0, rng=None):
    """Draw an index from ``probs`` (K,) sharpened or flattened by ``temperature``:
    p_i^(1/T) / sum_j p_j^(1/T). T -> 0 picks the most likely index; T = 1 samples the
    model's distribution; T > 1 is more random."""
    probs = np.asarray(probs, dtype=np.float64)
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    rng = make_rng(rng)
    logp = np.log(np.maximum(probs, 1e-300)) / temperature
    p = np.exp(logp - logp.max())
    return int(rng.choice(len(p), p=p / p.sum()))


def generate(model, vocab, seed_text, length=200, temperature=1.0, seed=None, one_hot=False):
    """Extend ``seed_text`` by ``length`` characters, each drawn from the model's prediction
    for the last ``seq_len`` characters (the model's input length; shorter seeds are
    left-padded with their first character). The model maps ids (N, seq_len) (or one-hot
    (N, seq_len, V)) to next-character probabilities (N, V)."""
    rng = make_rng(seed)
    seq_len = model.input_shape[1]
    ids = list(vocab.encode(seed_text))
    if not ids:
        raise ValueError("seed_text must not be empty")
    out = []
    eye = np.eye(len(vocab), dtype=np.float32)
    for _ in range(length):
        window = ids[-seq_len:]
        window = [window[0]] * (seq_len - len(window)) + window
        x = np.array([window])
        probs = model.predict(eye[x] if one_hot else x)[0]
        nxt = sample_with_temperature(probs, temperature, rng)
        ids.append(nxt)
        out.append(nxt)
    return seed_text + vocab.decode(out)
