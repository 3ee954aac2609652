"""The command line: wires config, engine and reporters together."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from handbook_lint import __version__
from handbook_lint.config import ConfigError, load_config
from handbook_lint.docs import rule_markdown
from handbook_lint.engine import ActiveRule, Linter, active_rules
from handbook_lint.report import FORMATS, Report
from handbook_lint.report.model import RuleInfo
from handbook_lint.rules import all_rules
from handbook_lint.stats import stats_lines


def rule_infos(rules: dict[str, ActiveRule]) -> dict[str, RuleInfo]:
    return {
        name: RuleInfo(name, active.severity, active.rule.summary, None)
        for name, active in rules.items()
    }


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
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file (default: .handbook-lint.yaml found upward from here).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMATS)),
    default="text",
    show_default=True,
    help="Output format.",
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
    select: str | None,
    ignore: str | None,
    fail_on: str,
    quiet: bool,
    no_color: bool,
    stats: bool,
) -> None:
    """Lint PATHS (files or folders; default: the site's whole content dir)."""
    try:
        config = load_config(config_path)
        rules = active_rules(config, _split(select), _split(ignore))
    except ConfigError as exc:
        click.echo(f"handbook-lint: config error: {exc}", err=True)
        sys.exit(2)
    result = Linter(config, rules).run(list(paths) if paths else None)
    color = fmt == "text" and not no_color and sys.stdout.isatty()
    report = Report(
        result.findings,
        result.files,
        __version__,
        color=color,
        quiet=quiet,
        rules=rule_infos(rules),
    )
    if stats:
        report.extra = stats_lines(result.findings)
    FORMATS[fmt](report, sys.stdout)
    failing = FAIL_ON[fail_on]
    sys.exit(1 if any(f.severity in failing for f in result.findings) else 0)


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
