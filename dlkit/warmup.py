"""Compile dlkit's kernels ahead of time: ``python -m dlkit warmup [--book]``.

Every kernel is compiled for this CPU the first time a model needs it and kept in the kernel
cache (``python -m dlkit info`` shows where). ``warmup`` does that for all of them at once,
with a progress bar, so that the first ``fit`` of a class, a Binder session or a JupyterHub
image starts in about a second: run it where the cache will live (an image's build step, or
once as the administrator with ``NUMBA_CACHE_DIR`` pointing at a shared directory, which
students then use read-only).

Kernels are compiled per argument *type* (dtype, number of dimensions, layout), not per size,
so one tiny model per kind covers every size the book trains: the source documents' models
without ``--book``; with it, also every layer, loss, optimizer and activation the chapters and
assignments use, in float32 and (where the book checks formulas in it) float64.
"""
import numpy as np

ACTIVATIONS = ("relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "gelu", "softplus",
               "swish", "linear")


FIRST_BATCH = []   # seconds from fit called to the end of its first batch, per _fit


def _fit(model, x, y, loss, optimizer="adam", metrics=("accuracy",)):
    import time

    from .callbacks import LambdaCallback

    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    start, first = time.perf_counter(), []
    record = LambdaCallback(on_train_batch_end=lambda b, logs: first or first.append(
        time.perf_counter() - start))
    model.fit(x, y, epochs=1, batch_size=len(x) // 2, verbose=0, callbacks=[record])
    FIRST_BATCH.append(first[0])
    model.predict(x[:3], verbose=0)
    model.evaluate(x, y, batch_size=len(x), verbose=0)


def _documents(dtype):
    """The source documents' models (the benchmarks' cold-start rows)."""
    from dlkit import Input, Model, Sequential
    from dlkit.layers import LSTM, Conv2D, Dense, Flatten, MaxPooling2D, Sampling

    rng = np.random.default_rng(0)
    flat = rng.random((16, 784)).astype(dtype)
    labels = rng.integers(0, 10, 16)
    onehot = np.eye(10, dtype=dtype)[labels]
    kw = dict(dtype=dtype)

    def mlp(sizes, optimizer, loss, y):
        layers = [Dense(sizes[1], activation="relu", input_shape=(784,), **kw)]
        layers += [Dense(n, activation="relu", **kw) for n in sizes[2:-1]]
        _fit(Sequential(layers + [Dense(10, activation="softmax", **kw)]), flat, y, loss,
             optimizer)

    def cnn():
        m = Sequential([Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1), **kw),
                        MaxPooling2D((2, 2), **kw), Conv2D(64, (3, 3), activation="relu", **kw),
                        MaxPooling2D((2, 2), **kw), Flatten(**kw),
                        Dense(128, activation="relu", **kw),
                        Dense(10, activation="softmax", **kw)])
        _fit(m, flat.reshape(-1, 28, 28, 1), labels, "sparse_categorical_crossentropy")

    def lstm():
        m = Sequential([LSTM(128, input_shape=(28, 28), return_sequences=True, **kw),
                        LSTM(128, **kw), Dense(10, activation="softmax", **kw)])
        _fit(m, flat.reshape(-1, 28, 28), labels, "sparse_categorical_crossentropy")

    def autoencoder():
        inp = Input(shape=(784,))
        out = Dense(784, activation="sigmoid", **kw)(Dense(32, activation="relu", **kw)(inp))
        _fit(Model(inp, out), flat, flat, "binary_crossentropy", metrics=())

    def vae():
        enc = Sequential([Dense(256, activation="relu", input_shape=(784,), **kw),
                          Dense(4, **kw), Sampling(kl_weight=1 / 784, seed=0, **kw)])
        dec = Sequential([Dense(256, activation="relu", input_shape=(2,), **kw),
                          Dense(784, activation="sigmoid", **kw)])
        _fit(Sequential([enc, dec]), flat, flat, "binary_crossentropy", metrics=())

    return [("MLP 784-32-10, SGD", lambda: mlp((784, 32, 10), "sgd", "categorical_crossentropy",
                                                onehot)),
            ("MLP 784-128-10, Adam", lambda: mlp((784, 128, 10), "adam",
                                                  "categorical_crossentropy", onehot)),
            ("MLP 784-10-10-10, sparse labels", lambda: mlp(
                (784, 10, 10, 10), "adam", "sparse_categorical_crossentropy", labels)),
            ("CNN", cnn), ("stacked LSTM", lstm), ("dense autoencoder", autoencoder),
            ("VAE", vae)]


def _book(dtype):
    """What the chapters and assignments use beyond the documents' models."""
    from dlkit import Sequential
    from dlkit.layers import (GRU, LSTM, BatchNormalization, Bidirectional, Conv2D, Dense,
                              Dropout, Embedding, Flatten, GaussianNoise, MaxPooling2D,
                              SimpleRNN, UpSampling2D)
    from dlkit.optimizers import SGD, Adagrad, Adam, RMSprop

    rng = np.random.default_rng(1)
    kw = dict(dtype=dtype)
    x = rng.random((8, 12)).astype(dtype)
    y = rng.random((8, 3)).astype(dtype)
    img = rng.random((4, 8, 8, 2)).astype(dtype)
    seq = rng.random((4, 5, 3)).astype(dtype)
    labels = rng.integers(0, 3, 8)
    tasks = []
    for act in ACTIVATIONS:   # a narrow and a wide layer: NumPy's and dlkit's product paths
        tasks.append((f"Dense {act}", lambda a=act: _fit(Sequential([
            Dense(4, activation=a, input_shape=(12,), **kw), Dense(40, activation=a, **kw),
            Dense(3, **kw)]), x, y, "mse", metrics=())))
    for loss, target, last in [("mse", y, None), ("mae", y, None),
                               ("binary_crossentropy", (y > .5).astype(dtype), "sigmoid"),
                               ("categorical_crossentropy", np.eye(3, dtype=dtype)[labels],
                                "softmax"),
                               ("sparse_categorical_crossentropy", labels, "softmax")]:
        tasks.append((f"loss {loss}", lambda l=loss, t=target, a=last: _fit(Sequential([
            Dense(3, activation=a, input_shape=(12,), **kw)]), x, t, l)))
    for name, opt in [("SGD", lambda: SGD(momentum=0.9, nesterov=True)),
                      ("Adagrad", Adagrad), ("RMSprop", lambda: RMSprop(centered=True)),
                      ("Adam amsgrad", lambda: Adam(amsgrad=True))]:
        tasks.append((f"optimizer {name}", lambda o=opt: _fit(Sequential([
            Dense(3, input_shape=(12,), **kw)]), x, y, "mse", o(), metrics=())))
    for pad, strides in [("valid", 1), ("same", 2)]:
        tasks.append((f"Conv2D {pad}, stride {strides}", lambda p=pad, s=strides: _fit(
            Sequential([Conv2D(4, 3, strides=s, padding=p, activation="relu",
                               input_shape=(8, 8, 2), **kw),
                        MaxPooling2D(2, **kw), UpSampling2D(2, **kw), Flatten(**kw),
                        Dense(3, **kw)]), img, labels[:4], "sparse_categorical_crossentropy")))
    tasks.append(("BatchNormalization, Dropout, GaussianNoise", lambda: _fit(Sequential([
        Dense(8, input_shape=(12,), **kw), BatchNormalization(**kw), Dropout(0.5, **kw),
        GaussianNoise(0.1, **kw), Dense(3, **kw)]), x, y, "mse", metrics=())))
    for cell in (SimpleRNN, LSTM, GRU):
        tasks.append((cell.__name__, lambda c=cell: _fit(Sequential([
            c(6, input_shape=(5, 3), return_sequences=True, **kw), c(6, **kw),
            Dense(3, **kw)]), seq, labels[:4], "sparse_categorical_crossentropy")))
        tasks.append((f"Bidirectional {cell.__name__}", lambda c=cell: _fit(Sequential([
            Bidirectional(c(4, **kw), input_shape=(5, 3)), Dense(3, **kw)]), seq, labels[:4],
            "sparse_categorical_crossentropy")))
    def formulas():
        """What the chapters call outside fit: activation functions and their derivatives in
        float64 (dlkit.activations), each loss on probabilities and on logits."""
        from dlkit import activations, losses

        z = rng.standard_normal((4, 3))
        for act in ACTIVATIONS:
            activations.apply(act, z)
            if act != "softmax":
                activations.derivative(act, z)
        p = rng.uniform(0.05, 0.95, (8, 3)).astype(dtype)
        p = p / p.sum(axis=1, keepdims=True)
        for name, t in [("mse", y), ("mae", y), ("binary_crossentropy", (y > .5).astype(dtype)),
                        ("categorical_crossentropy", np.eye(3, dtype=dtype)[labels]),
                        ("sparse_categorical_crossentropy", labels)]:
            loss = losses.get(name)
            loss.value_and_grad(t, p)
            if "crossentropy" in name:                      # the fused heads, on logits
                loss.value_and_grad_logits(t, np.log(p))

    tasks.append(("activations and losses as functions", formulas))
    ids = rng.integers(1, 9, (8, 6))
    tasks.append(("Embedding with a mask, LSTM", lambda: _fit(Sequential([
        Embedding(10, 4, mask_zero=True, input_shape=(6,), **kw), LSTM(5, **kw),
        Dense(3, **kw)]), ids, labels, "sparse_categorical_crossentropy")))
    return tasks


def tasks(book=False):
    """[(description, function)] that compile what a fresh cache lacks."""
    out = [(f"{d}", f) for d, f in _documents("float32")]
    if book:
        out += [(f"{d}", f) for d, f in _book("float32")]
        out += [(f"{d} (float64)", f) for d, f in _book("float64")]
    return out


def warmup(book=False, verbose=True):
    """Compile (or load from the cache) every kernel of ``tasks(book)``; returns the number of
    kernels that had to be compiled."""
    from numba.core import event

    from .kernels import _jit

    class Count(event.Listener):
        n = depth = 0

        def on_start(self, ev):
            self.depth += 1

        def on_end(self, ev):
            self.depth -= 1
            self.n += self.depth == 0

    counter = Count()
    todo = tasks(book)
    bar = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(todo, desc="compiling dlkit kernels for this CPU", unit=" models")
    event.register("numba:compile", counter)
    try:
        for desc, fn in (bar or todo):
            if bar is not None:
                bar.set_postfix_str(desc, refresh=False)
            fn()
    finally:
        event.unregister("numba:compile", counter)
        if bar is not None:
            bar.close()
    if verbose:
        print(f"{counter.n} kernels compiled into {_jit.cache_dir()}" if counter.n else
              f"nothing to compile: every kernel was already in {_jit.cache_dir()}")
    return counter.n
