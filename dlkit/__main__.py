"""Command line: ``python -m dlkit COMMAND``.

    info                      versions, threads, cache and data directories
    warmup [--book]           compile every kernel ahead of time (a class's image, Binder)
    train mlp                 train the first document's network on the bundled MNIST
    bench [--only ...]        run benchmarks/bench.py from a source checkout
    assign release|grade ...  classroom tools (see ``python -m dlkit assign --help``)
    book build                the book's website, both editions, into book/_build/html/
"""
import argparse
import sys


def cmd_info(args):
    import os
    import platform

    import numpy as np

    import dlkit
    from dlkit.datasets import get_data_dir

    lines = [("dlkit", dlkit.__version__), ("python", platform.python_version()),
             ("numpy", np.__version__)]
    for mod in ("numba", "scipy", "matplotlib", "ipywidgets", "tqdm", "pooch", "torch"):
        try:
            lines.append((mod, __import__(mod).__version__))
        except ImportError:
            lines.append((mod, "not installed"))
    from dlkit.kernels._jit import cache_dir
    from dlkit.kernels import gemm
    import numba

    lines += [("cpu cores", str(os.cpu_count())), ("numba threads", str(numba.config.NUMBA_NUM_THREADS)),
              ("BLAS threads in fit", "NumPy's: default; inside Numba kernels: 1 (they split the batch themselves)"),
              ("float32 matrix products", _product_line(gemm.ENABLED)),
              ("numba cache dir", cache_dir()), ("data dir", str(get_data_dir()))]
    width = max(len(k) for k, _ in lines)
    for k, v in lines:
        print(f"{k:<{width}}  {v}")
    return 0


def _product_line(enabled):
    from dlkit.kernels._jit import PRODUCT_REASON

    if enabled:
        return "dlkit's AVX-512 kernel (dlkit.kernels.gemm)"
    return f"BLAS ({PRODUCT_REASON})"


MODELS = ("mlp", "mlp128", "mlp10")


def cmd_train(args):
    import time

    import numpy as np

    import dlkit
    from dlkit import Sequential
    from dlkit.datasets import mnist
    from dlkit.layers import Dense
    from dlkit.optimizers import SGD, Adam
    from dlkit.utils import to_categorical

    dlkit.set_seed(args.seed)
    (x, y), (xt, yt) = mnist.load_data()
    x = x.reshape(len(x), -1).astype(np.float32) / 255
    xt = xt.reshape(len(xt), -1).astype(np.float32) / 255
    if args.model == "mlp":        # document 000: 784 -> 32 relu -> 10 softmax, SGD momentum
        model = Sequential([Dense(32, activation="relu", input_shape=(784,)),
                            Dense(10, activation="softmax")])
        model.compile(optimizer=SGD(learning_rate=0.01, momentum=0.9),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        y, yt, epochs, bs = to_categorical(y, 10), to_categorical(yt, 10), 10, 32
    elif args.model == "mlp128":   # document 003: 784 -> 128 relu -> 10 softmax, Adam
        model = Sequential([Dense(128, activation="relu", input_shape=(784,)),
                            Dense(10, activation="softmax")])
        model.compile(optimizer=Adam(), loss="categorical_crossentropy", metrics=["accuracy"])
        y, yt, epochs, bs = to_categorical(y, 10), to_categorical(yt, 10), 5, 32
    else:                          # document 002: 784 -> 10 -> 10 -> 10, Adam, sparse labels
        model = Sequential([Dense(10, activation="relu", input_shape=(784,)),
                            Dense(10, activation="relu"), Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        epochs, bs = 10, 128
    if args.epochs:
        epochs = args.epochs
    model.summary()
    t = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=bs, verbose=0 if args.quiet else 1)
    secs = time.perf_counter() - t
    loss, acc = model.evaluate(xt, yt)
    print(f"trained {args.model} for {epochs} epochs in {secs:.1f} s; "
          f"test loss {loss:.4f}, test accuracy {acc:.4f}")
    if args.save:
        model.save(args.save)
        print(f"saved to {args.save}")
    return 0


def cmd_bench(args, rest):
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"
    if not script.exists():
        print("the benchmarks live in the source checkout (benchmarks/bench.py); clone the "
              "repository and install with pip install -e '.[bench]'", file=sys.stderr)
        return 2
    import runpy

    sys.argv = [str(script)] + rest
    runpy.run_path(str(script), run_name="__main__")
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="python -m dlkit", description="dlkit command line")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="versions, threads, cache and data directories")
    tr = sub.add_parser("train", help="train one of the book's networks on the bundled MNIST")
    tr.add_argument("model", choices=MODELS, help="mlp: 784-32-10 SGD (document 000); "
                    "mlp128: 784-128-10 Adam (003); mlp10: 784-10-10-10 Adam (002)")
    tr.add_argument("--epochs", type=int, default=None)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--save", help="save the trained model to this .npz file")
    tr.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_parser("bench", help="run the benchmarks (source checkout only)", add_help=False)
    wu = sub.add_parser("warmup", help="compile every kernel ahead of time, into the cache")
    wu.add_argument("--book", action="store_true",
                    help="everything the book and the assignments use, not only the documents' "
                         "models")
    bk = sub.add_parser("book", help="the book's website (source checkout only)")
    bk_sub = bk.add_subparsers(dest="book_command", required=True)
    bb = bk_sub.add_parser("build", help="build both editions as a static website, from the "
                           "saved notebooks (nothing is re-run), into book/_build/html/")
    bb.add_argument("--output", help="the site's folder (default: book/_build/html)")
    bb.add_argument("--repository", help="OWNER/NAME of a public copy on GitHub, for the "
                    "Binder address each chapter gives")
    try:
        from dlkit.classroom import cli as classroom_cli
    except ImportError:
        classroom_cli = None
    if classroom_cli is not None:
        classroom_cli.add_parser(sub)
    if argv[:1] == ["bench"]:
        return cmd_bench(None, argv[1:])
    args = ap.parse_args(argv)
    if args.command == "info":
        return cmd_info(args)
    if args.command == "train":
        return cmd_train(args)
    if args.command == "warmup":
        from dlkit.warmup import warmup

        warmup(book=args.book)
        return 0
    if args.command == "book":
        from dlkit.website import main as build_site

        return build_site(args)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
