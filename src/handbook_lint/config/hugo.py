"""The site's own Hugo configuration, read the way Hugo finds it, as linter settings.

Hugo reads `hugo.{toml,yaml,yml,json}` (or the older `config.*`) at the site
root, and `config/_default/`: a `hugo.*`/`config.*` there plus one file per
top-level key (`markup.toml` is the `markup` section; `languages.toml`,
`module.yaml`, ...). Keys are case-insensitive. An environment folder
(`config/production/`) is merged over `_default` only when asked for.

What the linter takes from it (and so needs nowhere else): the base URL, the
content dir of the language it lints (and the mounts that bring content in),
static and asset dirs, the taxonomies, lowercased paths, the site's cascades,
the build flags for drafts, future and expired pages, and the Goldmark
settings that change ids and links (id type, definition-term ids, raw HTML,
the typographer, linkify, the link render hook).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from handbook_lint.config import globs
from handbook_lint.yamlvalue import bad_value, unbounded

NAMES = ("hugo", "config")
# libyaml's loader when PyYAML has it: a site config parses in a tenth of the time.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _HugoYamlLoader(SAFE_LOADER):  # type: ignore[misc,valid-type]
    """YAML as Hugo reads it (1.2): `no`, `yes`, `on` and `off` are strings (a
    language `no` is Norwegian), only `true` and `false` are booleans."""


_BOOL = "tag:yaml.org,2002:bool"
_HugoYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in SAFE_LOADER.yaml_implicit_resolvers.items()
}
_HugoYamlLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
SUFFIXES = (".toml", ".yaml", ".yml", ".json")


class HugoConfigError(Exception):
    """A Hugo config file that does not parse; the message names the file."""


@dataclass
class HugoConfig:
    """Hugo's own configuration of the site, its files merged."""

    data: dict[str, Any]  # merged, keys lowercased
    files: list[str]  # what was read (relative to the site root), in order
    origins: dict[str, str] = field(default_factory=dict)  # top-level key -> file

    def get(self, *keys: str, default: Any = None) -> Any:
        """The value at a dotted path of lowercased keys."""
        node: Any = self.data
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return node


def config_files(root: Path, environment: str | None = None) -> list[Path]:
    """Hugo's config files of the site at `root`, lowest precedence first."""
    out: list[Path] = []
    for name in NAMES:
        found = [
            root / f"{name}{suffix}" for suffix in SUFFIXES if (root / f"{name}{suffix}").is_file()
        ]
        if found:
            out.append(found[0])
            break
    for folder in ("_default", *([environment] if environment else [])):
        directory = root / "config" / folder
        if directory.is_dir():
            files = sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file())
            # The main file first, then one file per top-level key.
            out += [p for p in files if p.stem in NAMES] + [p for p in files if p.stem not in NAMES]
    return out


def is_site_root(folder: Path) -> bool:
    """A folder holding a Hugo configuration: a `hugo.*` file or a
    `config/_default/` folder, or the older `config.*` beside a `content/`,
    `layouts/` or `themes/` folder (a lone config.yaml is too common to tell)."""
    if any((folder / f"hugo{suffix}").is_file() for suffix in SUFFIXES):
        return True
    if (folder / "config" / "_default").is_dir():
        return True
    return any((folder / f"config{suffix}").is_file() for suffix in SUFFIXES) and any(
        (folder / name).is_dir() for name in ("content", "layouts", "themes")
    )


def load(root: Path, environment: str | None = None) -> HugoConfig | None:
    """The merged Hugo config of the site at `root`, or None (no Hugo site: a lone
    `config.yaml` of some other tool is not read). `environment`: also
    `config/<environment>/` (else `$HUGO_ENVIRONMENT`'s, when set)."""
    if not is_site_root(root):
        return None
    files = config_files(root, environment or os.environ.get("HUGO_ENVIRONMENT") or None)
    if not files:
        return None
    data: dict[str, Any] = {}
    origins: dict[str, str] = {}
    shown: list[str] = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        shown.append(rel)
        loaded = _lower(_parse(path, rel))
        if not isinstance(loaded, dict):
            if rel.startswith("config.") and len(files) == 1:
                return None  # some other tool's config.yaml: not Hugo's (it needs a mapping)
            raise HugoConfigError(f"{rel}: the Hugo config must be a mapping")
        if path.stem not in NAMES:  # config/_default/markup.toml: the `markup` section
            key = path.stem.lower().split(".", 1)[0]
            loaded = {key: loaded}
        for key in loaded:
            origins[key] = rel
        data = _merge(data, loaded)
    return HugoConfig(data, shown, origins)


def _parse(path: Path, rel: str) -> Any:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HugoConfigError(f"{rel}: cannot read the Hugo config: {exc}") from None
    try:
        if path.suffix == ".toml":
            import tomllib  # (only a TOML config needs it)

            return tomllib.loads(text)
        if path.suffix == ".json":
            return json.loads(text)
        data = yaml.load(text, Loader=_HugoYamlLoader) or {}
        problem = unbounded(data)
        if problem:
            raise HugoConfigError(f"{rel}: the Hugo config {problem}")
        return data
    except HugoConfigError:
        raise
    except RecursionError:
        raise HugoConfigError(f"{rel}: the Hugo config does not parse: nested too deeply") from None
    except Exception as exc:  # (a parser or a YAML constructor: whatever it raises)
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if path.suffix not in (".toml", ".json") and not isinstance(exc, yaml.YAMLError):
            line, _ = bad_value(text, _HugoYamlLoader)
            problem = f"line {line}: {problem}" if line else problem
        raise HugoConfigError(f"{rel}: the Hugo config does not parse: {problem}") from None


def _lower(value: Any) -> Any:
    """Hugo's config keys are case-insensitive: lowercase every mapping key."""
    if isinstance(value, dict):
        return {str(k).lower(): _lower(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower(v) for v in value]
    return value


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# -- as linter settings ----------------------------------------------------------


@dataclass
class Mount:
    """One module mount of Hugo's configuration: a folder and where it is mounted."""

    source: str  # relative to the site root
    target: str  # "content", "content/docs", "static", ...
    lang: tuple[str, ...] = ()  # languages it is for (empty: all)
    files: tuple[str, ...] = ()  # Hugo's `files` filter


def mounts(config: HugoConfig) -> list[Mount]:
    """The config's `module.mounts`, as written (entries that are not mounts are
    skipped)."""
    out: list[Mount] = []
    entries = config.get("module", "mounts", default=[]) or []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        source, target = entry.get("source"), entry.get("target")
        if not isinstance(source, str) or not isinstance(target, str):
            continue
        langs: list[str] = []
        if isinstance(entry.get("lang"), str):
            langs.append(entry["lang"])
        matrix = entry.get("sites", {})
        if isinstance(matrix, dict) and isinstance(matrix.get("matrix"), dict):
            found = matrix["matrix"].get("languages", [])
            langs += [str(x) for x in (found if isinstance(found, list) else [found])]
        files = [*_strings(entry.get("files"))]
        # The older spellings, as Hugo maps them: inclusions, then exclusions.
        files += _strings(entry.get("includefiles"))
        files += ["! " + f for f in _strings(entry.get("excludefiles"))]
        out.append(Mount(_clean(source), _clean(target), tuple(langs), tuple(files)))
    return out


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int | float)]
    return []


def _clean(path: str) -> str:
    """A folder as written in a Hugo config (`./content/`) as the linter keeps it."""
    cleaned = posixpath.normpath(path.strip() or ".").strip("/")
    return "" if cleaned == "." else cleaned


def for_language(mount: Mount, language: str, default_language: str) -> bool:
    """The mount serves `language`: its language globs (`! de` excludes) match,
    or it has none and the language is the default one (Hugo gives content
    with no language to the default language)."""
    if not mount.lang:
        return language == default_language
    include = [g for g in mount.lang if not g.startswith("! ")]
    exclude = [g[2:] for g in mount.lang if g.startswith("! ")]
    if any(globs.matches(language, g) for g in exclude):
        return False
    return not include or any(globs.matches(language, g) for g in include)


def _flag(value: object) -> bool:
    """A config boolean as Hugo casts it (a string "false" is false)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true")
    return bool(value)


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def default_language(config: HugoConfig) -> str:
    """`defaultContentLanguage`, or when unset `en`, or (no `en` among the site's
    languages) the first language by weight, as Hugo picks it."""
    set_to = config.get("defaultcontentlanguage")
    if isinstance(set_to, str) and set_to.strip():
        return set_to.strip().lower()
    languages = _mapping(config.get("languages"))
    if not languages or "en" in languages:
        return "en"

    def weight(item: tuple[str, Any]) -> tuple[float, str]:
        found = _mapping(item[1]).get("weight")
        return (found if isinstance(found, int | float) and found > 0 else float("inf"), item[0])

    return str(min(languages.items(), key=weight)[0]).lower()


def linter_settings(config: HugoConfig, root: Path, language: str | None = None) -> dict[str, Any]:
    """What the Hugo config says, in the shape of the linter's config."""
    out: dict[str, Any] = {}
    hugo: dict[str, Any] = {}
    default = default_language(config)
    language = (language or default).lower()
    languages = _mapping(config.get("languages"))
    codes = [str(k).lower() for k in languages]
    in_subdir = _flag(config.get("defaultcontentlanguageinsubdir", default=False))
    if len(codes) <= 1 and not in_subdir and language not in (default, *codes):
        raise HugoConfigError(
            f"no language {language!r} in the Hugo config (the site's one language: {default})"
        )
    if len(codes) > 1 or in_subdir:
        hugo["languages"] = sorted(set(codes) | {default})
        if language not in hugo["languages"]:
            raise HugoConfigError(
                f"no language {language!r} in the Hugo config (languages: "
                f"{', '.join(hugo['languages'])})"
            )
        out["language"] = language
        hugo["root_language"] = "" if in_subdir else default
        if language != default or in_subdir:
            hugo["language_prefix"] = language
    base_url = config.get("baseurl")
    if isinstance(base_url, str) and base_url.strip():
        out["base_url"] = base_url.strip().rstrip("/")
    title = config.get("title")
    if isinstance(title, str) and title.strip():
        out["report"] = {"site_name": title.strip()}
    # Content: the mounts for this language, else contentDir (per language). Once
    # a site declares content mounts, Hugo's default one (contentDir) is gone.
    all_content = [m for m in mounts(config) if m.target.split("/", 1)[0] == "content"]
    content_mounts = [m for m in all_content if for_language(m, language, default)]
    if all_content:
        main = next((m for m in content_mounts if m.target == "content"), None)
        if main is not None:
            out["content_dir"] = main.source or "."
        else:
            out["content_dir_mounted"] = False
        extra = [
            {"source": m.source, "target": m.target[len("content/") :]}
            | ({"files": list(m.files)} if m.files else {})
            for m in content_mounts
            if m is not main
        ]
        if extra:
            out["content_mounts"] = extra
    else:
        lang_conf = _mapping(languages.get(language))
        content_dir = lang_conf.get("contentdir") or config.get("contentdir")
        if isinstance(content_dir, str) and content_dir.strip():
            out["content_dir"] = _clean(content_dir) or "."
    static = config.get("staticdir")
    if isinstance(static, str):
        static = [static]
    static_mounts = [m for m in mounts(config) if m.target.split("/", 1)[0] == "static"]
    if static_mounts or isinstance(static, list):
        at_root = [m.source for m in static_mounts if m.target == "static"]
        out["static_dirs"] = at_root if static_mounts else [_clean(str(x)) for x in static or []]
    below = [
        {"source": m.source, "target": m.target[len("static/") :]}
        for m in static_mounts
        if m.target != "static"
    ]
    if below:
        out["static_mounts"] = below
    asset_dir = config.get("assetdir")
    asset_mounts = [m.source for m in mounts(config) if m.target == "assets"]
    if asset_mounts or isinstance(asset_dir, str):
        out["assets_dir"] = asset_mounts[0] if asset_mounts else _clean(str(asset_dir))
    taxonomies = config.get("taxonomies")
    if isinstance(taxonomies, dict):
        out["taxonomies"] = [str(v) for v in taxonomies.values() if isinstance(v, str)]
    if config.get("disablepathtolower") is not None:
        hugo["disable_path_to_lower"] = _flag(config.get("disablepathtolower"))
    cascade = config.get("cascade")
    if isinstance(cascade, dict | list):
        hugo["cascade"] = [
            entry
            for entry in ([cascade] if isinstance(cascade, dict) else cascade)
            if isinstance(entry, dict) and _targets_language(entry, language, default)
        ]
    for flag, name in (
        ("builddrafts", "build_drafts"),
        ("buildfuture", "build_future"),
        ("buildexpired", "build_expired"),
    ):
        if config.get(flag) is not None:
            hugo[name] = _flag(config.get(flag))
    goldmark = _mapping(config.get("markup", "goldmark"))
    parser = _mapping(goldmark.get("parser"))
    id_type = parser.get("autoidtype") or parser.get("autoheadingidtype")
    if isinstance(id_type, str) and id_type.lower() in ("github", "github-ascii", "blackfriday"):
        hugo["heading_ids"] = id_type.lower()
    if parser.get("autodefinitiontermid") is not None:
        hugo["definition_term_ids"] = _flag(parser.get("autodefinitiontermid"))
    renderer = _mapping(goldmark.get("renderer"))
    hugo["raw_html"] = _flag(renderer.get("unsafe", False))  # Hugo drops raw HTML by default
    extensions = _mapping(goldmark.get("extensions"))
    typographer = _mapping(extensions.get("typographer"))
    if typographer.get("disable") is not None:
        hugo["typographer"] = not _flag(typographer.get("disable"))
    if extensions.get("linkify") is not None:
        hugo["linkify"] = _flag(extensions.get("linkify"))
    link = _mapping(_mapping(goldmark.get("renderhooks")).get("link"))
    use = str(link.get("useembedded", "auto")).lower()
    if use == "auto" and _multilingual_single_host(config, goldmark):
        use = "fallback"  # what Hugo makes of `auto` on such a site
    if _has_link_hook(root, config):
        hugo["link_render_hook"], hugo["embedded_link_hook"] = True, use == "always"
    elif use in ("always", "fallback"):
        hugo["link_render_hook"], hugo["embedded_link_hook"] = True, True
    # Otherwise no hook is in sight; one may come from a theme or module the
    # checkout does not hold, so the linter's own setting (default: none) stands.
    # With neither, there is no hook: a link to a `.md` file stays one (a 404).
    themed = config.get("theme") or config.get("module", "imports")
    hugo["layouts_known"] = not themed
    if hugo:
        out["hugo"] = hugo
    return out


def _targets_language(entry: dict[str, Any], language: str, default: str) -> bool:
    """A site cascade entry applies to the language linted (its target's `lang`
    or `sites.matrix.languages`, if it names any)."""
    target = _mapping(entry.get("target") or entry.get("_target"))
    langs = _strings(target.get("lang"))
    matrix = _mapping(_mapping(target.get("sites")).get("matrix"))
    langs += _strings(matrix.get("languages"))
    if not langs:
        return True
    return for_language(Mount("", "", tuple(langs)), language, default)


# Where each linter setting is read from in the Hugo config: key paths, the
# first the config has wins (its file is the setting's origin).
_GOLDMARK = ("markup", "goldmark")
_SOURCES: dict[str, tuple[tuple[str, ...], ...]] = {
    "base_url": (("baseurl",),),
    "report.site_name": (("title",),),
    "language": (("defaultcontentlanguage",), ("languages",)),
    "content_dir": (("module", "mounts"), ("languages",), ("contentdir",)),
    "content_mounts": (("module", "mounts"),),
    "static_dirs": (("module", "mounts"), ("staticdir",)),
    "static_mounts": (("module", "mounts"),),
    "assets_dir": (("module", "mounts"), ("assetdir",)),
    "taxonomies": (("taxonomies",),),
    "hugo.disable_path_to_lower": (("disablepathtolower",),),
    "hugo.cascade": (("cascade",),),
    "hugo.build_drafts": (("builddrafts",),),
    "hugo.build_future": (("buildfuture",),),
    "hugo.build_expired": (("buildexpired",),),
    "hugo.languages": (("languages",),),
    "hugo.language_prefix": (("defaultcontentlanguageinsubdir",), ("languages",)),
    "hugo.root_language": (("defaultcontentlanguageinsubdir",), ("defaultcontentlanguage",)),
    "hugo.heading_ids": (
        (*_GOLDMARK, "parser", "autoheadingidtype"),
        (*_GOLDMARK, "parser", "autoidtype"),
    ),
    "hugo.definition_term_ids": ((*_GOLDMARK, "parser", "autodefinitiontermid"),),
    "hugo.raw_html": ((*_GOLDMARK, "renderer", "unsafe"),),
    "hugo.typographer": ((*_GOLDMARK, "extensions", "typographer"),),
    "hugo.linkify": ((*_GOLDMARK, "extensions", "linkify"),),
    "hugo.link_render_hook": ((*_GOLDMARK, "renderhooks", "link"), ("languages",)),
    "hugo.embedded_link_hook": ((*_GOLDMARK, "renderhooks", "link"), ("languages",)),
    "hugo.layouts_known": (("theme",), ("module", "imports")),
}


def origin_of(config: HugoConfig, setting: str, root: Path) -> str:
    """Where a linter setting read from the Hugo config came from: the file that
    says it, the site's own link render hook, or Hugo's default."""
    if setting in ("hugo.link_render_hook", "hugo.embedded_link_hook"):
        hook = _link_hook(root, config)
        if hook is not None:
            return hook
    for path in _SOURCES.get(setting, ()):
        if config.get(*path) is not None:
            return f"Hugo config {config.origins.get(path[0], ', '.join(config.files))}"
    return "Hugo's default"


def unmodelled(config: HugoConfig) -> list[str]:
    """Settings of the Hugo config that change URLs in ways the linter does not
    follow (its URLs, and so its link findings, may differ there)."""
    out = []
    if config.get("permalinks"):
        out.append("permalinks")
    if config.get("uglyurls"):
        out.append("uglyURLs")
    languages = config.get("languages", default={}) or {}
    if isinstance(languages, dict) and any(
        isinstance(v, dict) and v.get("baseurl") for v in languages.values()
    ):
        out.append("a baseURL per language")
    return out


def _multilingual_single_host(config: HugoConfig, goldmark: dict[str, Any]) -> bool:
    languages = _mapping(config.get("languages"))
    if len(languages) < 2:
        return False
    if any(_mapping(v).get("baseurl") for v in languages.values()):
        return False  # each language on its own host
    return not _flag(goldmark.get("duplicateresourcefiles", False))


def _has_link_hook(root: Path, config: HugoConfig) -> bool:
    return _link_hook(root, config) is not None


def _link_hook(root: Path, config: HugoConfig) -> str | None:
    """The site's (or a theme's in its themes/ folder) link render hook, as a
    path relative to the root, or None."""
    themes = _strings(config.get("theme"))
    themes_dir = str(config.get("themesdir") or "themes")
    bases: list[Path] = [root, *(root / themes_dir / t for t in themes)]
    for base in bases:
        for folder in ("layouts/_markup", "layouts/_default/_markup"):
            directory = base / folder
            if not directory.is_dir():
                continue
            for path in sorted(directory.iterdir()):
                if path.name.startswith("render-link."):
                    return path.relative_to(root).as_posix()
    return None
