"""Rules of the whole repository, not of one page: where media files live and how
big they are, and the CODEOWNERS file (entries that match nothing, twice-listed
entries, owners a site requires). They look at names and sizes only.

In a change run (`--staged`, `--diff-base`) a finding counts when the change
brought it: an image added outside the images folder, a file that grew past
the limit, a CODEOWNERS entry added twice; what was there before is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from handbook_lint.checks.context import PageContext, SiteContext
from handbook_lint.checks.registry import OptionError, Problem, list_of_strings, register
from handbook_lint.config.settings import folder_glob
from handbook_lint.site.model import hugo_bool, matches_any

IMAGE_EXTENSIONS = [
    "png",
    "jpg",
    "jpeg",
    "gif",
    "webp",
    "avif",
    "svg",
    "bmp",
    "tif",
    "tiff",
    "heic",
]
# Icons browsers and phones ask for at the site's root (/favicon-32x32.png).
SITE_ICONS = [
    "static/favicon*",
    "static/apple-touch-icon*",
    "static/android-chrome-*",
    "static/mstile-*",
    "static/safari-pinned-tab.svg",
]
VIDEO_EXTENSIONS = ["mov", "mp4", "m4v", "avi", "mkv", "ogg", "webm"]


def _extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name.lstrip(".") else ""


def _under(path: str, folder: str) -> bool:
    folder = folder.strip("/")
    return not folder or path.startswith(folder + "/")


def _ignored(path: str, ignore: list[str]) -> bool:
    return bool(ignore) and matches_any(path, [folder_glob(g) for g in ignore])


def _served(folder: str, static_dirs: list[str]) -> str:
    """Where a file of `folder` is served (`static/images` -> `/images/`)."""
    folder = folder.strip("/")
    for static in static_dirs:
        static = static.strip("/")
        if folder == static:
            return "/"
        if folder.startswith(static + "/"):
            return "/" + folder[len(static) + 1 :] + "/"
    return ""


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{n / 1024:.0f} KB"


def _validate_location(options: dict[str, Any]) -> None:
    list_of_strings(
        "image_extensions", "image_allow", "video_extensions", "pdf_extensions", "ignore"
    )(options)
    for key in ("image_dir", "video_dir", "pdf_dir"):
        if not isinstance(options[key], str) or options[key].strip("/") in ("", "."):
            raise OptionError(key, "must be a folder below the site root")


@register(
    "media-location",
    "error",
    "An image, video or PDF outside the folder for its kind.",
    options={
        "image_dir": "static/images",
        "image_extensions": IMAGE_EXTENSIONS,
        "image_allow": ["assets/**/*.svg", *SITE_ICONS],
        "video_dir": "static/videos",
        "video_extensions": VIDEO_EXTENSIONS,
        "pdf_dir": "static/pdfs",
        "pdf_extensions": ["pdf"],
        "ignore": [],
    },
    option_docs={
        "image_dir": "The folder for images (relative to the site root).",
        "image_extensions": "What counts as an image (file extensions, any case).",
        "image_allow": "Other places an image may be (globs): SVGs the templates use, "
        "the icons browsers ask for at the site's root.",
        "video_dir": "The folder for videos.",
        "video_extensions": "What counts as a video.",
        "pdf_dir": "The folder for PDFs.",
        "pdf_extensions": "What counts as a PDF.",
        "ignore": "Files never reported (globs; a folder ends with /).",
    },
    validate=_validate_location,
    enabled=False,
    scope="site",
)
def media_location(ctx: SiteContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports an image, a video or a PDF anywhere in the
    repository but the folder kept for its kind (`static/images/`,
    `static/videos/`, `static/pdfs/` by default; SVGs under `assets/` are
    allowed, for the templates, and so are the icons browsers ask for at the
    site's root, such as `static/favicon-32x32.png`). The repository's files are git's (tracked or
    not ignored); outside git, the folder is walked. In a merge request or a
    commit it reports the files the change puts in the wrong place.

    **Why.** A handbook keeps media in one place so they can be found, reused,
    reviewed for size and cached; an image beside a page is easy to duplicate
    and hard to find.

    **Example (bad).** `content/handbook/people/org-chart.png`, linked as
    `![Org chart](org-chart.png)`.

    **Use instead.** `static/images/people/org-chart.png`, linked as
    `![Org chart](/images/people/org-chart.png)`.
    """
    places = [
        ("image", options["image_dir"], options["image_extensions"], options["image_allow"]),
        ("video", options["video_dir"], options["video_extensions"], []),
        ("PDF", options["pdf_dir"], options["pdf_extensions"], []),
    ]
    kinds: dict[str, tuple[str, str, list[str]]] = {}
    for kind, folder, extensions, allow in places:
        for ext in extensions:
            kinds.setdefault(ext.lower().lstrip("."), (kind, folder, allow))
    static_dirs = ctx.site.config.static_dirs
    for path in ctx.files():
        found = kinds.get(_extension(path))
        if found is None:
            continue
        kind, folder, allow = found
        if _under(path, folder) or _ignored(path, allow) or _ignored(path, options["ignore"]):
            continue
        served = _served(folder, static_dirs)
        link = f" (served at {served})" if served else ""
        yield Problem(
            1,
            0,
            f"{'an' if kind == 'image' else 'a'} {kind} outside {folder.strip('/')}/{link}",
            suggestion=f"{folder.strip('/')}/{path.rsplit('/', 1)[-1]}",
            path=path,
        )


def _validate_size(options: dict[str, Any]) -> None:
    list_of_strings("image_extensions", "ignore")(options)
    for key in ("image_limit_kb", "file_limit_mb"):
        if isinstance(options[key], bool) or options[key] < 1:
            raise OptionError(key, "must be a whole number of 1 or more")


@register(
    "media-size",
    "error",
    "An image of 500 KB or more, or any other file of 15 MB or more.",
    options={
        "image_extensions": [e for e in IMAGE_EXTENSIONS if e != "svg"],
        "image_limit_kb": 500,
        "file_limit_mb": 15,
        "ignore": [],
    },
    option_docs={
        "image_extensions": "What counts as an image held to `image_limit_kb` (SVG is not).",
        "image_limit_kb": "Images of this many KB (1,024 bytes) or more are reported.",
        "file_limit_mb": "Any other file that is not Markdown, of this many MB or more.",
        "ignore": "Files never reported (globs; a folder ends with /).",
    },
    validate=_validate_size,
    enabled=False,
    scope="site",
)
def media_size(ctx: SiteContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports an image (PNG, JPEG, GIF, WebP, ...; not SVG) of
    500 KB or more, and any other file that is not Markdown of 15 MB or more
    (videos, PDFs, archives). Only sizes are read, never the files. In a merge
    request or a commit it reports the files the change added or made larger
    than the limit.

    **Why.** Every reader downloads the images of a page; a repository keeps
    every version of a binary file forever.

    **Example (bad).** A 2.4 MB screenshot `static/images/dashboard.png`.

    **Use instead.** The screenshot cropped and saved as WebP or a compressed
    PNG under 500 KB; a long video on a video host, linked.
    """
    images = {e.lower().lstrip(".") for e in options["image_extensions"]}
    image_limit = options["image_limit_kb"] * 1024
    file_limit = options["file_limit_mb"] * 1024 * 1024
    for path, size in ctx.sizes().items():
        if size < min(image_limit, file_limit) or _ignored(path, options["ignore"]):
            continue
        if _extension(path) in images:
            if size >= image_limit:
                yield Problem(
                    1,
                    0,
                    f"an image of {options['image_limit_kb']} KB or more: compress it (WebP, "
                    "or a smaller PNG or JPEG) or crop it",
                    detail=_size(size),
                    path=path,
                )
        elif size >= file_limit:
            yield Problem(
                1,
                0,
                f"a file of {options['file_limit_mb']} MB or more: keep it out of the "
                "repository and link to it",
                detail=_size(size),
                path=path,
            )


@register(
    "codeowners-syntax",
    "error",
    "A CODEOWNERS line GitLab cannot use: an entry without owners, a bad section header.",
    enabled=False,
    scope="site",
)
def codeowners_syntax(ctx: SiteContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reads GitLab's CODEOWNERS file (`CODEOWNERS`,
    `docs/CODEOWNERS` or `.gitlab/CODEOWNERS`, or the config's `codeowners`)
    and reports the lines GitLab rejects: an entry with no owner where its
    section has no default owners, a section header with no name, an
    approval count that is not a number, a default owner that is not
    `@user`, `@group/subgroup`, `@@role` or an e-mail address.

    **Why.** GitLab ignores such lines (and shows a syntax error on the file):
    the files they name have no code owner, and nobody is asked to review.

    **Example (bad).**

    ```plaintext
    [Handbook]
    /content/handbook/
    ```

    **Use instead.**

    ```plaintext
    [Handbook] @gitlab-com/content-sites
    /content/handbook/
    ```
    """
    owners = ctx.site.codeowners()
    if owners is None:
        return
    for line, message in owners.problems:
        yield Problem(line, 0, message, path=owners.path)


@register(
    "codeowners-unmatched",
    "warning",
    "A CODEOWNERS entry whose pattern matches no file of the repository.",
    enabled=False,
    scope="site",
)
def codeowners_unmatched(ctx: SiteContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Matches every pattern of the CODEOWNERS file against the
    repository's files as GitLab does (a pattern without a leading `/` matches
    at any depth, one ending in `/` everything below that folder, `*` never
    crosses a `/`, `**/` crosses any number of folders) and reports the
    patterns that match no file: a page that moved, a folder that was
    renamed, a typo. A pattern naming a folder without the trailing `/` is
    told apart: GitLab matches it against files only, so it owns nothing.

    **Why.** An entry that matches nothing gives nobody ownership of the file
    it meant: the review it was written for never happens.

    **Example (bad).** `/content/handbook/engineering/infrastucture/ @infra`
    (a typo), or `/content/handbook/legal @legal` (a folder without `/`).

    **Use instead.** `/content/handbook/engineering/infrastructure/ @infra`,
    `/content/handbook/legal/ @legal`.
    """
    owners = ctx.site.codeowners()
    if owners is None:
        return
    files = ctx.site.repository_files()
    for entry in owners.entries:
        if files.any_match(entry.pattern):
            continue
        shown = ("!" if entry.exclusion else "") + entry.pattern
        if not entry.pattern.endswith("/") and files.is_folder(entry.pattern):
            yield Problem(
                entry.line,
                0,
                f"{shown!r} names a folder: GitLab matches it against files only, so it "
                "owns nothing",
                suggestion=f"{shown}/",
                path=owners.path,
            )
        else:
            yield Problem(
                entry.line,
                0,
                f"{shown!r} matches no file of the repository",
                path=owners.path,
            )


@register(
    "codeowners-duplicate",
    "warning",
    "A CODEOWNERS pattern listed twice in one section.",
    enabled=False,
    scope="site",
)
def codeowners_duplicate(ctx: SiteContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports a pattern that a section of the CODEOWNERS file
    lists again (sections of one name, in any case, are one section; the lines
    before the first section are one too). The same pattern in two different
    sections is not reported: each section asks its own owners.

    **Why.** GitLab uses only the last of the two: the owners of the first are
    silently dropped, and whoever edits that line changes nothing.

    **Example (bad).**

    ```plaintext
    [Security] @gitlab-com/egroup
    /content/handbook/security/ @security-team
    /content/handbook/security/ @security-leads
    ```

    **Use instead.** One line with every owner:
    `/content/handbook/security/ @security-team @security-leads`.
    """
    owners = ctx.site.codeowners()
    if owners is None:
        return
    seen: dict[tuple[str, str, bool], int] = {}
    for entry in owners.entries:
        key = (entry.section, entry.normalized, entry.exclusion)
        first = seen.setdefault(key, entry.line)
        if first == entry.line:
            continue
        section = owners.section_name(entry.section)
        where = f"section [{section}]" if section else "the lines before the first section"
        yield Problem(
            entry.line,
            0,
            f"{entry.pattern!r} is listed twice in {where}: GitLab uses only the last",
            detail=f"also on line {first}",
            path=owners.path,
        )


def _validate_required(options: dict[str, Any]) -> None:
    list_of_strings("owners")(options)


@register(
    "codeowners-required-owner",
    "error",
    "A CODEOWNERS entry without one of the owners the site requires.",
    options={"owners": [], "unsectioned": False},
    option_docs={
        "owners": "Each entry must give at least one of these owners (`@group/name`).",
        "unsectioned": "Also the entries before the first section (not only sectioned ones).",
    },
    validate=_validate_required,
    enabled=False,
    scope="site",
)
def codeowners_required_owner(ctx: SiteContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Reports an entry of a CODEOWNERS section whose owners (its
    own, or else its section's default owners) include none of the `owners`
    the site requires. Exclusions (`!pattern`) own nothing and are skipped.
    With no `owners` set it reports nothing.

    **Why.** A site may require that a group it trusts can always approve:
    the GitLab handbook requires `@gitlab-com/content-sites` or
    `@gitlab-com/egroup` on every sectioned entry, so no section can be
    left with owners who have all gone.

    **Example (bad)** (with `owners: ["@gitlab-com/content-sites"]`).

    ```plaintext
    [Legal]
    /content/handbook/legal/ @jdoe
    ```

    **Use instead.**

    ```plaintext
    [Legal]
    /content/handbook/legal/ @jdoe @gitlab-com/content-sites
    ```
    """
    required = [o.lower() for o in options["owners"]]
    owners = ctx.site.codeowners()
    if owners is None or not required:
        return
    for entry in owners.entries:
        if entry.exclusion or (not entry.section and not options["unsectioned"]):
            continue
        given = owners.owners_of(entry)
        if not given:
            continue  # (codeowners-syntax tells)
        if any(o.lower() in required for o in given):
            continue
        section = owners.section_name(entry.section)
        yield Problem(
            entry.line,
            0,
            f"{entry.pattern!r}"
            + (f" in section [{section}]" if section else "")
            + f" has none of the required owners ({', '.join(options['owners'])}): add one "
            + ("to the line" if entry.owners else "to the section's default owners"),
            path=owners.path,
        )


def _validate_controlled(options: dict[str, Any]) -> None:
    for key in ("key", "section"):
        if not isinstance(options[key], str) or not options[key].strip():
            raise OptionError(key, "must be a non-empty string")


@register(
    "controlled-document",
    "error",
    "A controlled document the CODEOWNERS section does not cover, or the reverse.",
    options={"key": "controlled_document", "section": "Controlled-Documents"},
    option_docs={
        "key": "The front matter key that marks a controlled document (`true`).",
        "section": "The CODEOWNERS section that must cover exactly those pages.",
    },
    validate=_validate_controlled,
    enabled=False,
)
def controlled_document(ctx: PageContext, options: dict[str, Any]) -> Iterator[Problem]:
    """
    **What it does.** Keeps two lists in step: the pages whose front matter says
    `controlled_document: true`, and the pages the `[Controlled-Documents]`
    section of the CODEOWNERS file covers (the last entry of that section
    that matches the page decides, as in GitLab; an exclusion `!pattern`
    uncovers it). It reports a controlled document that no entry of the
    section covers (at its front matter key) and a page the section covers
    whose front matter lacks the key. Without a CODEOWNERS file it reports
    nothing.

    **Why.** A controlled document (a policy, a standard) may change only with
    the approval of its owners: the CODEOWNERS section is what makes GitLab
    ask them, and the front matter is what the site shows and audits count.

    **Example (bad).** A page with `controlled_document: true` and no entry for
    it in the CODEOWNERS file.

    **Use instead.**

    ```plaintext
    [Controlled-Documents] @gitlab-com/content-sites
    /content/handbook/security/policies/access-policy.md @security-leads
    ```
    """
    owners = ctx.site.codeowners()
    if owners is None or ctx.page.snippet or not ctx.site.is_content(ctx.path):
        return
    key, section = options["key"], options["section"]
    fm = ctx.facts.front_matter
    written = next((k for k in fm.data if k.lower() == key.lower()), None)
    marked = written is not None and hugo_bool(fm.data[written])
    entry = owners.governing(section.lower(), ctx.site.repository_path(ctx.path))
    covered = entry is not None and not entry.exclusion
    line = (fm.key_lines.get(written) if written else None) or fm.start_line or 1
    name = owners.section_name(section.lower()) if section.lower() in owners.sections else section
    if marked and not covered:
        yield Problem(
            line,
            0,
            f"a controlled document that no entry of the [{name}] section of "
            f"{owners.path} covers: add /{ctx.site.repository_path(ctx.path)} to it",
        )
    elif covered and not marked and entry is not None:
        yield Problem(
            line,
            0,
            f"the [{name}] section of {owners.path} covers this page, but its front "
            f"matter lacks `{key}: true`",
            detail=f"{owners.path}:{entry.line}",
        )
