"""bidir: bidirectional neural networks (BAM, bidirectional backprop, BSP, style memory).

bidir.save(model, folder)     # config.json (the constructor arguments) + model.safetensors
model = bidir.load(folder)    # any model family; also a run folder's checkpoint.pt
"""

__version__ = "0.1.0"
__all__ = ["save", "load", "__version__"]


def save(model, folder):
    """Write ``model`` (any bidir model family) to ``folder``: ``config.json`` + ``model.safetensors``."""
    from .io import save_model

    return save_model(model, folder)


def load(folder, device=None):
    """Rebuild the model saved in ``folder`` (or a Trainer's ``checkpoint.pt`` there) on ``device``."""
    from .io import load_model

    return load_model(folder, device)
