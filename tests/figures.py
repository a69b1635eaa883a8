"""Figures the reliability tests report (trials, cases, outcomes), printed at the end of the run.

A test takes the `figures` fixture and calls `figures.record("what", trials=20, outcome="...")`.
The lines are printed in pytest's summary and, when MBS_FIGURES_FILE names a file,
appended to it as JSON lines (make soak writes soak-figures.jsonl), so the README's
numbers come from a run, not from memory.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field


@dataclass
class Figures:
    lines: list[dict] = field(default_factory=list)

    def record(self, what: str, **values) -> None:
        line = {"what": what, **values}
        self.lines.append(line)
        path = os.environ.get("MBS_FIGURES_FILE")
        if path:
            with open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps(line, default=str) + "\n")


FIGURES = Figures()


def summary_lines() -> list[str]:
    return [", ".join(f"{k}={v}" for k, v in line.items()) for line in FIGURES.lines]
