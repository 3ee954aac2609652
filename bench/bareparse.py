"""The floor bench.py measures handbook-lint against: a bare parse of a site.

    python bench/bareparse.py SITE

Reads every Markdown file of SITE that handbook-lint parses (every `*.md`
outside its cache folder), splits the front matter with python-frontmatter
and parses the body with markdown-it-py as it comes: CommonMark with raw HTML,
tables, strikethrough, footnotes and definition lists, the syntax
handbook-lint reads, with none of its shortcuts. No facts, no checks, no
cache, one process. Prints the number of files parsed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import frontmatter
from markdown_it import MarkdownIt
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin


def main() -> int:
    root = Path(sys.argv[1])
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.use(footnote_plugin).use(deflist_plugin)
    count = 0
    for path in sorted(root.rglob("*.md")):
        if ".handbook-lint-cache" in path.parts:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        try:
            body = frontmatter.loads(text).content
        except Exception:  # (front matter that does not load: the page as it is)
            body = text
        md.parse(body)
        count += 1
    print(count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
