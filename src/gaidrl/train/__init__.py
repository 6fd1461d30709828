"""Training: the loop, evaluation, checkpoints, seeding and run logs."""
