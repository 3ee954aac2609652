"""The Hugo site model: which files are pages, their URLs, aliases, snippets,
include roots and static dirs."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from handbook_lint.config import globs
from handbook_lint.config.settings import Config, Mount, cascade_entries
from handbook_lint.parsing.dates import date_value
from handbook_lint.parsing.facts import PageSummary
from handbook_lint.parsing.markdown import read_capped
from handbook_lint.site import codeowners as owners_file
from handbook_lint.site.includes import INCLUDE, Event, expand
from handbook_lint.site.inventory import (
    file_size,
    list_files,
    repository_top,
    start_listing,
    walked,
)
from handbook_lint.site.overlay import Overlay
from handbook_lint.site.redirects import Redirect, Redirects, parse_redirects
from handbook_lint.walk import Listings, walk

MARKDOWN_SUFFIXES = (".md", ".markdown")


@dataclass
class Page:
    """A content file as Hugo has it: its URL, aliases, and whether it renders."""

    path: str  # relative to the site root, forward slashes
    url: str = ""
    aliases: list[str] = field(default_factory=list)
    summary: PageSummary | None = None  # None: the file could not be read
    why: str | None = None  # why Hugo does not render it; None: it renders
    built: bool = True  # False: Hugo leaves it out of the build (a draft, future, expired)

    @property
    def snippet(self) -> bool:
        """Not rendered by Hugo: an include file, headless, never rendered, a
        draft, not yet published or expired. Not a page anyone can link to."""
        return self.why is not None


@dataclass
class Discovery:
    """The files a walk of the site found, and what it could not read."""

    files: list[str]  # markdown files, relative to the root
    problems: list[tuple[str, str]]  # (path, message): unreadable folders, missing paths
    resources: list[str] = field(default_factory=list)  # other files, as site paths


def glob_regex(pattern: str) -> re.Pattern[str]:
    return _glob_regex(pattern)


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """The linter's own globs (`exclude`, `overrides`, `skip_pages`): Hugo's glob
    syntax (`*`, `?`, `**`, `{a,b}`, `[ab]`), case-sensitive, where `**/` also
    matches no folder at all."""
    return re.compile(globs.translate(pattern, optional_folders=True) + r"\Z", re.DOTALL)


def matches_any(path: str, patterns: list[str]) -> bool:
    return any(glob_regex(p).match(path) for p in patterns)


def walk_markdown(
    root: Path,
    folder: Path,
    problems: list[tuple[str, str]],
    others: list[str] | None = None,
    listings: Listings | None = None,
    visited: list[str] | None = None,
) -> list[str]:
    """Markdown files under `folder`, relative to `root`, sorted; symlinked
    folders are not followed (no loops), hidden ones are skipped, unreadable
    folders are reported.
    Other files go to `others` (relative to `folder`) when it is given, and
    the folders walked to `visited`."""

    def on_error(exc: OSError) -> None:
        where = exc.filename or str(folder)
        problems.append((rel(root, Path(where)), f"cannot read folder: {exc.strerror or exc}"))

    # Plain string paths: pathlib costs more than the walk itself on big sites.
    root_prefix = str(root).rstrip(os.sep) + os.sep
    folder_prefix = str(folder).rstrip(os.sep) + os.sep
    found: list[str] = []
    for dirpath, dirnames, filenames in walk(folder, on_error, listings):
        # Hidden folders (.git, the cache, .venv) are neither content nor published.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if visited is not None:
            visited.append(dirpath)
        base = dirpath + os.sep
        for name in filenames:
            full = base + name
            if name.endswith(MARKDOWN_SUFFIXES):
                if full.startswith(root_prefix):
                    found.append(full[len(root_prefix) :].replace(os.sep, "/"))
                else:
                    found.append(rel(root, Path(full)))
            elif others is not None:
                others.append(full[len(folder_prefix) :].replace(os.sep, "/"))
    found.sort()
    return found


def rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return os.path.relpath(path, root).replace(os.sep, "/")


class Site:
    """Pages and their URLs, from the page summaries the engine gives it."""

    def __init__(self, config: Config, overlay: Overlay | None = None) -> None:
        self.config = config
        self.root = config.root
        self.content_dir = config.content_dir
        self.overlay = overlay  # the site as it was before a change, or None: as on disk
        self.pages: dict[str, Page] = {}
        self._includes: dict[tuple[str, str], str | None] = {}  # resolve_include's answers
        self._include_files: list[str] | None = None
        # What the disk holds (walks of the content, static and include folders),
        # and each page's URL and aliases by its summary: shared with the view of
        # the site before a change, which differs only in the files it touched.
        self._disk: dict[str, tuple[list[str], list[str], list[tuple[str, str]]]] = {}
        self._urls: dict[str, tuple[PageSummary | None, str, list[str]]] = {}
        self._mount_kinds: dict[str, bool] = {}  # mount source -> it is one file
        self._roots: list[tuple[str, str, Mount | None]] | None = None
        self._inner: dict[str, str | None] = {}  # inner()'s answers (the mounts are fixed)
        self._missing: list[Mount] | None = None
        # Every file under the root (and of the CODEOWNERS' repository), with the
        # sizes of those that are not Markdown: shared with the view before a change.
        self._tree: dict[str, Any] = {}
        self._codeowners: tuple[owners_file.CodeOwners | None] | None = None
        self._fileset: owners_file.FileSet | None = None
        self.listings: Listings | None = None  # the last run's folder listings (walk.py)
        self.visited: list[str] = []  # every folder the walks entered (see resident.py)

    def before(self, overlay: Overlay) -> Site:
        """The same site as it was before a change (`overlay`)."""
        other = self.sharing(overlay, walks=True)
        other._tree, other._mount_kinds = self._tree, self._mount_kinds
        other.listings = self.listings
        return other

    def sharing(self, overlay: Overlay | None, walks: bool) -> Site:
        """The same site in the view `overlay`, sharing each page's URL by its
        summary and the inner paths (what the config's mounts decide, not the
        files' contents), and with `walks` what the walks of the disk found."""
        other = Site(self.config, overlay)
        other._urls, other._inner = self._urls, self._inner
        if walks:
            other._disk = self._disk
        return other

    def _walk(self, folder: str) -> tuple[list[str], list[str], list[tuple[str, str]]]:
        """Markdown files, other files (both relative to the root) and problems
        under `folder`, walked once."""
        found = self._disk.get(folder)
        if found is None:
            problems: list[tuple[str, str]] = []
            others: list[str] = []
            path = self.root / folder
            files = (
                walk_markdown(self.root, path, problems, others, self.listings, self.visited)
                if path.is_dir()
                else []
            )
            prefix = "" if folder in ("", ".") else folder.strip("/") + "/"
            found = self._disk[folder] = (files, [prefix + o for o in others], problems)
        return found

    @property
    def content_prefix(self) -> str:
        return "" if self.content_dir == "." else self.content_dir + "/"

    def _file_mount(self, mount: Mount) -> bool:
        """A mount of one file (`tmp/roadmap.md` at `community/roadmap.md`)."""
        found = self._mount_kinds.get(mount.source)
        if found is None:
            path = self.root / mount.source
            found = self._mount_kinds[mount.source] = (
                path.is_file() if path.exists() else mount.target.endswith(MARKDOWN_SUFFIXES)
            )
        return found

    def content_roots(self) -> list[tuple[str, str, Mount | None]]:
        """(folder, where it is mounted in the content tree, the mount) of every
        content source: each folder mount (longest folder first), then the
        content dir at the top (unless Hugo's mounts leave it out)."""
        if self._roots is not None:
            return self._roots
        mounts: list[tuple[str, str, Mount | None]] = [
            (f"{m.source}/", f"{m.target}/" if m.target else "", m)
            for m in self.config.content_mounts
            if not self._file_mount(m)
        ]
        roots = sorted(mounts, key=lambda m: -len(m[0]))
        if self.config.content_dir_mounted:
            roots.append((self.content_prefix, "", None))
        self._roots = roots
        return roots

    def inner(self, path: str) -> str | None:
        """A content file's path inside the content tree (`handbook/x.md`), or None
        (not content: outside every content source, or left out by a mount's
        `files` filter)."""
        if path in self._inner:
            return self._inner[path]
        found = self._inner[path] = self._inner_of(path)
        return found

    def _inner_of(self, path: str) -> str | None:
        for one in self.config.content_mounts:
            if path == one.source and self._file_mount(one):
                return one.target
        for folder, target, mount in self.content_roots():
            if path.startswith(folder):
                rest = path[len(folder) :]
                if mount is not None and not mount.admits(rest):
                    continue  # (another source may still hold it)
                return target + rest
        return None

    def missing_mounts(self) -> list[Mount]:
        """Content mounts whose source is not in this checkout (a submodule not
        checked out, files a build generates)."""
        if self._missing is None:
            self._missing = [
                m for m in self.config.content_mounts if not (self.root / m.source).exists()
            ]
        return self._missing

    def has_content(self) -> bool:
        """Some content source of the site is in this checkout."""
        if self.config.content_dir_mounted and (self.root / self.content_dir).is_dir():
            return True
        return any((self.root / m.source).exists() for m in self.config.content_mounts)

    def is_content(self, path: str) -> bool:
        return path.endswith(MARKDOWN_SUFFIXES) and self.inner(path) is not None

    def is_include_file(self, path: str) -> bool:
        """Files under an include root outside the content dir are snippets."""
        if self.is_content(path):
            return False
        return path.endswith(MARKDOWN_SUFFIXES) and path.startswith(self.raw_prefixes())

    def raw_prefixes(self) -> tuple[str, ...]:
        """The include roots outside the content dir: their files are spliced into
        pages as they are (no front matter, never pages of their own)."""
        roots = (r.strip("/") for r in self.config.include_roots)
        return tuple(
            r + "/"
            for r in roots
            if r and r != "." and not (r + "/").startswith(self.content_prefix)
        )

    def exists(self, path: str) -> bool:
        """A file of the site (relative to the root), in the view being linted."""
        known = self.overlay.knows(path) if self.overlay else None
        if known is not None:
            return known
        try:  # (a FIFO or a device is a file too: reading it is reported, not missing it)
            return os.path.exists(self.root / path) and not os.path.isdir(self.root / path)
        except (OSError, ValueError):  # (a name too long for the file system is no file)
            return False

    def discover(self) -> Discovery:
        problems: list[tuple[str, str]] = []
        folder = self.root / self.content_dir
        files: list[str] = []
        resources: list[str] = []
        if not self.config.content_dir_mounted:
            pass  # Hugo's mounts leave the content dir out
        elif not folder.is_dir():
            if not self.config.content_mounts:
                problems.append((self.content_dir, "content dir does not exist"))
                return Discovery([], problems)
        else:
            walked_files, walked_resources, walked = self._walk(self.content_dir)
            # (copies: the mounts' files are added below, never to the walk's
            # lists, which the view before a change and a kept site share)
            files, resources = list(walked_files), list(walked_resources)
            problems += walked
        if self.overlay is not None and self.config.content_dir_mounted:
            files = [
                f
                for f in self.overlay.listing(files, self.content_dir)
                if f.endswith(MARKDOWN_SUFFIXES)
            ]
            resources = [
                r
                for r in self.overlay.listing(resources, self.content_dir)
                if not r.endswith(MARKDOWN_SUFFIXES)
            ]
        for mount in self.config.content_mounts:
            if self._file_mount(mount):
                if self.exists(mount.source):
                    (files if mount.source.endswith(MARKDOWN_SUFFIXES) else resources).append(
                        mount.source
                    )
                continue
            more, more_resources, walked = self._walk(mount.source)
            problems += walked
            if self.overlay is not None:
                more = self.overlay.listing(more, mount.source)
                more_resources = self.overlay.listing(more_resources, mount.source)
            start = len(mount.source) + 1
            files += [f for f in more if f.endswith(MARKDOWN_SUFFIXES) and mount.admits(f[start:])]
            resources += [
                r
                for r in more_resources
                if not r.endswith(MARKDOWN_SUFFIXES) and mount.admits(r[start:])
            ]
        files = [
            f
            for f in self._unshadowed(files)
            if not self.excluded(f) and (not self.config.content_mounts or self.inner(f))
        ]
        prefix = self.config.language_prefix
        return Discovery(files, problems, [f"{prefix}/{self.inner(r) or r}" for r in resources])

    def _unshadowed(self, files: list[str]) -> list[str]:
        """Files with the first of two at one place in the content tree: the
        content dir's, then the mounts' in order (a translated page over the
        default language's fallback, as Hugo does)."""
        if not self.config.content_mounts:
            return list(dict.fromkeys(files))
        seen: set[str] = set()
        out = []
        for path in dict.fromkeys(files):
            inner = self.inner(path) or path
            if inner not in seen:
                seen.add(inner)
                out.append(path)
        return out

    def static_files(self) -> list[str]:
        """Files of the static dirs, as the site paths they are served at."""
        out: list[str] = []
        served = [(name, "") for name in self.config.static_dirs]
        for name, at in [*served, *self.config.static_mounts]:
            prefix = name.strip("/") + "/"
            markdown, others, _ = self._walk(name)
            files = sorted(markdown + others)
            if self.overlay is not None:
                files = self.overlay.listing(files, name)
            base = f"/{at}/" if at else "/"
            out += [base + f[len(prefix) :] for f in files if f.startswith(prefix)]
        return sorted(out)

    def read_text(self, path: str) -> str | None:
        """A file of the site as text (relative to the root), in this view."""
        if self.overlay is not None:
            known = self.overlay.knows(path)
            if known is False:
                return None
            if path in self.overlay.files:
                return self.overlay.files[path].decode("utf-8", "replace")
        try:  # (never blocks on a FIFO or reads a device without end)
            data = read_capped(self.root / path)
        except OSError:
            return None
        return data.decode("utf-8", "replace") if data is not None else None

    def redirects(self) -> Redirects:
        """The redirects the site serves from its redirect files."""
        found: list[Redirect] = []
        for name in self.config.redirects:
            text = self.read_text(name)
            if text is not None:
                found += parse_redirects(text, name)
        return Redirects(found)

    def asset_files(self) -> list[str]:
        """Files of the assets dir, relative to it (what `resources.Get` finds)."""
        assets = self.config.assets_dir
        markdown, others, _ = self._walk(assets)
        files = markdown + others
        if self.overlay is not None:
            files = self.overlay.listing(files, assets)
        return [f[len(assets) + 1 :] for f in files]

    # -- every file, not only pages (media, CODEOWNERS) -------------------------

    def all_files(self) -> list[str]:
        """Every file under the root in this view, relative to it (the files git
        tracks in a work tree: see inventory.py)."""
        disk: list[str] | None = self._tree.get("files")
        if disk is None:
            pending = self._tree.pop("listing", None)
            if pending is None:
                self.start_listing()
                pending = self._tree.pop("listing")
            disk = self._tree["files"] = pending()
        return self.overlay.listing(disk, "") if self.overlay is not None else disk

    def start_listing(self) -> None:
        """Begin listing every file (git runs beside the reading of the pages)."""
        if "files" not in self._tree and "listing" not in self._tree:
            in_git = repository_top(self.root) is not None
            self._tree["listing"] = start_listing(self.root) if in_git else self._walked

    def _walked(self) -> list[str]:
        """Every file outside git: the content, static and assets folders from
        the walks discovery made, the rest walked (each folder once)."""
        if self.content_dir.strip("/") in ("", "."):
            return walked(self.root, listings=self.listings)
        folders = [self.content_dir, *self.config.static_dirs, self.config.assets_dir]
        folders = [f.strip("/") for f in folders if not f.startswith((".", "/"))]
        folders = [
            f for f in dict.fromkeys(folders) if not any(f.startswith(g + "/") for g in folders)
        ]
        files = walked(self.root, frozenset(folders), self.listings)
        for folder in folders:
            markdown, others, _ = self._walk(folder)
            files += markdown + others
        files.sort()
        return files

    def file_sizes(self) -> dict[str, int]:
        """The files that are not Markdown, in this view, with their sizes in bytes
        (stat only; special files and those that vanished are left out)."""
        disk: dict[str, int] | None = self._tree.get("sizes")
        if disk is None:
            disk = self._tree["sizes"] = {}
            root = str(self.root) + os.sep
            for path in self._tree.get("files") or self.all_files():
                if not path.endswith(MARKDOWN_SUFFIXES):
                    size = file_size(root + path)
                    if size is not None:
                        disk[path] = size
        if self.overlay is None:
            return disk
        out = {p: disk[p] for p in self.all_files() if p in disk}
        out.update(
            (p, len(data))
            for p, data in self.overlay.files.items()
            if not p.endswith(MARKDOWN_SUFFIXES) and not p.startswith("../")
        )
        return out

    def codeowners(self) -> owners_file.CodeOwners | None:
        """GitLab's CODEOWNERS file of the site's repository, parsed (None: none)."""
        if self._codeowners is None:
            self._codeowners = (self._read_codeowners(),)
        return self._codeowners[0]

    def _read_codeowners(self) -> owners_file.CodeOwners | None:
        where = self.config.codeowners
        if where:
            path = self._from_root(where)
            holder = posixpath.dirname(path)
            top = (
                posixpath.dirname(holder)
                if posixpath.basename(holder) in ("docs", ".gitlab")
                else holder
            )
        else:  # where GitLab looks: the repository's top (else the site root)
            repo = repository_top(self.root)
            top = rel(self.root, repo) if repo is not None and repo != self.root else ""
            found = (self._from_root(posixpath.join(top, name)) for name in owners_file.LOCATIONS)
            path = next((p for p in found if self.exists(p)), "")
            if not path:
                return None
        text = self.read_text(path)
        if text is None:
            if not where:
                return None
            missing = owners_file.CodeOwners(path, top)  # (named in the config: say so)
            missing.problems.append((1, f"the config's codeowners file {path} does not exist"))
            return missing
        return owners_file.parse(text, path, top)

    def _from_root(self, path: str) -> str:
        """A path relative to the root, normalised (`../docs/CODEOWNERS` from a
        site in `docs/` is `CODEOWNERS`)."""
        return rel(self.root, Path(os.path.normpath(self.root / path)))

    def repository_files(self) -> owners_file.FileSet:
        """The files of the CODEOWNERS' repository (paths relative to its top), in
        this view."""
        if self._fileset is None:
            owners = self.codeowners()
            top = owners.top if owners is not None else ""
            if top in ("", "."):
                files = self.all_files()
            else:  # the repository above the site, with this view's changes
                key = f"repository {top}"
                disk: list[str] = self._tree.get(key) or self._tree.setdefault(
                    key, list_files(self.root / top)
                )
                files = disk
                if self.overlay is not None:
                    absent = {self.repository_path(p) for p in self.overlay.absent}
                    have = set(disk)
                    files = [p for p in disk if p not in absent]
                    files += [
                        q
                        for q in map(self.repository_path, self.overlay.files)
                        if q not in have and not q.startswith("../")
                    ]
            self._fileset = owners_file.FileSet(files)
        return self._fileset

    def repository_path(self, path: str) -> str:
        """A site-relative path as the CODEOWNERS' repository names it."""
        owners = self.codeowners()
        if owners is None or owners.top in ("", "."):
            return path
        inside = os.path.relpath(self.root, os.path.normpath(self.root / owners.top))
        return posixpath.normpath(posixpath.join(inside.replace(os.sep, "/"), path))

    def excluded(self, path: str) -> bool:
        return bool(self.config.exclude) and matches_any(path, self.config.exclude)

    def add(self, summary: PageSummary | None, path: str) -> Page:
        page = Page(path=path, summary=summary)
        self.pages[path] = page
        return page

    # -- URLs (after summaries are in) ----------------------------------------

    def finish(self, now: datetime | None = None) -> None:
        """Decide which files Hugo renders (with cascades), their URLs and aliases."""
        cascades = self._render_sections()
        now = now or datetime.now(UTC)
        inner_of, urls = self.inner, self._urls  # (thousands of pages: no lookups per page)
        for page in self.pages.values():
            path = page.path
            inner = inner_of(path) if path.endswith(MARKDOWN_SUFFIXES) else None
            if inner is None:  # (not is_content)
                page.why = "an include file: spliced into the pages that include it"
                continue
            data = page.summary.meta if page.summary else {}
            if data.keys().isdisjoint(RENDER_KEYS):  # (most pages: nothing to decide)
                page.why, page.built, own = None, True, False
            else:
                page.why = not_rendered(data, now, self.config.build_flags)
                page.built = page.why is None or _never_rendered(data) is not None
                own = _render_setting(data) is not None
            if page.why is None and not own:  # its own build wins
                # then the nearest section's cascade, then the site config's
                section = self._cascaded(path, cascades) if cascades else None
                page.why = section[1] if section else self._config_cascade(path)
            known = urls.get(path)
            if known is not None and known[0] is page.summary:
                page.url, page.aliases = known[1], known[2]
                continue
            page.url = self.url_of(path, data, inner)
            page.aliases = self._aliases(page.url, data) if "aliases" in data else []
            urls[path] = (page.summary, page.url, page.aliases)

    def _render_sections(self) -> dict[str, tuple[bool, str]]:
        """Folders whose `_index.md` cascades a `build.render` -> (never, that file)."""
        out: dict[str, tuple[bool, str]] = {}
        for page in self.pages.values():
            if page.summary is None or not page.path.endswith("/_index.md"):
                continue
            for entry in cascade_entries(page.summary.meta.get("cascade")):
                setting = _render_setting(entry)
                if setting is not None:
                    never = _never_rendered(entry) is not None
                    out[page.path.rsplit("/", 1)[0] + "/"] = (never, page.path)
        return out

    def _config_cascade(self, path: str) -> str | None:
        """Why the site config's `cascade` keeps a page from rendering (its target:
        a path glob of Hugo's page paths, a kind), or None."""
        if not self.config.cascade:
            return None
        inner = self.inner(path)
        if inner is None:
            return None
        path_of = hugo_path(inner)
        kind = "home" if path_of == "/" else "section" if "/_index." in f"/{inner}" else "page"
        for entry in self.config.cascade:
            target = entry.get("target") or entry.get("_target") or {}
            if not isinstance(target, dict):
                continue
            glob = target.get("path")
            if isinstance(glob, str) and not globs.matches(path_of, glob):
                continue
            kinds = target.get("kind")
            if isinstance(kinds, str) and not globs.matches(kind, kinds):
                continue
            reason = _never_rendered(entry)
            if reason is not None:
                return f"{reason}, cascaded from the site config"
        return None

    def _cascaded(
        self, path: str, folders: dict[str, tuple[bool, str]]
    ) -> tuple[bool, str | None] | None:
        """The `build.render` a page gets from the nearest folder whose `_index.md`
        cascades one: (found, why it is not rendered or None), or None when no
        folder above it does. The cascade covers that `_index.md` too (Hugo
        0.168 renders neither hugo-docs' `_common/_index.md` nor anything below)."""
        best = max((f for f in folders if path.startswith(f)), key=len, default=None)
        if best is None:
            return None
        never, source = folders[best]
        return True, (f"build.render: never, cascaded from {source}" if never else None)

    def url_of(self, path: str, data: dict[str, Any], inner: str | None = None) -> str:
        """The URL of the content file at `path` with front matter `data`
        (`inner`: its path inside the content tree, when known)."""
        url = data.get("url")
        if isinstance(url, str) and url.strip():
            url = url.strip()
            if not url.startswith("/"):
                url = "/" + url
            return self._lower(
                url if url.endswith("/") or "." in url.rsplit("/", 1)[-1] else url + "/"
            )
        inner = inner or self.inner(path) or path[len(self.content_prefix) :]
        folder, _, name = inner.rpartition("/")
        stem = name.rsplit(".", 1)[0]
        slug = data.get("slug")
        if isinstance(slug, str) and slug.strip() and stem not in ("_index",):
            segments = folder.split("/") if folder else []
            if stem not in ("index",):
                segments.append(stem)
            if segments:
                segments[-1] = slug.strip()
            else:
                segments = [slug.strip()]
            joined = "/".join(segments)
        elif stem in ("_index", "index"):
            joined = folder
        else:  # (the segments joined: the folder's, then the stem)
            joined = f"{folder}/{stem}" if folder else stem
        url = self.config.language_prefix + "/" + _urlize(joined)
        if not url.endswith("/"):
            url += "/"
        return self._lower(url)

    def _lower(self, url: str) -> str:
        return url if self.config.disable_path_to_lower else url.lower()

    def _aliases(self, url: str, data: dict[str, Any]) -> list[str]:
        raw = data.get("aliases")
        if isinstance(raw, str):
            raw = raw.split()  # Hugo casts a string to the list of its words
        if not isinstance(raw, list):
            return []
        out = []
        for item in raw:
            if isinstance(item, list | dict) or item is None or not str(item).strip():
                continue
            alias = str(item).strip()
            if not alias.startswith("/"):  # relative to the page URL's parent, as Hugo has it
                parent = posixpath.dirname(url.rstrip("/")) or "/"
                alias = posixpath.normpath(posixpath.join(parent, alias))
            else:  # the language's URL prefix comes first (/es/old/)
                alias = self.config.language_prefix + alias
            out.append(normalize_url(alias))
        return out

    # -- includes -----------------------------------------------------------

    def include_candidates(self, page_path: str, target: str) -> list[str]:
        """Where an include target may live, in lookup order (paths relative to root)."""
        clean = target.strip()
        names = (
            [clean]
            if clean.endswith(MARKDOWN_SUFFIXES)
            else [
                clean + ".md",
                clean.rstrip("/") + "/index.md",
                clean.rstrip("/") + "/_index.md",
                clean,
            ]
        )
        out: list[str] = []
        if self.config.include_relative_to_page and not clean.startswith("/"):
            base = posixpath.dirname(page_path)
            out += [posixpath.normpath(posixpath.join(base, n)) for n in names]
        if self.config.include_folders and not clean.startswith(("/", ".")):
            out += self._include_folder_candidates(page_path, names)
        for root in self.config.include_roots:
            out += [
                posixpath.normpath(posixpath.join(root.strip("/"), n.lstrip("/"))) for n in names
            ]
        return out

    def _include_folder_candidates(self, page_path: str, names: list[str]) -> list[str]:
        """`includes.folders` (`_includes`) in the page's folder of the content
        tree, then in each folder above it (as Docsy-style sites look their
        snippets up through the page's ancestors), as files of the checkout."""
        inner = self.inner(page_path)
        if inner is None:
            return []
        out = []
        for folder in content_ancestors(inner):
            for name in self.config.include_folders:
                for n in names:
                    out += self.disk_paths(posixpath.join(folder, name, n))
        return out

    def disk_paths(self, inner: str) -> list[str]:
        """The files of the checkout that would be at `inner` in the content tree
        (through the content dir or a mount), most specific first."""
        inner = posixpath.normpath(inner).lstrip("/")
        inner = "" if inner == "." else inner
        out = [m.source for m in self.config.content_mounts if m.target == inner]
        for folder, target, _ in self.content_roots():
            if (inner + "/").startswith(target) or not target:
                out.append((folder + inner[len(target) :]).rstrip("/") or ".")
        return out

    def resolve_include(self, page_path: str, target: str) -> str | None:
        """The file an include call names (looked up on disk once per run)."""
        key = (page_path, target)
        if key in self._includes:
            return self._includes[key]
        found = None
        for candidate in self.include_candidates(page_path, target):
            if not candidate.startswith("../") and self.exists(candidate):
                found = candidate
                break
        self._includes[key] = found
        return found

    def walk_includes(
        self, path: str, summary: Callable[[str], PageSummary | None]
    ) -> Iterator[str]:
        """The files `path` includes, directly or not, each once (a file that
        includes itself again stops the walk there)."""

        def calls(current: str) -> list[Event] | None:
            found = summary(current)
            return None if found is None else [(INCLUDE, t, 0) for t in found.includes]

        for step in expand(path, calls, self.resolve_include, once=True):
            if step.kind == "enter" and step.value != path:
                yield step.value

    def include_files(self) -> list[str]:
        """Every Markdown file under the include roots (for suggestions)."""
        if self._include_files is None:
            files: list[str] = []
            for root in self.config.include_roots:
                found = self._walk(root)[0]
                if self.overlay is not None:
                    found = [
                        f
                        for f in self.overlay.listing(found, root)
                        if f.endswith(MARKDOWN_SUFFIXES)
                    ]
                files += found
            self._include_files = sorted(set(files))
        return self._include_files

    def snippet_files(self) -> list[str]:
        """The include files that are not content: linted as snippets, never as pages."""
        return [f for f in self.include_files() if self.is_include_file(f) and not self.excluded(f)]


def normalize_url(url: str) -> str:
    """A site path as Hugo serves it: leading and trailing slash, no index.html."""
    url = url.split("#", 1)[0].split("?", 1)[0]
    if not url.startswith("/"):
        url = "/" + url
    if url.endswith("/index.html"):
        url = url[: -len("index.html")]
    last = url.rsplit("/", 1)[-1]
    if last and "." not in last:
        url += "/"
    return url


def _urlize(path: str) -> str:
    return path.replace(" ", "-")


def _render_setting(data: dict[str, Any]) -> tuple[str, object] | None:
    """(key, value) of the page's own `build.render` (or `_build`), if set."""
    for key in ("build", "_build"):
        build = data.get(key)
        if isinstance(build, dict) and "render" in build:
            return key, build["render"]
    return None


def content_ancestors(inner: str) -> list[str]:
    """The folders of the content tree above a content path, nearest first,
    ending with the top (""): `a/b/c.md` -> a/b, a, ""."""
    out = []
    folder = posixpath.dirname(inner)
    while folder:
        out.append(folder)
        folder = posixpath.dirname(folder)
    return [*out, ""]


def hugo_path(path: str) -> str:
    """Hugo's path of a content path (`docs/_index.md` -> `/docs`): lowercased, no
    extension, and a bundle's index file stands for its folder."""
    folder, _, name = ("/" + path.lstrip("/")).rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    if stem in ("index", "_index"):
        return (folder or "/").lower()
    return f"{folder}/{stem}".lower()


def hugo_bool(value: object) -> bool:
    """A front matter value as Hugo casts it to a boolean (Go's ParseBool: "true",
    "t" and "1" are true; "yes" is not)."""
    if isinstance(value, str):
        return value.strip() in ("1", "t", "T", "TRUE", "true", "True")
    if isinstance(value, int | float):
        return value != 0
    return False


def _never_rendered(data: dict[str, Any]) -> str | None:
    if hugo_bool(data.get("headless")):
        return "headless: true"
    setting = _render_setting(data)
    if setting is not None and setting[1] in ("never", False, "false"):
        return f"{setting[0]}.render: never"
    return None


# The front matter keys whose dates decide whether a page renders: the first set
# of each (not_rendered).
PUBLISH_KEYS = ("publishdate", "pubdate", "published", "date")
EXPIRY_KEYS = ("expirydate", "unpublishdate")
# Every front matter key `not_rendered` and `_render_setting` look at.
RENDER_KEYS = frozenset({"headless", "build", "_build", "draft", *PUBLISH_KEYS, *EXPIRY_KEYS})


def first_date_ahead(pages: Iterable[Page], now: datetime) -> datetime | None:
    """The first date after `now` that may decide whether one of `pages`
    renders (a page to be published, or to expire; any of those keys, whatever
    the build flags): until then, what renders stays."""
    first: datetime | None = None
    for page in pages:
        meta = page.summary.meta if page.summary is not None else {}
        if meta.keys().isdisjoint(RENDER_KEYS):  # (most pages)
            continue
        for key in (*PUBLISH_KEYS, *EXPIRY_KEYS):
            when = date_value(meta[key]) if key in meta else None
            if when is not None and when > now and (first is None or when < first):
                first = when
    return first


def not_rendered(
    data: dict[str, Any], now: datetime, flags: tuple[bool, bool, bool] = (False, False, False)
) -> str | None:
    """Why Hugo does not render a page with this front matter (keys lowercased),
    given the build flags (buildDrafts, buildFuture, buildExpired), or None."""
    drafts, future, expired = flags
    reason = _never_rendered(data)
    if reason is not None:
        return f"{reason} in its front matter"
    if hugo_bool(data.get("draft")) and not drafts:
        written = data.get("draft")
        shown = "true" if written is True else repr(written)
        return f"draft: {shown} (Hugo builds no drafts)"
    for key in PUBLISH_KEYS:
        if key in data:
            when = date_value(data[key])
            if when is not None and when > now and not future:
                return (
                    f"{key} {data[key]} is in the future (Hugo builds no future pages by default)"
                )
            break  # Hugo takes the first of these keys that is set
    for key in EXPIRY_KEYS:
        if key in data:
            when = date_value(data[key])
            if when is not None and when <= now and not expired:
                return f"{key} {data[key]} has passed (Hugo builds no expired pages)"
            break
    return None
