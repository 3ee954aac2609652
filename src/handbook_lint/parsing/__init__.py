"""One parse per page: Markdown, front matter, shortcodes and Hugo's heading ids, into facts."""
