"""The command line: wires config, engine and reporters together."""

from __future__ import annotations

import gc
import io
import json
import os
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
import yaml

from handbook_lint import __version__, client
from handbook_lint.atomic import atomic_write
from handbook_lint.checks.reference import rule_markdown
from handbook_lint.checks.registry import Finding, all_rules
from handbook_lint.checks.selection import ActiveRule, active_rules
from handbook_lint.config.settings import (
    CONFIG_NAME,
    Config,
    ConfigError,
    did_you_mean,
    load_config,
)
from handbook_lint.config.sites import SiteGroup, Sites, find_site, group
from handbook_lint.engine.baseline import BaselineError, new_findings, read_baseline
from handbook_lint.engine.baseline import write_baseline as write_baseline_file
from handbook_lint.engine.git import Changes, GitError, changes_since, staged_changes
from handbook_lint.engine.workers import usable_cpus
from handbook_lint.entry import served, stopped
from handbook_lint.external.settings import ExternalSettings
from handbook_lint.names import is_utf8
from handbook_lint.names import shown as shown_text
from handbook_lint.report import FORMAT_NAMES, Report, writer
from handbook_lint.report.context import commit_of, docs_template, source
from handbook_lint.report.model import RuleInfo
from handbook_lint.report.stats import stats_lines

if TYPE_CHECKING:
    from handbook_lint.engine.fixer import FixPass
    from handbook_lint.engine.resident import Resident

# The site kept loaded in a server's holder (server._keep_site), in the runs it makes.
RESIDENT: Resident | None = None


def rule_infos(rules: dict[str, ActiveRule], docs: str | None = None) -> dict[str, RuleInfo]:
    """What reporters may say about the rules; `docs`: a URL with `{rule}`."""
    return {
        name: RuleInfo(
            name,
            active.severity,
            active.rule.summary,
            docs.replace("{rule}", name) if docs else None,
            active.rule.doc,
        )
        for name, active in rules.items()
    }


FILE = click.Path(dir_okay=False, path_type=Path)  # a file option's value
# Formats read by people, which name the site and link to its sources.
READ_BY_PEOPLE = ("html", "markdown")
FAIL_ON = {"error": ("error",), "warning": ("error", "warning"), "never": ()}


def _split(value: str | None, option: str) -> list[str] | None:
    """A comma-separated rule list; an unknown rule is a usage error that names
    the option."""
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    known = all_rules()
    for name in names:
        if name not in known:
            raise click.BadParameter(
                f"unknown rule {name!r}{did_you_mean(name, known)} (see 'handbook-lint rules')",
                param_hint=option,
            )
    return names


def use_color(no_color: bool) -> bool:
    """Colour on a terminal, unless --no-color or NO_COLOR; FORCE_COLOR forces it."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0", "false"):
        return True
    return sys.stdout.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="handbook-lint")
def main() -> None:
    """Lint a Hugo handbook site: front matter, lists, sections, includes, links."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--config",
    "config_path",
    type=FILE,
    help="Config file (default: the .handbook-lint.yaml found upward from each path).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMAT_NAMES)),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--output",
    type=FILE,
    help="Write the --format report to FILE; readable text still goes to stdout.",
)
@click.option("--select", help="Only these rules (comma-separated).")
@click.option("--ignore", help="Skip these rules (comma-separated).")
@click.option(
    "--fail-on",
    type=click.Choice(list(FAIL_ON)),
    default="error",
    show_default=True,
    help="Lowest severity that makes the exit code 1.",
)
@click.option(
    "--diff-base",
    metavar="REF",
    help="Report only what the branch introduced since its merge base with REF: its "
    "findings minus those the site had at the merge base (the merge-request check).",
)
@click.option(
    "--staged",
    is_flag=True,
    help="Report only what the staged changes introduce against HEAD (the pre-commit "
    "hook); named files the change does not touch are linted whole.",
)
@click.option(
    "--all-in-changed",
    is_flag=True,
    help="With --diff-base or --staged: also report the old findings of the changed files.",
)
@click.option(
    "--baseline",
    type=FILE,
    help="Report only findings not recorded in this baseline file.",
)
@click.option(
    "--write-baseline",
    type=FILE,
    help="Record the current findings as the baseline in FILE.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help=(
        "Worker processes for parsing and checking (default: the CPUs it may use, "
        "a container's CPU quota included; 1: all in-process)."
    ),
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option(
    "--external/--no-external",
    default=None,
    help="Also check external http(s) links (default: the config's external.enabled, off).",
)
@click.option(
    "--external-jobs",
    type=click.IntRange(min=1),
    help="Threads for external links (default: external.jobs, 16).",
)
@click.option(
    "--external-allow-private",
    is_flag=True,
    help="Also request loopback, private and link-local addresses (refused by default).",
)
@click.option(
    "--lang",
    metavar="CODE",
    help="The language of a multilingual Hugo site to lint (default: its defaultContentLanguage).",
)
@click.option("--quiet", "-q", is_flag=True, help="Findings only, no summary line.")
@click.option("--no-color", is_flag=True, help="No colour, even on a terminal (or NO_COLOR=1).")
@click.option(
    "--stats",
    is_flag=True,
    help=(
        "End the text output with the jobs it ran with, the most-linked missing targets "
        "and counts per rule."
    ),
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="--format markdown: the table's rows before 'and N more'.",
)
@click.option(
    "--fix",
    is_flag=True,
    help="Apply the safe fixes to the files, then report what remains.",
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Print the fixes as a unified diff, change nothing (exit 1 when there is one).",
)
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="With --fix or --diff: also the fixes that may change meaning (a guessed URL "
    "or anchor, a heading's id).",
)
@click.option(
    "--start-server",
    is_flag=True,
    help="When no server listens, start one in the background for the runs that follow, "
    "as `handbook-lint serve` (Linux; not in CI).",
)
def check(
    paths: tuple[str, ...],
    config_path: Path | None,
    fmt: str,
    output: Path | None,
    select: str | None,
    ignore: str | None,
    fail_on: str,
    diff_base: str | None,
    staged: bool,
    all_in_changed: bool,
    baseline: Path | None,
    write_baseline: Path | None,
    jobs: int | None,
    no_cache: bool,
    external: bool | None,
    external_jobs: int | None,
    external_allow_private: bool,
    lang: str | None,
    quiet: bool,
    no_color: bool,
    stats: bool,
    max_rows: int,
    fix: bool,
    show_diff: bool,
    unsafe_fixes: bool,
    start_server: bool,
) -> None:
    """Lint PATHS (files or folders; default: the whole site)."""
    # Parsing makes many short-lived objects and few cycles: collecting the young
    # generation every 100,000 allocations instead of 700 saves about 8% of a
    # cold run (gitlab-handbook-ja, 3 interleaved pairs) for about 5 MB.
    gc.set_threshold(100_000, 50, 1000)
    started, clock = datetime.now(UTC), time.perf_counter()
    selected, ignored = _split(select, "--select"), _split(ignore, "--ignore")
    if diff_base and staged:
        raise click.UsageError("--diff-base and --staged compare with different things: give one")
    if all_in_changed and not (diff_base or staged):
        raise click.UsageError("--all-in-changed needs --diff-base or --staged")
    if diff_base and paths:
        raise click.UsageError("--diff-base lints what the branch changed: give no PATHS with it")
    fixing = "diff" if show_diff else "fix" if fix else None
    if fix and show_diff:
        raise click.UsageError("--fix writes the fixes, --diff only shows them: give one")
    if unsafe_fixes and fixing is None:
        raise click.UsageError("--unsafe-fixes goes with --fix or --diff")
    if show_diff and (output is not None or fmt != "text"):
        raise click.UsageError("--diff prints a unified diff: it takes no --format or --output")
    if fixing and (diff_base or staged):
        raise click.UsageError(
            f"--{fixing} fixes the files it lints: name them (pre-commit passes the staged "
            "files) instead of --diff-base or --staged"
        )
    if fixing and write_baseline:
        raise click.UsageError(f"--{fixing} and --write-baseline: fix first, then write it")
    cwd = Path.cwd()
    for raw in paths:
        if not os.path.lexists(raw):
            raise click.BadParameter(f"{raw!r} does not exist", param_hint="PATHS")
    try:
        known = read_baseline(baseline) if baseline else None
    except BaselineError as exc:
        _fail(str(exc))
    for option, target in (("--output", output), ("--write-baseline", write_baseline)):
        if target is not None:
            _check_writable(option, target)

    if start_server and not served():
        # (when the run is over, whatever its end: it has both cores meanwhile)
        click.get_current_context().call_on_close(_start_server)
    if RESIDENT is not None and not no_cache and fixing is None:
        RESIDENT.begin(jobs)  # (the pages that changed parsed while git answers: resident.py)
        click.get_current_context().call_on_close(RESIDENT.end)  # (used or not: this run's)
    change: Changes | None = None
    if diff_base or staged:
        try:
            change = staged_changes(cwd) if staged else changes_since(cwd, diff_base or "")
        except GitError as exc:
            _fail(f"{'--staged' if staged else f'--diff-base {diff_base}'}: {exc}")
    sites = _sites(list(paths), cwd, config_path, change)
    if sites.defaults:
        _note(
            f"no {CONFIG_NAME} found in {_shown(cwd, cwd)} or above, nor below: linting with "
            "the defaults of a standard Hugo site (content dir: content/)"
        )
    settings = RunSettings(
        selected,
        ignored,
        jobs,
        not no_cache,
        fmt == "text" and output is None and not quiet and not write_baseline,
        external,
        external_jobs,
        external_allow_private,
        lang,
        fixing,
        unsafe_fixes,
        linked=fmt != "text" or output is not None,
    )
    outcome = Outcome()
    for site in sites.groups:
        _lint_site(site, cwd, settings, change, all_in_changed, outcome)
    skipped = sites.orphans + outcome.skipped
    if skipped:
        listed = ", ".join(skipped[:5])
        if len(skipped) > 5:
            listed += f" and {len(skipped) - 5} more"
        files = f"{len(skipped)} file{'s' if len(skipped) != 1 else ''}"
        _note(
            f"skipped {files} that {'is' if len(skipped) == 1 else 'are'} not part of any site "
            f"(not in a content dir or an include root): {listed}"
        )
    if outcome.unverified:
        _note(_unverified_note(outcome))

    if fixing is not None:
        done = outcome.fixes
        if done is not None:
            _report_fixes(done, fixing, quiet)
        if fixing == "diff":
            sys.stdout.write(done.diff() if done is not None else "")
            sys.exit(1 if done is not None and done.files else 0)
    # A file name that is not UTF-8 is shown with its bytes escaped (`\xff`):
    # every report stays valid UTF-8 (JSON, SARIF, XML, the terminal).
    findings = sorted(_printable(outcome.findings), key=Finding.sort_key)
    if write_baseline:
        base_dir = write_baseline.resolve().parent
        atomic_write_or_fail(
            "--write-baseline",
            write_baseline,
            lambda: write_baseline_file(write_baseline, _relative_to(findings, cwd, base_dir)),
        )
        _note(
            f"wrote {len(findings)} finding{'s' if len(findings) != 1 else ''} "
            f"to the baseline {write_baseline}"
        )
        sys.exit(0)
    in_baseline = 0
    if known is not None and baseline is not None:
        base_dir = baseline.resolve().parent
        keyed = _relative_to(findings, cwd, base_dir)
        kept = {id(k) for k in new_findings(keyed, known)}
        in_baseline = len(findings) - len(kept)
        findings = [f for f, k in zip(findings, keyed, strict=True) if id(k) in kept]
    color = use_color(no_color)
    report = Report(
        findings,
        outcome.files,
        __version__,
        quiet=quiet,
        rules=outcome.infos,
        compared_with=outcome.compared_with,
        not_counted=outcome.not_counted,
        new=outcome.new,
        old_listed=outcome.old_listed,
        in_baseline=in_baseline,
        unverified=outcome.unverified,
        max_rows=max_rows,
    )
    if fmt in READ_BY_PEOPLE and outcome.site is not None:
        config = outcome.site
        report.site = config.report.get("site_name") or config.root.resolve().name
        report.commit = commit_of(config.root)
        report.source = source(
            config.report.get("repo_url", ""), config.report.get("branch", ""), config.root, cwd
        )
        report.started = started.isoformat(timespec="seconds")
        report.seconds = time.perf_counter() - clock
        report.settings = _run_settings(config, paths, selected, ignored, diff_base, staged)
    if stats:
        used = f"{jobs} (--jobs)" if jobs else f"{usable_cpus()} (the CPUs this run may use)"
        report.extra = stats_lines(findings, jobs=used)
    if output is not None:
        buffer = io.StringIO()
        writer(fmt)(report, buffer)
        atomic_write_or_fail("--output", output, lambda: atomic_write(output, buffer.getvalue()))
        writer("text")(replace(report, color=color), sys.stdout)
    else:
        writer(fmt)(replace(report, color=color and fmt == "text"), sys.stdout)
    failing = FAIL_ON[fail_on]
    sys.exit(1 if any(f.severity in failing for f in findings) else 0)


@dataclass
class RunSettings:
    """What the command line adds to the config: rules picked, jobs, cache,
    external links, fixes, and how the report links rules."""

    select: list[str] | None
    ignore: list[str] | None
    jobs: int | None
    use_cache: bool
    progress: bool
    external: bool | None
    external_jobs: int | None
    external_allow_private: bool
    lang: str | None = None
    fixing: str | None = None  # "fix" (write the fixes), "diff" (show them) or None
    unsafe_fixes: bool = False
    linked: bool = False  # the report links rules to their documentation


@dataclass
class Outcome:
    """What the sites of one run found, paths relative to the working directory."""

    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    skipped: list[str] = field(default_factory=list)
    infos: dict[str, RuleInfo] = field(default_factory=dict)
    compared_with: str | None = None
    not_counted: int = 0
    old_listed: int = 0
    new: int = 0
    # Links not verified (into content mounted from sources missing here, or into
    # other languages), not listed: how many go into each missing source, and
    # how many into other languages.
    unverified: int = 0
    into_mounts: dict[str, int] = field(default_factory=dict)
    into_languages: int = 0
    fixes: FixPass | None = None  # what --fix / --diff did (paths as shown)
    site: Config | None = None  # the first site's settings (the report names it)


def _sites(paths: list[str], cwd: Path, config_path: Path | None, change: Changes | None) -> Sites:
    """The sites to lint: those of the named paths (or of the working directory)
    and, with a change, those of the files it touched."""
    sites = group(paths, cwd, config_path)
    if change is None or config_path is not None:
        return sites
    touched = group([str(change.top / p) for p in sorted(change.touched())], cwd, None)
    if touched.defaults:  # no touched file is in a configured site
        return sites
    if sites.defaults:  # the sites the change touched, not the defaults
        named = [p for p in paths if p.endswith((".md", ".markdown"))]
        return Sites([SiteGroup(g.config, g.root) for g in touched.groups], named, False)
    roots = {g.root for g in sites.groups}
    extra = [SiteGroup(g.config, g.root) for g in touched.groups if g.root not in roots]
    return Sites(sites.groups + extra, sites.orphans, False)


def _lint_site(
    site: SiteGroup,
    cwd: Path,
    settings: RunSettings,
    change: Changes | None,
    all_in_changed: bool,
    outcome: Outcome,
) -> None:
    from handbook_lint.engine.linter import Linter  # the engine only when there is a site to lint
    from handbook_lint.site.overlay import Overlay

    try:
        config = load_config(site.config, cwd=site.root, given=_given(settings.lang))
        rules = active_rules(config, settings.select, settings.ignore)
    except ConfigError as exc:
        _fail(f"config error: {exc}")
    if config.hugo_unmodelled:
        _warn(
            f"the Hugo config of {_shown(config.root, cwd)} sets "
            f"{' and '.join(config.hugo_unmodelled)}, which the linter does not follow: "
            "page URLs there may differ from Hugo's, and links to them be misjudged"
        )
    if site.config is None and config.hugo_files:
        _note(
            f"no {CONFIG_NAME} in {_shown(config.root, cwd)} or above: linting the site as its "
            f"Hugo config says ({', '.join(config.hugo_files)}), with the linter's defaults"
        )
    named = None if site.whole or not site.paths else site.paths
    content_dirs = [config.content_dir] if config.content_dir_mounted else []
    content_dirs += [m.source for m in config.content_mounts]
    if (
        named is None
        and change is None
        and not any((config.root / d).exists() for d in content_dirs)
    ):
        _warn(
            f"the content dir {_shown(config.root / config.content_dir, cwd)} does not exist: "
            "no pages to lint (set content_dir in the config, or name the files to lint)"
        )
    site_change = change.under(config.root) if change is not None else None
    if site_change is not None and not site_change and not named:
        return  # the change touched nothing of this site
    external = _external_settings(
        config, settings.external, settings.external_jobs, settings.external_allow_private
    )
    overlay = Overlay.now(site_change) if site_change is not None else None
    linter = None
    kept = RESIDENT  # (the site a server's holder keeps: engine/resident.py)
    if (
        kept is not None
        and kept.site == (site.config, site.root)
        and settings.use_cache
        and settings.fixing is None
    ):
        linter = kept.linter(
            config,
            rules,
            settings.select,
            settings.ignore,
            settings.jobs,
            settings.progress,
            _warn,
            external,
            overlay,
        )

    def made(view: Overlay | None, progress: bool, checks: ExternalSettings | None) -> Linter:
        return Linter(
            config,
            rules,
            settings.select,
            settings.ignore,
            jobs=settings.jobs,
            use_cache=settings.use_cache,
            progress=progress,
            warn=_warn,
            external=checks,
            overlay=view,
        )

    if linter is None:
        linter = made(overlay, settings.progress, external)
    if site_change is not None:
        from handbook_lint.engine.changes import run_change

        # pre-commit splits a long list of files over several runs: each reports
        # on the files it is given (and on what no file of the commit holds).
        result = run_change(linter, site_change, named, all_in_changed, bool(named))
        outcome.compared_with = result.compared_with
        outcome.not_counted += result.old
        outcome.old_listed += result.old_listed
        outcome.new += result.new
    elif settings.fixing is not None:
        from handbook_lint.engine.fixer import fix_until_settled

        def fresh(overlay: Overlay | None) -> Linter:
            return made(overlay, False, linter.external)

        result, done = fix_until_settled(
            linter, fresh, named, settings.unsafe_fixes, write=settings.fixing == "fix"
        )
        as_shown = done.shown(lambda p: _shown(config.root / p, cwd))
        if outcome.fixes is None:
            outcome.fixes = as_shown
        else:
            outcome.fixes.merge(as_shown)
    else:
        result = linter.run(named)
    outcome.skipped += linter.skipped
    listed, held = linter.split_counted(result.findings)
    outcome.unverified += len(held)
    for mount in linter.site.missing_mounts():
        marker = f" from {mount.source}, "
        into = sum(1 for f in held if marker in f.message)
        if into:
            shown = _shown(config.root / mount.source, cwd)
            outcome.into_mounts[shown] = outcome.into_mounts.get(shown, 0) + into
    outcome.into_languages += len(held) - sum(
        1
        for f in held
        if any(f" from {m.source}, " in f.message for m in linter.site.missing_mounts())
    )
    outcome.findings += _relative_to(listed, config.root, cwd)
    outcome.files += result.files
    docs = docs_template(config.report.get("docs_url", "")) if settings.linked else None
    outcome.infos.update(rule_infos(rules, docs))
    if outcome.site is None:
        outcome.site = config


def _printable(findings: list[Finding]) -> list[Finding]:
    """The findings with every text in them valid UTF-8: the bytes of a file
    name that is not UTF-8 shown escaped (in a path, or a suggestion naming it).
    Such a finding's fix goes: it would write what cannot be written back as text."""
    # One test of all the texts first (a surrogate in any of them is one in
    # their join): the handbook's 6,505 findings took 10 ms one by one.
    if is_utf8("".join([_texts(f) for f in findings])):
        return findings
    return [f if is_utf8(_texts(f)) else _escaped(f) for f in findings]


def _texts(f: Finding) -> str:
    """Every text of a finding, its fix's too, joined."""
    edits = "".join([e.old + e.new for e in f.fix.edits]) if f.fix is not None else ""
    return f"{f.path}{f.message}{f.suggestion or ''}{f.target or ''}{f.detail or ''}{edits}"


def _escaped(f: Finding) -> Finding:
    """The finding with its texts' surrogate-escaped bytes written out, without its fix."""
    return replace(
        f,
        path=shown_text(f.path),
        message=shown_text(f.message),
        suggestion=shown_text(f.suggestion) if f.suggestion else f.suggestion,
        target=shown_text(f.target) if f.target else f.target,
        detail=shown_text(f.detail) if f.detail else f.detail,
        fix=None,
    )


def _run_settings(
    config: Config,
    paths: tuple[str, ...],
    selected: list[str] | None,
    ignored: list[str] | None,
    diff_base: str | None,
    staged: bool,
) -> dict[str, str]:
    """The settings that shaped the run, as a report shows them."""
    out = {
        "Config": str(config.source) if config.source else "none (the defaults)",
        "Linted": " ".join(paths) if paths else "the whole site",
    }
    if config.extends:
        out["Preset"] = config.extends
    if selected:
        out["Rules selected"] = ", ".join(selected)
    if ignored:
        out["Rules ignored"] = ", ".join(ignored)
    if diff_base:
        out["Changes since"] = diff_base
    if staged:
        out["Changes"] = "staged, against HEAD"
    return out


def _report_fixes(done: FixPass, fixing: str, quiet: bool) -> None:
    """What --fix did (or --diff would do), on stderr: stdout keeps the report."""
    for warning in done.warnings:
        _warn(warning)
    if quiet:
        return
    count = sum(done.fixed.values())
    files = len(done.files)
    rules = ", ".join(f"{rule} {n}" for rule, n in sorted(done.fixed.items()))
    verb = "fixed" if fixing == "fix" else "--diff: would fix"
    if count:
        _note(
            f"{verb} {count} finding{'s' if count != 1 else ''} in {files} "
            f"file{'s' if files != 1 else ''} ({rules})"
        )
    elif done.left:
        _note(f"{verb} nothing")
    else:
        _note("nothing to fix" if fixing == "fix" else "--diff: nothing to fix")
    if done.left:
        why = "see the warnings above" if done.warnings else "their text is not where it was"
        _note(f"{done.left} fixable finding{'s' if done.left != 1 else ''} not fixed ({why})")


def _unverified_note(outcome: Outcome) -> str:
    """One line: how many links were not verified, and why."""
    why = []
    if outcome.into_mounts:
        sources = sorted(outcome.into_mounts, key=lambda s: -outcome.into_mounts[s])
        shown = ", ".join(sources[:3]) + (
            f" and {len(sources) - 3} more" if len(sources) > 3 else ""
        )
        count = sum(outcome.into_mounts.values())
        why.append(
            f"{count} into content the Hugo config mounts from {shown}, missing in this checkout"
        )
    if outcome.into_languages:
        why.append(f"{outcome.into_languages} into other languages' pages (see --lang)")
    links = "link was" if outcome.unverified == 1 else "links were"
    return (
        f"{outcome.unverified} {links} not verified: {'; '.join(why)}. Set the rule "
        "link-unverifiable to a severity to list them."
    )


def _relative_to(findings: list[Finding], root: Path, cwd: Path) -> list[Finding]:
    """Findings with paths relative to `cwd` (from relative to `root`)."""
    if root.resolve() == cwd.resolve():
        return findings
    out = []
    for f in findings:
        path = os.path.relpath(root / f.path, cwd).replace(os.sep, "/")
        out.append(replace(f, path=path))
    return out


def _shown(path: Path, cwd: Path) -> str:
    shown = os.path.relpath(path, cwd)
    return "." if shown == "." else shown


def _start_server() -> None:
    if not stopped():  # (Ctrl-C or SIGTERM: the user wants nothing more of the run)
        client.start_server()


def _check_writable(option: str, target: Path) -> None:
    """Fail before linting when a report file cannot be written there."""
    if target.is_dir():
        _fail(f"{option} {target}: is a folder")
    probe = target.absolute().parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        _fail(f"{option} {target}: {probe} is not a folder")
    if not os.access(probe, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        _fail(f"{option} {target}: cannot write there (permission denied)")


def atomic_write_or_fail(option: str, target: Path, write: Any) -> None:
    try:
        write()
    except OSError as exc:
        _fail(f"{option} {target}: cannot write it ({exc.strerror or exc})")


def _external_settings(
    config: Config, flag: bool | None, jobs: int | None, allow_private: bool
) -> ExternalSettings | None:
    """The external link settings when the check is on (flag, else config), or None."""
    if not (config.external_enabled if flag is None else flag):
        given = [
            name
            for name, value in (
                ("--external-allow-private", allow_private),
                ("--external-jobs", jobs is not None),
            )
            if value
        ]
        if given:
            _warn(
                f"{' and '.join(given)} {'has' if len(given) == 1 else 'have'} no effect "
                "without --external"
            )
        return None
    settings = config.external_settings
    if jobs is not None:
        settings = replace(settings, jobs=jobs)
    if allow_private:
        settings = replace(settings, allow_private=True)
    return settings


def _warn(message: str) -> None:
    click.echo(f"handbook-lint: warning: {message}", err=True)


def _note(message: str) -> None:
    click.echo(f"handbook-lint: {message}", err=True)


def _fail(message: str) -> NoReturn:
    click.echo(f"handbook-lint: {message}", err=True)
    sys.exit(2)


def _given(lang: str | None) -> dict[str, Any] | None:
    """Settings the command line gives."""
    return {"language": lang} if lang else None


def _load(config_path: Path | None, lang: str | None = None) -> Config:
    """The config of the site the working directory is in (found by its
    `.handbook-lint.yaml` or its Hugo config), or of `config_path`."""
    cwd = Path.cwd()
    if config_path is None:
        found = find_site(cwd)
        if found is not None:
            config_path, cwd = found
    try:
        return load_config(config_path, cwd=cwd, given=_given(lang))
    except ConfigError as exc:
        _fail(f"config error: {exc}")


@main.command("rules")
@click.option("--config", "config_path", type=FILE, help="Config file (default: found upward).")
def list_rules(config_path: Path | None) -> None:
    """List every rule: its severity and options under the current config."""
    config = _load(config_path)
    try:
        active = active_rules(config)
    except ConfigError as exc:
        _fail(f"config error: {exc}")
    rules = all_rules()
    width = max(len(name) for name in rules)
    where = str(config.source) if config.source else "the defaults (no config file found)"
    click.echo(f"Rules under {where}:")
    for name in sorted(rules):
        rule = rules[name]
        on = active.get(name)
        severity = on.severity if on else "off"
        changed = f" (default {rule.severity})" if severity != rule.severity else ""
        kind = rule.fix.partition(": ")[0]
        if kind == "safe" and "unsafe" in rule.fix:
            kind = "safe, some unsafe"
        fix = f" [fix: {kind}]" if rule.fix else ""
        click.echo(f"{name:<{width}}  {severity:<7}  {rule.summary}{changed}{fix}")
        if on is not None:
            for key, value in on.options.items():
                shown = json.dumps(value, ensure_ascii=False, default=str)
                click.echo(f"{'':<{width}}  {'':<7}    {key}: {shown}")


@main.command("config")
@click.option("--config", "config_path", type=FILE, help="Config file (default: found upward).")
@click.option(
    "--lang",
    metavar="CODE",
    help="The language of a multilingual Hugo site to lint (default: its defaultContentLanguage).",
)
def show_config(config_path: Path | None, lang: str | None) -> None:
    """Print the merged configuration and where each setting came from."""
    config = _load(config_path, lang)
    where = str(config.source) if config.source else "none found"
    click.echo(f"# config file: {where}")
    click.echo(f"# site root: {config.root}")
    if config.hugo_files:
        click.echo(f"# Hugo config: {', '.join(config.hugo_files)}")
    if config.extends:
        click.echo(f"# extends: {config.extends}")
    click.echo(yaml.safe_dump(config.merged, sort_keys=False, allow_unicode=True).rstrip())
    click.echo("")
    click.echo("# where each setting came from:")
    width = max((len(k) for k in config.origins), default=0)
    for key in sorted(config.origins):
        click.echo(f"#   {key:<{width}}  {config.origins[key]}")


@main.command("index")
@click.argument("what", required=False)
@click.option("--config", "config_path", type=FILE, help="Config file (default: found upward).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    help="Output format (default: text for one page, json for the whole site).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option(
    "--lang",
    metavar="CODE",
    help="The language of a multilingual Hugo site to lint (default: its defaultContentLanguage).",
)
def show_index(
    what: str | None, config_path: Path | None, fmt: str | None, no_cache: bool, lang: str | None
) -> None:
    """The site model: every page's URL, whether Hugo renders it, its anchors and
    where its links land. WHAT: one page, by file or URL (/handbook/values/)."""
    from handbook_lint.engine.linter import Linter
    from handbook_lint.site import dump

    config = _load(config_path, lang)
    try:
        rules = active_rules(config)
    except ConfigError as exc:
        _fail(f"config error: {exc}")
    linter = Linter(config, rules, use_cache=not no_cache, warn=_warn)
    linter.load_site()
    if what is None:
        data = dump.dump(linter)
        if fmt == "text":
            for page in data["pages"]:
                state = "" if page["rendered"] else f"  (not rendered: {page['not_rendered']})"
                click.echo(f"{page['path']}  {page['url'] or '-'}{state}")
        else:
            click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        linter.store.flush()
        return
    relative = os.path.relpath(Path(what).absolute(), config.root).replace(os.sep, "/")
    page = dump.find(linter, relative) or dump.find(linter, what)
    if page is None:
        _fail(f"index: no page or include file at {what!r} (a file of the site or a URL)")
    if fmt == "json":
        click.echo(json.dumps(dump.page_data(linter, page), ensure_ascii=False, indent=1))
    else:
        click.echo(dump.describe(linter, page), nl=False)
    linter.store.flush()


@main.command()
@click.argument("rule")
def explain(rule: str) -> None:
    """Print the documentation of RULE."""
    rules = all_rules()
    if rule not in rules:
        raise click.UsageError(
            f"unknown rule {rule!r}{did_you_mean(rule, rules)} (see 'handbook-lint rules')"
        )
    click.echo(rule_markdown(rules[rule]))
    found = rules[rule].source
    if found:
        path, _, line = found.rpartition(":")
        shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
        click.echo(f"Source: {shown}:{line}")
    click.echo(f"Cases: tests/cases/{rule}.yaml (in the project's repository)")


@main.command()
@click.option(
    "--socket",
    "socket_path",
    metavar="PATH",
    help="Where to listen (default: $HANDBOOK_LINT_SOCKET, else a folder of your own in "
    "$XDG_RUNTIME_DIR or /tmp). Runs find it there.",
)
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0),
    default=3600.0,
    show_default=True,
    metavar="SECONDS",
    help="Stop after this long without a run (0: never).",
)
@click.option("-v", "--verbose", is_flag=True, help="Print a line for each run.")
@click.option("--give-way", is_flag=True, hidden=True)  # (check --start-server's: client.py)
def serve(socket_path: str | None, idle_timeout: float, verbose: bool, give_way: bool) -> None:
    """Keep the linter loaded, so each run starts at once.

    Every `handbook-lint` command of this installation you run while this
    listens (a pre-commit hook, an editor's) is run by a copy of this process
    with your arguments, folder, environment, terminal and limits: the same
    output, files and exit code, about 0.2 s sooner. After a `check`, the
    site of its folder is kept loaded (in a process of its own) for the runs
    that follow there. A run goes on by itself when no server listens. Linux
    only. Stops on Ctrl-C, SIGTERM (ending the runs under way as they would
    end), after --idle-timeout, or when this installation changes (letting
    them finish)."""
    from handbook_lint import server

    if not client.available():
        _fail("serve: needs Linux (fork, and descriptors passed over a Unix socket)")
    path = socket_path or client.socket_path()
    try:
        code = server.serve(path, idle_timeout, _note, verbose, give_way)
    except server.ServeError as exc:
        _fail(f"serve: {exc}")
    sys.exit(code)
