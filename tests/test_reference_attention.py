"""dlkit.reference.attention: scaled dot-product attention, checked against its definition
written out by hand, and against the properties chapter 12 of the book relies on."""
import numpy as np
import pytest

from dlkit.reference.attention import attention_weights, scaled_dot_product_attention


def _by_hand(Q, K, V, causal=False):
    """Row by row, as the formula reads: out_i = sum_j a_ij v_j, a_i = softmax_j(q_i.k_j/sqrt d)."""
    out = np.zeros((len(Q), V.shape[1]))
    for i, q in enumerate(Q):
        keys = range(i + 1) if causal else range(len(K))
        s = np.array([q @ K[j] / np.sqrt(len(q)) for j in keys])
        a = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
        out[i] = sum(a_j * V[j] for a_j, j in zip(a, keys))
    return out


@pytest.mark.parametrize("t_q, t_k, d_k, d_v", [(1, 1, 1, 1), (3, 5, 4, 2), (6, 6, 8, 3)])
def test_equals_the_formula_written_out(t_q, t_k, d_k, d_v):
    rng = np.random.default_rng(t_q * 100 + t_k)
    Q, K, V = rng.normal(size=(t_q, d_k)), rng.normal(size=(t_k, d_k)), rng.normal(size=(t_k, d_v))
    out = scaled_dot_product_attention(Q, K, V)
    assert out.shape == (t_q, d_v)
    np.testing.assert_allclose(out, _by_hand(Q, K, V), rtol=1e-12, atol=1e-12)


def test_causal_attention_sees_only_the_past():
    rng = np.random.default_rng(1)
    Q, K, V = rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 5, 2))
    A = attention_weights(Q, K, causal=True)
    assert np.all(np.triu(A[0], k=1) == 0) and np.allclose(A.sum(axis=-1), 1)
    out = scaled_dot_product_attention(Q, K, V, causal=True)
    for b in range(3):   # leading axes broadcast: each sequence on its own
        np.testing.assert_allclose(out[b], _by_hand(Q[b], K[b], V[b], causal=True), rtol=1e-12,
                                   atol=1e-12)
    # changing the last position's key and value leaves every earlier output unchanged
    K2, V2 = K.copy(), V.copy()
    K2[:, -1], V2[:, -1] = 10.0, -10.0
    out2 = scaled_dot_product_attention(Q, K2, V2, causal=True)
    np.testing.assert_array_equal(out2[:, :-1], out[:, :-1])
    assert attention_weights(Q[0], K[0], causal=True)[0, 0] == 1.0   # the first sees itself only


def test_weights_are_a_distribution_and_a_soft_lookup():
    K = 2.0 * np.eye(3, 4)                                  # three orthogonal keys
    V = np.array([[10.0], [20.0], [40.0]])
    A = attention_weights(np.zeros((1, 4)), K)              # no preference: the plain average
    np.testing.assert_allclose(A, [[1 / 3] * 3])
    assert scaled_dot_product_attention(np.zeros((1, 4)), K, V)[0, 0] == pytest.approx(70 / 3)
    sharp = scaled_dot_product_attention(20 * K[1:2], K, V)    # a query aligned with key 1
    assert sharp[0, 0] == pytest.approx(20.0, abs=1e-6)        # ~ a hard dictionary lookup


def test_permuting_the_keys_and_values_together_changes_nothing():
    rng = np.random.default_rng(2)
    Q, K, V = rng.normal(size=(4, 3)), rng.normal(size=(7, 3)), rng.normal(size=(7, 5))
    p = rng.permutation(7)
    np.testing.assert_allclose(scaled_dot_product_attention(Q, K[p], V[p]),
                               scaled_dot_product_attention(Q, K, V), rtol=1e-12, atol=1e-12)


def test_large_scores_stay_finite():
    Q = np.array([[1000.0, 0.0]])
    K = np.array([[1000.0, 0.0], [-1000.0, 0.0]])
    out = scaled_dot_product_attention(Q, K, np.array([[1.0], [2.0]]))
    assert np.all(np.isfinite(out)) and out[0, 0] == 1.0


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="same width"):
        attention_weights(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="as many queries as keys"):
        attention_weights(np.ones((2, 3)), np.ones((4, 3)), causal=True)
    with pytest.raises(ValueError, match="one value per key"):
        scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((3, 2)))
