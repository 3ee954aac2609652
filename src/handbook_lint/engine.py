"""Wires the pipeline: discover -> parse -> site -> check -> findings."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from handbook_lint import codec, gitdiff, suppress
from handbook_lint.cache import Cache
from handbook_lint.config import Config
from handbook_lint.context import PageContext
from handbook_lint.external_config import ExternalSettings
from handbook_lint.external_pass import (
    EXTERNAL_RULES,
    check_external,
    collect_urls,
    undecided_lines,
)
from handbook_lint.facts import PageFacts
from handbook_lint.frontmatter import split_front_matter
from handbook_lint.gitdiff import Changes
from handbook_lint.index import SiteIndex
from handbook_lint.parse import ParseSettings
from handbook_lint.progress import Progress
from handbook_lint.rules import Finding, all_rules
from handbook_lint.ruleset import ActiveRule, merge_rule_settings, resolve_rules
from handbook_lint.site import (
    MARKDOWN_SUFFIXES,
    Site,
    matches_any,
    normalize_url,
    rel,
    walk_markdown,
)
from handbook_lint.store import FactStore
from handbook_lint.workers import in_workers

if TYPE_CHECKING:
    from handbook_lint.external import ExternalResult


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0


def _points_at(f: Finding, gone: set[str], edited: set[str]) -> bool:
    """A broken link into a page that is gone, or a missing anchor on an edited page."""
    if not f.target:
        return False
    if f.rule == "link-broken":
        return normalize_url(f.target) in gone
    if f.rule == "link-anchor-missing":
        return normalize_url(f.target.split("#", 1)[0]) in edited
    return False


PARALLEL_CHECK_MIN = 200  # fewer pages than this are checked in-process
CHECK_CHUNK = 64
_CHECKER: Linter | None = None


def _init_checker() -> None:
    assert _CHECKER is not None
    _CHECKER.store.reopen_cache()  # never share the parent's SQLite connection


def _check_chunk(paths: list[str]) -> list[Finding]:
    assert _CHECKER is not None
    out: list[Finding] = []
    for path in paths:
        out += _CHECKER.check_page(path)
    return out


class Linter:
    def __init__(
        self,
        config: Config,
        rules: dict[str, ActiveRule],
        select: list[str] | None = None,
        ignore: list[str] | None = None,
        jobs: int | None = None,
        use_cache: bool = True,
        progress: bool = False,
        warn: Callable[[str], None] | None = None,
        external: ExternalSettings | None = None,
    ) -> None:
        self.config = config
        # External link rules run only when asked to (`--external`, or config).
        self.external = external
        self._idle = frozenset() if external is not None else EXTERNAL_RULES
        # External rules the config turns on (whether or not this run checks links).
        self._external_rules = frozenset(name for name in rules if name in EXTERNAL_RULES)
        self.rules = {name: r for name, r in rules.items() if name not in self._idle}
        self.external_results: dict[str, ExternalResult] | None = None
        self._select, self._ignore = select, ignore
        self._override_rules: dict[tuple[int, ...], dict[str, ActiveRule]] = {}
        self.site = Site(config)
        spelling = rules.get("spelling")
        settings = ParseSettings(
            config.heading_ids,
            config.heading_text,
            definition_term_ids=config.definition_term_ids,
            prose=bool(spelling and spelling.options.get("prose")),
        )
        self.jobs = jobs or os.cpu_count() or 1
        self.warn = warn or (lambda message: None)
        cache = Cache(config.root / config.cache_dir, self.warn) if use_cache else None
        self.store = FactStore(
            config.root,
            settings,
            tuple(config.taxonomies),
            cache,
            self.jobs,
            progress,
        )
        self._index: SiteIndex | None = None
        self._files: set[str] = set()
        self.from_cache = False  # the last run's findings came from the result cache

    # -- facts --------------------------------------------------------------

    def load(self, path: str) -> PageFacts | None:
        """Facts of a file (relative to the root), parsed once."""
        return self.store.load(path)

    def rules_for(self, path: str) -> dict[str, ActiveRule]:
        """The rules for one file: the config's, with matching `overrides` applied."""
        matched = tuple(
            i for i, (globs, _) in enumerate(self.config.overrides) if matches_any(path, globs)
        )
        if not matched:
            return self.rules
        cached = self._override_rules.get(matched)
        if cached is None:
            settings = self.config.rules
            for i in matched:
                settings = merge_rule_settings(settings, self.config.overrides[i][1])
            cached = resolve_rules(settings, self._select, self._ignore, "overrides")
            cached = {name: r for name, r in cached.items() if name not in self._idle}
            self._override_rules[matched] = cached
        return cached

    def index(self) -> SiteIndex:
        if self._index is None:
            self._index = SiteIndex.build(self.site, self.store.summary, self._files)
        return self._index

    # -- running ----------------------------------------------------------

    def run(self, paths: list[str] | None = None) -> Result:
        discovery = self.site.discover() if paths is None or self._content_exists() else None
        site_files = discovery.files if discovery else []
        problems = list(discovery.problems) if discovery and paths is None else []
        if paths is None:
            targets = site_files
        else:
            targets, missing = self.expand(paths)
            problems += missing
        targets = list(dict.fromkeys(targets))
        include_files = self.site.include_files()
        self.store.prepare([*site_files, *include_files, *targets])
        self._files = set(discovery.resources if discovery else []) | set(self.site.static_files())
        for path in dict.fromkeys([*site_files, *targets]):
            self.site.add(self.store.summary(path), path)
        self.site.finish()
        self._check_external(targets)
        key = self._result_key(site_files, include_files, targets, problems)
        cached = self.store.cache.result(key) if self.store.cache else None
        if cached is not None:
            findings = codec.decode_findings(cached)
            if findings is not None:
                self.from_cache = True
                self.store.flush()
                return Result(findings, len(targets))
        result = Result(files=len(targets))
        for path, message in problems:
            self._engine_finding(result, path, message)
        result.findings += self._check_all(targets)
        result.findings.sort(key=Finding.sort_key)
        self.store.flush((key, codec.encode_findings(result.findings)))
        return result

    def _result_key(
        self,
        site_files: list[str],
        include_files: list[str],
        targets: list[str],
        problems: list[tuple[str, str]],
    ) -> str:
        """Everything a run's findings depend on: if none of it changed, neither did they."""
        store = self.store
        files = sorted(set(site_files) | set(include_files) | set(targets))
        state = [(p, store.hashes.get(p), store.error(p)) for p in files]
        rules = {
            name: (active.severity, active.options) for name, active in sorted(self.rules.items())
        }
        config = {
            k: v for k, v in vars(self.config).items() if k not in ("root", "source", "rules")
        }
        external = sorted(
            (url, r.status, r.code, r.detail, r.new_url)
            for url, r in (self.external_results or {}).items()
        )
        data = repr(
            (store.key, rules, config, targets, state, sorted(self._files), problems, external)
        )
        return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()

    def _check_external(self, targets: list[str]) -> None:
        """Check the external links of the linted pages, once per URL, before the
        page checks (forked workers inherit the verdicts)."""
        if self.external is None or not any(name in EXTERNAL_RULES for name in self.rules):
            return
        base_url = self.config.base_url
        urls = collect_urls((self.load(path) for path in targets), base_url)
        cache = self.store.cache
        cache_dir = cache.path.parent if cache is not None else None  # the folder it made
        self.external_results = check_external(
            urls, self.external, cache_dir, self.store.progress, self.warn
        )

    def _check_all(self, targets: list[str]) -> list[Finding]:
        if self.jobs == 1 or len(targets) < PARALLEL_CHECK_MIN:
            out: list[Finding] = []
            for path in targets:
                out += self.check_page(path)
            return out
        # Workers fork after the index is built, so they share it (and the parsed
        # facts) with no copying; only findings come back.
        global _CHECKER
        self.index()
        _CHECKER = self
        found: list[Finding] = []
        bar = Progress("checking", self.store.progress)
        for chunk in in_workers(_check_chunk, targets, CHECK_CHUNK, self.jobs, bar, _init_checker):
            found += chunk
        bar.close()
        _CHECKER = None
        return found

    def run_changes(self, changes: Changes) -> Result:
        """Findings a branch introduced: those in the files it changed (and in pages
        that include a changed file), plus broken links and anchors elsewhere
        that point at pages it deleted, moved or edited."""
        full = self.run(None)
        changed = set(changes.changed)
        for path, page in self.site.pages.items():
            if page.summary is not None and self._includes_any(path, changes.changed):
                changed.add(path)
        gone, edited = self._affected_urls(changes)
        kept = [f for f in full.findings if f.path in changed or _points_at(f, gone, edited)]
        files = [p for p in changed if p in self.site.pages]
        return Result(kept, len(files))

    def _includes_any(self, path: str, targets: set[str]) -> bool:
        seen: set[str] = set()
        stack = [path]
        while stack:
            current = stack.pop()
            summary = self.store.summary(current)
            if summary is None:
                continue
            for target in summary.includes:
                resolved = self.site.resolve_include(current, target)
                if resolved is None or resolved in seen:
                    continue
                if resolved in targets:
                    return True
                seen.add(resolved)
                stack.append(resolved)
        return False

    def _affected_urls(self, changes: Changes) -> tuple[set[str], set[str]]:
        """URLs that stopped existing (deleted or moved pages, old slugs) and URLs
        of pages the branch edited (their anchors may have changed)."""
        gone: set[str] = set()
        edited: set[str] = set()
        for path in changes.deleted | changes.changed:
            if not self.site.is_content(path):
                continue
            old_text = gitdiff.show(self.config.root, changes.base, path)
            if old_text is None:
                continue
            data = split_front_matter(old_text)[0].data
            old_url = self.site.url_of(path, data)
            page = self.site.pages.get(path)
            if page is None or page.url != old_url:
                gone.add(old_url)
            if page is not None:
                edited.add(page.url)
        index = self.index()
        gone = {url for url in gone if index.lookup(url) is None}
        return gone, edited

    def _content_exists(self) -> bool:
        return (self.config.root / self.config.content_dir).is_dir()

    def expand(self, paths: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
        """Files named on the command line (folders expanded), relative to the root."""
        root = self.config.root
        files: list[str] = []
        problems: list[tuple[str, str]] = []
        for raw in paths:
            path = Path(raw)
            absolute = path if path.is_absolute() else Path.cwd() / path
            absolute = Path(os.path.normpath(absolute))
            shown = rel(root, absolute)
            if absolute.is_dir():
                files += [
                    f for f in walk_markdown(root, absolute, problems) if not self.site.excluded(f)
                ]
            elif absolute.is_file() or absolute.is_symlink():
                if absolute.name.endswith(MARKDOWN_SUFFIXES):
                    files.append(shown)
            elif not absolute.exists():
                problems.append((shown, "path does not exist"))
        if self._content_exists():
            # Markdown outside the site (a README beside it, as pre-commit passes
            # every changed .md file) is not a page of this site.
            files = [f for f in files if self.site.is_content(f) or self.site.is_include_file(f)]
        return files, problems

    def _engine_finding(self, result: Result, path: str, message: str) -> None:
        active = self.rules.get("file-unreadable")
        if active is not None:
            result.findings.append(Finding(path, 1, 0, "file-unreadable", active.severity, message))

    def _idle_lines(self, facts: PageFacts) -> dict[str, set[int]]:
        """External rules -> lines where they could have reported had the link been
        checked: every external link without --external; with it, links whose
        verdict is unknown (offline, rate limited, skipped). Suppressions there
        are not called unused."""
        if not self._external_rules or not facts.directives:
            return {}
        lines = undecided_lines(facts, self.config.base_url, self.external_results)
        return dict.fromkeys(self._external_rules, lines)

    def check_page(self, path: str) -> list[Finding]:
        rules = self.rules_for(path)
        facts = self.load(path)
        if facts is None:
            active = rules.get("file-unreadable")
            message = self.store.error(path) or "cannot read file"
            return (
                [Finding(path, 1, 0, "file-unreadable", active.severity, message)] if active else []
            )
        if facts.empty:
            active = rules.get("file-empty")
            return (
                [Finding(path, 1, 0, "file-empty", active.severity, "file is empty")]
                if active
                else []
            )
        page = self.site.pages[path]
        ctx = PageContext(self.site, page, facts, self.load, self.index, self.external_results)
        found: list[Finding] = []
        for name, active in rules.items():
            check = active.rule.check
            if check is None:
                continue
            for problem in check(ctx, active.options):
                found.append(
                    Finding(
                        path,
                        problem.line,
                        problem.column,
                        name,
                        active.severity,
                        problem.message,
                        problem.suggestion,
                        problem.target,
                    )
                )
        unused = rules.get(suppress.UNUSED)
        return suppress.apply(
            found,
            facts.directives,
            path,
            set(all_rules()),
            set(rules),
            unused.severity if unused else None,
            self._idle_lines(facts),
        )
