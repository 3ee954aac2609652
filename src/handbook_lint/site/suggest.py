"""'Did you mean': the closest of many names, cheaply.

difflib over thousands of names per broken link is too slow for a linter that
runs on every commit, so candidates are first narrowed to names that start
with the same character and have a similar length (typos rarely change the
first character).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class Suggester:
    def __init__(self, names: Iterable[str], cutoff: float = 0.8) -> None:
        self.cutoff = cutoff
        self._buckets: dict[str, list[str]] = {}
        for name in set(names):
            self._buckets.setdefault(name[:1].lower(), []).append(name)
        self._cache: dict[tuple[str, int], list[str]] = {}

    def close(self, word: str, n: int = 5) -> list[str]:
        """Names at least `cutoff` similar to `word`, best first."""
        cached = self._cache.get((word, n))
        if cached is not None:
            return cached
        # ratio = 2M / (a + b) <= 2 min(a, b) / (a + b): outside these lengths
        # no name can reach the cutoff.
        low = len(word) * self.cutoff / (2 - self.cutoff)
        high = len(word) * (2 - self.cutoff) / self.cutoff
        matcher = difflib.SequenceMatcher(None, "", word)
        scored: list[tuple[float, str]] = []
        for name in self._buckets.get(word[:1].lower(), ()):
            if not low <= len(name) <= high:
                continue
            matcher.set_seq1(name)
            if (
                matcher.real_quick_ratio() >= self.cutoff
                and matcher.quick_ratio() >= self.cutoff
                and (score := matcher.ratio()) >= self.cutoff
            ):
                scored.append((score, name))
        result = [name for _, name in sorted(scored, key=lambda s: (-s[0], s[1]))[:n]]
        self._cache[(word, n)] = result
        return result


def closest(word: str, names: Iterable[str], cutoff: float = 0.8) -> str | None:
    found = Suggester(names, cutoff).close(word, n=1)
    return found[0] if found else None
