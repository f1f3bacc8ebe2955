"""Layered networks of symmetric ODE neurons (Jiang & Fu 2025, Figs 3, 4, 8; eqs 11, 13, 20-21).

Pixels drive the first layer; every neuron of a layer receives, on its input element IN, the
deviation signals D(t) = E(t) - B0 (eq 14) of the upstream neurons' output element OUT,
weighted by the connection coefficients C (eq 20):

    forward:  dE_y/dt = f(E_y) + g_y [ sum_x C_xy D_{x,OUT}(t) ]  on element IN of y
    reverse:  dE_x/dt = f^(E_x) + sum_y C_xy g_y D^_{y,IN}(t)    on element OUT of x   (eq 21)

the reverse pass runs the reverse neurons (eq 13) from their own fixed points with the error
injected on OUT of the output neurons; the same C carries it with the arrows flipped.
Layer 0's input is a pulse, amplitude * pixel for t in [0, pulse). A class score is the
integrated deviation of an output neuron, score_k = int_0^T D_{k,OUT} dt; prediction argmax.

All neurons of all layers are one state tensor of shape (N, batch, neurons), element axis
first, integrated at once by a fixed-step explicit Runge-Kutta rule (improved Euler, ``heun2``,
by default) together with running integrals of D at IN and at OUT, (batch, neurons) each, so
memory does not grow with the number of steps (the autograd baseline alone keeps the graph).
The step loop is :func:`runge_kutta`, not torchdiffeq's: on a tuple of tensors it needs no
concatenation, and a Heun step costs 3 passes over the state besides the two field
evaluations against torchdiffeq's 10 (it also takes |state| on every evaluation to read the
dtype). ``benchmarks/bsp_epoch.py`` measures the difference; tests check it against
torchdiffeq's ``odeint`` for every solver.

Connections: ``dense`` (a full coefficient matrix, the paper's "multi-connection") or
``one-to-one`` (each upstream neuron feeds exactly one downstream neuron; the paper's sparse
scheme). One-to-one with more upstream than downstream neurons groups the upstream neurons
evenly (a downstream neuron sums about n_in/n_out inputs); with fewer, each downstream
neuron gets exactly one upstream neuron and upstream neurons feed one or two. The assignment
is a seeded random permutation. Which neurons share a downstream neuron, and that inputs sum
on one element rather than landing on distinct elements, are our choices (the paper's text
does not say): notes section 3.

Choices documented in the notes and made options here: IN = J, OUT = S (``in_element``,
``out_element``; OUT = H gives a wrong-sign gradient at K2/K1 = 0.5, notes 5.1); the pulse
has amplitude 0.1 B0 and length 1; ``coupling_gain="fixed-point"`` multiplies each neuron's
input current by B0_y / B0_y(initial), the B0-dependent gain method 1 needs (notes 4, note 3).

``compiled=True`` runs every Runge-Kutta step through ``torch.compile`` (Inductor, a C++ compiler
at run time): each step's element-wise work becomes a few fused loops, faster on a CPU after
some seconds of compiling per network and batch size (``benchmarks/bsp_epoch.py`` measures by how
much); the same numbers (tests check it).
Only the no-grad passes BSP uses are compiled; backprop through the solver stays eager.

Beyond the paper, ``input_mode="shunting"`` lets a negative input current act in proportion to
the element's own level, u E_IN / B0 (an inhibitory conductance, not a current): it drains the
element but cannot drive it below zero, where the inhibition terms turn into excitation and the
neuron blows up. Linearised at the fixed point it is the additive input, so the small-signal
adjoint, and the reverse pass, are unchanged; at large signals it turns the neuron's response
into an ELU-like activation (``bsp-neuron`` plots it; bsp-mnist's nonlinear setting uses it).

Also beyond the paper, ``run(x, trajectory_gain=True)`` has every neuron measure its own slope
along its forward trajectory relative to its slope at rest (two tangent copies of its
elements, local to the neuron), and ``backward_pass(error, gain)`` scales each reverse
neuron's input by it: the reverse pass then carries the f'(a) that linearising at rest drops.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import BidirError, InvalidInputError
from ..module import BidirModule
from ..validation import (
    as_batch,
    check_bool,
    check_choice,
    check_finite_tensor,
    check_memory,
    check_positive,
    check_seed,
    check_sizes,
)
from .couplings import DenseCoupling, OneToOneCoupling
from .neuron import (
    INPUT_MODES,
    DivergenceError,
    check_stable,
    field,
    field_by_element,
    fixed_point,
    forward_tangent,
    pulse,
    shunt,
    uniform_rates,
)

__all__ = [
    "BSPNetwork",
    "Signals",
    "Tableau",
    "TABLEAUS",
    "CONNECTIONS",
    "COUPLING_GAINS",
    "INPUT_MODES",
    "SOLVERS",
    "runge_kutta",
]

CONNECTIONS = ("dense", "one-to-one")
COUPLING_GAINS = ("none", "fixed-point")


@dataclass(frozen=True)
class Tableau:
    """An explicit Runge-Kutta rule (its Butcher tableau): stage i is evaluated at t + c_i dt on
    y + dt sum_j a_ij k_j, and the step is y + dt sum_i b_i k_i; ``order`` is its order of accuracy.

    Checked on construction: a is strictly lower triangular (row i holds i coefficients), the weights
    sum to 1 and each node is its row's sum (c_i = sum_j a_ij), the conditions every consistent rule meets."""

    name: str
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    c: tuple[float, ...]
    order: int

    def __post_init__(self):
        stages = len(self.b)
        rows_ok = len(self.a) == stages - 1 and all(len(row) == i + 1 for i, row in enumerate(self.a))
        nodes_ok = (
            len(self.c) == stages
            and self.c[0] == 0
            and all(math.isclose(sum(row), node, abs_tol=1e-12) for row, node in zip(self.a, self.c[1:], strict=True))
        )
        if not (rows_ok and nodes_ok and math.isclose(sum(self.b), 1.0)):
            raise ValueError(f"tableau {self.name}: not a consistent explicit Runge-Kutta rule")

    @property
    def stages(self) -> int:
        """Field evaluations per step."""
        return len(self.b)

    @property
    def coefficients(self) -> tuple:
        """(a, b, c) as plain tuples (what the compiled step takes)."""
        return self.a, self.b, self.c


# the names torchdiffeq uses for its fixed-step solvers
TABLEAUS = {
    t.name: t
    for t in (
        Tableau("heun2", a=((1.0,),), b=(0.5, 0.5), c=(0.0, 1.0), order=2),  # improved Euler
        Tableau("euler", a=(), b=(1.0,), c=(0.0,), order=1),
        Tableau("midpoint", a=((0.5,),), b=(0.0, 1.0), c=(0.0, 0.5), order=2),
        Tableau(  # the 3/8 rule, as torchdiffeq's rk4
            "rk4",
            a=((1 / 3,), (-1 / 3, 1.0), (1.0, -1.0, 1.0)),
            b=(1 / 8, 3 / 8, 3 / 8, 1 / 8),
            c=(0.0, 1 / 3, 2 / 3, 1.0),
            order=4,
        ),
    )
}
SOLVERS = tuple(TABLEAUS)
MAX_STEPS = 1e9  # integration steps over the horizon: beyond any run that could finish


def _check_arguments(args: dict) -> None:
    """BSPNetwork's arguments, checked before anything is built (``args``: the constructor's locals)."""
    sizes, elements, in_element, out_element = args["sizes"], args["elements"], args["in_element"], args["out_element"]
    check_memory(sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)), f"sizes {sizes}")
    check_seed(args["seed"])
    check_choice(args["connection"], "connection", CONNECTIONS)
    check_choice(args["coupling_gain"], "coupling_gain", COUPLING_GAINS)
    check_choice(args["input_mode"], "input_mode", INPUT_MODES)
    check_choice(args["solver"], "solver", SOLVERS)
    check_choice(args["input_connection"] or args["connection"], "input_connection", CONNECTIONS)
    check_bool(args["compiled"], "compiled")
    if not (0 <= in_element < elements and 0 <= out_element < elements) or in_element == out_element:
        raise InvalidInputError(f"in_element and out_element must be two different elements in 0..{elements - 1}")
    for name in ("pulse", "horizon", "dt", "init_scale"):
        check_positive(args[name], name)
    pulse, horizon, dt = args["pulse"], args["horizon"], args["dt"]
    steps = horizon / dt
    if not steps <= MAX_STEPS:
        raise InvalidInputError(
            f"dt ({dt:g}) makes {steps:g} steps over the horizon ({horizon:g}); at most {MAX_STEPS:g}"
        )
    if abs(steps - round(steps)) > 1e-6 or abs(pulse / dt - round(pulse / dt)) > 1e-6 or pulse >= horizon:
        raise InvalidInputError(
            f"horizon ({horizon}) and pulse ({pulse}) must be multiples of dt ({dt}), pulse < horizon"
        )


def _layer_rates(sizes, elements: int, rates, jitter: float, gen: torch.Generator) -> tuple:
    """K1, K2, K3 of every neuron (elements, neurons) in float64: one (K1, K2, K3) for all layers or one per layer,
    each rate jittered by ``jitter`` (drawn from ``gen``)."""
    per_layer = (
        [tuple(rates)] * (len(sizes) - 1) if not isinstance(rates[0], (tuple, list)) else [tuple(r) for r in rates]
    )
    if len(per_layer) != len(sizes) - 1 or any(len(r) != 3 for r in per_layer):
        raise InvalidInputError(
            f"rates must be (K1, K2, K3) or one such triple per layer of neurons ({len(sizes) - 1}), got {rates!r}"
        )
    per_neuron = (
        uniform_rates(m, elements, *r, jitter=jitter, generator=gen, dtype=torch.float64)
        for m, r in zip(sizes[1:], per_layer, strict=True)
    )
    return tuple(torch.cat(k) for k in zip(*per_neuron, strict=False))


def _older_coupling_keys(module, state: dict, prefix: str, *args) -> None:
    """Read a state saved before the couplings were modules: ``weights.i`` and the wiring buffers ``srci`` /
    ``dsti`` become ``couplings.i.weight``, ``.src``, ``.dst`` (a dense layer's empty wiring is dropped)."""
    for key in [k for k in state if k.startswith(prefix)]:
        name = key[len(prefix) :]
        if name.startswith("weights."):
            state[f"{prefix}couplings.{name.split('.')[1]}.weight"] = state.pop(key)
        elif name[:3] in ("src", "dst") and name[3:].isdigit():
            value = state.pop(key)
            if value.numel():
                state[f"{prefix}couplings.{name[3:]}.{name[:3]}"] = value


@dataclass
class Signals:
    """Running integrals of the deviation, int_0^T D dt, at IN and OUT of every neuron: (batch, neurons)."""

    at_in: torch.Tensor
    at_out: torch.Tensor
    gain: torch.Tensor | None = None  # each neuron's slope along its trajectory / at rest (run(trajectory_gain=True))


def add_on(dE: torch.Tensor, element: int, u: torch.Tensor) -> torch.Tensor:
    """Add the current u (B, neurons) on one element of freshly computed rates dE (N, B, neurons), in place."""
    dE[element] += u
    return dE


def _combine(y, ks, coefficients, dt):
    """y + dt sum_j coefficients[j] ks[j], per tensor of the state tuple (zero coefficients skipped)."""
    out = list(y)
    for a, k in zip(coefficients, ks, strict=True):
        if a:
            out = [torch.add(o, kk, alpha=dt * a) for o, kk in zip(out, k, strict=True)]
    return tuple(out)


def _rk_step(rhs, state: tuple, t, dt: float, tableau) -> tuple:
    """One step of an explicit Runge-Kutta rule (a, b, c) from time t."""
    a, b, c = tableau
    ks = [rhs(t, state)]
    for row, node in zip(a, c[1:], strict=True):
        ks.append(rhs(t + node * dt, _combine(state, ks, row, dt)))
    return _combine(state, ks, b, dt)


@functools.cache
def _compiled_rk_step():
    """``_rk_step`` through torch.compile (Inductor): each step's element-wise work becomes a few fused loops."""
    import torch._dynamo

    torch._dynamo.config.recompile_limit = max(
        torch._dynamo.config.recompile_limit, 64
    )  # one entry per network, pass and batch size
    return torch.compile(_rk_step, dynamic=False, fullgraph=True)


def runge_kutta(rhs, state: tuple, steps: int, dt: float, solver: str = "heun2", compiled: bool = False) -> tuple:
    """Integrate d(state)/dt = rhs(t, state) over [0, steps dt] by a fixed-step explicit Runge-Kutta rule
    (:data:`TABLEAUS`: heun2 = improved Euler, the default); ``state`` and ``rhs``'s result are tuples of
    tensors. Functional, so autograd can run through it (the backprop baseline).

    ``compiled``: run each step through ``torch.compile`` (needs a C++ compiler; the first call per
    network and batch size compiles, for some seconds). ``t`` is then a 0-d tensor, so ``rhs`` must
    treat it as one (no Python branches on it; :func:`bidir.bsp.neuron.pulse` takes either)."""
    check_choice(solver, "solver", SOLVERS)
    if not compiled:
        for i in range(steps):
            state = _rk_step(rhs, state, i * dt, dt, TABLEAUS[solver].coefficients)
        return state
    step, clock = _compiled_rk_step(), torch.arange(steps, dtype=state[0].dtype) * dt
    try:
        for i in range(steps):
            state = step(rhs, state, clock[i], dt, TABLEAUS[solver].coefficients)
    except torch._dynamo.exc.BackendCompilerFailed as err:
        raise BidirError(
            "torch.compile could not build the integration step (compiled=True needs a working C++ compiler "
            f"for Inductor); use compiled=False. {str(err).strip().splitlines()[0][:300]}"
        ) from err
    return state


class BSPNetwork(BidirModule):
    """A layered network of symmetric ODE neurons (eqs 11, 20) and its reverse system (eqs 13, 21).

    ``forward(x)`` gives the class scores int_0^T D_OUT dt of the output neurons for pixels x;
    ``backward_pass(error)`` runs the reverse system with the error injected on the output
    neurons, through the same coefficients C (the module docstring has the equations and the
    choices). ``seed`` draws the coefficients, the rate jitter and the one-to-one wiring.

    Args:
        sizes: (pixels, neurons of layer 1, ..., classes).
        connection / input_connection: 'dense' or 'one-to-one' (later layers / pixels to layer 1).
        elements, rates, jitter: the neuron (N elements, (K1, K2, K3) or one triple per layer).
        in_element, out_element: IN and OUT (default J = 0, S = 1).
        amplitude, pulse: the input pulse (default amplitude 0.1 B0, length 1).
        horizon, dt, solver: the integration (T = 20, dt = 0.2, improved Euler).
        coupling_gain, input_mode: 'none' / 'fixed-point'; 'additive' / 'shunting'.
        init_scale: C ~ U(-s, s) / sqrt(fan_in).
        compiled: integrate through torch.compile (same numbers, faster after compiling).
    """

    def __init__(
        self,
        sizes,
        connection: str = "dense",
        input_connection: str | None = None,
        elements: int = 5,
        rates=(1.0, 0.5, 0.25),
        jitter: float = 0.0,
        in_element: int = 0,
        out_element: int = 1,
        amplitude: float | None = None,
        pulse: float = 1.0,
        horizon: float = 20.0,
        dt: float = 0.2,
        solver: str = "heun2",
        coupling_gain: str = "none",
        input_mode: str = "additive",
        init_scale: float = 1.0,
        seed: int = 0,
        dtype: torch.dtype = torch.float32,
        compiled: bool = False,
        device=None,
    ):
        super().__init__()
        sizes = list(check_sizes(sizes, "sizes (an input size and at least one layer of neurons)", at_least=2))
        _check_arguments(locals())
        self.sizes, self.connection = sizes, connection
        self.input_connection = input_connection or connection
        self.N, self.IN, self.OUT = elements, in_element, out_element
        self.pulse, self.horizon, self.dt, self.solver = float(pulse), float(horizon), float(dt), solver
        self.steps = int(round(horizon / dt))
        self.coupling_gain, self.input_mode = coupling_gain, input_mode
        self.compiled = bool(compiled)  # integrate through torch.compile (runge_kutta); a speed option, same numbers
        gen = torch.Generator().manual_seed(seed)
        k1, k2, k3 = _layer_rates(sizes, elements, rates, jitter, gen)
        check_stable(k1, k2, k3)
        xs, ys = fixed_point(k1, k2, k3), fixed_point(k1, k2, k3, reverse=True)
        self.b0_mean = float(xs.mean())
        self.amplitude = 0.1 * self.b0_mean if amplitude is None else float(amplitude)
        # element axis first: (N, 1, neurons), so one roll moves whole (batch, neurons) slabs
        for name, value in (("k1", k1), ("k2", k2), ("k3_initial", k3), ("rest_forward", xs), ("rest_reverse", ys)):
            self.register_buffer(name, value.T.unsqueeze(1).to(dtype))
        # method 1's parameter: K3 = K3_initial * exp(log_k3_shift) per neuron; B0 scales by exp(-shift) exactly
        self.log_k3_shift = nn.Parameter(torch.zeros(sum(sizes[1:]), dtype=dtype))
        ends = list(itertools.accumulate(sizes[1:]))
        self.bounds = list(zip([0] + ends[:-1], ends, strict=True))  # each layer's slice of the neuron axis
        self._build_couplings(init_scale, gen, dtype)
        self.to(device)

    def _build_couplings(self, init_scale: float, gen: torch.Generator, dtype) -> None:
        """The coefficients C of each layer (eq 20): dense, or one-to-one wiring (:mod:`bidir.bsp.couplings`)."""
        kinds = [self.input_connection] + [self.connection] * (self.layers - 1)
        wiring = {"dense": DenseCoupling, "one-to-one": OneToOneCoupling}
        self.couplings = nn.ModuleList(
            wiring[kind](n_in, n_out, init_scale, gen, dtype)
            for kind, n_in, n_out in zip(kinds, self.sizes[:-1], self.sizes[1:], strict=True)
        )
        self.register_load_state_dict_pre_hook(_older_coupling_keys)

    @property
    def weights(self) -> tuple[nn.Parameter, ...]:
        """Each layer's coefficients C (the couplings' weights), layer by layer."""
        return tuple(c.weight for c in self.couplings)

    # -- structure -------------------------------------------------------------------
    @property
    def layers(self) -> int:
        """The number of layers of neurons."""
        return len(self.sizes) - 1

    def is_dense(self, layer: int) -> bool:
        """Whether ``layer``'s coefficients are a full matrix (else one-to-one)."""
        return isinstance(self.couplings[layer], DenseCoupling)

    def layer_slice(self, layer: int) -> slice:
        """``layer``'s neurons on the neuron axis of the state."""
        return slice(*self.bounds[layer])

    def gain(self) -> torch.Tensor:
        """Per-neuron coupling gain: 1, or B0 / B0_initial = exp(-log_k3_shift) with the fixed-point gain."""
        if self.coupling_gain == "none":
            return torch.ones_like(self.log_k3_shift)
        return torch.exp(-self.log_k3_shift)

    def couple(self, layer: int, signal: torch.Tensor) -> torch.Tensor:
        """Forward coupling into ``layer``: sum_x C_xy signal_x, (B, n_in) -> (B, n_out)."""
        return self.couplings[layer](signal)

    def couple_back(self, layer: int, signal: torch.Tensor) -> torch.Tensor:
        """Reverse coupling out of ``layer``: sum_y C_xy signal_y, (B, n_out) -> (B, n_in): C used as C^T."""
        return self.couplings[layer].adjoint(signal)

    def path_sum(self, x: torch.Tensor, log_k3_shift: torch.Tensor | None = None) -> torch.Tensor:
        """The coupling paths from pixels to outputs: amplitude * pulse * x C_0 g_1 C_1 g_2 ... (B, n_L), g the
        coupling gains (:meth:`gain`, from ``log_k3_shift`` when given, differentiably). At small signals, with
        the same rates in every neuron of a layer, every path has the same time course, so the class scores
        are this sum times one constant (method 1's gains-only model, linearised; bsp-mnist fits it)."""
        shift = self.log_k3_shift if log_k3_shift is None else log_k3_shift
        gain = torch.exp(-shift) if self.coupling_gain == "fixed-point" else torch.ones_like(shift)
        signal = self.amplitude * self.pulse * self.check_input(x)
        for layer in range(self.layers):
            signal = self.couple(layer, signal) * gain[self.layer_slice(layer)]
        return signal

    @torch.no_grad()
    def limit_norms_(self, max_norm: float, layers=None) -> None:
        """Max-norm constraint: rescale every neuron's incoming coefficient vector C_{:,y} whose norm
        exceeds ``max_norm`` onto that norm (Srebro et al. 2005). It bounds each neuron's input
        by amplitude * |pixels| * max_norm in the first layer; see bsp-mnist's nonlinear setting.
        ``layers``: the layers to constrain (default: all)."""
        check_positive(max_norm, "max_norm")
        for layer, coupling in enumerate(self.couplings):
            if layers is None or layer in layers:
                coupling.limit_norms_(max_norm)

    def pulse_at(self, t) -> float:
        """The input pulse on [0, pulse) (:func:`bidir.bsp.neuron.pulse`: integrates to exactly ``pulse``)."""
        return pulse(t, self.pulse, self.dt)

    # -- integration -------------------------------------------------------------------
    @property
    def fused(self) -> bool:
        """Whether this integration runs through torch.compile: with ``compiled``, outside autograd
        (BSP's passes; backprop through the solver stays eager)."""
        return self.compiled and not torch.is_grad_enabled()

    @staticmethod
    def _field(E, k1, k2, k3, reverse: bool, element: int, current, fused: bool):
        """The neurons' field (eq 10 / 13) plus an input current on one element: rolled and added in
        place (fastest eager), or element by element (what torch.compile fuses) when ``fused``."""
        if fused:
            return field_by_element(E, k1, k2, k3, reverse, current, element)
        return add_on(field(E, k1, k2, k3, reverse=reverse, dim=0), element, current)

    def _rates(self):
        k3 = self.k3_initial * torch.exp(self.log_k3_shift)
        scale = torch.exp(-self.log_k3_shift)  # rest points scale as 1/K3 (eq 15; exact for any jitter)
        return self.k1, self.k2, k3, scale

    def _integrate(self, rhs, batch: int, rest: torch.Tensor, tangents: int = 0) -> tuple:
        """Integrate from rest: the state is (E, ``tangents`` tangent blocks from 0, then 2 + ``tangents``
        running integrals from 0); returns the final state."""
        zeros = [rest.new_zeros(self.N, batch, rest.shape[-1]) for _ in range(tangents)]
        zeros += [rest.new_zeros(batch, rest.shape[-1]) for _ in range(2 + tangents)]
        z = runge_kutta(
            rhs, (rest.expand(self.N, batch, -1).contiguous(), *zeros), self.steps, self.dt, self.solver, self.fused
        )
        if not all(torch.isfinite(v).all() for v in z) or z[0].abs().max() > 1e3 * self.b0_mean:
            raise DivergenceError("a neuron's trajectory diverged: lower the input amplitude, the learning rate or dt")
        return z

    def run(self, x: torch.Tensor, trajectory_gain: bool = False) -> Signals:
        """The forward system (eq 11 / 20) driven by pixels x (B, n_0): integrals at IN and OUT.

        ``trajectory_gain`` (beyond the paper) also measures each neuron's local gain along its own
        trajectory, ``Signals.gain`` (B, neurons): every neuron carries two tangent copies of its
        elements, driven on IN by |u(t)|, the size of its own input current,

            d(delta)/dt  = J(E(t)) delta  + e_IN s'(u) |u|     (linearised along the trajectory)
            d(delta0)/dt = J(B0) delta0   + e_IN |u|           (linearised at rest)

        and gain = int delta_OUT / int delta0_OUT: the slope of its input-output map where it works,
        relative to the slope at rest, which is all the reverse neurons know (1 for small signals).
        J is the neuron's own Jacobian (eq 10, with the shunting input's dependence on E_IN); the
        tangents are not coupled between neurons, so each gain is local to its neuron.
        """
        x = self.check_input(x)
        k1, k2, k3, scale = self._rates()
        rest = self.rest_forward * scale
        gain = self.gain()
        drive = self.amplitude * self.couple(0, x)  # (B, n_1): constant over the pulse
        IN, OUT, fused = self.IN, self.OUT, self.fused
        shunting = self.input_mode == "shunting"

        def rhs(t, z):
            E = z[0]
            at_in, out = E[IN] - rest[IN], E[OUT] - rest[OUT]
            current = [drive * self.pulse_at(t)] + [
                self.couple(i, out[:, self.layer_slice(i - 1)]) for i in range(1, self.layers)
            ]
            current = torch.cat(current, 1) * gain
            level = E[IN] / rest[IN] if shunting else None
            dE = self._field(E, k1, k2, k3, False, IN, shunt(current, level) if shunting else current, fused)
            if not trajectory_gain:
                return dE, at_in, out
            delta, delta0, size = z[1], z[2], current.abs()
            drift = forward_tangent(E, delta, k1, k2, k3, dim=0)
            if shunting:  # d shunt(u, E_IN / B0_IN) = s'(u) du + min(u, 0) / B0_IN dE_IN
                drift = add_on(
                    drift,
                    IN,
                    torch.where(current > 0, size, size * level) + current.clamp(max=0) * delta[IN] / rest[IN],
                )
            else:
                drift = add_on(drift, IN, size)
            drift0 = add_on(forward_tangent(rest, delta0, k1, k2, k3, dim=0), IN, size)
            return dE, drift, drift0, at_in, out, delta[OUT], delta0[OUT]

        z = self._integrate(rhs, x.shape[0], rest, tangents=2 if trajectory_gain else 0)
        if not trajectory_gain:
            return Signals(z[1], z[2])
        at_in, at_out, slope, slope0 = z[3:]
        settled = slope0.abs() > 1e-6 * slope0.abs().amax().clamp_min(1e-30)  # a neuron with no input keeps gain 1
        return Signals(at_in, at_out, torch.where(settled, slope / torch.where(settled, slope0, 1.0), 1.0))

    def backward_pass(self, error: torch.Tensor, trajectory_gain: torch.Tensor | None = None) -> Signals:
        """The reverse system (eq 13 / 21): ``error`` (B, n_L) injected on OUT of the output neurons as a
        pulse, carried back through C^T; integrals at IN and OUT, divided by the pulse's area.

        ``trajectory_gain`` (B, neurons), from :meth:`run`, multiplies each reverse neuron's input
        current, so its small-signal response has the slope of its forward neuron along the forward
        trajectory instead of at rest (the f'(a) of backprop; beyond the paper)."""
        error = as_batch(error, "error", self.sizes[-1], dtype=self.k1.dtype, device=self.k1.device)
        if trajectory_gain is not None:
            trajectory_gain = check_finite_tensor(
                trajectory_gain,
                "trajectory_gain",
                shape=(error.shape[0], sum(self.sizes[1:])),
                dtype=self.k1.dtype,
                device=self.k1.device,
            )
        k1, k2, k3, scale = self._rates()
        rest = self.rest_reverse * scale
        gain = self.gain()
        IN, OUT, L, fused = self.IN, self.OUT, self.layers, self.fused

        def rhs(t, z):
            E = z[0]
            at_in = E[IN] - rest[IN]
            back = at_in * gain
            current = [self.couple_back(i, back[:, self.layer_slice(i)]) for i in range(1, L)] + [
                error * self.pulse_at(t)
            ]
            current = torch.cat(current, 1)
            if trajectory_gain is not None:
                current = current * trajectory_gain
            dE = self._field(E, k1, k2, k3, True, OUT, current, fused)
            return dE, at_in, E[OUT] - rest[OUT]

        z = self._integrate(rhs, error.shape[0], rest)
        return Signals(z[1] / self.pulse, z[2] / self.pulse)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores int_0^T D_{k,OUT} dt of the output neurons, (B, n_L)."""
        return self.run(x).at_out[:, self.layer_slice(self.layers - 1)]

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
        """Predicted classes; batches of 100 keep the state in cache (larger ones run slower per sample)."""
        return torch.cat([self(chunk).argmax(1) for chunk in x.split(batch_size)])

    def check_input(self, x) -> torch.Tensor:
        """Pixels as a batch (batch, n_0) on the network's device and dtype; one sample may be 1-D."""
        return as_batch(x, "x", self.sizes[0], dtype=self.k1.dtype, device=self.k1.device)
