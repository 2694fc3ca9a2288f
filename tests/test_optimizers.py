"""Each optimizer against a hand-computed multi-step update sequence (Keras 3 formulas)."""
import math

import numpy as np
import pytest

from dlkit.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop, get, optimize_path

GRADS = [np.array([0.5, -1.0]), np.array([0.25, 2.0]), np.array([-1.0, 0.5])]
P0 = np.array([1.0, -2.0])


def run(opt, dtype=np.float64):
    p = P0.astype(dtype)
    out = []
    for g in GRADS:
        opt.apply([g.astype(dtype)], [p])
        out.append(p.copy())
    return out


def by_hand(update, state):
    """Apply ``update(p, g, state, t)`` element by element with plain floats."""
    p = [float(v) for v in P0]
    out = []
    for t, g in enumerate(GRADS, start=1):
        for i in range(2):
            p[i] = update(p[i], float(g[i]), state[i], t)
        out.append(np.array(p))
    return out


def assert_sequence(got, want, rtol=1e-12):
    for step, (a, b) in enumerate(zip(got, want), start=1):
        np.testing.assert_allclose(a, b, rtol=rtol, err_msg=f"after step {step}: got {a}, expected {b}")


def test_sgd_plain():
    lr = 0.1
    assert_sequence(run(SGD(lr)), by_hand(lambda p, g, s, t: p - lr * g, [{}, {}]))


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_and_nesterov(nesterov):
    lr, mu = 0.1, 0.9

    def upd(p, g, s, t):
        s["v"] = mu * s.get("v", 0.0) - lr * g
        return p + (mu * s["v"] - lr * g if nesterov else s["v"])

    assert_sequence(run(SGD(lr, momentum=mu, nesterov=nesterov)), by_hand(upd, [{}, {}]))


def test_adagrad():
    lr, eps = 0.1, 1e-7

    def upd(p, g, s, t):
        s["acc"] = s.get("acc", 0.1) + g * g          # Keras's initial_accumulator_value=0.1
        return p - lr * g / math.sqrt(s["acc"] + eps)

    assert_sequence(run(Adagrad(lr)), by_hand(upd, [{}, {}]))


@pytest.mark.parametrize("momentum,centered", [(0.0, False), (0.5, False), (0.0, True)])
def test_rmsprop(momentum, centered):
    lr, rho, eps = 0.01, 0.9, 1e-7

    def upd(p, g, s, t):
        s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
        denom = s["v"]
        if centered:
            s["mg"] = rho * s.get("mg", 0.0) + (1 - rho) * g
            denom -= s["mg"] ** 2
        step = lr * g / math.sqrt(denom + eps)
        if momentum:
            s["m"] = momentum * s.get("m", 0.0) + step
            step = s["m"]
        return p - step

    got = run(RMSprop(lr, rho=rho, momentum=momentum, centered=centered))
    assert_sequence(got, by_hand(upd, [{}, {}]))


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam(amsgrad):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7

    def upd(p, g, s, t):
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        s["vmax"] = max(s.get("vmax", 0.0), s["v"])
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return p - alpha * s["m"] / (math.sqrt(s["vmax"] if amsgrad else s["v"]) + eps)

    assert_sequence(run(Adam(lr, amsgrad=amsgrad)), by_hand(upd, [{}, {}]))


def test_rmsprop_is_not_adagrad():
    """Document 000 writes RMSprop as AdaGrad's running sum. A moving average forgets: with a
    constant gradient RMSprop's step settles at lr, AdaGrad's shrinks like 1/sqrt(t)."""
    g = [np.array([1.0])] * 200
    pa, pr = np.array([0.0]), np.array([0.0])
    ada, rms = Adagrad(0.01, initial_accumulator_value=0.0), RMSprop(0.01, rho=0.9)
    steps_a, steps_r = [], []
    for gi in g:
        before_a, before_r = pa.copy(), pr.copy()
        ada.apply([gi], [pa])
        rms.apply([gi], [pr])
        steps_a.append(float((before_a - pa)[0]))
        steps_r.append(float((before_r - pr)[0]))
    assert steps_r[-1] == pytest.approx(0.01, rel=1e-4)            # lr * g / sqrt(g^2)
    assert steps_a[-1] == pytest.approx(0.01 / math.sqrt(200), rel=1e-4)
    assert steps_r[-1] > 10 * steps_a[-1]
    assert not np.allclose(pa, pr)


def test_weight_decay_is_decoupled():
    lr, wd = 0.1, 0.5
    want = by_hand(lambda p, g, s, t: p - lr * wd * p - lr * g, [{}, {}])
    assert_sequence(run(SGD(lr, weight_decay=wd)), want)


def test_clipnorm_clipvalue_and_global_clipnorm():
    g = np.array([3.0, 4.0])  # norm 5
    p = np.zeros(2)
    SGD(1.0, clipnorm=1.0).apply([g], [p])
    np.testing.assert_allclose(p, [-0.6, -0.8])
    p = np.zeros(2)
    SGD(1.0, clipvalue=3.5).apply([g], [p])
    np.testing.assert_allclose(p, [-3.0, -3.5])
    p1, p2 = np.zeros(2), np.zeros(2)
    SGD(1.0, global_clipnorm=5.0).apply([g, g], [p1, p2])  # joint norm sqrt(50)
    np.testing.assert_allclose(p1, -g * 5 / math.sqrt(50))


def test_float32_matches_float64_closely():
    a = run(Adam(0.01), np.float32)
    b = run(Adam(0.01), np.float64)
    assert a[-1].dtype == np.float32
    np.testing.assert_allclose(a[-1], b[-1], rtol=1e-5)


@pytest.mark.parametrize("make,match", [
    (lambda: SGD(learning_rate=0), "learning_rate"),
    (lambda: SGD(learning_rate=-1), "learning_rate"),
    (lambda: SGD(momentum=1.0), "momentum"),
    (lambda: SGD(momentum=-0.1), "momentum"),
    (lambda: Adam(beta_1=1.0), "beta_1"),
    (lambda: RMSprop(rho=1.5), "rho"),
    (lambda: Adam(epsilon=0), "epsilon"),
    (lambda: SGD(clipnorm=0), "clipnorm"),
    (lambda: SGD(learning_rate=float("nan")), "learning_rate"),
    (lambda: get("adamm"), "valid names"),
])
def test_invalid_hyperparameters_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_optimizer_refuses_different_parameters():
    opt = Adam()
    opt.apply([np.ones(3)], [np.zeros(3)])
    with pytest.raises(ValueError, match="new optimizer"):
        opt.apply([np.ones(4)], [np.zeros(4)])


def test_optimize_path_is_the_same_code_as_training():
    grad = lambda p: np.array([2 * p[0], 20 * p[1]])  # noqa: E731  (bowl x^2 + 10 y^2)
    path = optimize_path(SGD(0.05, momentum=0.5), grad, [1.0, 1.0], 30)
    assert path.shape == (31, 2)
    opt, p = SGD(0.05, momentum=0.5), np.array([1.0, 1.0])
    for k in range(30):
        opt.apply([grad(p)], [p])
    np.testing.assert_array_equal(path[-1], p)
    with np.errstate(over="ignore", invalid="ignore"):
        diverged = optimize_path(SGD(1.0), grad, [1.0, 1.0], 400)
    assert np.isnan(diverged[-1]).all()


def test_adamw_defaults_and_repr():
    opt = AdamW()
    assert opt.weight_decay == 0.004
    assert repr(SGD(0.01, momentum=0.9)).startswith("SGD(learning_rate=0.01")


@pytest.mark.parametrize("name", ["sgd", "momentum", "adagrad", "rmsprop", "adam"])
def test_matches_torch_optim_over_steps(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(6)]
    ours, theirs = {
        "sgd": (SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        "momentum": (SGD(0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        # torch's AdaGrad adds eps outside the root and starts the sum at 0
        "adagrad": (Adagrad(0.1, initial_accumulator_value=0.0, epsilon=1e-30),
                    lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-15)),
        "rmsprop": (RMSprop(0.01, rho=0.99, epsilon=1e-30),
                    lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99, eps=1e-15)),
        "adam": (Adam(0.01, epsilon=1e-8), lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-8)),
    }[name]
    p = p0.copy()
    tp = torch.tensor(p0, requires_grad=True)
    topt = theirs([tp])
    for g in grads:
        ours.apply([g], [p])
        tp.grad = torch.tensor(g)
        topt.step()
    # Keras and torch place Adam's epsilon slightly differently (eps-hat vs eps): close, not equal
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-6, atol=1e-7)


# -- Keras 2's lr= (the first source document writes SGD(lr=0.01, momentum=0.9)) -------------

LR_WARNING = r"`lr` is the old \(Keras 2\) name of `learning_rate`; use learning_rate=0\.05"


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSprop, Adam, AdamW])
def test_lr_is_the_old_name_of_learning_rate(cls):
    with pytest.warns(UserWarning, match=LR_WARNING) as caught:
        old = cls(lr=0.05)
    assert len(caught) == 1                        # one warning, also for AdamW(Adam)
    assert caught[0].filename == __file__          # it points at the caller's line
    assert not issubclass(caught[0].category, DeprecationWarning)  # Python would hide that
    assert old.learning_rate == 0.05
    assert old.get_config() == cls(learning_rate=0.05).get_config()
    assert_sequence(run(old), run(cls(learning_rate=0.05)), rtol=0)   # the same updates


def test_lr_works_with_the_other_arguments_as_the_document_writes_them():
    with pytest.warns(UserWarning, match="old"):
        opt = SGD(lr=0.01, momentum=0.9)
    assert (opt.learning_rate, opt.momentum, opt.nesterov) == (0.01, 0.9, False)
    with pytest.warns(UserWarning, match="old"), pytest.raises(ValueError, match="learning_rate"):
        SGD(lr=-1.0)                              # checked like learning_rate


@pytest.mark.parametrize("make", [lambda: SGD(learning_rate=0.1, lr=0.1),
                                  lambda: SGD(0.1, lr=0.1),
                                  lambda: AdamW(learning_rate=0.1, lr=0.2)])
def test_lr_and_learning_rate_together_is_a_type_error(make):
    with pytest.raises(TypeError, match=r"got both `lr` and `learning_rate`"):
        make()


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSprop, Adam, AdamW])
def test_unknown_arguments_are_a_type_error_that_names_them(cls):
    with pytest.raises(TypeError, match=rf"{cls.__name__}\(\) got unexpected keyword "
                                        r"argument\(s\) 'decay'"):
        cls(decay=1e-6)                           # Keras 2's decay is not accepted silently
