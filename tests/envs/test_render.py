"""Fast checks of the renderer: frames stack into GIFs, follow the state, and every path runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gaidrl.envs import UAVNearFarEnv, UAVNearFarVectorEnv
from gaidrl.envs.render import HumanWindow, render_rgb, render_state_png, save_episode_gif


def _fly_east(env: UAVNearFarEnv) -> np.ndarray:
    """A continuous action flying +x at full speed, so the UAV surely moves."""
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    action[0] = 1.0
    return action


def test_rgb_frames_constant_shape_and_follow_the_uav():
    env = UAVNearFarEnv(render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    assert first.dtype == np.uint8 and first.ndim == 3 and first.shape[2] == 3
    frames = [first]
    for _ in range(3):
        env.step(_fly_east(env))
        frames.append(env.render())
    assert {f.shape for f in frames} == {first.shape}
    assert all(f.dtype == np.uint8 for f in frames)
    assert not np.array_equal(frames[0], frames[-1])
    assert first.std() > 10  # a real picture, not a blank canvas


def test_rgb_is_deterministic_for_one_state():
    env = UAVNearFarEnv(render_mode="rgb_array")
    env.reset(seed=1)
    env.step(_fly_east(env))
    np.testing.assert_array_equal(env.render(), render_rgb(env.sim, 0))


def test_vector_env_renders_every_network():
    envs = UAVNearFarVectorEnv(num_envs=2, render_mode="rgb_array")
    envs.reset(seed=0)
    envs.step(envs.action_space.sample())
    frames = envs.render()
    assert isinstance(frames, tuple) and len(frames) == 2
    assert frames[0].shape == frames[1].shape and frames[0].dtype == np.uint8
    assert not np.array_equal(frames[0], frames[1])  # two different layouts


def test_tokens_mode_with_absent_users_renders():
    env = UAVNearFarEnv(obs_mode="tokens", render_mode="rgb_array")
    for seed in range(20):  # find a layout with at least one masked user
        env.reset(seed=seed)
        if not (env.sim.near_mask.all() and env.sim.far_mask.all()):
            break
    else:
        pytest.fail("no layout with an absent user in 20 seeds")
    env.step(env.action_space.sample())
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.shape[2] == 3


def test_png_and_gif_written(tmp_path: Path):
    env = UAVNearFarEnv(render_mode="rgb_array")
    env.reset(seed=2)
    frames = [env.render()]
    env.step(_fly_east(env))
    frames.append(env.render())
    png = render_state_png(env.sim, 0, tmp_path / "sub" / "state.png")
    assert png.exists() and png.stat().st_size > 20_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    gif = save_episode_gif(frames, tmp_path / "episode.gif", fps=5)
    assert gif.exists() and gif.read_bytes()[:3] == b"GIF"
    import imageio.v3 as iio

    assert iio.imread(gif, index=None).shape[:3] == (2, *frames[0].shape[:2])
    assert iio.immeta(gif, index=1)["duration"] == 200  # milliseconds at 5 fps
    with pytest.raises(ValueError):
        save_episode_gif([frames[0], frames[0][:10]], tmp_path / "bad.gif")


def test_human_window_headless_does_not_crash():
    import matplotlib

    matplotlib.use("Agg")
    env = UAVNearFarEnv(render_mode="human")
    env.reset(seed=0)
    env.step(_fly_east(env))
    env.close()
    window = HumanWindow()
    window.show(env.sim, 0)
    window.show(env.sim, 0)  # reuses its figure
    window.close()
    window.close()

    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []  # every window closed again
