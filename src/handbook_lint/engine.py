"""Wires the pipeline: discover -> parse -> site -> check -> findings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handbook_lint import gitdiff, suppress
from handbook_lint.checks.front_matter import TYPE_NAMES
from handbook_lint.checks.lists import STYLES
from handbook_lint.checks.sections import parse_spec
from handbook_lint.config import SEVERITIES, Config, ConfigError
from handbook_lint.context import PageContext
from handbook_lint.facts import PageFacts
from handbook_lint.frontmatter import split_front_matter
from handbook_lint.gitdiff import Changes
from handbook_lint.index import SiteIndex
from handbook_lint.parse import ParseSettings, parse_page, read_page
from handbook_lint.rules import Finding, Rule, all_rules
from handbook_lint.site import (
    MARKDOWN_SUFFIXES,
    Site,
    matches_any,
    normalize_url,
    rel,
    walk_markdown,
)


@dataclass
class ActiveRule:
    rule: Rule
    severity: str
    options: dict[str, Any]


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0


def active_rules(
    config: Config, select: list[str] | None = None, ignore: list[str] | None = None
) -> dict[str, ActiveRule]:
    """The rules to run, with severities and options from the config."""
    rules = all_rules()
    where = str(config.source) if config.source else "defaults"
    named = [*config.rules, *(select or []), *(ignore or [])]
    for _, override in config.overrides:
        named += list(override)
    for name in named:
        if name not in rules:
            raise ConfigError(f"{where}: unknown rule {name!r} (see 'handbook-lint rules')")
    for i, (_, override) in enumerate(config.overrides):
        resolve_rules(
            merge_rule_settings(config.rules, override), select, ignore, f"{where}: overrides[{i}]"
        )
    return resolve_rules(config.rules, select, ignore, where)


def merge_rule_settings(
    base: dict[str, dict[str, Any]], over: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    out = {name: dict(settings) for name, settings in base.items()}
    for name, settings in over.items():
        out.setdefault(name, {}).update(settings)
    return out


def resolve_rules(
    settings_by_rule: dict[str, dict[str, Any]],
    select: list[str] | None,
    ignore: list[str] | None,
    where: str,
) -> dict[str, ActiveRule]:
    rules = all_rules()
    out: dict[str, ActiveRule] = {}
    for name, rule in rules.items():
        settings = dict(settings_by_rule.get(name, {}))
        enabled = settings.pop("enabled", True)
        severity = settings.pop("severity", rule.severity)
        if severity not in SEVERITIES:
            raise ConfigError(
                f"{where}: rules.{name}.severity: must be one of error, warning, info"
            )
        options = dict(rule.options)
        for key, value in settings.items():
            if key not in rule.options:
                known = ", ".join(sorted(rule.options)) or "none"
                raise ConfigError(
                    f"{where}: rules.{name}: unknown option {key!r} (options: {known})"
                )
            if not isinstance(value, type(rule.options[key])):
                raise ConfigError(
                    f"{where}: rules.{name}.{key}: must be a {type(rule.options[key]).__name__}"
                )
            options[key] = value
        _validate_options(name, options, where)
        if select is not None and name not in select:
            continue
        if ignore and name in ignore:
            continue
        if enabled is False and not (select and name in select):
            continue
        out[name] = ActiveRule(rule, severity, options)
    return out


def _validate_options(name: str, options: dict[str, Any], where: str) -> None:
    if name == "list-numbering" and options["style"] not in STYLES:
        raise ConfigError(
            f"{where}: rules.list-numbering.style: must be one of {', '.join(STYLES)}"
        )
    if name == "front-matter-type":
        for key, type_name in options["types"].items():
            if type_name not in TYPE_NAMES:
                raise ConfigError(
                    f"{where}: rules.front-matter-type.types.{key}: unknown type {type_name!r} "
                    f"(types: {', '.join(TYPE_NAMES)})"
                )
    if name == "front-matter-required" and not all(isinstance(k, str) for k in options["keys"]):
        raise ConfigError(f"{where}: rules.front-matter-required.keys: must be a list of strings")
    if name == "required-sections":
        for type_name, spec in options["page_types"].items():
            prefix = f"{where}: rules.required-sections.page_types.{type_name}"
            if not isinstance(spec, dict):
                raise ConfigError(f"{prefix}: must be a mapping")
            for key in spec:
                if key not in ("paths", "exclude", "ordered", "sections"):
                    raise ConfigError(
                        f"{prefix}: unknown key {key!r} (keys: paths, exclude, ordered, sections)"
                    )
            for key in ("paths", "exclude", "sections"):
                value = spec.get(key, [])
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ConfigError(f"{prefix}.{key}: must be a list of strings")
            for section in spec.get("sections", []):
                try:
                    parse_spec(section)
                except ValueError as exc:
                    raise ConfigError(f"{prefix}.sections: {exc}") from None


def _points_at(f: Finding, gone: set[str], edited: set[str]) -> bool:
    """A broken link into a page that is gone, or a missing anchor on an edited page."""
    if not f.target:
        return False
    if f.rule == "link-broken":
        return normalize_url(f.target) in gone
    if f.rule == "link-anchor-missing":
        return normalize_url(f.target.split("#", 1)[0]) in edited
    return False


class Linter:
    def __init__(
        self,
        config: Config,
        rules: dict[str, ActiveRule],
        select: list[str] | None = None,
        ignore: list[str] | None = None,
    ) -> None:
        self.config = config
        self.rules = rules
        self._select, self._ignore = select, ignore
        self._override_rules: dict[tuple[int, ...], dict[str, ActiveRule]] = {}
        self.site = Site(config)
        spelling = rules.get("spelling")
        self.settings = ParseSettings(
            config.heading_ids,
            config.heading_text,
            definition_term_ids=config.definition_term_ids,
            prose=bool(spelling and spelling.options.get("prose")),
        )
        self._index: SiteIndex | None = None
        self.facts: dict[str, PageFacts | None] = {}
        self.read_errors: dict[str, str] = {}

    # -- parsing ----------------------------------------------------------

    def load(self, path: str) -> PageFacts | None:
        """Facts of a file (relative to the root), parsed once."""
        if path in self.facts:
            return self.facts[path]
        text, error = read_page(self.config.root / path)
        facts: PageFacts | None = None
        if error is not None:
            self.read_errors[path] = error
        elif text is not None:
            facts = parse_page(text, path, self.settings)
        self.facts[path] = facts
        return facts

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
            self._override_rules[matched] = cached
        return cached

    def index(self) -> SiteIndex:
        if self._index is None:
            self._index = SiteIndex.build(self.site, self.load)
        return self._index

    # -- running ----------------------------------------------------------

    def run(self, paths: list[str] | None = None) -> Result:
        result = Result()
        discovery = self.site.discover() if paths is None or self._content_exists() else None
        site_files = discovery.files if discovery else []
        problems = list(discovery.problems) if discovery and paths is None else []
        targets: list[str]
        if paths is None:
            targets = site_files
        else:
            targets, missing = self.expand(paths)
            problems += missing
        for path in dict.fromkeys([*site_files, *targets]):
            self.site.add(self.load(path), path)
        self.site.finish()
        for path, message in problems:
            self._engine_finding(result, path, message)
        for path in dict.fromkeys(targets):
            result.files += 1
            self._check_page(result, path)
        result.findings.sort(key=Finding.sort_key)
        return result

    def run_changes(self, changes: Changes) -> Result:
        """Findings a branch introduced: those in the files it changed (and in pages
        that include a changed file), plus broken links and anchors elsewhere
        that point at pages it deleted, moved or edited."""
        full = self.run(None)
        changed = set(changes.changed)
        for path, page in self.site.pages.items():
            if page.facts is not None and self._includes_any(path, changes.changed):
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
            facts = self.load(current)
            if facts is None:
                continue
            for inc in facts.includes:
                if not inc.target or inc.error:
                    continue
                resolved = self.site.resolve_include(current, inc.target)
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

    def _check_page(self, result: Result, path: str) -> None:
        rules = self.rules_for(path)
        facts = self.load(path)
        if facts is None:
            self._engine_finding(result, path, self.read_errors.get(path, "cannot read file"))
            return
        if facts.empty:
            active = rules.get("file-empty")
            if active is not None:
                result.findings.append(
                    Finding(path, 1, 0, "file-empty", active.severity, "file is empty")
                )
            return
        page = self.site.pages[path]
        ctx = PageContext(self.site, page, facts, self.load, self.index)
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
        result.findings += suppress.apply(
            found,
            facts.directives,
            path,
            set(all_rules()),
            set(rules),
            unused.severity if unused else None,
        )
