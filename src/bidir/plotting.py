"""The one figure style and the drawing helpers every experiment shares.

Figures are matplotlib ``Figure`` objects made without pyplot, so importing this module
changes no global state (no backend switch, no rcParams): :data:`STYLE` applies inside
:func:`figure` and :func:`save_figure` only, through ``matplotlib.rc_context``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure

__all__ = ["STYLE", "DPI", "figure", "save_figure", "show_image", "image_grid", "legend_outside", "legend_below"]

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


def legend_below(ax, ncol: int = 2, **kwargs) -> None:
    """A legend under the axes (beside a colour bar, say), where it covers no data."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=ncol, borderaxespad=0.0, **kwargs)


def _as_picture(image, shape, vmin: float, vmax: float) -> np.ndarray:
    """An image as an (H, W) or (H, W, 3) array scaled from [vmin, vmax] to [0, 1]."""
    img = torch.as_tensor(image).detach().float().cpu()
    if shape is not None:
        img = img.reshape(shape)
    if img.dim() == 3:
        img = img[0] if img.shape[0] == 1 else img.permute(1, 2, 0)
    return ((img.clamp(vmin, vmax) - vmin) / (vmax - vmin)).numpy()


def image_grid(
    ax,
    rows,
    shape=None,
    row_labels=(),
    col_labels=(),
    captions: dict | None = None,
    vmin: float = 0.0,
    vmax: float = 1.0,
    cmap: str = "gray",
    pad: int = 2,
    fontsize: float = 7,
):
    """Draw a grid of equally sized images as one mosaic in one axes (one artist: fast for hundreds of images).

    ``rows``: a list of rows, each a list of images (flat with ``shape``, (H, W), or (C, H, W) with C = 1 or 3)
    or None for an empty cell. ``row_labels`` go left of the rows, ``col_labels`` above the columns,
    ``captions`` {(row, column): text} above single cells. Cells are separated by ``pad`` pixels of grey."""
    cells = [[None if im is None else _as_picture(im, shape, vmin, vmax) for im in row] for row in rows]
    first = next(c for row in cells for c in row if c is not None)
    h, w = first.shape[:2]
    n_rows, n_cols = len(cells), max(len(row) for row in cells)
    colour = first.ndim == 3
    canvas = np.full((n_rows * (h + pad) - pad, n_cols * (w + pad) - pad, *((3,) if colour else ())), 0.5)
    for r, row in enumerate(cells):
        for c, cell in enumerate(row):
            if cell is not None:
                canvas[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = cell
    ax.imshow(canvas, cmap=None if colour else cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([c * (w + pad) + w / 2 for c in range(len(col_labels))], list(col_labels), fontsize=fontsize)
    ax.set_yticks([r * (h + pad) + h / 2 for r in range(len(row_labels))], list(row_labels), fontsize=fontsize)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for (r, c), text in (captions or {}).items():
        ax.text(c * (w + pad) + w / 2, r * (h + pad) - 1, text, ha="center", va="bottom", fontsize=fontsize - 1)
    return ax
