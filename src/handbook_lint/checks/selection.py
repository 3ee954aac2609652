"""Which rules run, with which severities and options (config, overrides, --select)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handbook_lint.checks.registry import OptionError, Rule, all_rules
from handbook_lint.config.settings import SEVERITIES, Config, ConfigError, did_you_mean, located


@dataclass
class ActiveRule:
    """A rule a run applies, with its configured severity and options."""

    rule: Rule
    severity: str
    options: dict[str, Any]


def active_rules(
    config: Config, select: list[str] | None = None, ignore: list[str] | None = None
) -> dict[str, ActiveRule]:
    """The rules to run, with severities and options from the config."""
    rules = all_rules()
    where = str(config.source) if config.source else "defaults"
    # (a setting of a preset or of the defaults has no line in the config file)
    lines = config.key_lines
    named = [*config.rules, *(select or []), *(ignore or [])]
    for _, override in config.overrides:
        named += list(override)
    for name in named:
        if name not in rules:
            close = did_you_mean(name, rules)
            raise ConfigError(
                f"{located(where, lines, f'rules.{name}')}: unknown rule {name!r}{close} "
                "(see 'handbook-lint rules')"
            )
    # The rules' own settings first: an override is checked merged with them,
    # and a mistake of theirs is theirs, at its line.
    active = resolve_rules(config.rules, select, ignore, where, lines)
    for i, (_, override) in enumerate(config.overrides):
        resolve_rules(
            merge_rule_settings(config.rules, override), select, ignore, f"{where}: overrides[{i}]"
        )
    return active


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
    lines: Mapping[str, int] | None = None,
) -> dict[str, ActiveRule]:
    """The active rules; a setting that is wrong is a ConfigError at `where`,
    with the line of its key (else of its rule's) when `lines` (the config
    file's own keys) has one."""
    rules = all_rules()
    out: dict[str, ActiveRule] = {}

    def at(name: str, *below: str) -> str:
        """Where a setting of rule `name` is (the first of `below` written, else the rule)."""
        keys = [f"rules.{name}.{key}" for key in below]
        return located(where, lines or {}, *keys, f"rules.{name}")

    for name, rule in rules.items():
        settings = dict(settings_by_rule.get(name, {}))
        enabled = settings.pop("enabled", rule.enabled)
        severity = settings.pop("severity", rule.severity)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{at(name, 'enabled')}: rules.{name}.enabled: must be true or false")
        if severity not in SEVERITIES:
            raise ConfigError(
                f"{at(name, 'severity')}: rules.{name}.severity: "
                "must be one of error, warning, info"
            )
        options = dict(rule.options)
        for key, value in settings.items():
            if key not in rule.options:
                known = ", ".join(sorted(rule.options)) or "none"
                raise ConfigError(
                    f"{at(name, key)}: rules.{name}: unknown option {key!r}"
                    f"{did_you_mean(key, rule.options)} (options: {known})"
                )
            if not isinstance(value, type(rule.options[key])):
                raise ConfigError(
                    f"{at(name, key)}: rules.{name}.{key}: "
                    f"must be a {type(rule.options[key]).__name__}"
                )
            options[key] = value
        if rule.validate is not None:
            try:
                rule.validate(options)
            except OptionError as exc:
                head = exc.at.split(".")[0].split("[")[0]
                raise ConfigError(
                    f"{at(name, exc.at, head)}: rules.{name}.{exc.at}: {exc}"
                ) from None
        if select is not None and name not in select:
            continue
        if ignore and name in ignore:
            continue
        if enabled is False and not (select and name in select):
            continue
        out[name] = ActiveRule(rule, severity, options)
    return out
