"""``python -m pause_at_second_checkpoint ARGS``: the gaidrl CLI, stopped at a fixed point.

The SIGKILL tests kill a run here instead of after a timed sleep, so where the kill lands
does not depend on the machine's speed: the first checkpoint is written as usual, and when
the run is about to write its second one (after logging and evaluating that step), it touches
the file named by ``GAIDRL_PAUSE_FLAG`` and waits to be killed. The killed run then holds
metrics rows past its last checkpoint, which a resume must drop.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from gaidrl import cli
from gaidrl.train import trainer as trainer_module

_write = trainer_module.save_checkpoint
_calls = 0


def _write_once_then_wait(state, path):
    global _calls
    _calls += 1
    if _calls == 1:
        return _write(state, path)
    Path(os.environ["GAIDRL_PAUSE_FLAG"]).touch()
    while True:  # the test's SIGKILL ends this
        time.sleep(60)


trainer_module.save_checkpoint = _write_once_then_wait

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
