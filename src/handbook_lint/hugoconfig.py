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
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

NAMES = ("hugo", "config")
# libyaml's loader when PyYAML has it: a site config parses in a tenth of the time.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SUFFIXES = (".toml", ".yaml", ".yml", ".json")


class HugoConfigError(Exception):
    """A Hugo config file that does not parse; the message names the file."""


@dataclass
class HugoConfig:
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
    files = config_files(root, environment)
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
            return tomllib.loads(text)
        if path.suffix == ".json":
            return json.loads(text)
        return yaml.load(text, Loader=SAFE_LOADER) or {}
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, yaml.YAMLError, ValueError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
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
    source: str  # relative to the site root
    target: str  # "content", "content/docs", "static", ...
    lang: tuple[str, ...] = ()  # languages it is for (empty: all)
    files: tuple[str, ...] = ()  # Hugo's `files` filter


def mounts(config: HugoConfig) -> list[Mount]:
    out: list[Mount] = []
    for entry in config.get("module", "mounts", default=[]) or []:
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
        files = entry.get("files") or []
        files = [files] if isinstance(files, str) else [str(f) for f in files]
        out.append(Mount(source.strip("/"), target.strip("/"), tuple(langs), tuple(files)))
    return out


def linter_settings(config: HugoConfig, root: Path, language: str | None = None) -> dict[str, Any]:
    """What the Hugo config says, in the shape of the linter's config."""
    out: dict[str, Any] = {}
    hugo: dict[str, Any] = {}
    default_language = str(config.get("defaultcontentlanguage", default="en")).lower()
    language = (language or default_language).lower()
    languages = config.get("languages", default={}) or {}
    codes = [str(k).lower() for k in languages] if isinstance(languages, dict) else []
    in_subdir = bool(config.get("defaultcontentlanguageinsubdir", default=False))
    if len(codes) <= 1 and not in_subdir and language not in (default_language, *codes):
        raise HugoConfigError(
            f"no language {language!r} in the Hugo config (the site's one language: "
            f"{default_language})"
        )
    if len(codes) > 1 or in_subdir:
        hugo["languages"] = sorted(set(codes) | {default_language})
        if language not in hugo["languages"]:
            raise HugoConfigError(
                f"no language {language!r} in the Hugo config (languages: "
                f"{', '.join(hugo['languages'])})"
            )
        out["language"] = language
        hugo["root_language"] = "" if in_subdir else default_language
        if language != default_language or in_subdir:
            hugo["language_prefix"] = language
    base_url = config.get("baseurl")
    if isinstance(base_url, str) and base_url.strip():
        out["base_url"] = base_url.strip().rstrip("/")
    # Content: the mounts for this language (or all), else contentDir (per language).
    # (a content mount with no language is the default language's, as Hugo has it)
    content_mounts = [
        m
        for m in mounts(config)
        if m.target.split("/", 1)[0] == "content"
        and (language in m.lang if m.lang else language == default_language)
    ]
    if content_mounts:
        main = next((m for m in content_mounts if m.target == "content"), None)
        if main is not None:
            out["content_dir"] = main.source
        extra = [
            {"source": m.source, "target": m.target[len("content/") :]}
            | ({"files": list(m.files)} if m.files else {})
            for m in content_mounts
            if m is not main
        ]
        if extra:
            out["content_mounts"] = extra
    else:
        lang_conf = languages.get(language) if isinstance(languages, dict) else None
        content_dir = (lang_conf or {}).get("contentdir") if isinstance(lang_conf, dict) else None
        content_dir = content_dir or config.get("contentdir")
        if isinstance(content_dir, str) and content_dir.strip():
            out["content_dir"] = content_dir.strip().strip("/")
    static = config.get("staticdir")
    if isinstance(static, str):
        static = [static]
    static_mounts = [m.source for m in mounts(config) if m.target == "static"]
    if static_mounts or isinstance(static, list):
        out["static_dirs"] = static_mounts or [str(s) for s in static or []]
    asset_dir = config.get("assetdir")
    asset_mounts = [m.source for m in mounts(config) if m.target == "assets"]
    if asset_mounts or isinstance(asset_dir, str):
        out["assets_dir"] = asset_mounts[0] if asset_mounts else str(asset_dir).strip("/")
    taxonomies = config.get("taxonomies")
    if isinstance(taxonomies, dict):
        out["taxonomies"] = [str(v) for v in taxonomies.values() if isinstance(v, str)]
    if config.get("disablepathtolower") is not None:
        hugo["disable_path_to_lower"] = bool(config.get("disablepathtolower"))
    if isinstance(config.get("cascade"), (dict, list)):
        hugo["cascade"] = config.get("cascade")
    for flag in ("builddrafts", "buildfuture", "buildexpired"):
        if config.get(flag) is not None:
            hugo[
                {
                    "builddrafts": "build_drafts",
                    "buildfuture": "build_future",
                    "buildexpired": "build_expired",
                }[flag]
            ] = bool(config.get(flag))
    goldmark = config.get("markup", "goldmark", default={}) or {}
    parser = goldmark.get("parser", {}) if isinstance(goldmark, dict) else {}
    id_type = parser.get("autoidtype") or parser.get("autoheadingidtype")
    if isinstance(id_type, str) and id_type.lower() in ("github", "github-ascii", "blackfriday"):
        hugo["heading_ids"] = id_type.lower()
    if parser.get("autodefinitiontermid") is not None:
        hugo["definition_term_ids"] = bool(parser.get("autodefinitiontermid"))
    renderer = goldmark.get("renderer", {}) if isinstance(goldmark, dict) else {}
    hugo["raw_html"] = bool(renderer.get("unsafe", False))  # Hugo drops raw HTML by default
    extensions = goldmark.get("extensions", {}) if isinstance(goldmark, dict) else {}
    typographer = extensions.get("typographer", {})
    if isinstance(typographer, dict) and typographer.get("disable") is not None:
        hugo["typographer"] = not bool(typographer.get("disable"))
    if extensions.get("linkify") is not None:
        hugo["linkify"] = bool(extensions.get("linkify"))
    hooks = goldmark.get("renderhooks", {}) if isinstance(goldmark, dict) else {}
    link = hooks.get("link", {}) if isinstance(hooks, dict) else {}
    use = str(link.get("useembedded", "auto")).lower() if isinstance(link, dict) else "auto"
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


# Where each linter setting is read from in the Hugo config: key paths, the
# first the config has wins (its file is the setting's origin).
_GOLDMARK = ("markup", "goldmark")
_SOURCES: dict[str, tuple[tuple[str, ...], ...]] = {
    "base_url": (("baseurl",),),
    "language": (("defaultcontentlanguage",), ("languages",)),
    "content_dir": (("module", "mounts"), ("languages",), ("contentdir",)),
    "content_mounts": (("module", "mounts"),),
    "static_dirs": (("module", "mounts"), ("staticdir",)),
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


def _multilingual_single_host(config: HugoConfig, goldmark: Any) -> bool:
    languages = config.get("languages", default={}) or {}
    if not isinstance(languages, dict) or len(languages) < 2:
        return False
    if any(isinstance(v, dict) and v.get("baseurl") for v in languages.values()):
        return False  # each language on its own host
    return not (isinstance(goldmark, dict) and goldmark.get("duplicateresourcefiles"))


def _has_link_hook(root: Path, config: HugoConfig) -> bool:
    return _link_hook(root, config) is not None


def _link_hook(root: Path, config: HugoConfig) -> str | None:
    """The site's (or a theme's in its themes/ folder) link render hook, as a
    path relative to the root, or None."""
    themes = config.get("theme", default=[]) or []
    themes = [themes] if isinstance(themes, str) else [t for t in themes if isinstance(t, str)]
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
