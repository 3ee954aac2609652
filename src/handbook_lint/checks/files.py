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

declare(
    "internal-error",
    "error",
    "handbook-lint itself failed on a file (a bug): its other checks still ran.",
    """
    **What it does.** Reports a file on which handbook-lint met an error of
    its own: reading the page's Markdown raised, or one rule did. The message
    names the rule and the error; the other rules, and the other files, are
    checked as usual, and the run's exit code says there was an error. A
    rule of the whole site or of a change that fails is reported at `.`.

    **Why.** A linter that stops at its first bug checks nothing; one that
    skips a file silently hides it. Each such finding is a bug to report.

    **Example.** `content/deep.md:1: error internal-error handbook-lint failed on
    this file (spelling) (RecursionError: ...): this is a bug, please report it`.

    **Use instead.** Report it (with the file, if you can share it). Until it
    is fixed, an `overrides` entry can turn the failing rule off for that file.
    """,
)
