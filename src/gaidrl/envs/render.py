"""Top-down pictures of one network of a :class:`NearFarSimulator` (rgb frames, PNG, GIF, window).

Everything is drawn with matplotlib's object-oriented API on a fixed-size figure, so every
frame of an episode has the same shape and can go straight into a GIF. The ``rgb_array`` path
never touches pyplot's global state (safe in threads, workers and headless machines); only
:class:`HumanWindow` uses pyplot, because an interactive window needs a GUI backend.

The BS array is about 1.4 m long at the default 28 GHz, invisible at the scale of a 1 km area,
so it is drawn as an exaggerated segment along y; positions are otherwise to scale, in metres.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from gaidrl.envs import physics
from gaidrl.envs.simulator import NearFarSimulator

FIGSIZE_IN: tuple[float, float] = (7.0, 6.0)
DPI = 100
# plasma without its palest yellow end, so the best links stay visible on a light background
RATE_CMAP = ListedColormap(matplotlib.colormaps["plasma"](np.linspace(0.0, 0.85, 256)), "rate")
NEAR_COLOR, FAR_COLOR, UAV_COLOR, BS_COLOR = "#1f77b4", "#2ca02c", "#d62728", "black"
NON_INTERACTIVE_BACKENDS = {"agg", "pdf", "ps", "svg", "pgf", "cairo", "template"}


def _last_rates(sim: NearFarSimulator, index: int) -> tuple[np.ndarray, float, np.ndarray]:
    """Near rates, relay rate and far rates of the last slot (zeros before any slot)."""
    m = sim.last_metrics
    kn, kf = sim.near_pos.shape[1], sim.far_pos.shape[1]
    if m is None:
        return np.zeros(kn), 0.0, np.zeros(kf)
    return (
        np.asarray(m.near_rates[index]),
        float(m.relay_rate[index]),
        np.asarray(m.far_rates[index]),
    )


def _axis_limits(sim: NearFarSimulator, index: int) -> tuple[tuple[float, ...], ...]:
    """Limits that hold the flight area, the BS, the Rayleigh circle's front and every node."""
    pts = np.concatenate(
        [
            sim.near_pos[index, sim.near_mask[index], :2],
            sim.far_pos[index, sim.far_mask[index], :2],
            sim.trail[index, : _slot(sim, index) + 1, :2],
            np.array([[0.0, 0.0], sim.area_low[:2], sim.area_high[:2]]),
        ]
    )
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = hi - lo
    # room behind the BS for its label and a glimpse of the circle, a little elsewhere
    x = (lo[0] - 0.12 * span[0], hi[0] + 0.04 * span[0])
    y = (lo[1] - 0.04 * span[1], hi[1] + 0.04 * span[1])
    return x, y


def _slot(sim: NearFarSimulator, index: int) -> int:
    return int(min(sim.t[index], sim.trail.shape[1] - 1))


def draw_state(
    fig: Figure, sim: NearFarSimulator, index: int, rate_vmax: float | None = None
) -> Axes:
    """Draw network ``index`` of ``sim`` on an empty ``fig``; shared by every render path.

    ``rate_vmax`` fixes the top of the colour scale (bit/s/Hz) so the colours of an episode's
    frames are comparable; None scales to this slot's best link.
    """
    ax: Axes = fig.add_subplot()
    near_rates, relay_rate, far_rates = _last_rates(sim, index)
    near_mask, far_mask = sim.near_mask[index], sim.far_mask[index]
    near = sim.near_pos[index, near_mask, :2]
    far = sim.far_pos[index, far_mask, :2]
    uav = sim.uav_pos[index, :2]
    t = _slot(sim, index)
    trail = sim.trail[index, : t + 1, :2]
    (x0, x1), (y0, y1) = _axis_limits(sim, index)

    # flight area and Rayleigh distance
    low, high = sim.area_low[:2], sim.area_high[:2]
    ax.add_patch(
        Rectangle(
            tuple(low), *(high - low), facecolor="#eef3f8", edgecolor="#9fb3c8", lw=1.0,
            zorder=0, label="UAV flight area",
        )
    )  # fmt: skip
    r = float(sim.rayleigh_m)
    ax.add_patch(
        Circle(
            (0.0, 0.0), r, fill=False, ls="--", lw=1.3, color="0.35", zorder=1,
            label=f"Rayleigh distance R = {r:.0f} m",
        )
    )  # fmt: skip
    ax.text(
        r * np.cos(np.radians(75)), r * np.sin(np.radians(75)), " near field | far field ",
        rotation=-15, fontsize=7, color="0.35", ha="center", va="center",
        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7},
    )  # fmt: skip

    # links coloured by last slot's rate
    bs = np.zeros(2)
    segs = [np.stack([bs, p]) for p in near] + [np.stack([bs, uav])]
    segs += [np.stack([uav, p]) for p in far]
    rates = np.concatenate([near_rates[near_mask], [relay_rate], far_rates[far_mask]])
    vmax = rate_vmax if rate_vmax is not None else max(float(rates.max()), 1.0)
    norm = Normalize(0.0, vmax)
    widths = np.full(len(segs), 2.0)
    widths[len(near)] = 3.0  # the relay beam carries every far user
    links = LineCollection(
        segs, cmap=RATE_CMAP, norm=norm, linewidths=widths, alpha=0.9, zorder=2,
        capstyle="round",
    )  # fmt: skip
    links.set_array(rates)
    ax.add_collection(links)
    cbar = fig.colorbar(links, ax=ax, shrink=0.85, pad=0.02)
    cbar.set_label("link rate of the last slot [bit/s/Hz]")

    # nodes
    ax.plot(
        trail[:, 0], trail[:, 1], color=UAV_COLOR, lw=1.4, marker=".", ms=3, alpha=0.75,
        zorder=3, label="UAV trail",
    )  # fmt: skip
    ax.scatter(
        [trail[0, 0]], [trail[0, 1]], s=40, marker="o", facecolors="none",
        edgecolors=UAV_COLOR, linewidths=1.2, zorder=3, label="UAV start",
    )  # fmt: skip
    ax.scatter(
        near[:, 0], near[:, 1], s=55, marker="o", c=NEAR_COLOR, edgecolors="white",
        linewidths=0.8, zorder=4, label=f"near-field users ({len(near)})",
    )  # fmt: skip
    ax.scatter(
        far[:, 0], far[:, 1], s=70, marker="^", c=FAR_COLOR, edgecolors="white",
        linewidths=0.8, zorder=4, label=f"far-field users ({len(far)})",
    )  # fmt: skip
    ax.scatter(
        [uav[0]], [uav[1]], s=190, marker="X", c=UAV_COLOR, edgecolors="black", linewidths=0.8,
        zorder=5, label=f"UAV relay (h = {sim.uav_pos[index, 2]:.0f} m)",
    )  # fmt: skip
    for p, rate in zip(near, near_rates[near_mask], strict=True):
        ax.annotate(f"{rate:.2f}", p, xytext=(5, 4), textcoords="offset points", fontsize=7)
    for p, rate in zip(far, far_rates[far_mask], strict=True):
        ax.annotate(f"{rate:.2f}", p, xytext=(5, 4), textcoords="offset points", fontsize=7)

    # BS: the real aperture is ~1 m, so draw a segment 6 % of the view tall
    half = 0.03 * (y1 - y0)
    ax.plot([0.0, 0.0], [-half, half], color=BS_COLOR, lw=5, solid_capstyle="butt", zorder=6)
    # vertical label behind the array, where no user ever stands (users are at x > 0)
    ax.annotate(
        f"BS ({sim.config.n_antennas} elements)", (0.0, 0.0), xytext=(-7, 0),
        textcoords="offset points", ha="right", va="center", rotation=90, fontsize=8,
        fontweight="bold",
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.6", "alpha": 0.85},
        zorder=7,
    )  # fmt: skip

    all_rates = np.concatenate([near_rates, far_rates])
    all_mask = np.concatenate([near_mask, far_mask])
    sum_rate = float(all_rates[all_mask].sum())
    fairness = float(physics.jain_fairness(all_rates, all_mask))
    ax.set_title(
        f"slot t = {t} / {sim.config.episode_length}    sum rate = {sum_rate:.2f} bit/s/Hz    "
        f"Jain's fairness J = {fairness:.3f}\n"
        + (
            f"relay (BS \u2192 UAV) rate = {relay_rate:.2f} bit/s/Hz; labels: user rates"
            if t > 0
            else "no slot served yet (all rates 0)"
        ),
        fontsize=9,
    )
    # to scale, widening the shorter side to fill the box: let autoscaling see only our limits
    # (set_xlim/set_ylim would fix them, and equal aspect would then shrink the box instead)
    ax.dataLim.set_points(np.array([[x0, y0], [x1, y1]], dtype=float))
    ax.ignore_existing_data_limits = False
    ax.margins(0.0)
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.tick_params(labelsize=8)
    ax.grid(True, lw=0.4, alpha=0.4)
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=3, fontsize=7.5, frameon=False,
        handlelength=1.8, columnspacing=1.2, markerscale=0.8,
    )  # fmt: skip
    return ax


def _new_figure() -> Figure:
    return Figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")


def render_rgb(sim: NearFarSimulator, index: int, rate_vmax: float | None = None) -> np.ndarray:
    """(H, W, 3) uint8 frame of network ``index``; constant shape, so frames stack into GIFs."""
    fig = _new_figure()
    canvas = FigureCanvasAgg(fig)
    draw_state(fig, sim, index, rate_vmax)
    canvas.draw()
    frame = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    fig.clear()  # the figure is not registered with pyplot; dropping it frees it
    return frame


def render_state_png(
    sim: NearFarSimulator, index: int, path: str | Path, rate_vmax: float | None = None
) -> Path:
    """Save the picture of network ``index`` as a PNG (for reports) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = _new_figure()
    FigureCanvasAgg(fig)
    draw_state(fig, sim, index, rate_vmax)
    fig.savefig(path, format="png")
    fig.clear()
    return path


def save_episode_gif(frames: Sequence[np.ndarray], path: str | Path, fps: float = 10.0) -> Path:
    """Write rgb frames (all of one shape, as :func:`render_rgb` makes them) as a looping GIF."""
    import imageio.v3 as iio

    if len(frames) == 0:
        raise ValueError("save_episode_gif needs at least one frame")
    shapes = {np.shape(f) for f in frames}
    if len(shapes) != 1:
        raise ValueError(f"all frames must have one shape, got {sorted(shapes)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the pillow plugin of imageio v3 takes the frame duration in milliseconds
    stack = np.stack([np.asarray(f, dtype=np.uint8) for f in frames])
    iio.imwrite(path, stack, extension=".gif", duration=1000.0 / fps, loop=0)
    return path


class HumanWindow:
    """One pyplot window, redrawn in place each slot for ``render_mode="human"``.

    On a non-interactive backend (Agg on a headless machine) it only draws, so envs made
    with ``render_mode="human"`` still run in CI.
    """

    def __init__(self, rate_vmax: float | None = None):
        self.rate_vmax = rate_vmax
        self._fig: Figure | None = None

    def show(self, sim: NearFarSimulator, index: int = 0) -> None:
        import matplotlib.pyplot as plt

        if self._fig is None or not plt.fignum_exists(self._fig.number):
            self._fig = plt.figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")
        self._fig.clear()
        draw_state(self._fig, sim, index, self.rate_vmax)
        if matplotlib.get_backend().lower() in NON_INTERACTIVE_BACKENDS:
            self._fig.canvas.draw()
            return
        plt.show(block=False)
        plt.pause(0.001)

    def close(self) -> None:
        if self._fig is not None:
            import matplotlib.pyplot as plt

            plt.close(self._fig)
            self._fig = None
