"""Settings: the linter's config, the site's Hugo config, Hugo's globs, and which
site a path belongs to."""
