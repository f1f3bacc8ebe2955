"""The symmetric ODE neuron of Jiang & Fu (2025), section 3.1, with signs from the notes.

The paper's text lost its + and - signs; ``docs/bsp-reconstruction.md`` (sections
2.1-2.4) recovers them. For N elements on a cycle (N = 5: J, S, M, H, T, the Wuxing neuron)
with generation offset g = 1 and inhibition offset h = 2:

    forward, eqs (8)-(11):  dE_i/dt = k1_i E_{i-g} - k2_i E_i - k3_i E_i E_{i-h}      (+ input)
    reverse, eqs (12)-(13): dE_i/dt = k1_{i+g} E_{i+g} - k2_i E_i - k3_{i+h} E_i E_{i+h}

generation is a + term, decay a - term, inhibition a - predator-prey product. The reverse
system flips every edge and keeps each coefficient on its edge, so at a shared fixed point
its Jacobian is the transpose of the forward one (the adjoint: what makes BSP's G1 a
gradient for small signals). With uniform K the fixed point is exact,

    eq (15):  B0 = (K1 - K2) / K3      (the paper's approximation with per-neuron means),

and K3 only sets the scale (x = B0 u removes it), so K3 moves B0 without changing the
dynamics' shape. Below K2/K1 ~ 0.146 the neuron is past a Hopf bifurcation and oscillates
(the "oscillator" regime); above it, it is a stable signal propagator.

Every function works on tensors whose element axis is ``dim`` (default: the last), with
the rates broadcast against the state, so a whole network of neurons is one call.
"""

from __future__ import annotations

import torch
from torchdiffeq import odeint

from ..errors import BidirError, InvalidInputError
from ..validation import check_choice, check_finite_tensor

__all__ = [
    "ELEMENTS",
    "forward_field",
    "reverse_field",
    "field",
    "fixed_point_approx",
    "fixed_point",
    "field_by_element",
    "jacobian",
    "max_real_eigenvalue",
    "check_rates",
    "check_stable",
    "OscillatingRegimeError",
    "DivergenceError",
    "simulate",
    "forward_tangent",
    "pulse",
    "uniform_rates",
    "HOPF_RATIO",
    "INPUT_MODES",
    "shunt",
]

ELEMENTS = ("J", "S", "M", "H", "T")  # metal, water, wood, fire, earth: the generation order
INPUT_MODES = ("additive", "shunting")


class OscillatingRegimeError(InvalidInputError):
    """A neuron's fixed point is not asymptotically stable: it sits in the oscillating regime."""


class DivergenceError(BidirError):
    """A trajectory left every reasonable bound (explicit step too large, or signals too big)."""


def forward_field(x, k1, k2, k3, dim: int = -1, gen: int = 1, inh: int = 2):
    """Eq (10): dE_i/dt = k1_i E_{i-gen} - k2_i E_i - k3_i E_i E_{i-inh}."""
    return torch.addcmul(k1 * x.roll(gen, dim), x, torch.addcmul(k2, k3, x.roll(inh, dim)), value=-1)


def reverse_field(x, k1, k2, k3, dim: int = -1, gen: int = 1, inh: int = 2):
    """Eq (13): dE_i/dt = k1_{i+gen} E_{i+gen} - k2_i E_i - k3_{i+inh} E_i E_{i+inh}."""
    return torch.addcmul((k1 * x).roll(-gen, dim), x, (k3 * x).roll(-inh, dim) + k2, value=-1)


def field(x, k1, k2, k3, reverse: bool = False, dim: int = -1, gen: int = 1, inh: int = 2):
    """Eq (10) or, with ``reverse``, eq (13)."""
    return (reverse_field if reverse else forward_field)(x, k1, k2, k3, dim, gen, inh)


def field_by_element(x, k1, k2, k3, reverse: bool = False, current=None, element: int = 0, gen: int = 1, inh: int = 2):
    """:func:`field` on states whose element axis is the first, written out element by element and
    stacked, with ``current`` added on ``element``. The same numbers; the form torch.compile fuses
    into one loop per element (the rolled form defeats its loop tiling), slower without it."""
    E, K1, K2, K3 = (t.unbind(0) for t in (x, k1, k2, k3))
    N = len(E)
    if reverse:  # eq (13): dE_i = k1_{i+g} E_{i+g} - k2_i E_i - k3_{i+h} E_i E_{i+h}
        rows = [
            K1[(i + gen) % N] * E[(i + gen) % N] - E[i] * (K2[i] + K3[(i + inh) % N] * E[(i + inh) % N])
            for i in range(N)
        ]
    else:  # eq (10): dE_i = k1_i E_{i-g} - k2_i E_i - k3_i E_i E_{i-h}
        rows = [K1[i] * E[i - gen] - E[i] * (K2[i] + K3[i] * E[i - inh]) for i in range(N)]
    if current is not None:
        rows[element] = rows[element] + current
    return torch.stack(rows)


def forward_tangent(x, dx, k1, k2, k3, dim: int = -1, gen: int = 1, inh: int = 2):
    """The Jacobian of eq (10) at x times dx: k1_i dx_{i-gen} - (k2_i + k3_i x_{i-inh}) dx_i - k3_i x_i dx_{i-inh}."""
    return k1 * dx.roll(gen, dim) - dx * (k2 + k3 * x.roll(inh, dim)) - k3 * x * dx.roll(inh, dim)


def shunt(u, level):
    """A shunting input: the positive part of u as is, the negative part times the element's level
    E / E_rest, so it drains the element but cannot push it below zero (equal to u at rest)."""
    return u.clamp(min=0) + u.clamp(max=0) * level


def uniform_rates(
    neurons: int = 1,
    elements: int = 5,
    k1: float = 1.0,
    k2: float = 0.5,
    k3: float = 0.25,
    jitter: float = 0.0,
    generator: torch.Generator | None = None,
    dtype=torch.float32,
):
    """Rates of shape (neurons, elements); ``jitter`` multiplies each by U(1 - j, 1 + j)."""
    out = []
    for value in (k1, k2, k3):
        k = torch.full((neurons, elements), float(value), dtype=dtype)
        if jitter:
            k = k * (1 + jitter * (2 * torch.rand(k.shape, generator=generator, dtype=dtype) - 1))
        out.append(k)
    check_rates(*out)
    return tuple(out)


def check_rates(k1, k2, k3) -> None:
    """Clear errors for bad rates: non-finite, non-positive, or K2 >= K1 (no positive fixed point)."""
    for name, k in (("K1", k1), ("K2", k2), ("K3", k3)):
        k = torch.as_tensor(k)
        if not torch.isfinite(k).all():
            raise InvalidInputError(f"{name} contains NaN or infinite values")
        if (k <= 0).any():
            raise InvalidInputError(f"{name} must be positive everywhere, got minimum {k.min().item():.4g}")
    if (torch.as_tensor(k2) >= torch.as_tensor(k1)).any():
        raise InvalidInputError(
            "K2 must be smaller than K1 for every element (B0 = (K1 - K2)/K3 must be positive); "
            f"got K2/K1 up to {(torch.as_tensor(k2) / torch.as_tensor(k1)).max().item():.4g}"
        )


def fixed_point_approx(k1, k2, k3):
    """Eq (15): B0 ~ (mean K1 - mean K2) / mean K3 per neuron; exact for uniform rates. Shape (...,)."""
    return (k1.mean(-1) - k2.mean(-1)) / k3.mean(-1)


def fixed_point(k1, k2, k3, reverse: bool = False, tol: float = 1e-10, max_iter: int = 50):
    """The fixed point of every neuron (rates of shape (n, N)), by Newton's method from eq (15).

    Returns (n, N). Raises when Newton does not converge to a positive point.
    """
    check_rates(k1, k2, k3)
    dtype = torch.promote_types(k1.dtype, torch.float64)  # solve in float64, return the rates' dtype
    K = [k.to(dtype) for k in (k1, k2, k3)]
    x = fixed_point_approx(*K).unsqueeze(-1).expand_as(K[0]).clone()
    for _ in range(max_iter):
        f = field(x, *K, reverse=reverse)
        step = torch.linalg.solve(jacobian(x, *K, reverse=reverse), f.unsqueeze(-1)).squeeze(-1)
        x = x - step
        if step.abs().max() < tol * (1 + x.abs().max()):
            break
    if not (torch.isfinite(x).all() and (x > 0).all()) or field(x, *K, reverse=reverse).abs().max() > 1e-6 * (
        1 + x.abs().max()
    ):
        raise BidirError("Newton's method found no positive fixed point; are the rates far from uniform?")
    return x.to(k1.dtype)


def jacobian(x, k1, k2, k3, reverse: bool = False, gen: int = 1, inh: int = 2):
    """d(field)/dx for states (n, N): (n, N, N), analytic (eqs 10 / 13 differentiated), for any offsets.

    forward:  J = diag(-k2_i - k3_i x_{i-inh}) + k1_i P_gen - k3_i x_i P_inh
    reverse:  J = diag(-k2_i - k3_{i+inh} x_{i+inh}) + k1_{i+gen} P_-gen - k3_{i+inh} x_i P_-inh

    where (P_s x)_i = x_{i-s}.
    """
    N = x.shape[-1]
    eye = torch.eye(N, dtype=x.dtype)

    def shift(s):  # row i has a one in column i - s
        return eye.roll(-s, -1)

    if not reverse:
        return (
            torch.diag_embed(-k2 - k3 * x.roll(inh, -1))
            + k1.unsqueeze(-1) * shift(gen)
            - (k3 * x).unsqueeze(-1) * shift(inh)
        )
    k3_edge = k3.roll(-inh, -1)
    return (
        torch.diag_embed(-k2 - k3_edge * x.roll(-inh, -1))
        + k1.roll(-gen, -1).unsqueeze(-1) * shift(-gen)
        - (k3_edge * x).unsqueeze(-1) * shift(-inh)
    )


def max_real_eigenvalue(k1, k2, k3, reverse: bool = False):
    """Largest real part of the Jacobian's eigenvalues at the fixed point, per neuron: < 0 means stable."""
    x = fixed_point(k1, k2, k3, reverse)
    return torch.linalg.eigvals(jacobian(x.double(), k1.double(), k2.double(), k3.double(), reverse)).real.amax(-1)


def check_stable(k1, k2, k3, margin: float = 1e-6) -> None:
    """Raise :class:`OscillatingRegimeError` when any neuron is past the Hopf point."""
    lam = max_real_eigenvalue(k1, k2, k3)
    bad = (lam > -margin).nonzero().flatten()
    if len(bad):
        ratio = (k2 / k1).mean(-1)[bad[0]].item()
        raise OscillatingRegimeError(
            f"{len(bad)} neuron(s) sit in the oscillating regime (first: neuron {bad[0].item()}, K2/K1 = {ratio:.3g}, "
            f"largest eigenvalue real part {lam[bad[0]].item():+.3g}); raise K2/K1 above {HOPF_RATIO:.3f} for "
            "a stable propagator"
        )


def simulate(
    k1,
    k2,
    k3,
    inputs,
    horizon: float = 20.0,
    dt: float = 0.05,
    reverse: bool = False,
    method: str = "heun2",
    input_element: int = 0,
    start=None,
    jumps=(),
    input_mode: str = "additive",
):
    """Trajectories of independent neurons (rates (n, N)) driven by ``inputs(t) -> (n,)`` on one element.

    ``input_mode="shunting"``: a negative input u acts as u E / E_rest on its element (see
    :class:`bidir.bsp.network.BSPNetwork`), so it cannot push the element below zero.

    Returns (times (S,), states (S, n, N)) from torchdiffeq (``jumps``: input discontinuities, for
    the adaptive solvers); for plots and tests, where the
    whole trajectory is wanted (networks keep running integrals instead).
    """
    check_rates(k1, k2, k3)
    x0 = fixed_point(k1, k2, k3, reverse) if start is None else start
    check_finite_tensor(x0, "start")
    steps = int(round(horizon / dt))
    t = torch.linspace(0, steps * dt, steps + 1, dtype=x0.dtype)

    check_choice(input_mode, "input_mode", INPUT_MODES)

    def rhs(time, x):
        dx = field(x, k1, k2, k3, reverse)
        u = inputs(time).reshape(-1, 1).to(x.dtype)
        if input_mode == "shunting":
            u = shunt(u, x[..., input_element : input_element + 1] / x0[..., input_element : input_element + 1])
        return dx.index_add(-1, torch.tensor([input_element]), u)

    fixed = method in ("euler", "midpoint", "heun2", "heun3", "rk4")
    kwargs = (
        {"options": {"step_size": dt}}
        if fixed
        else {"options": {"jump_t": torch.tensor(list(jumps), dtype=x0.dtype)}}
        if jumps
        else {}
    )
    xs = odeint(rhs, x0, t, method=method, **kwargs)
    if not torch.isfinite(xs).all():
        raise DivergenceError("the neuron's trajectory diverged; lower dt or the input amplitude")
    return t, xs


def pulse(t, length: float, dt: float):
    """A rectangular pulse on [0, length): 1 before the edge, 1/2 at it, 0 after. The edge value
    makes the fixed-step trapezoid-like rules (heun2) integrate it to exactly ``length``.
    A float for a float t; for a tensor t (a compiled step's clock), a tensor of the same value."""
    tol = 1e-6 * dt
    if isinstance(t, torch.Tensor):
        return torch.where(t < length - tol, 1.0, torch.where(t < length + tol, 0.5, 0.0)).to(t.dtype)
    t = float(t)
    return 1.0 if t < length - tol else (0.5 if t < length + tol else 0.0)


def _hopf_ratio() -> float:
    """Bisect K2/K1 for the uniform 5-element neuron's Hopf point (notes 2.4: ~0.146)."""
    lo, hi = 0.05, 0.5
    for _ in range(40):
        mid = (lo + hi) / 2
        k1, k2, k3 = (torch.full((1, 5), v, dtype=torch.float64) for v in (1.0, mid, 0.25))
        x = torch.full((1, 5), (1.0 - mid) / 0.25, dtype=torch.float64)
        lam = torch.linalg.eigvals(jacobian(x, k1, k2, k3)).real.max().item()
        lo, hi = (mid, hi) if lam > 0 else (lo, mid)
    return (lo + hi) / 2


# K2/K1 below which the uniform 5-element neuron oscillates (notes 2.4: ~0.146): the Hopf point
HOPF_RATIO = _hopf_ratio()
