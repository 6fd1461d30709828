"""gaidrl: generative-AI-enhanced deep reinforcement learning.

Importing the package registers ``gaidrl/UAVNearFar-v0`` with Gymnasium.
"""

from gaidrl.envs import register_envs

__version__ = "0.1.0"

register_envs()
