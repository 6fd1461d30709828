"""Experience storage: the off-policy replay buffer and the on-policy rollout."""
