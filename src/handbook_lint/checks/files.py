"""Rules the engine reports while reading files (no check function)."""

from handbook_lint.checks.registry import declare

declare(
    "file-unreadable",
    "error",
    "A file that cannot be read as a Markdown page.",
    """
    **What it does.** Reports a path that cannot be linted: it does not exist, a
    folder or file cannot be read (permissions, a symlink loop), the file is
    binary or not valid UTF-8 (the message gives the first bad byte and its
    line), or it is over the size limit for a page (5 MB). The run goes on
    with the other files.

    **Why.** Hugo fails or renders garbage on such files; a linter that skipped
    them silently would hide the problem.

    **Example.** `content/logo.md` saved as UTF-16, or `content/big.md` of 20 MB.

    **Use instead.** Save pages as UTF-8 text; keep generated data out of `content/`.
    """,
)

declare(
    "file-empty",
    "warning",
    "An empty page (no front matter, no content).",
    """
    **What it does.** Reports a Markdown file with nothing in it (or only white
    space).

    **Why.** Hugo renders an empty file as a page with no title: usually a
    leftover or a file saved by mistake.

    **Example (bad).** An empty `content/handbook/new-page.md`.

    **Use instead.**

    ```markdown
    ---
    title: New page
    ---

    What this page is about.
    ```
    """,
)
