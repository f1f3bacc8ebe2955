"""The explicit matrix-form backpropagation engine (note-forward-backward-propagation).

Every gradient is computed by the appendix's matrix equations, never by autograd; see
:mod:`bidir.backprop.engine` for the equations and where the note's appendix is wrong.
"""

from .activations import (
    ACTIVATIONS,
    Activation,
    BipolarLogistic,
    Identity,
    Logistic,
    ReLU,
    Softmax,
    Tanh,
    Threshold,
    get_activation,
)
from .engine import Layer, Pass, Step, backward, explicit_loss, forward, loss_and_gradients
from .likelihoods import LIKELIHOODS, check_likelihood, error, grad_z
from .rules import (
    RULES,
    Backprop,
    BidirectionalDirectFeedbackAlignment,
    BidirectionalFeedbackAlignment,
    DirectFeedbackAlignment,
    FeedbackAlignment,
    LearningRule,
    SignSymmetry,
)

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "BipolarLogistic",
    "Identity",
    "Logistic",
    "ReLU",
    "Softmax",
    "Tanh",
    "Threshold",
    "get_activation",
    "Layer",
    "Pass",
    "Step",
    "backward",
    "explicit_loss",
    "forward",
    "loss_and_gradients",
    "LIKELIHOODS",
    "check_likelihood",
    "error",
    "grad_z",
    "RULES",
    "LearningRule",
    "Backprop",
    "FeedbackAlignment",
    "SignSymmetry",
    "DirectFeedbackAlignment",
    "BidirectionalFeedbackAlignment",
    "BidirectionalDirectFeedbackAlignment",
]
