"""The one figure style and the drawing helpers every experiment shares.

Figures are matplotlib ``Figure`` objects made without pyplot, so importing this module
changes no global state (no backend switch, no rcParams): :data:`STYLE` applies inside
:func:`figure` and :func:`save_figure` only, through ``matplotlib.rc_context``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import torch
from matplotlib.figure import Figure

__all__ = ["STYLE", "DPI", "figure", "save_figure", "show_image", "legend_outside"]

DPI = 110
STYLE = {
    "figure.dpi": DPI,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "legend.fontsize": 8,
    "legend.frameon": False,
}


def figure(nrows: int = 1, ncols: int = 1, size=(6.4, 4.2), **kwargs):
    """A new figure and its axes (``Figure.subplots`` keywords: sharex, gridspec_kw, ...), in :data:`STYLE`."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=size)
        return fig, fig.subplots(nrows, ncols, **kwargs)


def save_figure(fig: Figure, path) -> Path:
    """Write ``fig`` as a PNG (tight bounding box) in :data:`STYLE`."""
    with matplotlib.rc_context(STYLE):
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return Path(path)


def show_image(
    ax,
    image,
    shape=None,
    title: str = "",
    cmap: str = "gray",
    vmin: float = 0.0,
    vmax: float = 1.0,
    title_size: float = 7,
):
    """Draw one image without ticks, grid or frame: a flat vector (give its ``shape``), (H, W), or (C, H, W)
    with C = 1 (drawn with ``cmap``) or C = 3 (RGB). Values are clipped to [vmin, vmax]; returns the artist."""
    img = torch.as_tensor(image).detach().float().cpu()
    if shape is not None:
        img = img.reshape(shape)
    if img.dim() == 3:
        img = img[0] if img.shape[0] == 1 else img.permute(1, 2, 0).clamp(vmin, vmax)
    artist = ax.imshow(
        img.numpy(), cmap=cmap if img.dim() == 2 else None, vmin=vmin, vmax=vmax, interpolation="nearest"
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=title_size, pad=2)
    return artist


def legend_outside(ax, **kwargs) -> None:
    """A legend to the right of the axes, where it covers no data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kwargs)
