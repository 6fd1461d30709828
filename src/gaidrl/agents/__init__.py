"""DRL algorithms (one file each) and the pluggable parts they are built from.

Import the algorithm you need, e.g. ``from gaidrl.agents.td3 import TD3``; the contract
with the trainer is :class:`gaidrl.agents.base.Agent` (docs/agent_contract.md).
"""
