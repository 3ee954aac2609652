"""What a change introduced: the findings after it minus the findings before it.

The site before the change is the working tree with the touched files put back
as they were in git (an Overlay); both views share every unchanged page's facts
and the cache. Only files whose findings can differ are checked, on both
sides: the files the change wrote, the pages that include a touched file and
every file those include, pages whose rendering changed (a cascade), and pages
with a link that lands elsewhere now (`resolve` asked in both views) or on a
page whose anchors changed. Findings are matched by rule, file and message
(the baseline's fingerprint, with no line numbers), so an old finding that only
moved is still old; of several identical ones, the new ones are those on the
lines the change touched.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

from handbook_lint.checks.context import ChangeContext
from handbook_lint.checks.registry import Finding
from handbook_lint.checks.selection import active_rules
from handbook_lint.config.settings import ConfigError, load_config_text
from handbook_lint.engine.git import SiteChanges
from handbook_lint.engine.linter import Expanded, Linter, Result
from handbook_lint.parsing.facts import REF_KINDS, Link
from handbook_lint.site.index import SiteIndex
from handbook_lint.site.model import Page, normalize_url, rel
from handbook_lint.site.overlay import Overlay
from handbook_lint.site.resolve import Resolution, resolve


def run_change(
    now: Linter,
    changes: SiteChanges,
    paths: list[str] | None = None,
    all_in_changed: bool = False,
    only_named: bool = False,
) -> Result:
    """The findings `changes` introduced in `now`'s site (built with
    `Overlay.now(changes)`).

    Files named in `paths` that the change did not touch are linted whole
    (`pre-commit run --all-files` names every file while nothing is staged).
    With `only_named`, touched files that are not named are left to another
    run (pre-commit splits a long list of files over several runs). With
    `all_in_changed`, the old findings of the files the change wrote are
    listed too."""
    named = now.expand(paths) if paths else None
    now.skipped = named.skipped if named else []
    was = Overlay.before(changes) if changes else None
    if was is not None:  # the files the change wrote, and (same config) their versions before it
        before_paths = [] if _config_source(now) in changes.touched() else sorted(changes.before())
        now.store.parse_ahead(
            sorted(changes.now()), [(p, was.files[p]) for p in before_paths if p in was.files]
        )
    now.load_site(named.files if named else [])
    written = {p for p in changes.now() if p in now.site.pages}
    # pre-commit splits a long list of files over several runs: the findings of
    # the site's own rules (media, CODEOWNERS) go to one of them.
    site_here = _first_run(now, named, written if changes else set(now.site_targets()))
    whole = [p for p in (named.files if named else []) if p not in written]
    if only_named and named is not None:
        written &= set(named.files)
    result = Result(now.problem_findings(named.problems if named else []))
    result.compared_with = changes.label
    recheck: set[str] = set()
    before: Linter | None = None
    if was is not None:  # (there are changes)
        before, everything = _before(now, changes, was)
        before.load_site()
        if everything:  # the config changed: any finding may have
            recheck = {p for p in now.site_targets() if p in now.site.pages}
        else:
            recheck = _to_recheck(now, before, changes)
        recheck -= set(whole)
        if only_named:
            recheck = {p for p in recheck if p in written or p not in changes.now()}
    now.check_external([*whole, *sorted(recheck)])
    result.findings += now.check(whole)
    if not changes and whole and site_here:  # (pre-commit run --all-files)
        result.findings += now.check_site()
    if before is not None:
        before.external_results = now.external_results
        found_now = now.check(sorted(recheck))
        now_of = {changes.old_path(p): p for p in recheck}
        found_before = sorted(
            (
                replace(f, path=now_of[f.path])
                for f in before.check([p for p in now_of if p and p in before.site.pages])
            ),
            key=Finding.sort_key,
        )
        new = _minus(found_now, found_before, changes)
        fresh = {id(f) for f in new}
        # (the counted rules' findings are not listed: neither new nor old)
        old = [
            f
            for f in found_now
            if f.path in written and id(f) not in fresh and f.rule not in now.counted
        ]
        if site_here:
            site_new, site_old, looked_at = _site_findings(now, before, changes)
            new += site_new
            old += site_old
            result.files += looked_at
        result.findings += [_explain(f, now, before, changes) for f in new]
        result.new = sum(1 for f in new if f.rule not in now.counted)
        if all_in_changed:
            result.findings += old
            result.old_listed = len(old)
        else:
            result.old = len(old)
        before.store.flush()
    now.store.flush()
    result.findings.sort(key=Finding.sort_key)
    result.files += len(whole) + len(recheck)
    return result


def _first_run(now: Linter, named: Expanded | None, candidates: set[str]) -> bool:
    """Whether this run reports the findings of the site's own rules: always,
    unless pre-commit named files; then the run given the first tracked file of
    `candidates` (the commit's pages, or every page), which only one run is."""
    if named is None:
        return True
    tracked = set(now.site.all_files())
    first = min((p for p in candidates if p in tracked), default=None)
    return first is not None and first in set(named.files)


def _site_findings(
    now: Linter, before: Linter, changes: SiteChanges
) -> tuple[list[Finding], list[Finding], int]:
    """What the change brought to the rules of the whole site (media, CODEOWNERS:
    their findings now, minus those before, a renamed file matched with its old
    self) and what the rules of a change find (moved pages); the site rules'
    findings in the touched files that were there before; and how many files
    that are not pages were looked at."""
    # A finding of the media rules is about one file: only the touched files'
    # can differ. CODEOWNERS findings can differ when the file changed, and
    # (entries matching nothing) when files came or went.
    touched = frozenset(changes.touched())
    owners = now.site.codeowners() or before.site.codeowners()
    rules = {n for n, a in now.rules.items() if a.rule.scope == "site"}
    if owners is None or owners.path not in touched:
        rules = {n for n in rules if not n.startswith("codeowners-")}
        if changes.added or changes.deleted or changes.renamed:
            rules.add("codeowners-unmatched")
    found_before = [
        replace(f, path=changes.renamed.get(f.path, f.path))
        for f in before.check_site(only=touched, rules=rules)
    ]
    found_now = now.check_site(only=touched, rules=rules)
    out = _minus(found_now, found_before, changes)
    fresh = {id(f) for f in out}
    old = [f for f in found_now if id(f) not in fresh]
    change_rules = [(n, a) for n, a in now.rules.items() if a.rule.scope == "change"]
    if change_rules:
        ctx = ChangeContext(now.site, before.site, now.index(), before.index(), changes, now.load)
        for name, active in change_rules:
            out += now.run_rule(name, active, ctx)
    files = set(now.site.all_files())
    looked_at = sum(1 for p in touched if p in files and p not in now.site.pages)
    return out, old, looked_at


def _minus(now: list[Finding], before: list[Finding], changes: SiteChanges) -> list[Finding]:
    """Findings of `now` that `before` lacks, matched by rule, file and message;
    of several identical findings, the new ones are on the lines the change
    added (then the last ones)."""
    had = Counter((f.rule, f.path, f.message) for f in before)
    groups: defaultdict[tuple[str, str, str], list[Finding]] = defaultdict(list)
    for f in now:
        groups[(f.rule, f.path, f.message)].append(f)
    new: list[Finding] = []
    for key, group in groups.items():
        extra = len(group) - had.get(key, 0)
        if extra <= 0:
            continue
        if extra < len(group):
            lines = changes.added_lines(key[1])
            ranked = sorted(range(len(group)), key=lambda i: (group[i].line not in lines, -i))
            group = [group[i] for i in sorted(ranked[:extra])]
        new += group
    new.sort(key=Finding.sort_key)
    return new


def _before(now: Linter, changes: SiteChanges, overlay: Overlay) -> tuple[Linter, bool]:
    """A linter of the site as it was (`overlay`: its files the change
    touched); True when its config differs (every page is then compared)."""
    config = now.config
    source = _config_source(now)
    if source is None or source not in changes.touched():
        linter = Linter(
            config,
            now.all_rules,
            now.select,
            now.ignore,
            jobs=now.jobs,
            warn=now.warn,
            overlay=overlay,
            store=now.store.before(overlay),
            site=now.site.before(overlay),
            kept=now.kept,
        )
        return linter, False
    text = overlay.files.get(source)
    label = Path(f"{config.source} (at {changes.label})")
    try:
        decoded = text.decode("utf-8") if text is not None else None
        old = load_config_text(decoded, config.root, label)
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


def _config_source(now: Linter) -> str | None:
    """The linter's config file, relative to the site root (None: none)."""
    config = now.config
    return rel(config.root, Path(config.source)) if config.source else None


def _to_recheck(now: Linter, before: Linter, changes: SiteChanges) -> set[str]:
    """The files (as they are now) whose findings the change can have changed."""
    index_now, index_before = now.index(), before.index()
    pages_now, pages_before = now.site.pages, before.site.pages
    touched = changes.touched()

    def to_now(old: str) -> str | None:
        new = changes.renamed.get(old, old)
        return new if new in pages_now and old not in changes.deleted else None

    affected = {p for p in changes.now() if p in pages_now}
    for path, page in pages_now.items():
        old = changes.old_path(path)
        was = pages_before.get(old) if old is not None else None
        if was is not None and was.why != page.why:  # a cascade came or went
            affected.add(path)
    for path in touched:
        affected.update(index_now.including(path))
        affected.update(p for p in map(to_now, index_before.including(path)) if p)
    # Every file an affected page includes (or included) renders in a changed page.
    for path in list(affected):
        affected.update(index_now.included(path))
        old = changes.old_path(path)
        if old is not None and old in pages_before:
            affected.update(p for p in map(to_now, index_before.included(old)) if p)
    for path in changes.before() & pages_before.keys():
        affected.update(p for p in map(to_now, index_before.included(path)) if p)

    affected |= _covered_anew(now, before)
    anchored = _anchors_changed(now, before, changes, affected)
    moved = (
        index_now.destinations() != index_before.destinations()
        or index_now.by_path.keys() != index_before.by_path.keys()
        or any(_placed(now, p) != _placed(before, changes.old_path(p)) for p in affected)
    )
    recheck = set(affected)
    if anchored or moved:
        reach = _Reach(index_now, index_before, changes, anchored, moved)
        for path, page in pages_now.items():
            if path in recheck or page.summary is None or not page.summary.links:
                continue
            places = (index_now.includers(path) if page.snippet else None) or [page]
            if reach.changed(page.summary.links, places):
                recheck.add(path)
    return {p for p in recheck if now.owns(p) and p in pages_now}


def _covered_anew(now: Linter, before: Linter) -> set[str]:
    """With the CODEOWNERS file changed, the pages its controlled-documents
    section covers now or covered before (their findings may have changed)."""
    active = now.rules.get("controlled-document")
    owners_now, owners_before = now.site.codeowners(), before.site.codeowners()
    if active is None or owners_now is None:
        return set()
    section = str(active.options["section"]).lower()
    if owners_before is not None and (owners_now.entries, owners_now.sections) == (
        owners_before.entries,
        owners_before.sections,
    ):
        return set()
    out: set[str] = set()
    for path in now.site.pages:
        if not now.site.is_content(path):
            continue
        if owners_before is None:  # a new CODEOWNERS file: any page may be reported
            out.add(path)
            continue
        repo_path = now.site.repository_path(path)
        if (
            owners_now.governing(section, repo_path) is not None
            or owners_before.governing(section, repo_path) is not None
        ):
            out.add(path)
    return out


def _anchors_changed(
    now: Linter, before: Linter, changes: SiteChanges, affected: set[str]
) -> set[str]:
    """Pages (as they are now) whose anchors differ from before the change."""
    out: set[str] = set()
    for path in affected:
        page, old = now.site.pages.get(path), changes.old_path(path)
        was = before.site.pages.get(old) if old is not None else None
        if page is None or was is None or page.snippet:
            continue
        index_now, index_before = now.index(), before.index()
        if (index_now.anchors(page), index_now.has_unstable_ids(page)) != (
            index_before.anchors(was),
            index_before.has_unstable_ids(was),
        ):
            out.add(path)
    return out


class _Reach:
    """Whether a page's links land somewhere else now, or on a page whose anchors
    changed: each link resolved in both views as the link rules resolve it."""

    def __init__(
        self,
        now: SiteIndex,
        before: SiteIndex,
        changes: SiteChanges,
        anchored: set[str],
        moved: bool,
    ) -> None:
        self.now, self.before = now, before
        self.changes = changes
        self.anchored = anchored
        self.moved = moved  # some page, alias, section or file came or went
        self._seen: dict[tuple[str, str | None], bool] = {}

    def changed(self, links: list[str], places: list[Page]) -> bool:
        for key in links:
            target, hash_, _ = key.partition("#")
            fragment = bool(hash_)
            kind = "inline"
            if target.startswith("ref:"):
                kind, target = "ref", target[4:]
            if not target:
                continue  # a fragment of the page itself: its anchors are its own
            # Where an absolute destination lands does not depend on the page.
            relative = not target.startswith(("/", "http:", "https:"))
            for place in places:
                memo = (key, place.path if relative or kind in REF_KINDS else None)
                hit = self._seen.get(memo)
                if hit is None:
                    link = Link(key.removeprefix("ref:"), 0, 0, kind)
                    hit = self._seen[memo] = self._differs(link, place, fragment)
                if hit:
                    return True
        return False

    def _differs(self, link: Link, place: Page, fragment: bool) -> bool:
        now = resolve(self.now, place, link)
        if fragment and now.page is not None and now.page.path in self.anchored:
            return True
        if not self.moved:
            return False
        old = self.changes.old_path(place.path)
        was = self.before.site.pages.get(old) if old is not None else None
        if was is None:
            return True
        return _outcome(now) != _outcome(resolve(self.before, was, link))


def _placed(linter: Linter, path: str | None) -> tuple[str, str | None, bool] | None:
    """Where a page is served and whether it is rendered (None: no such page)."""
    page = linter.site.pages.get(path) if path is not None else None
    return (page.url, page.why, page.built) if page is not None else None


def _outcome(res: Resolution) -> tuple[str, str | None, str | None]:
    """What a link rule says of a resolution: where it lands, or the URL it misses."""
    return (
        res.kind,
        res.page.path if res.page is not None else None,
        res.url if res.kind == "broken" else None,
    )


def _explain(f: Finding, now: Linter, before: Linter, changes: SiteChanges) -> Finding:
    """A new broken link into a page this change deleted, moved or stripped of an
    alias says so."""
    if f.rule != "link-broken" or not f.target:
        return f
    key = normalize_url(unquote(f.target)).lower()
    was = before.index().destinations().get(key)
    if was is None or key in now.index().destinations():
        return f
    if was == "file":
        return _with(f, "this change deleted or moved the file")
    if was == "section":
        return f
    shown = changes.repo_path
    if was in changes.deleted:
        note = f"{shown(was)} was deleted by this change: add an alias or a redirect for {key}"
        return _with(f, f"{note}, or update the link")
    new_path = changes.renamed.get(was, was)
    page, old_page = now.site.pages.get(new_path), before.site.pages.get(was)
    if page is None or not page.url:
        return f
    if new_path != was:
        note = f"{shown(was)} was moved to {shown(new_path)} by this change"
    elif old_page is not None and old_page.url == page.url:
        note = f"this change removed the alias {key} from {shown(was)}: keep it, or update the link"
        return _with(f, note)
    else:
        note = f"this change moved {shown(was)} to {page.url}"
    note += f": add an alias for {key} to it, or update the link"
    return replace(_with(f, note), suggestion=page.url)


def _with(f: Finding, note: str) -> Finding:
    """`f` with `note` added to its detail."""
    return replace(f, detail=f"{f.detail}; {note}" if f.detail else note)
