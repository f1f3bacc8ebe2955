"""The explicit engine against autograd (float64, 1e-10) and finite differences."""

import pytest
import torch

from bidir.backprop import ACTIVATIONS, Pass, Step, explicit_loss, forward, get_activation, loss_and_gradients
from bidir.backprop import likelihoods as lk
from bidir.errors import InvalidInputError
from bidir.seeds import derive_seed

pytestmark = pytest.mark.usefixtures("float64")

TERMINALS = [
    ("softmax", "categorical"),
    ("identity", "gaussian"),
    ("logistic", "bernoulli"),
    ("bipolar-logistic", "bernoulli"),
    ("relu", "gaussian"),
    ("tanh", "gaussian"),
    ("logistic", "gaussian"),
    ("softmax", "gaussian"),
]
HIDDEN = ["identity", "logistic", "bipolar-logistic", "tanh", "relu", "softmax"]


def _target(act: str, lik: str, shape, g):
    if lik == "categorical":
        return torch.nn.functional.one_hot(torch.randint(0, shape[1], (shape[0],), generator=g), shape[1]).double()
    if act == "bipolar-logistic" and lik == "bernoulli":
        return torch.randint(0, 2, shape, generator=g).double() * 2 - 1
    if lik == "bernoulli":
        return torch.rand(shape, generator=g)  # soft targets in [0, 1] are allowed too
    return torch.randn(shape, generator=g)


def _autograd(params, passes):
    p = {k: v.clone().requires_grad_() for k, v in params.items()}
    J = 0
    for ps in passes:
        out = forward(p, ps.path, ps.x)[-1]
        J = J + ps.weight * lk.error(ps.likelihood, ps.path[-1].activation, out.z, out.y, ps.target).mean()
    used = [k for k in p if any(k in (s.weight, s.bias) for ps in passes for s in ps.path)]
    grads = torch.autograd.grad(J, [p[k] for k in used])
    return J, dict(zip(used, grads, strict=True))


@pytest.mark.parametrize("terminal", TERMINALS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_engine_equals_autograd_on_random_networks(hidden, terminal):
    g = torch.Generator().manual_seed(derive_seed(0, hidden, *terminal))  # hash() differs per process
    sizes = [int(s) for s in torch.randint(2, 7, (4,), generator=g)]
    c = float(torch.rand(1, generator=g)) * 3 + 0.3
    act_h, act_o = get_activation(hidden, c), get_activation(terminal[0], c)
    params = {}
    for i in range(3):
        params[f"W{i}"] = torch.randn(sizes[i + 1], sizes[i], generator=g)
        params[f"b{i}"] = torch.randn(sizes[i + 1], generator=g) * 0.3
    path = [Step(f"W{i}", f"b{i}", act_o if i == 2 else act_h) for i in range(3)]
    x = torch.randn(5, sizes[0], generator=g)
    passes = [Pass(path, x, _target(*terminal, (5, sizes[-1]), g), terminal[1])]
    J_ref, ref = _autograd(params, passes)
    J, grads, _ = loss_and_gradients(params, passes)
    assert torch.allclose(J, J_ref, atol=1e-12)
    assert set(grads) == set(ref)
    for k in ref:
        assert torch.allclose(grads[k], ref[k], atol=1e-10, rtol=0), k


def test_tied_weights_sum_the_gradient_of_every_use():
    """An autoencoder x -> W -> h -> W^T -> x_hat plus a second pass through W: dJ/dW adds up."""
    g = torch.Generator().manual_seed(1)
    params = {
        "W": torch.randn(3, 6, generator=g),
        "b": torch.randn(3, generator=g),
        "c": torch.randn(6, generator=g),
        "V": torch.randn(2, 3, generator=g),
    }
    sig = get_activation("logistic", 2.0)
    auto = [Step("W", "b", sig), Step("W", "c", get_activation("identity"), transpose=True)]
    clf = [Step("W", "b", get_activation("tanh")), Step("V", None, get_activation("softmax"))]
    x = torch.randn(4, 6, generator=g)
    t = torch.nn.functional.one_hot(torch.tensor([0, 1, 1, 0]), 2).double()
    passes = [Pass(auto, x, x, "gaussian", 0.7), Pass(clf, x, t, "categorical")]
    _, ref = _autograd(params, passes)
    _, grads, _ = loss_and_gradients(params, passes)
    for k in ref:
        assert torch.allclose(grads[k], ref[k], atol=1e-10, rtol=0), k
    # and the tied gradient really is the sum of the per-pass gradients
    single = [loss_and_gradients(params, [p])[1]["W"] for p in passes]
    assert torch.allclose(grads["W"], single[0] + single[1], atol=1e-12)


@pytest.mark.parametrize("terminal", TERMINALS[:4])
def test_explicit_gradients_pass_finite_difference_checks(terminal):
    """torch.autograd.gradcheck compares the engine's gradients with central differences."""
    g = torch.Generator().manual_seed(3)
    act_o = get_activation(terminal[0], 1.5)
    path = [Step("W0", "b0", get_activation("tanh")), Step("W1", "b1", act_o)]
    x = torch.randn(4, 3, generator=g)
    t = _target(*terminal, (4, 2), g)
    names = ["W0", "b0", "W1", "b1"]
    init = [
        torch.randn(5, 3, generator=g),
        torch.randn(5, generator=g),
        torch.randn(2, 5, generator=g),
        torch.randn(2, generator=g),
    ]

    def f(*tensors):
        return explicit_loss(dict(zip(names, tensors, strict=True)), [Pass(path, x, t, terminal[1])])[0]

    assert torch.autograd.gradcheck(f, [v.requires_grad_() for v in init], eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n != "threshold"])
def test_activation_vjp_matches_autograd(name):
    act = get_activation(name, 2.5)
    z = torch.randn(6, 4, requires_grad=True)
    gy = torch.randn(6, 4)
    y = act(z)
    (ref,) = torch.autograd.grad(y, z, gy)
    assert torch.allclose(act.vjp(z.detach(), y.detach(), gy), ref, atol=1e-12)


def test_softmax_jacobian_is_eq_47():
    z = torch.randn(5)
    a = torch.softmax(z, 0)
    jac = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, 0), z)
    eq47 = torch.diag(a) - torch.outer(a, a)  # -a_k a_j off the diagonal, a_j (1 - a_j) on it
    assert torch.allclose(jac, eq47, atol=1e-12)


def test_matched_likelihoods_give_eq_67_error_times_signal():
    """dL/dm_jk = (t_k - a_k) a_j for a logistic output layer with c = 1 (eqs 61-67)."""
    g = torch.Generator().manual_seed(4)
    h, W = torch.rand(3, 5, generator=g), torch.randn(4, 5, generator=g)
    t = torch.randint(0, 2, (3, 4), generator=g).double()
    params = {"W": W}
    _, grads, _ = loss_and_gradients(params, [Pass([Step("W", None, get_activation("logistic"))], h, t, "bernoulli")])
    a = torch.sigmoid(h @ W.T)
    # gradient of the *error* (mean over the batch) is minus the likelihood gradient of eq 67
    assert torch.allclose(-grads["W"], (t - a).T @ h / 3, atol=1e-12)


def test_the_notes_appendix_bias_formula_is_wrong_and_ours_is_right():
    """Appendix: dJ/db = W^T dJ/dz 1 / ndata. That has shape (nx,), not (ny,); eq 8 gives dJ/dz 1."""
    g = torch.Generator().manual_seed(5)
    W, b, x = torch.randn(3, 7, generator=g), torch.randn(3, generator=g), torch.randn(4, 7, generator=g)
    t = torch.randn(4, 3, generator=g)
    params = {"W": W, "b": b}
    passes = [Pass([Step("W", "b", get_activation("tanh"))], x, t, "gaussian")]
    _, ref = _autograd(params, passes)
    _, grads, _ = loss_and_gradients(params, passes)
    z = x @ W.T + b
    dz = (torch.tanh(z) - t) * (1 - torch.tanh(z) ** 2)  # dJ/dz of the summed error
    note = W.T @ dz.T @ torch.ones(4) / 4
    assert note.shape == (7,) != ref["b"].shape
    assert torch.allclose(grads["b"], ref["b"], atol=1e-12)
    assert torch.allclose(grads["b"], dz.sum(0) / 4, atol=1e-12)


def test_stacked_parameters_train_independent_copies():
    """A leading copies dimension gives each copy exactly its own gradient."""
    g = torch.Generator().manual_seed(6)
    W = torch.randn(3, 4, 5, generator=g)
    b = torch.randn(3, 4, generator=g)
    x, t = torch.randn(6, 5, generator=g), torch.randn(6, 4, generator=g)
    path = [Step("W", "b", get_activation("logistic"))]
    J, grads, errors = loss_and_gradients({"W": W, "b": b}, [Pass(path, x, t, "gaussian")])
    assert errors[0].shape == (3,)
    for s in range(3):
        Js, gs, _ = loss_and_gradients({"W": W[s], "b": b[s]}, [Pass(path, x, t, "gaussian")])
        assert (
            torch.allclose(errors[0][s], Js)
            and torch.allclose(grads["W"][s], gs["W"])
            and torch.allclose(grads["b"][s], gs["b"])
        )
    assert torch.allclose(J, errors[0].sum())


def test_threshold_neurons_refuse_to_train_and_bad_names_are_clear():
    thr = get_activation("threshold")
    assert thr(torch.tensor([-0.5, 0.0, 2.0])).tolist() == [-1, 1, 1]
    with pytest.raises(InvalidInputError, match="no gradient"):
        thr.vjp(torch.zeros(1), torch.zeros(1), torch.ones(1))
    with pytest.raises(InvalidInputError, match="unknown activation"):
        get_activation("sigmoidal")
    with pytest.raises(InvalidInputError, match="steepness"):
        get_activation("logistic", -1.0)
    with pytest.raises(InvalidInputError, match="softmax"):
        lk.check_likelihood("categorical", get_activation("relu"))
    with pytest.raises(InvalidInputError, match="logistic"):
        lk.check_likelihood("bernoulli", get_activation("identity"))
