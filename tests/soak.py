"""How hard the reliability tests try: a few trials in `make test`, many more under `make soak`.

`make soak` sets MBS_SOAK=1; every test marked `soak` asks `trials(normal, soak)` how many
trials, examples or cases to run, so the same test proves the property in CI and
tries much harder by hand.
"""
import os

SOAK = os.environ.get("MBS_SOAK") == "1"


def trials(normal: int, soak: int) -> int:
    """The number of trials to run: `normal` in `make test`, `soak` under `make soak`."""
    return soak if SOAK else normal
