"""Tests of dlkit.datasets: bundled MNIST, the IDX reader, the download path, synthetic sets.

The download tests never touch the internet: they serve small generated IDX files from a
local HTTP server on 127.0.0.1 and patch mnist.FILES with those files' md5s.
"""
import gzip
import hashlib
import http.server
import re
import socket
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlkit.datasets import (CorruptDataError, DownloadError, blobs, circles, get_data_dir,
                            mnist, moons, read_idx, spirals, xor)

DATA = Path(mnist.__file__).parent / "data"
IMAGES, LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"


def idx_bytes(array):
    """An IDX file of `array`, written straight from the spec (independent of read_idx)."""
    codes = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
    code = codes[array.dtype.str[1:]]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def md5(path):
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------------------- bundled MNIST

def raw_bundled():
    """The bundled files parsed by hand: (10000, 28, 28) images, (10000,) labels."""
    images = np.frombuffer(gzip.decompress((DATA / IMAGES).read_bytes())[16:], np.uint8)
    labels = np.frombuffer(gzip.decompress((DATA / LABELS).read_bytes())[8:], np.uint8)
    return images.reshape(10000, 28, 28), labels


def test_bundled_shapes_dtypes_and_labels():
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (8000, 28, 28) and y_train.shape == (8000,)
    assert x_test.shape == (2000, 28, 28) and y_test.shape == (2000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    assert x_train.max() == 255 and x_train.min() == 0


def test_bundled_split_is_first_8000_then_last_2000():
    images, labels = raw_bundled()
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, images[:8000])
    np.testing.assert_array_equal(y_train, labels[:8000])
    np.testing.assert_array_equal(x_test, images[8000:])
    np.testing.assert_array_equal(y_test, labels[8000:])
    assert list(y_train[:5]) == [7, 2, 1, 0, 4]  # the well-known first MNIST test labels


def test_bundled_returns_copies_so_the_cache_cannot_be_corrupted():
    (x_train, y_train), _ = mnist.load_data()
    x_train[:] = 0
    y_train[:] = 0
    (x_again, y_again), _ = mnist.load_data()
    assert x_again.any() and y_again.any()
    assert x_again.flags.writeable


def test_bundled_files_match_the_md5s_in_the_readme():
    readme = (DATA / "README.md").read_text()
    assert "CC BY-SA 3.0" in readme or "Attribution-Share Alike 3.0" in readme
    assert "LeCun" in readme and "Cortes" in readme and "Burges" in readme
    table = dict(re.findall(r"\|\s*(\S+\.gz)\s*\|[^|]*\|\s*([0-9a-f]{32})\s*\|", readme))
    assert set(table) == {IMAGES, LABELS}
    for name, expected in table.items():
        assert md5(DATA / name) == expected == mnist.FILES[name]


def test_unknown_source_is_a_clear_error():
    with pytest.raises(ValueError, match="'bundled'.*'full'.*got 'fashion'"):
        mnist.load_data(source="fashion")


# ---------------------------------------------------------------------------- IDX reader

@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", ">i4", ">f4", ">f8"])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), (0, 2), (2, 1, 3, 2)])
@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, dtype, shape, compress):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    data = idx_bytes(array)
    path = tmp_path / "a.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    got = read_idx(path)
    assert got.shape == shape and got.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(got, array)
    assert got.flags.writeable and got.dtype.isnative
    with open(path, "rb") as f:  # a file object works as well as a path
        np.testing.assert_array_equal(read_idx(f), array)


def test_idx_truncated_payload_names_file_and_sizes(tmp_path):
    path = tmp_path / "images.gz"
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 10, 28, 28)
    path.write_bytes(gzip.compress(header + bytes(123)))
    with pytest.raises(CorruptDataError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message
    assert "truncated: header says 10x28x28 = 7840 bytes of uint8 data, file has 123" in message
    assert "Delete the file" in message and "load_data()" in message
    assert isinstance(info.value, ValueError)


def test_idx_trailing_bytes_are_an_error(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.arange(5, dtype=np.uint8)) + b"junk")
    with pytest.raises(CorruptDataError, match="too long: header says 5 = 5 bytes .* has 9"):
        read_idx(path)


def test_idx_wrong_magic(tmp_path):
    path = tmp_path / "not-idx"
    path.write_bytes(b"PK\x03\x04" + bytes(100))  # a zip file, say
    with pytest.raises(CorruptDataError, match=r"not-idx.*not an IDX file: magic number "
                                               r"0x504B0304"):
        read_idx(path)


def test_idx_wrong_ndim_says_expected_and_found_magic(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(5, dtype=np.uint8))))
    with pytest.raises(CorruptDataError, match="expected magic 0x00000803 .* found 0x00000801"):
        read_idx(path, ndim=3)


def test_idx_truncated_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">I", 10))
    with pytest.raises(CorruptDataError, match="truncated header: 3 dimensions need 16 bytes"):
        read_idx(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(CorruptDataError, match="4-byte IDX magic number, file has 2 bytes"):
        read_idx(path)


def test_idx_truncated_gzip_is_a_clear_error_not_eoferror(tmp_path):
    path = tmp_path / "cut.gz"
    data = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8)))
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptDataError, match="cut.gz is corrupt: damaged gzip stream") as info:
        read_idx(path)
    assert "cut short" in str(info.value)
    path.write_bytes(data[:10] + b"\xff" * (len(data) - 10))  # garbage deflate data
    with pytest.raises(CorruptDataError, match="damaged gzip stream"):
        read_idx(path)


# ---------------------------------------------------------------------------- download

class Server:
    """A local HTTP server on 127.0.0.1 serving `root`; counts the GET requests it gets.

    Paths under /truncated/ announce the full Content-Length but send only half the body.
    """

    def __init__(self, root):
        self.root, self.requests = root, []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):
                server.requests.append(self.path)
                if not self.path.startswith("/truncated/"):
                    return super().do_GET()
                body = (root / self.path.rsplit("/", 1)[1]).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True

            def log_message(self, *args):  # keep pytest's output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens: bind a port, then free it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Four small valid MNIST-like files served on 127.0.0.1, with mnist.FILES patched.

    Yields the Server with .arrays = {"train": (x, y), "t10k": (x, y)}.
    """
    monkeypatch.delenv("DLKIT_DATA", raising=False)
    monkeypatch.delenv("DLKIT_MNIST_MIRRORS", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # a user's proxy must not interfere
    root = tmp_path / "www"
    root.mkdir()
    rng = np.random.default_rng(0)
    arrays, files = {}, {}
    for prefix, n in (("train", 12), ("t10k", 5)):
        x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, size=n, dtype=np.uint8)
        arrays[prefix] = (x, y)
        for kind, array in (("images-idx3", x), ("labels-idx1", y)):
            name = f"{prefix}-{kind}-ubyte.gz"
            (root / name).write_bytes(gzip.compress(idx_bytes(array)))
            files[name] = md5(root / name)
    monkeypatch.setattr(mnist, "FILES", files)
    srv = Server(root)
    srv.arrays = arrays
    yield srv
    srv.close()


def load_full(cache, *mirrors):
    return mnist.load_data("full", data_dir=cache, mirrors=list(mirrors), progress=False)


def assert_loaded(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, want in zip((x_train, y_train, x_test, y_test), (*arrays["train"], *arrays["t10k"])):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)


def test_download_checksum_ok_files_land_in_cache(server, tmp_path):
    cache = tmp_path / "cache"
    assert_loaded(load_full(cache, server.url), server.arrays)
    assert sorted(p.name for p in cache.iterdir()) == sorted(mnist.FILES)  # no temp files
    for name, expected in mnist.FILES.items():
        assert md5(cache / name) == expected


def test_download_checksum_wrong_names_md5s_and_keeps_nothing(server, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    name = "train-labels-idx1-ubyte.gz"
    real = mnist.FILES[name]
    monkeypatch.setitem(mnist.FILES, name, "0" * 32)
    with pytest.raises(DownloadError) as info:
        load_full(cache, server.url)
    message = str(info.value)
    assert f"checksum mismatch for {name}: expected md5 {'0' * 32}, got {real}" in message
    assert not (cache / name).exists()
    assert {p.name for p in cache.iterdir()} <= set(mnist.FILES) - {name}  # no temp files


def test_download_truncated_body_leaves_nothing_behind(server, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError) as info:
        load_full(cache, server.url + "truncated/")
    message = str(info.value)
    assert server.url + "truncated/train-images-idx3-ubyte.gz" in message
    assert "IncompleteRead" in message or "checksum mismatch" in message
    assert list(cache.iterdir()) == []


def test_server_down_error_lists_mirror_and_where_to_put_files(server, tmp_path):
    cache = tmp_path / "cache"
    dead = closed_port_url()
    with pytest.raises(DownloadError) as info:
        load_full(cache, dead)
    message = str(info.value)
    assert dead + "train-images-idx3-ubyte.gz" in message and "ConnectionError" in message
    assert str(cache.absolute()) in message
    for name in mnist.FILES:
        assert name in message
    assert "mnist.load_data()" in message  # the offline alternative


def test_missing_file_on_mirror_reports_404(server, tmp_path):
    (server.root / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DownloadError, match="404") as info:
        load_full(tmp_path / "cache", server.url)
    assert "(already there)" in str(info.value)  # the three files that did arrive


def test_first_mirror_down_second_ok(server, tmp_path):
    assert_loaded(load_full(tmp_path / "cache", closed_port_url(), server.url), server.arrays)
    assert len(server.requests) == 4


def test_cached_files_are_not_downloaded_again_but_bad_ones_are(server, tmp_path):
    cache = tmp_path / "cache"
    load_full(cache, server.url)
    assert len(server.requests) == 4
    assert_loaded(load_full(cache, server.url), server.arrays)
    assert len(server.requests) == 4
    (cache / "t10k-images-idx3-ubyte.gz").write_bytes(b"not the right file")
    assert_loaded(load_full(cache, server.url), server.arrays)
    assert server.requests[4:] == ["/t10k-images-idx3-ubyte.gz"]


def test_full_set_copies_its_test_files_from_the_bundle(server, tmp_path, monkeypatch):
    for name in (IMAGES, LABELS):  # the real t10k md5s: the bundled files are those files
        monkeypatch.setitem(mnist.FILES, name, md5(DATA / name))
    _, (x_test, y_test) = load_full(tmp_path / "cache", server.url)
    assert sorted(server.requests) == ["/train-images-idx3-ubyte.gz",
                                       "/train-labels-idx1-ubyte.gz"]
    images, labels = raw_bundled()
    np.testing.assert_array_equal(x_test, images)
    np.testing.assert_array_equal(y_test, labels)


def test_environment_variables_choose_mirrors_and_data_dir(server, tmp_path, monkeypatch):
    monkeypatch.setenv("DLKIT_DATA", str(tmp_path / "env-cache"))
    monkeypatch.setenv("DLKIT_MNIST_MIRRORS", f" {closed_port_url()} , {server.url}")
    assert get_data_dir() == tmp_path / "env-cache"
    assert_loaded(mnist.load_data("full", progress=False), server.arrays)
    assert sorted(p.name for p in (tmp_path / "env-cache").iterdir()) == sorted(mnist.FILES)


def test_default_data_dir_is_the_user_cache(monkeypatch):
    pooch = pytest.importorskip("pooch")
    monkeypatch.delenv("DLKIT_DATA", raising=False)
    assert get_data_dir() == Path(pooch.os_cache("dlkit")).absolute()
    assert get_data_dir("~/x") == Path.home() / "x"


def test_image_and_label_counts_must_agree(server, tmp_path, monkeypatch):
    name = "t10k-labels-idx1-ubyte.gz"
    (server.root / name).write_bytes(gzip.compress(idx_bytes(np.zeros(4, np.uint8))))
    monkeypatch.setitem(mnist.FILES, name, md5(server.root / name))
    with pytest.raises(CorruptDataError, match="t10k-images has 5 images but t10k-labels has 4"):
        load_full(tmp_path / "cache", server.url)


# ---------------------------------------------------------------------------- synthetic sets

GENERATORS = {"spirals": spirals, "moons": moons, "circles": circles, "xor": xor, "blobs": blobs}


def make(name, n_samples, noise, seed):
    if name == "blobs":
        return blobs(n_samples, cluster_std=noise, seed=seed)
    return GENERATORS[name](n_samples, noise=noise, seed=seed)


def n_classes(name):
    return 3 if name == "blobs" else 2


@pytest.mark.parametrize("name", GENERATORS)
def test_synthetic_shapes_dtypes_and_balance(name):
    X, y = make(name, 101, 0.1, seed=0)
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == n_classes(name) and counts.max() - counts.min() <= 1
    assert len(np.unique(y[:20])) > 1  # rows are shuffled, not sorted by class


@pytest.mark.parametrize("name", GENERATORS)
def test_synthetic_same_seed_same_arrays_different_seed_different(name):
    X1, y1 = make(name, 50, 0.1, seed=7)
    X2, y2 = make(name, 50, 0.1, seed=7)
    X3, _ = make(name, 50, 0.1, seed=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_synthetic_seed_none_uses_the_library_generator():
    random = pytest.importorskip("dlkit._random")
    random.set_seed(3)
    first = spirals(30)
    random.set_seed(3)
    second = spirals(30)
    np.testing.assert_array_equal(first[0], second[0])


def test_spirals_classes_and_noise_free_geometry():
    X, y = spirals(90, noise=0.0, n_classes=3, seed=0)
    assert np.bincount(y).tolist() == [30, 30, 30]
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.min() >= 0.05 - 1e-6 and radius.max() <= 1 + 1e-6


def test_circles_and_moons_noise_free_geometry():
    X, y = circles(40, noise=0.0, factor=0.3, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.3, rtol=1e-6)
    X, y = moons(40, noise=0.0, seed=0)
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(1 - X[y == 1, 0], 0.5 - X[y == 1, 1]), 1.0, rtol=1e-6)


def test_xor_labels_follow_the_sign_rule_without_noise():
    X, y = xor(200, noise=0.0, seed=0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    assert np.abs(X).min() >= 0.1 and np.abs(X).max() <= 1.0


def test_blobs_with_given_centres_and_stds():
    centers = np.array([[0.0, 0.0], [5.0, 5.0]])
    X, y = blobs(10, centers=centers, cluster_std=[0.0, 0.0], seed=0)
    np.testing.assert_array_equal(X, centers[y].astype(np.float32))
    X, y = blobs(3000, centers=centers, cluster_std=[0.5, 2.0], seed=0)
    np.testing.assert_allclose([X[y == 0].std(), X[y == 1].std()], [0.5, 2.0], rtol=0.1)


@pytest.mark.parametrize("call, match", [
    (lambda: spirals(0), "n_samples must be an integer >= 2; got 0"),
    (lambda: moons(2.5), "n_samples must be an integer"),
    (lambda: circles(True), "n_samples must be an integer"),
    (lambda: spirals(2, n_classes=3), "n_samples must be an integer >= 3"),
    (lambda: spirals(10, n_classes=1), "n_classes must be an integer >= 2"),
    (lambda: moons(10, noise=-0.1), "noise .* >= 0; got -0.1"),
    (lambda: xor(10, noise=float("nan")), "noise .* finite"),
    (lambda: circles(10, factor=1.0), "factor .* between 0 and 1"),
    (lambda: blobs(10, centers=0), "centers must be an integer >= 1"),
    (lambda: blobs(10, centers=[[1, 2, 3]]), r"\(k, 2\) array .* shape \(1, 3\)"),
    (lambda: blobs(10, cluster_std=-1.0), "cluster_std must be a number >= 0"),
    (lambda: blobs(10, centers=2, cluster_std=[1, 2, 3]), "one per cluster \\(2 of them\\)"),
    (lambda: blobs(2, centers=3), "n_samples must be an integer >= 3"),
])
def test_synthetic_arguments_are_validated(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(GENERATORS)), n_samples=st.integers(3, 400),
       noise=st.floats(0.0, 2.0), seed=st.integers(0, 2**32 - 1))
def test_synthetic_properties(name, n_samples, noise, seed):
    X, y = make(name, n_samples, noise, seed)
    assert X.shape == (n_samples, 2) and X.dtype == np.float32 and np.isfinite(X).all()
    assert y.shape == (n_samples,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=n_classes(name))
    assert len(counts) == n_classes(name) and counts.max() - counts.min() <= 1
    X2, y2 = make(name, n_samples, noise, seed)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
