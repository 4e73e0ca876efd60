"""What a health sweep did, counted per reason: the sweep's return value,
which the Celery task logs and the chunks add up."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class SweepResult:
    filed: Counter = field(default_factory=Counter)
    seen_again: Counter = field(default_factory=Counter)
    recurred: Counter = field(default_factory=Counter)
    resolved: Counter = field(default_factory=Counter)
    cleared_kept: Counter = field(default_factory=Counter)
    silenced: Counter = field(default_factory=Counter)  # "would have filed" in a maintenance window
    flapping: Counter = field(default_factory=Counter)  # reports marked flapping

    NAMES = ("filed", "seen_again", "recurred", "resolved", "cleared_kept", "silenced", "flapping")

    def as_dict(self) -> dict[str, int]:
        return {name: sum(getattr(self, name).values()) for name in self.NAMES}

    def merge(self, other: SweepResult) -> None:
        for name in self.NAMES:
            getattr(self, name).update(getattr(other, name))
