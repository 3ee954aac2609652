"""External links: settings, the HTTP checker with its limits and cache, and the pass over a run."""
