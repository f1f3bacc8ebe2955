"""Backward Signal Propagation (Jiang & Fu 2025): symmetric-ODE neurons, causal distance, BSP rules.

    from bidir.bsp import BSPNetwork, BSPRule, BSPLearner
    net = BSPNetwork([784, 300, 300, 10])              # multi-connection, Wuxing neurons
    learner = BSPLearner(net, BSPRule("connections"))  # method 2: C <- C + atan(kt G1)/kt
    loss, accuracy, updates = learner.updates(x, labels)

The signs of the paper's equations are the reconstruction in docs/bsp-reconstruction.md.
"""

from .causal import ODESystem, Term, symmetric_neuron_system
from .gains import GainsOnlyModel
from .learning import BSPLearner, BSPRule, backprop_loss, bsp_g1, clip, gradient_agreement, true_gradients
from .network import BSPNetwork, Signals
from .neuron import (
    ELEMENTS,
    HOPF_RATIO,
    DivergenceError,
    OscillatingRegimeError,
    fixed_point,
    fixed_point_approx,
    forward_field,
    jacobian,
    reverse_field,
    simulate,
    uniform_rates,
)

__all__ = [
    "BSPNetwork",
    "GainsOnlyModel",
    "Signals",
    "BSPRule",
    "BSPLearner",
    "bsp_g1",
    "clip",
    "gradient_agreement",
    "true_gradients",
    "backprop_loss",
    "ODESystem",
    "Term",
    "symmetric_neuron_system",
    "ELEMENTS",
    "HOPF_RATIO",
    "DivergenceError",
    "OscillatingRegimeError",
    "fixed_point",
    "fixed_point_approx",
    "forward_field",
    "reverse_field",
    "jacobian",
    "simulate",
    "uniform_rates",
]
