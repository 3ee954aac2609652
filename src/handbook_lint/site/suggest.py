"""'Did you mean': the closest of many names.

The similarity is rapidfuzz's normalised Indel similarity (`fuzz.ratio`: twice
the longest common subsequence over the total length, difflib's ratio without
its heuristics), computed in C++ over every candidate: fast enough for
thousands of names per broken link, and exact (no first-letter buckets, so
`nission` finds `mission`). Ties go to the name that sorts first.
"""

from __future__ import annotations

from collections.abc import Iterable


class Suggester:
    def __init__(self, names: Iterable[str], cutoff: float = 0.8) -> None:
        self.cutoff = cutoff
        self._names = sorted(set(names))
        self._cache: dict[tuple[str, int], list[str]] = {}

    def close(self, word: str, n: int = 5) -> list[str]:
        """Names at least `cutoff` similar to `word`, best first."""
        cached = self._cache.get((word, n))
        if cached is not None:
            return cached
        from rapidfuzz import fuzz, process  # (imported when something is misspelt)

        found = process.extract(
            word, self._names, scorer=fuzz.ratio, score_cutoff=self.cutoff * 100, limit=None
        )
        ranked = sorted(found, key=lambda hit: (-hit[1], hit[0]))
        result = [name for name, _, _ in ranked[:n]]
        self._cache[(word, n)] = result
        return result

    def score(self, a: str, b: str) -> float:
        """The similarity of two names, 0 to 1."""
        from rapidfuzz import fuzz

        return float(fuzz.ratio(a, b)) / 100


def closest(word: str, names: Iterable[str], cutoff: float = 0.8) -> str | None:
    found = Suggester(names, cutoff).close(word, n=1)
    return found[0] if found else None
