"""Redirects a site serves besides its aliases: Netlify-style `_redirects` lines
(`/from /to [status]`), as a static file or a template the site renders to one
(the GitLab handbook keeps a hand-written list in `layouts/index.redirects`).
A line that holds template code is skipped; a source ending in `*` covers every
path below it (`:splat` in the target stands for the rest)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Redirect:
    """One redirect of the site's redirects file."""

    source: str  # a site path, lowercased; ends with "*" for a prefix
    target: str  # a site path or an absolute URL, as written
    file: str  # where it is written (relative to the site root)
    line: int


def parse_redirects(text: str, file: str) -> list[Redirect]:
    out: list[Redirect] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or "{{" in line:
            continue
        parts = line.split()
        if len(parts) < 2 or not parts[0].startswith("/"):
            continue
        out.append(Redirect(parts[0].lower(), parts[1], file, number))
    return out


class Redirects:
    """Lookups of a site's redirects by site path."""

    def __init__(self, redirects: list[Redirect]) -> None:
        self.exact: dict[str, Redirect] = {}
        self.prefixes: list[Redirect] = []
        for redirect in redirects:
            if redirect.source.endswith("*"):
                self.prefixes.append(redirect)
            else:
                self.exact.setdefault(_norm(redirect.source), redirect)
        self.prefixes.sort(key=lambda r: -len(r.source))  # the longest prefix first

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Redirects):
            return NotImplemented
        return (self.exact, self.prefixes) == (other.exact, other.prefixes)

    __hash__ = None  # type: ignore[assignment]  # (mutable, as a list)

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefixes)

    def find(self, path: str) -> tuple[Redirect, str] | None:
        """The redirect that serves `path` (lowercased), and where it sends it."""
        found = self.exact.get(_norm(path))
        if found is not None:
            return found, found.target
        for redirect in self.prefixes:
            stem = redirect.source[:-1]
            if path.startswith(stem):
                return redirect, redirect.target.replace(":splat", path[len(stem) :])
        return None


def _norm(path: str) -> str:
    return path if path.endswith("/") or "." in path.rsplit("/", 1)[-1] else path + "/"
