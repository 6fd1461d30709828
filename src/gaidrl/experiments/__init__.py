"""Experiment plumbing: the typed run config and the registry of names -> classes."""
