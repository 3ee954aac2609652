"""Which rules run, with which severities and options (config, overrides, --select)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handbook_lint.checks.front_matter import TYPE_NAMES
from handbook_lint.checks.lists import STYLES
from handbook_lint.checks.registry import Rule, all_rules
from handbook_lint.checks.sections import parse_spec
from handbook_lint.config.settings import SEVERITIES, Config, ConfigError, did_you_mean


@dataclass
class ActiveRule:
    rule: Rule
    severity: str
    options: dict[str, Any]


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
            line = config.origins.get(f"rules.{name}", "").rpartition(":")[2]
            at = f"{where}:{line}" if line.isdigit() else where
            close = did_you_mean(name, rules)
            raise ConfigError(f"{at}: unknown rule {name!r}{close} (see 'handbook-lint rules')")
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
        enabled = settings.pop("enabled", rule.enabled)
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
                    f"{where}: rules.{name}: unknown option {key!r}"
                    f"{did_you_mean(key, rule.options)} (options: {known})"
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
