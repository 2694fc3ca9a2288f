"""Headless tests of the latent-space explorer (dlkit.viz.latent), with tiny untrained decoders:
set the sliders as a user would and check what is decoded and drawn."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from dlkit import Sequential, viz  # noqa: E402
from dlkit.layers import Dense  # noqa: E402
from dlkit.viz.latent import decode_point  # noqa: E402
from widget_helpers import PNG_MAGIC, live_figures  # noqa: E402


@pytest.fixture
def codes_labels():
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 2)), rng.integers(0, 10, 300)


@pytest.fixture
def decoder():
    model = Sequential([Dense(16, activation="tanh", input_shape=(2,)),
                        Dense(784, activation="sigmoid")])
    return model


def linear_decoder(z):
    """A decoder whose image tells z apart: pixel p = sigmoid(z1 * a_p + z2 * b_p)."""
    a = np.linspace(-1, 1, 784)
    return 1 / (1 + np.exp(-(z[:, :1] * a + z[:, 1:] * a[::-1])))


def test_sliders_move_the_point_and_redraw_the_decoded_digit(decoder, codes_labels):
    codes, labels = codes_labels
    w = viz.latent_explorer(decoder, codes, labels)
    assert w.z == (0.0, 0.0) and w.renders == 1 and w.png.startswith(PNG_MAGIC)
    first = w.png
    w.controls["z1"].value = 1.5
    assert w.renders == 2 and w.png != first
    assert w.z == pytest.approx((1.5, 0.0))
    expected = decoder.predict(np.array([[1.5, 0.0]], dtype=np.float32)).reshape(28, 28)
    np.testing.assert_allclose(w.image_data, expected, rtol=1e-6)
    np.testing.assert_allclose(w.plot.img.get_array(), expected, rtol=1e-6)
    assert tuple(np.ravel(w.plot.marker.get_data())) == pytest.approx((1.5, 0.0))
    w.controls["z2"].value = -1.0
    assert w.renders == 3 and w.z == pytest.approx((1.5, -1.0))
    w.set(z1=0.5, z2=0.5)
    assert w.renders == 4, "set() redraws once for two controls"
    assert all(c.continuous_update is False for c in w.controls.values())


def test_a_plain_function_works_as_decoder_and_images_differ(codes_labels):
    codes, labels = codes_labels
    w = viz.latent_explorer(linear_decoder, codes, labels, z=(-1.0, 1.0))
    np.testing.assert_allclose(w.image_data.ravel(), linear_decoder(np.array([[-1.0, 1.0]]))[0])
    before = w.image_data.copy()
    w.controls["z1"].value = 1.0
    assert not np.allclose(before, w.image_data)


def test_sliders_span_the_codes_or_the_given_limits(decoder, codes_labels):
    codes, labels = codes_labels
    w = viz.latent_explorer(decoder, codes, labels)
    for key, col in zip(("z1", "z2"), codes.T):
        assert w.controls[key].min < col.min() and w.controls[key].max > col.max()
    w = viz.latent_explorer(decoder, codes, labels, limits=((-3, 3), (-2, 2)), z=(5.0, -5.0))
    assert (w.controls["z1"].min, w.controls["z1"].max) == (-3, 3)
    assert w.z == (3.0, -2.0), "a starting point outside the limits is clipped to them"
    assert w.plot.ax_map.get_xlim() == (-3, 3)


def test_repr_is_stable_and_the_static_picture_exists(decoder, codes_labels):
    codes, labels = codes_labels
    w = viz.latent_explorer(decoder, codes, labels)
    assert repr(w) == "LatentExplorer(z=(0.00, 0.00), 300 codes, 10 labels)"
    bundle = w._repr_mimebundle_()
    assert bundle["text/plain"] == repr(w) and "image/png" in bundle
    fig = viz.plot_latent_point(decoder, codes, labels, z=(0.3, -0.2))
    assert fig.axes[0].get_xlabel() == "$z_1$" and fig.axes[0].get_ylabel() == "$z_2$"
    assert fig.axes[0].get_legend() is not None, "a legend names the labels' colours"
    assert "0.30, -0.20" in fig.axes[1].get_title()
    from dlkit.viz.render import figure_to_png

    assert figure_to_png(fig).startswith(PNG_MAGIC)


def test_click_on_the_scatter_moves_the_point(codes_labels):
    codes, labels = codes_labels
    w = viz.latent_explorer(linear_decoder, codes, labels, limits=((-4, 4), (-4, 4)))
    fig_w, fig_h = w.figure.canvas.get_width_height()
    px, py = w.plot.ax_map.transData.transform((2.0, -1.0))
    event = {"relativeX": px, "relativeY": fig_h - py,
             "boundingRectWidth": fig_w, "boundingRectHeight": fig_h}
    n = w.renders
    w.on_click(event)
    assert w.z == pytest.approx((2.0, -1.0), abs=0.05) and w.renders == n + 1
    w.on_click({"relativeX": fig_w - 2, "relativeY": 2,       # on the image, not the map
                "boundingRectWidth": fig_w, "boundingRectHeight": fig_h})
    assert w.renders == n + 1


def test_bad_arguments_give_clear_errors(decoder, codes_labels):
    codes, labels = codes_labels
    with pytest.raises(ValueError, match=r"codes must have shape \(N, 2\)"):
        viz.latent_explorer(decoder, np.zeros((10, 3)), labels[:10])
    with pytest.raises(ValueError, match="300 codes but 5 labels"):
        viz.latent_explorer(decoder, codes, labels[:5])
    wide = Sequential([Dense(784, input_shape=(4,))])
    with pytest.raises(ValueError, match="latent_dim=2"):
        viz.latent_explorer(wide, codes, labels)
    with pytest.raises(TypeError, match="decoder must be"):
        viz.latent_explorer("decoder", codes, labels)
    with pytest.raises(ValueError, match="min < max"):
        viz.latent_explorer(decoder, codes, labels, limits=((1, -1), (0, 1)))
    with pytest.raises(ValueError, match="image_shape"):
        decode_point(lambda z: np.zeros((1, 10)), (0, 0))


def test_decode_point_shapes():
    assert decode_point(lambda z: np.zeros((1, 28, 28, 1)), (0, 0)).shape == (28, 28)
    assert decode_point(lambda z: np.zeros((1, 12)), (0, 0), image_shape=(3, 4)).shape == (3, 4)


def test_labels_may_be_omitted_and_updates_make_no_new_figures(decoder, codes_labels):
    import matplotlib.pyplot as plt

    codes, _ = codes_labels
    w = viz.latent_explorer(decoder, codes)
    assert w.plot.ax_map.get_legend() is None and "1 labels" in repr(w)
    before = live_figures()
    for v in np.linspace(-1, 1, 8):
        w.controls["z1"].value = float(v)
        w.set(z2=float(-v))
    assert w.renders == 17
    assert live_figures() == before
    assert plt.get_fignums() == []
