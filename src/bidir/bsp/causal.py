"""Causal distance (Jiang & Fu 2025, section 3.2, Fig 5) for any ODE system given by its terms.

A system is a map ``variable -> terms`` where each term is ``sign * coefficient * product of
variables``. Variable a *causes* b when a appears in a term of db/dt (a != b); a parameter
p causes b when p is the coefficient of a term of db/dt. The causal distance d(a, b) is the
length of the shortest path a -> ... -> b in that graph ("the minimum number of intermediate
variables" + 1: J depends on T directly, d(T, J) = 1; H reaches J only through T, d(H, J) = 2).

Reversing a system (:meth:`ODESystem.reversed`) flips every edge a -> b into b -> a and keeps
the coefficient on its edge: a term ``c * b * a`` of db/dt caused by a becomes ``c * a * b``
of da/dt, and ``c * a`` becomes ``c * b``. For the Wuxing neuron this turns eq (8) into
eq (12) exactly, and the invariant of the paper follows: d_reverse(b, a) = d_forward(a, b).

The influence of a on b is ranked by distance first, then by the size of the leading term
of b's response to a step in a, |prod of Jacobian entries along the path| * t^d / d!
(notes 2.7: the lowest Taylor order at which b moves is d).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp
from scipy.sparse.csgraph import shortest_path

from ..errors import InvalidInputError
from .neuron import ELEMENTS

__all__ = ["Term", "ODESystem", "symmetric_neuron_system", "LOOPS"]

LOOPS = ("generation", "decay", "inhibition")


@dataclass(frozen=True)
class Term:
    """``sign * coefficient * prod(variables)``; ``kind`` names the loop it belongs to."""

    sign: int
    coefficient: str
    variables: tuple[str, ...]
    kind: str = ""


@dataclass
class ODESystem:
    """An ODE system given by its signed terms, dv/dt = sum of sign * rate * product of variables."""

    equations: dict[str, tuple[Term, ...]]
    parameters: dict[str, float] = field(default_factory=dict)

    def __post_init__(self):
        names = set(self.equations)
        for var, terms in self.equations.items():
            for term in terms:
                if term.sign not in (1, -1):
                    raise InvalidInputError(f"term {term} of d{var}/dt: sign must be +1 or -1")
                unknown = set(term.variables) - names
                if unknown:
                    raise InvalidInputError(f"d{var}/dt uses {sorted(unknown)}, which have no equation")

    @property
    def variables(self) -> list[str]:
        """The system's variables, in the order of first appearance."""
        return list(self.equations)

    def rate(self, state: dict[str, float]) -> dict[str, float]:
        """Evaluate every d(var)/dt at ``state`` with :attr:`parameters` (works on tensors too)."""
        out = {}
        for var, terms in self.equations.items():
            total = 0.0
            for t in terms:
                value = t.sign * self.parameters[t.coefficient]
                for v in t.variables:
                    value = value * state[v]
                total = total + value
            out[var] = total
        return out

    def only(self, *kinds: str) -> ODESystem:
        """The subsystem with only terms of the given kinds (e.g. the generative loop)."""
        return ODESystem(
            {v: tuple(t for t in ts if t.kind in kinds) for v, ts in self.equations.items()}, self.parameters
        )

    def reversed(self) -> ODESystem:
        """Flip every causal edge, keeping each coefficient on its edge (eq 8 -> eq 12)."""
        eqs: dict[str, list[Term]] = {v: [] for v in self.equations}
        for b, terms in self.equations.items():
            for t in terms:
                causes = [v for v in t.variables if v != b]
                if not causes:  # self terms (decay) stay where they are
                    eqs[b].append(t)
                    continue
                if len(set(causes)) > 1:
                    raise InvalidInputError(f"term {t} of d{b}/dt has two causes; its reverse is ambiguous")
                a = causes[0]
                swap = {a: b, b: a}
                eqs[a].append(Term(t.sign, t.coefficient, tuple(swap.get(v, v) for v in t.variables), t.kind))
        return ODESystem({v: tuple(ts) for v, ts in eqs.items()}, self.parameters)

    # -- the graph -----------------------------------------------------------------
    def edges(self) -> list[tuple[str, str, Term]]:
        """(cause, effect, term) for every variable -> variable dependency."""
        return [(a, b, t) for b, ts in self.equations.items() for t in ts for a in dict.fromkeys(t.variables) if a != b]

    def distances(self) -> np.ndarray:
        """d[a, b]: the causal distance from variable a to variable b (inf: unreachable; 0 on the diagonal)."""
        idx = {v: i for i, v in enumerate(self.variables)}
        adj = np.zeros((len(idx), len(idx)))
        for a, b, _ in self.edges():
            adj[idx[a], idx[b]] = 1
        return shortest_path(adj, method="D", unweighted=True)

    def distance_table(self) -> dict[str, dict[str, float]]:
        """The causal distance table as nested dicts: distance_table()[a][b] = d(a -> b)."""
        d = self.distances()
        return {a: {b: float(d[i, j]) for j, b in enumerate(self.variables)} for i, a in enumerate(self.variables)}

    def parameter_distances(self) -> dict[str, dict[str, float]]:
        """d(p, b): 1 to the variables whose equation p appears in, then along the variable graph."""
        d = self.distances()
        idx = {v: i for i, v in enumerate(self.variables)}
        out: dict[str, dict[str, float]] = {}
        for b, ts in self.equations.items():
            for t in ts:
                row = out.setdefault(t.coefficient, {v: math.inf for v in self.variables})
                for c in self.variables:
                    row[c] = min(row[c], 1 + d[idx[b], idx[c]])
        return out

    def jacobian_entry(self, a: str, b: str, state: dict[str, float]) -> float:
        """d(db/dt)/da at ``state``."""
        total = 0.0
        for t in self.equations[b]:
            n = t.variables.count(a)
            if n:
                value = t.sign * self.parameters[t.coefficient] * n
                rest = list(t.variables)
                rest.remove(a)
                for v in rest:
                    value *= state[v]
                total += value
        return total

    def influence(self, target: str, state: dict[str, float], horizon: float = 1.0) -> list[dict]:
        """Every variable ranked by its influence on ``target``: distance, then leading-term strength.

        strength = max over shortest paths of |prod of Jacobian entries| * horizon^d / d!.
        """
        d = self.distances()
        idx = {v: i for i, v in enumerate(self.variables)}
        ranking = []
        for a in self.variables:
            dist = d[idx[a], idx[target]]
            if a == target or not np.isfinite(dist):
                continue
            ranking.append(
                {
                    "source": a,
                    "distance": int(dist),
                    "strength": float(
                        self._path_gain(a, target, int(dist), d, idx, state) * horizon**dist / math.factorial(int(dist))
                    ),
                }
            )
        return sorted(ranking, key=lambda r: (r["distance"], -r["strength"]))

    def parameter_response(
        self, parameter: str, target: str, state: dict[str, float], times, relative: float = 0.01
    ) -> list[float]:
        """How ``target`` answers a step in one parameter: from ``state`` (a fixed point of the system), raise
        ``parameter`` by ``relative`` of its value and integrate (scipy's adaptive RK45, tolerance 1e-10); the
        target's departure from ``state`` at each of ``times``. A parameter at causal distance d from the target
        moves it first at order t^d (sec 3.2)."""
        if parameter not in self.parameters or target not in self.equations:
            raise InvalidInputError(f"unknown parameter {parameter!r} or variable {target!r}")
        stepped = ODESystem(self.equations, {**self.parameters, parameter: self.parameters[parameter] * (1 + relative)})
        names = self.variables

        def field(_, v):
            rates = stepped.rate(dict(zip(names, v, strict=True)))
            return [rates[n] for n in names]

        start = [state[n] for n in names]
        sol = solve_ivp(field, (0.0, max(times)), start, t_eval=sorted(times), rtol=1e-10, atol=1e-12)
        return (sol.y[names.index(target)] - state[target]).tolist()

    def _path_gain(self, a, b, dist, d, idx, state) -> float:
        if dist == 0:
            return 1.0
        best = 0.0
        for cause, effect, _ in self.edges():
            if cause == a and d[idx[effect], idx[b]] == dist - 1:
                best = max(
                    best,
                    abs(self.jacobian_entry(a, effect, state)) * self._path_gain(effect, b, dist - 1, d, idx, state),
                )
        return best


def symmetric_neuron_system(
    elements: int = 5, k: tuple[float, float, float] = (1.0, 0.5, 0.25), gen: int = 1, inh: int = 2
) -> ODESystem:
    """Eq (8) / (10) as terms: dE_i/dt = k1_i E_{i-gen} - k2_i E_i - k3_i E_i E_{i-inh}.

    Five elements are named J, S, M, H, T; others E0, E1, ...; coefficients k1_i, k2_i, k3_i
    (i counted from 1 as in the paper: k11 is generation into J).
    """
    if elements < 3:
        raise InvalidInputError(f"a symmetric neuron needs at least 3 elements, got {elements}")
    names = list(ELEMENTS) if elements == 5 else [f"E{i}" for i in range(elements)]
    eqs, params = {}, {}
    for i, v in enumerate(names):
        mother, controller = names[(i - gen) % elements], names[(i - inh) % elements]
        eqs[v] = (
            Term(1, f"k1{i + 1}", (mother,), "generation"),
            Term(-1, f"k2{i + 1}", (v,), "decay"),
            Term(-1, f"k3{i + 1}", (v, controller), "inhibition"),
        )
        params.update({f"k1{i + 1}": k[0], f"k2{i + 1}": k[1], f"k3{i + 1}": k[2]})
    return ODESystem(eqs, params)
