"""Loading and validating `.handbook-lint.yaml` (with `extends:` presets)."""

from __future__ import annotations

import copy
import functools
import importlib.util
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from handbook_lint.config import globs, hugo
from handbook_lint.external.settings import ExternalConfigError, ExternalSettings, parse_external
from handbook_lint.yamlvalue import bad_value, unbounded

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

CONFIG_NAME = ".handbook-lint.yaml"
SEVERITIES = ("error", "warning", "info")


class ConfigError(Exception):
    """A config problem; the message names the file and the key."""


# The settings a config may hold, with their defaults (a standard Hugo site).
DEFAULTS: dict[str, Any] = {
    # Read the site's Hugo configuration (hugo.toml, config/_default/, ...): what
    # it says overrides the defaults and the preset; this file overrides it.
    "hugo_config": True,
    "hugo_environment": "",  # also config/<environment>/ (e.g. production)
    "language": "",  # the language to lint (default: Hugo's defaultContentLanguage)
    "content_dir": "content",
    # More content mounted into the site: [{source: docs/api, target: api}]
    "content_mounts": [],
    # false: the content dir is not part of the site, only content_mounts are
    # (Hugo drops its default content mount once a site declares its own)
    "content_dir_mounted": True,
    "static_dirs": ["static"],
    # Static files served below the root: [{source: pics, target: img}] (/img/...)
    "static_mounts": [],
    "assets_dir": "assets",
    "base_url": "",
    "exclude": [],
    "cache_dir": ".handbook-lint-cache",
    "external": {},
    "taxonomies": ["tags", "categories"],
    # Files of Netlify-style redirects the site serves (missing ones are ignored).
    "redirects": ["static/_redirects", "layouts/index.redirects"],
    # GitLab's CODEOWNERS file, relative to the site root ("": where GitLab looks,
    # CODEOWNERS, docs/CODEOWNERS or .gitlab/CODEOWNERS, in the site root or the
    # top of the git repository holding it).
    "codeowners": "",
    "hugo": {
        "heading_ids": "github",
        "heading_text": "plain",
        "disable_path_to_lower": False,
        "definition_term_ids": False,
        "link_render_hook": False,
        # The link render hook is Hugo's embedded one (its quirks apply).
        "embedded_link_hook": False,
        "raw_html": True,  # markup.goldmark.renderer.unsafe (raw HTML is rendered)
        # Every layout the site renders with is in this checkout (no theme, no
        # module): with no link render hook there, `.md` links stay as written.
        "layouts_known": False,
        "typographer": True,
        "linkify": True,
        "build_drafts": False,
        "build_future": False,
        "build_expired": False,
        # The site config's `cascade` (front matter cascades are read from pages).
        "cascade": [],
        # A multilingual site's language codes, and the URL prefix (`es`: /es/...)
        # of the language linted (Hugo's defaultContentLanguageInSubdir, or not
        # the default language).
        "languages": [],
        "language_prefix": "",
        "root_language": "",  # the language served at / ("": every one in its folder)
    },
    "includes": {
        # Where include targets are looked up; empty: the assets dir, then the
        # content dir (a page path, as Hugo's GetPage finds it).
        "roots": [],
        "relative_to_page": True,
        # Folders looked in from the page's folder up to the top of the content
        # (Docsy-style sites keep snippets in `_includes/` near their pages).
        "folders": [],
    },
    "rules": {},
    "overrides": [],
    # What reports link to and call the site (the HTML and Markdown reports,
    # SARIF's helpUri, the Code Quality body).
    "report": {
        # The repository's web URL: source links to each finding's line
        # (GitLab's /-/blob/ or, for github.com, /blob/). Default in GitLab CI:
        # CI_PROJECT_URL; in GitHub Actions: GITHUB_SERVER_URL/GITHUB_REPOSITORY.
        "repo_url": "",
        "branch": "",  # the ref in source links (default: the commit linted)
        # Rule documentation: a URL with {rule} (default: docs/rules.md of the
        # installed handbook-lint, when pip installed it from a git URL or a folder)
        "docs_url": "",
        "site_name": "",  # default: the Hugo config's title, else the folder's name
    },
}

_CHOICES = {
    ("hugo", "heading_ids"): ("github", "github-ascii", "blackfriday"),
    ("hugo", "heading_text"): ("plain", "source"),
}


@dataclass(frozen=True)
class Mount:
    """More content mounted into the site (Hugo's module.mounts): a folder or a
    file `source` (relative to the root) at `target` in the content tree."""

    source: str
    target: str
    files: tuple[str, ...] = ()  # Hugo's `files` filter: globs, `! glob` excludes

    def admits(self, inner: str) -> bool:
        """A file at `inner` (relative to the source) passes the `files` filter."""
        if not self.files:
            return True
        return globs.files_filter(self.files).admits(inner)


@dataclass
class Config:
    """handbook-lint's configuration of a site: its files merged, presets applied."""

    root: Path
    source: Path | None  # the config file, None when running on defaults
    content_dir: str
    static_dirs: list[str]
    base_url: str
    exclude: list[str]
    heading_ids: str
    heading_text: str
    disable_path_to_lower: bool
    definition_term_ids: bool
    link_render_hook: bool
    embedded_link_hook: bool
    taxonomies: list[str]
    redirects: list[str]
    include_roots: list[str]
    include_relative_to_page: bool
    include_folders: list[str] = field(default_factory=list)  # searched up from the page
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # raw per-rule settings
    # per-path rule settings: (globs, rule settings), later entries win
    overrides: list[tuple[list[str], dict[str, dict[str, Any]]]] = field(default_factory=list)
    cache_dir: str = ".handbook-lint-cache"
    external_enabled: bool = False
    external_settings: ExternalSettings = field(default_factory=ExternalSettings)
    content_mounts: list[Mount] = field(default_factory=list)
    content_dir_mounted: bool = True
    static_mounts: list[tuple[str, str]] = field(default_factory=list)  # (source, URL path)
    assets_dir: str = "assets"
    hugo_files: list[str] = field(default_factory=list)  # the Hugo config files read
    # Hugo settings that change URLs in ways the linter does not follow.
    hugo_unmodelled: list[str] = field(default_factory=list)
    raw_html: bool = True
    typographer: bool = True
    linkify: bool = True
    build_flags: tuple[bool, bool, bool] = (False, False, False)  # drafts, future, expired
    cascade: list[dict[str, Any]] = field(default_factory=list)  # the site config's
    language: str = ""  # the language linted (a multilingual site's)
    layouts_known: bool = False  # no theme or module brings layouts of its own
    languages: list[str] = field(default_factory=list)  # a multilingual site's
    language_prefix: str = ""  # "/es" when the language linted has one in its URLs
    root_language: str = ""  # the language served at /, if any
    # The merged settings as written, and where each came from (dotted key ->
    # "default", "preset NAME" or "FILE:LINE"), for `handbook-lint config`.
    merged: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    origins: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # The config file's own keys (dotted) -> 1-based line, for its errors.
    key_lines: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    extends: str | None = None
    report: dict[str, str] = field(default_factory=dict)  # the `report` settings
    codeowners: str = ""  # the CODEOWNERS file ("": looked for)


@functools.cache
def _presets() -> Traversable:
    """The folder of the presets (the package handbook_lint.presets: rules/ of
    the source tree, which an editable install maps there). Found by its spec,
    as importlib.resources would, without importing that (with tempfile, shutil
    and zipfile: 8 ms a run)."""
    spec = importlib.util.find_spec("handbook_lint.presets")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if locations and Path(locations[0]).is_dir():
        return Path(locations[0])
    from importlib import resources  # (an install that is not folders: a zip)

    return resources.files("handbook_lint.presets")


def preset_names() -> list[str]:
    return sorted(p.name[:-5] for p in _presets().iterdir() if p.name.endswith(".yaml"))


def _load_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=hugo.SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}{line}: invalid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{where}: invalid YAML: nested too deeply") from None
    except Exception as exc:  # (PyYAML's constructors raise what they meet)
        # Values that look typed but are not (`0x_`, `2024-13-45`, `!!bool
        # maybe`): ValueError, KeyError, ... Name the value and its line.
        number, value = bad_value(text, hugo.SAFE_LOADER)
        at = f":{number}" if number else ""
        shown = f" {value!r}" if value is not None else ""
        raise ConfigError(
            f"{where}{at}: invalid YAML: cannot read the value{shown} ({exc})"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the config must be a mapping of settings")
    problem = unbounded(data)
    if problem:
        raise ConfigError(f"{where}: the config {problem}")
    return data


def key_lines(text: str) -> dict[str, int]:
    """Dotted key path -> 1-based line, for the mappings of a YAML text (empty
    when it does not parse)."""
    out: dict[str, int] = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return out

    seen: set[int] = set()

    def walk(node: yaml.Node | None, prefix: str) -> None:
        if not isinstance(node, yaml.MappingNode) or id(node) in seen:
            return  # (an alias of a mapping already walked: no loop, no bomb)
        seen.add(id(node))
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                name = f"{prefix}{key.value}"
                if name in out:  # (a key written twice: YAML keeps the last)
                    for old in [k for k in out if k == name or k.startswith(name + ".")]:
                        del out[old]
                out[name] = key.start_mark.line + 1
                walk(value, name + ".")

    walk(node, "")
    return out


def load_preset(name: str, where: str) -> dict[str, Any]:
    if name not in preset_names():
        raise ConfigError(
            f"{where}: extends: unknown preset {name!r} (known: {', '.join(preset_names())})"
        )
    text = (_presets() / f"{name}.yaml").read_text("utf-8")
    data = _load_yaml(text, f"preset {name}")
    if "extends" in data:
        base = load_preset(str(data.pop("extends")), f"preset {name}")
        data = merge(base, data)
    return data


def merge(
    base: dict[str, Any],
    over: dict[str, Any],
    origins: dict[str, str] | None = None,
    origin: str = "",
    prefix: str = "",
) -> dict[str, Any]:
    """Deep-merge mappings; lists and scalars in `over` replace those in `base`.
    `origins` (dotted key -> where it was set) records what `over` set."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value, origins, origin, name + ".")
        else:
            out[key] = copy.deepcopy(value)
            if origins is not None:
                for old in [k for k in origins if k.startswith(name + ".")]:
                    del origins[old]
                origins[name] = origin
    return out


def find_config(start: Path) -> Path | None:
    """The config of the site `start` belongs to: the first `.handbook-lint.yaml`
    in its folder or above. `start` need not exist (a deleted file): the search
    starts at its nearest existing folder."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    for candidate in [folder, *folder.parents]:
        found = candidate / CONFIG_NAME
        if found.is_file():
            return found
    return None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest of `known`, or ""."""
    from handbook_lint.site.suggest import closest  # (rapidfuzz only when asked)

    close = closest(word, known, cutoff=0.6)
    return f" (did you mean {close!r}?)" if close else ""


def located(where: str, lines: Mapping[str, int], *keys: str) -> str:
    """`where` with the line of the first of the dotted `keys` that `lines` (a
    config file's own keys, `key_lines`) has; `where` alone when none."""
    for key in keys:
        line = lines.get(key)
        if line is not None:
            return f"{where}:{line}"
    return where


def _check_shape(
    data: dict[str, Any], schema: dict[str, Any], where: str, prefix: str, lines: dict[str, int]
) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        at = located(where, lines, name)
        if key not in schema:
            known = ", ".join(sorted(schema))
            raise ConfigError(
                f"{at}: unknown key {name!r}{did_you_mean(str(key), schema)} (known keys: {known})"
            )
        expected = schema[key]
        if key == "rules" and not prefix:
            if not isinstance(value, dict):
                raise ConfigError(f"{at}: {name!r} must be a mapping of rule names")
            continue
        if key == "overrides" and not prefix:
            _check_overrides(value, at)
            continue
        if key == "external" and not prefix:
            if not isinstance(value, dict):
                raise ConfigError(f"{at}: 'external' must be a mapping")
            continue
        if name == "hugo.cascade":
            if not isinstance(value, (dict, list)):
                raise ConfigError(f"{at}: 'hugo.cascade' must be a mapping or a list of them")
            continue
        if key == "static_mounts" and not prefix:
            if not isinstance(value, list) or not all(
                _is_mount(m) and "files" not in m for m in value
            ):
                raise ConfigError(f"{at}: 'static_mounts' must be a list of {{source:, target:}}")
            continue
        if key == "content_mounts" and not prefix:
            if not isinstance(value, list) or not all(_is_mount(m) for m in value):
                raise ConfigError(
                    f"{at}: 'content_mounts' must be a list of {{source:, target:}} "
                    "(with `files:`, a list of globs, if wanted)"
                )
            continue
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{at}: {name!r} must be a mapping")
            _check_shape(value, expected, where, f"{name}.", lines)
        elif isinstance(expected, list):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{at}: {name!r} must be a list of strings")
        elif isinstance(expected, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{at}: {name!r} must be true or false")
        elif isinstance(expected, str):
            if not isinstance(value, str):
                raise ConfigError(f"{at}: {name!r} must be a string")
            choices = _CHOICES.get(tuple(name.split(".")))  # type: ignore[arg-type]
            if choices and value not in choices:
                raise ConfigError(f"{at}: {name!r} must be one of {', '.join(choices)}")


def load_config(
    path: Path | None, cwd: Path | None = None, given: dict[str, Any] | None = None
) -> Config:
    """Load the config at `path`, or the one found upward from `cwd`, or the
    defaults; `given`: settings from the command line (`--lang`), over all."""
    cwd = cwd or Path.cwd()
    if path is None:
        path = find_config(cwd)
    if path is None:
        return load_config_text(None, cwd.resolve(), given=given)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"{path}: cannot read the config: {reason}") from None
    return load_config_text(text, path.parent.resolve(), path, given)


def load_config_text(
    text: str | None,
    root: Path,
    source: Path | None = None,
    given: dict[str, Any] | None = None,
) -> Config:
    """A config from its text (None: no config file, the defaults) for the site at `root`."""
    where = str(source) if source is not None else "defaults"
    data = _load_yaml(text, where) if text is not None else {}
    lines = key_lines(text) if text is not None else {}
    extends = data.pop("extends", None)
    if extends is not None and not isinstance(extends, str):
        raise ConfigError(f"{where}: 'extends' must be a preset name")
    _check_shape(data, DEFAULTS, where, "", lines)
    origins: dict[str, str] = {}
    merged = merge({}, DEFAULTS, origins, "default")
    if extends:
        merged = merge(merged, load_preset(extends, where), origins, f"preset {extends}")
    shown = source.name if source is not None else where
    hugo_files: list[str] = []
    unmodelled: list[str] = []
    if data.get("hugo_config", merged["hugo_config"]):
        environment = data.get("hugo_environment", merged["hugo_environment"]) or None
        language = (given or {}).get("language") or data.get("language", merged["language"]) or None
        try:
            found = hugo.load(root, environment)
            settings = hugo.linter_settings(found, root, language) if found else {}
        except hugo.HugoConfigError as exc:
            raise ConfigError(str(exc)) from None
        if found is not None:
            hugo_files = found.files
            unmodelled = hugo.unmodelled(found)
            before = dict(origins)
            merged = merge(merged, settings, origins, "Hugo config")
            for name, origin in origins.items():
                if origin == "Hugo config" and before.get(name) != origin:
                    origins[name] = hugo.origin_of(found, name, root)
    merged = merge(merged, data, origins, shown)
    if given:
        merged = merge(merged, given, origins, "command line")
    for name, origin in origins.items():
        if origin == shown and name in lines:
            origins[name] = f"{shown}:{lines[name]}"
    rules = _normalise_rules(merged["rules"], where, lines)
    overrides = [
        (
            [folder_glob(f) for f in o["files"]],
            _normalise_rules(o.get("rules", {}), f"{where}: overrides[{i}]", {}),
        )
        for i, o in enumerate(merged["overrides"])
    ]
    try:
        external_enabled, external_settings = parse_external(merged["external"])
    except ExternalConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    content_dir = merged["content_dir"].strip("/") or "."
    assets_dir = merged["assets_dir"].strip("/") or "assets"
    include_roots = list(merged["includes"]["roots"]) or [assets_dir, content_dir]
    return Config(
        root=root,
        source=source,
        content_dir=content_dir,
        content_mounts=[
            Mount(m["source"].strip("/"), m["target"].strip("/"), tuple(m.get("files", [])))
            for m in merged["content_mounts"]
        ],
        content_dir_mounted=merged["content_dir_mounted"],
        static_mounts=[
            (m["source"].strip("/"), m["target"].strip("/")) for m in merged["static_mounts"]
        ],
        assets_dir=assets_dir,
        hugo_files=hugo_files,
        hugo_unmodelled=unmodelled,
        raw_html=merged["hugo"]["raw_html"],
        layouts_known=merged["hugo"]["layouts_known"],
        typographer=merged["hugo"]["typographer"],
        linkify=merged["hugo"]["linkify"],
        build_flags=(
            merged["hugo"]["build_drafts"],
            merged["hugo"]["build_future"],
            merged["hugo"]["build_expired"],
        ),
        cascade=cascade_entries(merged["hugo"]["cascade"]),
        language=str(merged["language"]).lower(),
        root_language=str(merged["hugo"]["root_language"]).lower(),
        languages=[str(code).lower() for code in merged["hugo"]["languages"]],
        language_prefix=(
            "/" + merged["hugo"]["language_prefix"].strip("/").lower()
            if merged["hugo"]["language_prefix"].strip("/")
            else ""
        ),
        static_dirs=list(merged["static_dirs"]),
        base_url=merged["base_url"].rstrip("/"),
        exclude=[folder_glob(p) for p in merged["exclude"]],
        heading_ids=merged["hugo"]["heading_ids"],
        heading_text=merged["hugo"]["heading_text"],
        disable_path_to_lower=merged["hugo"]["disable_path_to_lower"],
        definition_term_ids=merged["hugo"]["definition_term_ids"],
        link_render_hook=merged["hugo"]["link_render_hook"],
        embedded_link_hook=merged["hugo"]["embedded_link_hook"],
        taxonomies=list(merged["taxonomies"]),
        redirects=list(merged["redirects"]),
        codeowners=str(merged["codeowners"]).strip(),
        include_roots=include_roots,
        include_relative_to_page=merged["includes"]["relative_to_page"],
        include_folders=[str(f).strip("/") for f in merged["includes"]["folders"]],
        rules=rules,
        overrides=overrides,
        cache_dir=merged["cache_dir"],
        external_enabled=external_enabled,
        external_settings=external_settings,
        merged=merged,
        origins=origins,
        key_lines=lines,
        extends=extends,
        report={k: str(v) for k, v in merged["report"].items()},
    )


def _is_mount(m: object) -> bool:
    return (
        isinstance(m, dict)
        and {"source", "target"} <= set(m) <= {"source", "target", "files"}
        and isinstance(m["source"], str)
        and isinstance(m["target"], str)
        and isinstance(m.get("files", []), list)
        and all(isinstance(f, str) for f in m.get("files", []))
    )


def folder_glob(pattern: str) -> str:
    """A path glob as written in the config: one ending in `/` is a folder, and
    stands for everything below it (as in .gitignore)."""
    return pattern + "**" if pattern.endswith("/") and pattern != "/" else pattern


def cascade_entries(value: object) -> list[dict[str, Any]]:
    """A `cascade` (one mapping or a list of them) as a list of mappings."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _check_overrides(value: object, where: str) -> None:
    if not isinstance(value, list):
        raise ConfigError(
            f"{where}: 'overrides' must be a list of {{files: [...], rules: {{...}}}}"
        )
    for i, entry in enumerate(value):
        name = f"overrides[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: {name!r} must be a mapping")
        for key in entry:
            if key not in ("files", "rules"):
                raise ConfigError(f"{where}: unknown key '{name}.{key}' (keys: files, rules)")
        files = entry.get("files")
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            raise ConfigError(f"{where}: '{name}.files' must be a list of path globs")
        if not isinstance(entry.get("rules", {}), dict):
            raise ConfigError(f"{where}: '{name}.rules' must be a mapping of rule names")


def _normalise_rules(
    raw: dict[str, Any], where: str, lines: Mapping[str, int]
) -> dict[str, dict[str, Any]]:
    """`RULE: off | on | error | warning | info | {severity:, enabled:, option: ...}`.
    Naming a severity turns on a rule that is off by default. An error names
    the rule's line when `lines` (the config file's keys) has it."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        at = located(where, lines, f"rules.{name}")
        if value is False or value == "off":
            out[name] = {"enabled": False}
        elif value is True or value == "on":
            out[name] = {"enabled": True}
        elif isinstance(value, str):
            if value not in SEVERITIES:
                raise ConfigError(
                    f"{at}: rules.{name}: {value!r} is not one of off, on, "
                    f"{', '.join(SEVERITIES)} or a mapping of options"
                )
            out[name] = {"severity": value, "enabled": True}
        elif isinstance(value, dict):
            out[name] = dict(value)
            if "severity" in value:
                out[name].setdefault("enabled", True)
        else:
            raise ConfigError(f"{at}: rules.{name}: expected off, a severity or a mapping")
    return out
