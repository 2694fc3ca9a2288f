"""The text of ``model.summary()``: Keras's table of layers, output shapes and parameters."""


def _shape(s):
    return "(" + ", ".join("None" if d is None else str(d) for d in s) + ")" if s else "?"


def _bytes(n):
    return f"{n / 1024:.2f} KB" if n < 1024 ** 2 else f"{n / 1024 ** 2:.2f} MB"


def summary_text(model):
    rows = [("Layer (type)", "Output Shape", "Param #")]
    for layer in model.layers:
        rows.append((f"{layer.name} ({type(layer).__name__})", _shape(layer.output_shape),
                     f"{layer.count_params():,}"))
    w = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
    w[0], w[1], w[2] = max(w[0], 30), max(w[1], 22), max(w[2], 12)
    line = lambda ch: ch * (sum(w) + 2)  # noqa: E731
    fmt = lambda r: f"{r[0]:<{w[0]}} {r[1]:<{w[1]}} {r[2]:>{w[2]}}"  # noqa: E731
    total = sum(l.count_params() for l in model.layers)
    trainable = sum(p.size for p, _ in model.trainable_pairs())
    itemsize = model.dtype(0).itemsize
    out = [f'Model: "{model.name or "sequential"}"', line("="), fmt(rows[0]), line("=")]
    out += [fmt(r) for r in rows[1:]]
    out += [line("="),
            f" Total params: {total:,} ({_bytes(total * itemsize)})",
            f" Trainable params: {trainable:,} ({_bytes(trainable * itemsize)})",
            f" Non-trainable params: {total - trainable:,} ({_bytes((total - trainable) * itemsize)})"]
    return "\n".join(out)
