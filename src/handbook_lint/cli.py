"""The command line: wires config, engine and reporters together."""

from __future__ import annotations

import gc
import io
import sys
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import click

from handbook_lint import __version__
from handbook_lint.baseline import BaselineError, atomic_write, new_findings, read_baseline
from handbook_lint.baseline import write_baseline as write_baseline_file
from handbook_lint.config import Config, ConfigError, load_config
from handbook_lint.docs import rule_markdown
from handbook_lint.engine import Linter
from handbook_lint.external_config import ExternalSettings
from handbook_lint.gitdiff import GitError, changes_since
from handbook_lint.report import FORMAT_NAMES, Report, writer
from handbook_lint.report.model import RuleInfo
from handbook_lint.rules import all_rules
from handbook_lint.ruleset import ActiveRule, active_rules
from handbook_lint.stats import stats_lines


def rule_infos(rules: dict[str, ActiveRule]) -> dict[str, RuleInfo]:
    return {
        name: RuleInfo(name, active.severity, active.rule.summary, None)
        for name, active in rules.items()
    }


FILE = click.Path(dir_okay=False, path_type=Path)  # a file option's value
FAIL_ON = {"error": ("error",), "warning": ("error", "warning"), "never": ()}


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="handbook-lint")
def main() -> None:
    """Lint a Hugo handbook site: front matter, lists, sections, includes."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--config",
    "config_path",
    type=FILE,
    help="Config file (default: .handbook-lint.yaml found upward from here).",
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
    help="Only what the branch changed since its merge base with REF (files it changed, "
    "and links elsewhere it broke).",
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
    help="Worker processes for parsing and checking (default: the CPU count; 1: in-process).",
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
@click.option("--quiet", "-q", is_flag=True, help="Findings only, no summary line.")
@click.option("--no-color", is_flag=True, help="No colour, even on a terminal.")
@click.option(
    "--stats",
    is_flag=True,
    help="End the text output with the most-linked missing targets and counts per rule.",
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
    baseline: Path | None,
    write_baseline: Path | None,
    jobs: int | None,
    no_cache: bool,
    external: bool | None,
    external_jobs: int | None,
    external_allow_private: bool,
    quiet: bool,
    no_color: bool,
    stats: bool,
) -> None:
    """Lint PATHS (files or folders; default: the site's whole content dir)."""
    # Parsing makes many short-lived objects and few cycles: collecting the young
    # generation every 100,000 allocations instead of 700 saves about 8% of a
    # cold run (gitlab-handbook-ja, 3 interleaved pairs) for about 5 MB.
    gc.set_threshold(100_000, 50, 1000)
    selected, ignored = _split(select), _split(ignore)
    try:
        config = load_config(config_path)
        rules = active_rules(config, selected, ignored)
        known = read_baseline(baseline) if baseline else None
    except (ConfigError, BaselineError) as exc:
        _fail(f"config error: {exc}" if isinstance(exc, ConfigError) else str(exc))
    linter = Linter(
        config,
        rules,
        selected,
        ignored,
        jobs=jobs,
        use_cache=not no_cache,
        progress=fmt == "text" and output is None and not quiet,
        warn=_warn,
        external=_external_settings(config, external, external_jobs, external_allow_private),
    )
    if diff_base:
        if paths:
            _fail("--diff-base lints what the branch changed: give no PATHS with it")
        try:
            result = linter.run_changes(changes_since(config.root, diff_base))
        except GitError as exc:
            _fail(f"--diff-base {diff_base}: {exc}")
    else:
        result = linter.run(list(paths) if paths else None)
    findings = result.findings
    if write_baseline:
        write_baseline_file(write_baseline, findings)
    if known is not None:
        findings = new_findings(findings, known)
    infos = rule_infos(rules)
    text_color = not no_color and sys.stdout.isatty()
    report = Report(findings, result.files, __version__, quiet=quiet, rules=infos)
    if stats:
        report.extra = stats_lines(findings)
    if output is not None:
        buffer = io.StringIO()
        writer(fmt)(report, buffer)
        atomic_write(output, buffer.getvalue())
        writer("text")(replace(report, color=text_color), sys.stdout)
    else:
        writer(fmt)(replace(report, color=text_color and fmt == "text"), sys.stdout)
    failing = FAIL_ON[fail_on]
    sys.exit(1 if any(f.severity in failing for f in findings) else 0)


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


def _fail(message: str) -> NoReturn:
    click.echo(f"handbook-lint: {message}", err=True)
    sys.exit(2)


@main.command("rules")
def list_rules() -> None:
    """List every rule: name, default severity, what it checks."""
    rules = all_rules()
    width = max(len(name) for name in rules)
    for name in sorted(rules):
        rule = rules[name]
        click.echo(f"{name:<{width}}  {rule.severity:<7}  {rule.summary}")


@main.command()
@click.argument("rule")
def explain(rule: str) -> None:
    """Print the documentation of RULE."""
    rules = all_rules()
    if rule not in rules:
        raise click.UsageError(f"unknown rule {rule!r} (see 'handbook-lint rules')")
    click.echo(rule_markdown(rules[rule]))
