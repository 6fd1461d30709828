"""Every test process, and every child it starts (sweep and tune workers, benchmark
scripts), runs one torch thread: the suite runs on several processes (``make test``), and a
sweep started in the test and one started through the CLI then train with the same threads,
so their numbers can be compared bit for bit however pytest was called."""

import os

os.environ["OMP_NUM_THREADS"] = "1"
