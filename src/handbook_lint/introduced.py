"""What a change introduced: the findings after it minus the findings before it.

The site before the change is the working tree with the touched files put back
as they were in git (an Overlay); both views share every unchanged page's facts
and the cache. Only pages whose findings can differ are checked, on both
sides: the pages the change wrote, the pages that include a touched file and
the files those include, and pages with links into a URL whose meaning changed
(a page added, deleted, moved or edited: its anchors). Findings are matched by
the line-independent fingerprint the baseline uses, so an old finding that
only moved is still old.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

from handbook_lint.config import ConfigError, load_config_text
from handbook_lint.engine import Linter, Result
from handbook_lint.gitdiff import SiteChanges
from handbook_lint.index import SiteIndex
from handbook_lint.overlay import Overlay
from handbook_lint.report.fingerprint import fingerprints
from handbook_lint.resolve import is_external, on_site, split_target, templated
from handbook_lint.rules import Finding
from handbook_lint.ruleset import active_rules
from handbook_lint.site import MARKDOWN_SUFFIXES, Page, normalize_url, rel


def run_change(
    now: Linter,
    changes: SiteChanges,
    paths: list[str] | None = None,
    all_in_changed: bool = False,
    only_named: bool = False,
) -> Result:
    """The findings `changes` introduced in `now`'s site.

    Files named in `paths` that the change did not touch are linted whole
    (`pre-commit run --all-files` names every file while nothing is staged).
    With `only_named`, touched files that are not named are left to another
    run (pre-commit splits a long list of files over several runs). With
    `all_in_changed`, the old findings of the files the change wrote are
    reported too."""
    named, problems = now.expand(paths) if paths else ([], [])
    now.load_site(named)
    written = {p for p in changes.now() if p in now.site.pages}
    whole = [p for p in named if p not in written]
    if only_named:
        written &= set(named)
    result = Result(compared_with=changes.label)
    for path, message in problems:
        now._engine_finding(result, path, message)
    result.findings += now.check(whole)
    result.files = len(whole)
    if changes:
        before, everything = _before(now, changes)
        before.load_site()
        before.external_results = now.external_results
        if everything:  # the config changed: any finding may have
            recheck = {p for p in now.site_targets() if p in now.site.pages}
        else:
            recheck = _to_recheck(now, before, changes)
        recheck -= set(whole)
        if only_named:
            recheck = {p for p in recheck if p in written or p not in changes.now()}
        found_now = now.check(sorted(recheck))
        old_paths = {p: changes.old_path(p) for p in recheck}
        found_before = [
            replace(f, path=new)
            for f in before.check([o for o in old_paths.values() if o in before.site.pages])
            for new in _new_paths(f.path, old_paths)
        ]
        found_before.sort(key=Finding.sort_key)
        new = [_explain(f, now, before, changes) for f in _minus(found_now, found_before)]
        in_written = [f for f in found_now if f.path in written]
        result.old = len(in_written) - sum(1 for f in new if f.path in written)
        result.findings += new if not all_in_changed else list({*new, *in_written})
        result.files += len(recheck)
        before.store.flush()
    now.store.flush()
    result.findings.sort(key=Finding.sort_key)
    return result


def _new_paths(old: str, old_paths: dict[str, str | None]) -> list[str]:
    return [new for new, was in old_paths.items() if was == old]


def _minus(now: list[Finding], before: list[Finding]) -> list[Finding]:
    """Findings of `now` whose fingerprint `before` lacks (both sorted, whole pages)."""
    known = set(fingerprints(before))
    return [f for f, mark in zip(now, fingerprints(now), strict=True) if mark not in known]


def _before(now: Linter, changes: SiteChanges) -> tuple[Linter, bool]:
    """A linter of the site as it was; True when its config differs (every page
    is then compared)."""
    overlay = Overlay.before(changes)
    config = now.config
    source = rel(config.root, Path(config.source)) if config.source else None
    if source is None or source not in (changes.now() | changes.before()):
        store = now.store.before(overlay)
        linter = Linter(
            config,
            now.all_rules,
            now.select,
            now.ignore,
            jobs=now.jobs,
            warn=now.warn,
            overlay=overlay,
            store=store,
            site=now.site.before(overlay),
        )
        return linter, False
    text = overlay.files.get(source)
    try:
        old = load_config_text(text.decode("utf-8") if text is not None else None, config.root)
        rules = active_rules(old, now.select, now.ignore)
    except (ConfigError, UnicodeDecodeError) as exc:
        now.warn(f"the config before the change does not load ({exc}); compared with the defaults")
        old = load_config_text(None, config.root)
        rules = active_rules(old, now.select, now.ignore)
    linter = Linter(
        old,
        rules,
        now.select,
        now.ignore,
        jobs=now.jobs,
        use_cache=now.store.cache is not None,
        warn=now.warn,
        overlay=overlay,
    )
    return linter, True


def _to_recheck(now: Linter, before: Linter, changes: SiteChanges) -> set[str]:
    """The files (as they are now) whose findings the change can have changed."""
    index_now, index_before = now.index(), before.index()
    pages_now, pages_before = now.site.pages, before.site.pages
    touched = changes.now() | changes.before()

    def to_now(old: str) -> str | None:
        new = changes.renamed.get(old, old)
        return new if new in pages_now and old not in changes.deleted else None

    affected = {p for p in changes.now() if p in pages_now}
    for path in pages_now:
        if touched.intersection(index_now.included(path)):
            affected.add(path)
    for path in pages_before:
        if touched.intersection(index_before.included(path)) and (p := to_now(path)):
            affected.add(p)
    # Files included by a touched page: the pages they render in changed.
    for path in changes.now() & pages_now.keys():
        affected.update(index_now.included(path))
    for path in changes.before() & pages_before.keys():
        affected.update(p for p in map(to_now, index_before.included(path)) if p)

    keys_now, keys_before = index_now.destinations(), index_before.destinations()
    changed = {
        k for k in keys_now.keys() | keys_before.keys() if keys_now.get(k) != keys_before.get(k)
    }
    moved = changes.added | changes.deleted | set(changes.renamed) | set(changes.renamed.values())
    for site, paths in ((now.site, changes.now()), (before.site, changes.before())):
        # What a link render hook looks up: the paths of pages that came or went.
        changed.update(site.url_of(p, {}).lower() for p in paths & moved if site.is_content(p))
    anchored: set[str] = set()  # site paths of pages whose anchors differ
    by_page_now, by_page_before = _by_value(keys_now), _by_value(keys_before)
    for path in affected:
        old = changes.old_path(path)
        page = pages_now.get(path)
        was = pages_before.get(old) if old is not None else None
        if page is None or was is None or old is None or not now.site.is_content(path):
            continue  # a page that came or went: its site paths changed
        if (index_now.anchors(page), page.summary and page.summary.unstable) != (
            index_before.anchors(was),
            was.summary and was.summary.unstable,
        ):
            anchored.update(by_page_now.get(path, ()), by_page_before.get(old, ()))
            anchored.add(now.site.url_of(path, {}).lower())
            anchored.add(before.site.url_of(old, {}).lower())
    content_moved = any(now.site.is_content(p) or before.site.is_content(p) for p in moved)

    recheck = set(affected)
    if not (changed or anchored or content_moved):
        return {p for p in recheck if now.owns(p) and p in pages_now}
    reach = _Reach(index_now, changed, anchored, content_moved)
    for path, page in pages_now.items():
        if path in recheck or page.summary is None or not page.summary.links:
            continue
        places = (index_now.includers(path) if page.snippet else None) or [page]
        if reach.hits(page.summary.links, places):
            recheck.add(path)
    return {p for p in recheck if now.owns(p) and p in pages_now}


def _by_value(mapping: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in mapping.items():
        out.setdefault(value, []).append(key)
    return out


class _Reach:
    """Which pages have a link that lands on a site path whose meaning changed,
    or with a fragment on a page whose anchors may have."""

    def __init__(
        self, index: SiteIndex, changed: set[str], anchored: set[str], content_moved: bool
    ) -> None:
        self.index = index
        self.changed, self.anchored = changed, anchored
        self.content_moved = content_moved
        # link key -> (kind, path, has a fragment); kind: skip | site | relative | content
        self._kinds: dict[str, tuple[str, str, bool]] = {}

    def _kind(self, key: str) -> tuple[str, str, bool]:
        found = self._kinds.get(key)
        if found is not None:
            return found
        fragment = key.endswith("#")
        target = key[:-1] if fragment else key
        kind, path = "skip", ""
        if target.startswith("ref:"):
            kind, path = "content", target[4:]
        elif target and not templated(target):
            on = on_site(target, self.index.site.config.base_url)
            if on is not None or not is_external(target):
                path = split_target(on if on is not None else target)[0]
                if path.lower().endswith(MARKDOWN_SUFFIXES):
                    kind = "content"
                elif path.startswith("/"):
                    kind, path = "site", normalize_url(unquote(path)).lower()
                elif path:
                    kind = "relative"
        found = self._kinds[key] = (kind, path, fragment)
        return found

    def _hit(self, site_path: str, fragment: bool) -> bool:
        return site_path in self.changed or (fragment and site_path in self.anchored)

    def hits(self, links: list[str], places: list[Page]) -> bool:
        """Whether a page whose links are `links`, rendered at `places`, is reached."""
        for key in links:
            kind, path, fragment = self._kind(key)
            if kind == "site":
                if self._hit(path, fragment):
                    return True
            elif kind == "relative":
                for place in places:
                    url = normalize_url(unquote(_join(place.url or "/", path))).lower()
                    if self._hit(url, fragment):
                        return True
            elif kind == "content":
                if self.content_moved:
                    return True
                for place in places:
                    page = self.index.page_by_content_path(place.path, unquote(path))
                    if page is not None and self._hit(page.url.lower(), fragment):
                        return True
        return False


def _join(base: str, path: str) -> str:
    if not base.endswith("/"):
        base = base.rsplit("/", 1)[0] + "/"
    return posixpath.normpath(posixpath.join(base, path))


def _explain(f: Finding, now: Linter, before: Linter, changes: SiteChanges) -> Finding:
    """A new broken link into a page this change deleted or moved says so."""
    if f.rule != "link-broken" or not f.target:
        return f
    key = normalize_url(unquote(f.target)).lower()
    was = before.index().destinations().get(key)
    if was is None or key in now.index().destinations():
        return f
    if was == "file":
        return replace(f, message=f"{f.message} (this change deleted or moved the file)")
    if was == "section":
        return f
    if was in changes.deleted:
        note = f"{was} was deleted by this change: add an alias or a redirect for {key}"
        return replace(f, message=f"{f.message} ({note}, or update the link)")
    new_path = changes.renamed.get(was, was)
    page = now.site.pages.get(new_path)
    if page is None or not page.url:
        return f
    if new_path != was:
        note = f"{was} was moved to {new_path} by this change"
    else:
        note = f"this change moved {was} to {page.url}"
    note += f": add an alias for {key} to it, or update the link"
    return replace(f, message=f"{f.message} ({note})", suggestion=page.url)
