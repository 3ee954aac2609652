"""Wires the pipeline: discover -> parse -> site -> check -> findings."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from handbook_lint.cache import codec
from handbook_lint.cache.sqlite import Cache
from handbook_lint.cache.store import INTERNAL, FactStore, internal_error
from handbook_lint.checks import speller
from handbook_lint.checks.context import PageContext, SiteContext
from handbook_lint.checks.registry import Finding, Problem, all_rules, external_rules
from handbook_lint.checks.selection import ActiveRule, merge_rule_settings, resolve_rules
from handbook_lint.config.settings import Config
from handbook_lint.engine import suppress
from handbook_lint.engine.progress import Progress
from handbook_lint.engine.workers import in_workers, usable_cpus
from handbook_lint.external.run import (
    check_external,
    collect_urls,
    undecided_lines,
)
from handbook_lint.external.settings import ExternalSettings
from handbook_lint.parsing.facts import PageFacts
from handbook_lint.parsing.markdown import ParseSettings, load_parser
from handbook_lint.site.index import SiteIndex
from handbook_lint.site.kept import KeptSite
from handbook_lint.site.model import (
    MARKDOWN_SUFFIXES,
    Site,
    first_date_ahead,
    matches_any,
    rel,
    walk_markdown,
)
from handbook_lint.site.overlay import Overlay

if TYPE_CHECKING:
    from handbook_lint.external.results import ExternalResult


@dataclass
class Expanded:
    """The files named on the command line, as the site sees them."""

    files: list[str] = field(default_factory=list)  # relative to the root
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    skipped: list[str] = field(default_factory=list)  # named Markdown of no site, as named
    named: list[str] = field(default_factory=list)  # every path named, relative to the root


@dataclass
class Result:
    """What a run found, and how many files it checked."""

    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    # With a change (--diff-base, --staged): what the findings were compared with,
    # how many findings in the changed files were there before it and not
    # reported, and how many such old findings are listed (--all-in-changed).
    compared_with: str | None = None
    old: int = 0
    old_listed: int = 0
    new: int = 0  # findings the change introduced


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
        overlay: Overlay | None = None,
        store: FactStore | None = None,
        site: Site | None = None,
        kept: KeptSite | None = None,
    ) -> None:
        self.config = config
        self.kept = kept  # a finished site this one may take as its own (site/kept.py)
        # External link rules run only when asked to (`--external`, or config).
        self.external = external
        self._idle = frozenset() if external is not None else external_rules()
        # External rules the config turns on (whether or not this run checks links).
        self._external_rules = frozenset(name for name in rules if name in external_rules())
        self.rules = {name: r for name, r in rules.items() if name not in self._idle}
        self.all_rules = rules
        self.site = site or Site(config, overlay)
        # Rules that are off but counted (links into missing mounts): they run,
        # and what they find is a number in the summary, not a listed finding.
        self.counted = self._counted(select, ignore)
        self.rules |= self.counted
        self.external_results: dict[str, ExternalResult] | None = None
        self.select, self.ignore = select, ignore
        self._override_rules: dict[tuple[int, ...], dict[str, ActiveRule]] = {}
        self.jobs = jobs or usable_cpus()
        self.warn = warn or (lambda message: None)
        if store is None:
            spelling = rules.get("spelling")
            settings = ParseSettings(
                config.heading_ids,
                config.heading_text,
                definition_term_ids=config.definition_term_ids,
                prose=bool(spelling and spelling.options.get("prose")),
                raw_prefixes=self.site.raw_prefixes(),
                typographer=config.typographer,
                linkify=config.linkify,
                raw_html=config.raw_html,
            )
            cache = Cache(config.root / config.cache_dir, self.warn) if use_cache else None
            store = FactStore(
                config.root,
                settings,
                tuple(config.taxonomies),
                cache,
                self.jobs,
                progress,
                overlay,
            )
        self.store = store
        if self.site.listings is None:
            self.site.listings = store.listings()
        self._index: SiteIndex | None = None
        self._files: set[str] = set()
        self._site_files: list[str] = []
        self._every: list[str] = []  # the site's files and those named (the pages it adds)
        self._forked_checks = False  # pages were checked in worker processes
        self.from_cache = False  # the last run's findings came from the result cache
        self.skipped: list[str] = []  # named files that are not the site's

    def _counted(self, select: list[str] | None, ignore: list[str] | None) -> dict[str, ActiveRule]:
        if select or not (self.site.missing_mounts() or self.config.languages):
            return {}
        return {
            name: ActiveRule(rule, rule.severity, dict(rule.options))
            for name, rule in all_rules().items()
            if rule.counted and name not in self.rules and name not in (ignore or [])
        }

    def split_counted(self, findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
        """(the findings to list, those of the counted rules, held back)."""
        if not self.counted:
            return findings, []
        listed = [f for f in findings if f.rule not in self.counted]
        return listed, [f for f in findings if f.rule in self.counted]

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
            cached = resolve_rules(settings, self.select, self.ignore, "overrides")
            cached = {name: r for name, r in cached.items() if name not in self._idle}
            cached |= {k: v for k, v in self.counted.items() if k not in cached}
            self._override_rules[matched] = cached
        return cached

    def index(self) -> SiteIndex:
        if self._index is None:
            self._index = SiteIndex.build(self.site, self.store.summary, self._files)
        return self._index

    # -- the site -------------------------------------------------------------

    def load_site(self, named: list[str] | None = None) -> list[tuple[str, str]]:
        """Discover the site and read every file's summary (from the cache where
        unchanged); `named` files outside the site's folders are added too.
        Returns the problems discovery met (unreadable folders)."""
        problems = self.discover_site(named)
        self.summarize_site()
        return problems

    def discover_site(self, named: list[str] | None = None) -> list[tuple[str, str]]:
        """The first half of `load_site`: the site's files, without their summaries."""
        named = named or []
        if any(a.rule.scope == "site" for a in self.rules.values()):
            self.site.start_listing()  # (git lists the files while the pages load)
        discovery = self.site.discover() if self._content_exists() else None
        self._site_files = discovery.files if discovery else []
        snippets = self.site.snippet_files()
        self._every = list(dict.fromkeys([*self._site_files, *snippets, *named]))
        self._files = set(discovery.resources if discovery else []) | set(self.site.static_files())
        return list(discovery.problems) if discovery else []

    def summarize_site(self) -> None:
        """The second half of `load_site`: every page's summary, URL and aliases."""
        read = self._files_read()
        self.store.prepare(read)
        if self.kept is not None:
            store = self.store
            self._index = self.kept.take(
                self.site, store.summary, store.summaries, read, self._files
            )
            if self._index is not None:
                return
        for path in self._every:
            self.site.add(self.store.summary(path), path)
        self.site.finish()

    def _files_read(self) -> list[str]:
        """The files whose summaries a run reads: the site's, those named and the
        include files."""
        return [*self._every, *self.site.include_files()]

    def site_targets(self) -> list[str]:
        """What a whole-site run lints: the content dir's pages and the include
        files outside it (snippets: their lists, spelling and links)."""
        return list(dict.fromkeys([*self._site_files, *self.site.snippet_files()]))

    # -- running ----------------------------------------------------------

    def run(self, paths: list[str] | None = None) -> Result:
        """Lint `paths` (files or folders; None: the whole site)."""
        scope: list[str] | None = None
        if paths is None:
            problems = self.discover_site()
            targets = self.site_targets()
        else:
            named = self.expand(paths)
            targets, problems = named.files, named.problems
            self.store.parse_ahead(targets)  # (while the site is found: ahead.py)
            self.skipped = named.skipped
            scope = named.named
            self.discover_site(targets)
        # The findings depend on the files' bytes, not on what they say: when a
        # run with the same files and settings left its findings, the pages'
        # summaries are not even read (a third of a warm run of the handbook).
        # Not so when external links are checked (their verdicts change with
        # time), a file could not be hashed (why is known once it is parsed),
        # or a file was hashed anew (a result is unlikely, and git's listing of
        # the files, which the key needs, goes on while the summaries are read).
        store = self.store
        key = None
        if (
            store.cache is not None
            and self._external_idle()
            and store.hash_files(self._files_read())
            and not store.hashed_anew()
        ):
            key = self._result_key(targets, problems, scope)
            cached = self._cached_result(key, len(targets))
            if cached is not None:
                return cached
        errors, revised = len(store.errors), store.revised
        self.summarize_site()
        if len(store.errors) != errors or store.revised != revised:
            key = None  # (a file changed while it was read, or turned out unreadable)
        return self._run(targets, problems, scope, key)

    def _external_idle(self) -> bool:
        """No external link is checked in this run (see check_external)."""
        return self.external is None or not any(name in external_rules() for name in self.rules)

    def _cached_result(self, key: str, files: int) -> Result | None:
        cached = self.store.cache.result(key) if self.store.cache else None
        if cached is not None:
            findings = codec.decode_findings(cached)
            if findings is not None:
                self.from_cache = True
                self.store.flush()
                return Result(findings, files)
        return None

    def _run(
        self,
        targets: list[str],
        problems: list[tuple[str, str]],
        scope: list[str] | None = None,
        key: str | None = None,
    ) -> Result:
        """The findings of the loaded site's `targets` (from the result cache when
        `key`, the result key computed before, or the one computed now, is there)."""
        if key is None:
            self.check_external(targets)
            key = self._result_key(targets, problems, scope)
            cached = self._cached_result(key, len(targets))
            if cached is not None:
                return cached
        revised = self.store.revised
        result = Result(self.problem_findings(problems), files=len(targets))
        result.findings += self.check(targets)
        result.findings += self.check_site(scope)
        result.findings.sort(key=Finding.sort_key)
        # (a file read while checking had changed since it was hashed: the
        # findings are not those of the hashes in the key, and are not kept;
        # check workers cannot say so, so after them the files are looked at)
        # (nor when a page's date still to come will change what renders: the
        # same files then have other findings, which the key cannot tell)
        kept = (
            self.store.revised == revised
            and not (self._forked_checks and self.store.changed_on_disk())
            and first_date_ahead(self.site.pages.values(), datetime.now(UTC)) is None
        )
        self.store.flush((key, codec.encode_findings(result.findings)) if kept else None)
        return result

    def _result_key(
        self, targets: list[str], problems: list[tuple[str, str]], scope: list[str] | None
    ) -> str:
        """Everything a run's findings depend on: if none of it changed, neither did they."""
        store = self.store
        listed = set(self._every) | set(self.site.include_files()) | set(targets)
        files = sorted(listed)
        # Each file's hash, NUL-separated (no path holds a NUL): a repr of
        # thousands of tuples took half of the key's time.
        hashes = store.hashes
        state = "\0".join([f"{p}\0{hashes.get(p)}" for p in files])
        errors = sorted((p, e) for p, e in store.errors.items() if p in listed)
        rules = {
            name: (active.severity, active.options) for name, active in sorted(self.rules.items())
        }
        config = {
            k: v
            for k, v in vars(self.config).items()
            if k not in ("root", "source", "rules", "merged", "origins", "key_lines", "report")
        }
        external = sorted(
            (url, r.status, r.code, r.detail, r.new_url)
            for url, r in (self.external_results or {}).items()
        )
        data = repr(
            (
                store.key,
                rules,
                config,
                targets,
                errors,
                sorted(self._files),
                problems,
                external,
                scope,
                self._repository_state(),
            )
        )
        digest = hashlib.sha256(data.encode("utf-8", "surrogatepass"))
        digest.update(b"\0\0" + state.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def _repository_state(self) -> object:
        """What the rules of the whole repository read (file names and sizes, the
        CODEOWNERS file), when one of them runs."""
        names = {n for n, a in self.rules.items() if a.rule.scope == "site"}
        if not names and "controlled-document" not in self.rules:
            return None
        owners = self.site.codeowners()
        entries = (
            (owners.path, owners.top, owners.entries, owners.sections, owners.problems)
            if owners
            else None
        )
        if not names:
            return entries
        above = (  # the repository's files, when it is above the site
            self.site.repository_files().paths
            if owners and owners.top not in ("", ".") and "codeowners-unmatched" in names
            else None
        )
        return (entries, self.site.all_files(), sorted(self.site.file_sizes().items()), above)

    # -- rules of the whole site ---------------------------------------------

    def check_site(
        self,
        scope: list[str] | None = None,
        only: frozenset[str] | None = None,
        rules: set[str] | None = None,
    ) -> list[Finding]:
        """The findings of the rules of the whole site (media, CODEOWNERS); with a
        `scope` (the paths named on the command line), those in it only; with
        `only`, the rules that look at files one by one look at those only; with
        `rules`, only those run."""
        site_rules = [
            (n, a)
            for n, a in self.rules.items()
            if a.rule.scope == "site" and (rules is None or n in rules)
        ]
        if not site_rules:
            return []
        ctx = SiteContext(self.site, self.index, only)
        found: list[Finding] = []
        for name, active in site_rules:
            for finding in self.run_rule(name, active, ctx):
                if scope is None or _in_scope(finding.path, scope):
                    found.append(finding)
        found.sort(key=Finding.sort_key)
        return found

    def run_rule(self, name: str, active: ActiveRule, ctx: object, at: str = ".") -> list[Finding]:
        """The findings of one rule (`active`: its settings for `at`, the page a
        page rule checks). A problem naming another file (a rule of the site or
        of a change) gets the severity the config gives there. When the rule
        raises, its `internal-error` finding at `at`, and the run goes on."""
        assert active.rule.check is not None
        try:
            problems = list(active.rule.check(ctx, active.options))
        except MemoryError:
            raise
        except Exception as exc:  # one rule's bug: said, and the run goes on
            return self._crashed(at, name, exc)
        found: list[Finding] = []
        for p in problems:
            if p.path is None or p.path == at:
                found.append(Finding.of(at, name, active.severity, p))
            elif (finding := self.as_finding(p.path, name, p)) is not None:
                found.append(finding)
        return found

    def _crashed(self, path: str, rule: str, exc: Exception) -> list[Finding]:
        """The `internal-error` finding of a rule that raised on `path` (none
        when the config turns the rule off there)."""
        active = self.rules_for(path).get("internal-error")
        if active is None:
            return []
        message = internal_error(exc, f" ({rule})")
        return [Finding(path, 1, 0, "internal-error", active.severity, message)]

    def as_finding(self, path: str, name: str, problem: Problem) -> Finding | None:
        """A problem a rule of the site or of a change found in `path`, with the
        severity the config (and its overrides for that path) gives the rule
        (None: the overrides turn it off there)."""
        active = self.rules_for(path).get(name)
        return Finding.of(path, name, active.severity, problem) if active else None

    def check_external(self, targets: list[str]) -> None:
        """Check the external links of the linted pages, once per URL, before the
        page checks (forked workers inherit the verdicts)."""
        if self.external is None or self._external_idle():
            return
        base_url = self.config.base_url
        urls = collect_urls((self.load(path) for path in targets), base_url)
        cache = self.store.cache
        cache_dir = cache.path.parent if cache is not None else None  # the folder it made
        self.external_results = check_external(
            urls, self.external, cache_dir, self.store.progress, self.warn
        )

    def check(self, targets: list[str]) -> list[Finding]:
        """The findings of `targets` (site-relative paths of loaded files), sorted."""
        if "spelling" in self.rules:
            cache = self.store.cache
            speller.keep_keys_in(cache.path.parent if cache and cache.db is not None else None)
        found = self._check_all(list(dict.fromkeys(targets)))
        found.sort(key=Finding.sort_key)
        return found

    def _check_all(self, targets: list[str]) -> list[Finding]:
        if self.jobs == 1 or len(targets) < PARALLEL_CHECK_MIN:
            out: list[Finding] = []
            for path in targets:
                out += self.check_page(path)
            return out
        # Workers fork after the index is built, so they share it (and the parsed
        # facts) with no copying; only findings come back.
        global _CHECKER
        self._forked_checks = True
        self.index()
        self.site.codeowners()
        load_parser()  # (reference labels are normalised by markdown-it-py's function)
        if "spelling" in self.rules:
            speller.load_dictionary()
        _CHECKER = self
        found: list[Finding] = []
        bar = Progress("checking", self.store.progress)
        for chunk in in_workers(_check_chunk, targets, CHECK_CHUNK, self.jobs, bar, _init_checker):
            found += chunk
        bar.close()
        _CHECKER = None
        return found

    def _content_exists(self) -> bool:
        return self.site.has_content()

    def owns(self, path: str) -> bool:
        """A file this site lints: a page of its content dir or an include file."""
        return self.site.is_content(path) or self.site.is_include_file(path)

    def expand(self, paths: list[str]) -> Expanded:
        """Files named on the command line (folders expanded), relative to the
        root. Markdown outside the content dir and the include roots is not the
        site's (a README beside it): named files of that kind are `skipped`."""
        root = self.config.root
        out = Expanded()
        for raw in paths:
            path = Path(raw)
            absolute = path if path.is_absolute() else Path.cwd() / path
            # The real folder (the root is a real path), the file's own name.
            absolute = Path(os.path.realpath(absolute.parent)) / absolute.name
            shown = rel(root, absolute)
            out.named.append(shown)
            if absolute.is_dir():
                found = walk_markdown(root, absolute, out.problems)
                out.files += [f for f in found if not self.site.excluded(f)]
            elif absolute.is_symlink() or absolute.exists():  # (a FIFO too: said unreadable)
                if absolute.name.endswith(MARKDOWN_SUFFIXES):
                    if self._content_exists() and not self.owns(shown):
                        out.skipped.append(raw)
                    else:
                        out.files.append(shown)
            elif not absolute.exists():
                out.problems.append((shown, "path does not exist"))
        if self._content_exists():
            out.files = [f for f in out.files if self.owns(f)]
        out.files = list(dict.fromkeys(out.files))
        return out

    def problem_findings(self, problems: list[tuple[str, str]]) -> list[Finding]:
        """Findings for paths that could not be read (unreadable folders)."""
        active = self.rules.get("file-unreadable")
        if active is None:
            return []
        return [
            Finding(path, 1, 0, "file-unreadable", active.severity, message)
            for path, message in problems
        ]

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
            message, line = self.store.error(path) or ("cannot read file", 1)
            kind = "internal-error" if message.startswith(INTERNAL) else "file-unreadable"
            active = rules.get(kind)
            return [Finding(path, line, 0, kind, active.severity, message)] if active else []
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
            if active.rule.check is not None and active.rule.scope == "page":
                found += self.run_rule(name, active, ctx, path)
        unused = rules.get(suppress.UNUSED)
        return suppress.apply(
            found,
            facts.directives,
            path,
            set(all_rules()),
            set(rules),
            unused.severity if unused else None,
            self._idle_lines(facts),
            frozenset(n for n, r in all_rules().items() if not r.enabled and n not in rules),
        )


def _in_scope(path: str, scope: list[str]) -> bool:
    """`path` is one of the named paths or below a named folder."""
    for named in scope:
        if named in ("", ".") or path == named or path.startswith(named.rstrip("/") + "/"):
            return True
    return False
