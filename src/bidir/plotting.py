"""Matplotlib set-up shared by the experiments (headless, consistent style)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False})


def figure(nrows: int = 1, ncols: int = 1, size=(6.4, 4.2), **kwargs):
    """A new figure and axes."""
    return plt.subplots(nrows, ncols, figsize=size, **kwargs)


def show_pattern(ax, pattern, shape, title: str = "") -> None:
    """Draw a flat bipolar/binary pattern as a (height, width) bitmap, 'on' in black."""
    ax.imshow(pattern.reshape(shape).cpu().numpy(), cmap="gray_r", vmin=pattern.min().item() if pattern.min() < 0 else 0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=8)
