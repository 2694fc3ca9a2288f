"""dlkit.evaluation: metrics beyond accuracy, imbalance helpers, int8 quantisation, distillation."""
import importlib

import numpy as np
import pytest

import dlkit
from dlkit import evaluation as ev
from dlkit.layers import Dense
from dlkit.losses import SparseCategoricalCrossentropy
from dlkit.optimizers import Adam


def test_confusion_matrix_counts_pairs():
    t = np.array([0, 0, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 2, 0, 2])
    cm = ev.confusion_matrix(t, p)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    # rows of scores are reduced by arg-max; num_classes pads absent classes
    scores = np.eye(4)[p]
    assert ev.confusion_matrix(t, scores).shape == (4, 4)
    assert ev.confusion_matrix(t, p, num_classes=5)[:3, :3].tolist() == cm.tolist()


def test_confusion_matrix_rejects_bad_labels():
    with pytest.raises(ValueError, match="labels must lie"):
        ev.confusion_matrix([0, 3], [0, 1], num_classes=3)
    with pytest.raises(ValueError, match="2 labels but y_pred has 3"):
        ev.confusion_matrix([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="integer class labels"):
        ev.confusion_matrix([0.5, 1], [0, 1])


def test_precision_recall_f1_by_hand(rng):
    t = np.array([0, 0, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 2, 0, 2])
    s = ev.precision_recall_f1(t, p)
    np.testing.assert_allclose(s["precision"], [1 / 2, 1 / 2, 1])
    np.testing.assert_allclose(s["recall"], [1 / 2, 1, 2 / 3])
    np.testing.assert_allclose(s["f1"], [1 / 2, 2 / 3, 0.8])
    assert s["support"].tolist() == [2, 1, 3]
    # a class never predicted: precision 0/0 -> 0, not NaN
    s = ev.precision_recall_f1([0, 1, 1], [0, 0, 0])
    assert s["precision"][1] == 0 and s["recall"][1] == 0 and s["f1"][1] == 0
    # randomised: per-class recall averaged with supports is the accuracy
    t = rng.integers(0, 5, 300)
    p = np.where(rng.random(300) < 0.7, t, rng.integers(0, 5, 300))
    s = ev.precision_recall_f1(t, p, 5)
    np.testing.assert_allclose((s["recall"] * s["support"]).sum() / 300, np.mean(t == p))


def test_classification_report_has_every_class_and_averages():
    text = ev.classification_report([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2])
    lines = text.splitlines()
    assert len(lines) == 1 + 3 + 3
    assert "accuracy" in lines[4] and "0.667" in lines[4]
    assert lines[5].split()[:2] == ["macro", "avg"]
    assert float(lines[5].split()[4]) == pytest.approx(np.mean([0.5, 2 / 3, 0.8]), abs=1e-3)


def test_class_weights_balanced():
    y = np.array([0] * 80 + [1] * 15 + [2] * 5)
    w = ev.class_weights(y)
    assert w == pytest.approx({0: 100 / 240, 1: 100 / 45, 2: 100 / 15})
    # every class carries the same total weight N / K
    totals = [w[c] * np.sum(y == c) for c in range(3)]
    np.testing.assert_allclose(totals, 100 / 3)
    assert ev.class_weights(y, num_classes=4)[3] == 0.0


def test_weighted_loss_with_unit_weights_equals_sparse_cross_entropy(rng):
    z = rng.normal(size=(7, 4)).astype(np.float64)
    y = rng.integers(0, 4, 7)
    total, p, dz = ev.ClassWeightedCrossentropy(np.ones(4)).value_and_grad_logits(y, z)
    ref_total, ref_p, ref_dz = SparseCategoricalCrossentropy().value_and_grad_logits(y, z)
    assert total == pytest.approx(ref_total, rel=1e-12)
    np.testing.assert_allclose(dz, ref_dz, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p, ref_p, rtol=1e-12)


@pytest.mark.parametrize("trial", range(3))
def test_weighted_loss_gradients_match_finite_differences(trial):
    rng = np.random.default_rng(trial)
    n, k = rng.integers(2, 6), rng.integers(2, 5)
    z = rng.normal(size=(n, k))
    y = rng.integers(0, k, n)
    loss = ev.ClassWeightedCrossentropy(rng.uniform(0.1, 3, k))
    mean = lambda zz: loss.value_and_grad_logits(y, zz)[0] / n  # noqa: E731
    _, _, dz = loss.value_and_grad_logits(y, z)
    num = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[idx] = 1e-6
        num[idx] = (mean(z + e) - mean(z - e)) / 2e-6
    err = np.abs(dz - num).max() / max(np.abs(num).max(), 1e-12)
    assert err < 1e-6, f"relative error {err:.2e}"
    # the probability form (no fused head) has the same value and a consistent gradient
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    total_p, dp = loss.value_and_grad(y, p)
    assert total_p == pytest.approx(loss.value_and_grad_logits(y, z)[0], rel=1e-9)
    np.testing.assert_allclose(dp[np.arange(n), y], -loss.class_weight[y] / (n * p[np.arange(n), y]))


def test_weighted_loss_trains_and_raises_minority_recall():
    # Two overlapping Gaussian classes, 95% / 5%: unweighted training mostly predicts class 0.
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (950, 2)), rng.normal(1.2, 1, (50, 2))]).astype(np.float32)
    y = np.array([0] * 950 + [1] * 50)
    recalls = []
    for loss in ("sparse_categorical_crossentropy", ev.ClassWeightedCrossentropy(ev.class_weights(y))):
        dlkit.set_seed(0)
        m = dlkit.Sequential([Dense(2, activation="softmax", input_shape=(2,))])
        m.compile(optimizer=Adam(0.05), loss=loss, metrics=["accuracy"])
        m.fit(x, y, epochs=30, batch_size=50, verbose=0)
        recalls.append(ev.precision_recall_f1(y, m.predict(x), 2)["recall"][1])
    assert recalls[0] < 0.3 < 0.6 < recalls[1], recalls


def test_weighted_loss_rejects_bad_weights():
    with pytest.raises(ValueError, match=">= 0"):
        ev.ClassWeightedCrossentropy([1.0, -1.0])
    loss = ev.ClassWeightedCrossentropy({0: 1.0, 1: 2.0})
    with pytest.raises(ValueError, match="one weight per class"):
        loss.prepare_targets(np.array([0, 1]), (None, 3), np.float32)


def test_make_imbalanced_keeps_the_asked_fractions():
    x = np.arange(300)
    y = np.repeat([0, 1, 2], 100)
    xi, yi = ev.make_imbalanced(x, y, {1: 0.1, 2: 0.5}, seed=0)
    assert np.bincount(yi).tolist() == [100, 10, 50]
    assert np.all(np.diff(xi) > 0)                 # original order kept
    assert np.array_equal(y[xi], yi)               # pairs stay together


def test_oversample_and_undersample_balance_the_classes():
    x = np.arange(130)
    y = np.array([0] * 100 + [1] * 20 + [2] * 10)
    xo, yo = ev.oversample(x, y, seed=1)
    assert np.bincount(yo).tolist() == [100, 100, 100]
    assert set(xo) == set(x)                       # every original sample is kept
    assert np.array_equal(y[xo], yo)
    xu, yu = ev.undersample(x, y, seed=1)
    assert np.bincount(yu).tolist() == [10, 10, 10]
    assert len(set(xu)) == 30 and np.array_equal(y[xu], yu)
    # same seed, same result
    assert np.array_equal(ev.oversample(x, y, seed=1)[0], xo)


@pytest.mark.parametrize("axis", [None, -1])
def test_quantize_int8_error_is_at_most_half_a_step(rng, axis):
    w = rng.normal(size=(50, 8)).astype(np.float32) * rng.uniform(0.01, 3, 8).astype(np.float32)
    q, scale = ev.quantize_int8(w, axis=axis)
    assert q.dtype == np.int8 and q.shape == w.shape
    assert np.abs(q).max() == 127
    back = ev.dequantize(q, scale)
    assert np.all(np.abs(back - w) <= scale / 2 * (1 + 1e-6))
    if axis == -1:
        assert scale.shape == (1, 8)
        # per-channel scales never do worse than one scale for the whole tensor
        q1, s1 = ev.quantize_int8(w)
        assert np.abs(back - w).max(axis=0).sum() <= np.abs(ev.dequantize(q1, s1) - w).max(axis=0).sum()
    assert ev.quantize_int8(np.zeros(3))[0].tolist() == [0, 0, 0]


def test_quantize_model_is_4x_smaller_and_as_accurate(mnist_flat):
    (x, y), (xt, yt) = mnist_flat
    dlkit.set_seed(0)
    m = dlkit.Sequential([Dense(32, activation="relu", input_shape=(784,)),
                          Dense(10, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(x, y, epochs=3, batch_size=32, verbose=0)
    before = m.get_weights()
    q, sizes = ev.quantize_model(m)
    assert all(np.array_equal(a, b) for a, b in zip(before, m.get_weights()))   # original intact
    assert sizes["float32_bytes"] == 4 * m.count_params()
    assert 3.8 < sizes["float32_bytes"] / sizes["int8_bytes"] < 4.0
    acc, acc_q = m.evaluate(xt, yt)[1], q.evaluate(xt, yt)[1]
    assert acc > 0.88 and abs(acc - acc_q) < 0.01
    # the kernels really hold at most 255 distinct values
    assert len(np.unique(q.get_weights()[0])) <= 255
    assert not np.array_equal(q.get_weights()[0], before[0])


def test_soften_and_distillation_targets(rng):
    z = rng.normal(size=(5, 4)) * 3
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ev.soften(p, 1.0), p, rtol=1e-5)
    t3 = ev.soften(p, 3.0)
    ref = np.exp(z / 3) / np.exp(z / 3).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(t3, ref, rtol=1e-5)
    ent = lambda a: -(a * np.log(a)).sum(axis=1)   # noqa: E731
    assert np.all(ent(t3) > ent(p))
    y = np.array([0, 1, 2, 3, 0])
    d = ev.distillation_targets(p, y, temperature=3.0, alpha=0.25)
    np.testing.assert_allclose(d.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(d, 0.75 * np.eye(4)[y] + 0.25 * ref, rtol=1e-5)
    with pytest.raises(ValueError, match="temperature"):
        ev.soften(p, 0)


def test_fewer_bits_give_coarser_weights_and_smaller_models(rng, mnist_flat):
    w = rng.normal(size=(64, 16)).astype(np.float32)
    errors = []
    for bits in (8, 6, 4, 2):
        q, scale = ev.quantize(w, bits=bits)
        qmax = 2 ** (bits - 1) - 1
        assert np.abs(q).max() == qmax and len(np.unique(q)) <= 2 * qmax + 1
        errors.append(np.abs(ev.dequantize(q, scale) - w).max())
        assert errors[-1] <= scale / 2 * (1 + 1e-6)
    assert errors == sorted(errors)
    with pytest.raises(ValueError, match="bits"):
        ev.quantize(w, bits=1)
    m = dlkit.Sequential([Dense(8, input_shape=(20,)), Dense(3)])
    sizes = [ev.quantize_model(m, bits=b)[1]["quantized_bytes"] for b in (8, 4)]
    assert sizes == [20 * 8 + 4 + 32 + 8 * 3 + 4 + 12, 20 * 8 // 2 + 4 + 32 + 8 * 3 // 2 + 4 + 12]


def test_every_public_name_comes_from_its_topic_module():
    """dlkit.evaluation is a package of one module per topic; the package re-exports them."""
    topics = {"classification": {"confusion_matrix", "precision_recall_f1",
                                 "classification_report"},
              "imbalance": {"class_weights", "ClassWeightedCrossentropy", "make_imbalanced",
                            "oversample", "undersample"},
              "quantization": {"quantize", "quantize_int8", "dequantize", "quantize_model",
                               "model_nbytes"},
              "distillation": {"soften", "distillation_targets", "distillation_loss"},
              "adversarial": {"input_gradient", "fgsm"}}
    assert set(ev.__all__) == set().union(*topics.values())
    for topic, names in topics.items():
        module = importlib.import_module(f"dlkit.evaluation.{topic}")
        assert set(module.__all__) == names
        for name in names:
            assert getattr(ev, name) is getattr(module, name)
            assert getattr(module, name).__module__ == module.__name__


def test_quantize_model_copies_a_functional_model_as_a_functional_model(rng):
    inputs = dlkit.Input((4,))
    m = dlkit.Model(inputs, Dense(3, activation="softmax")(Dense(5, activation="relu")(inputs)))
    q, _ = ev.quantize_model(m)
    assert type(q) is dlkit.Model and q is not m
    x = rng.random((6, 4)).astype(np.float32)
    np.testing.assert_allclose(q.predict(x, verbose=0), m.predict(x, verbose=0), atol=0.01)
