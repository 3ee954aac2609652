"""handbook-lint: a content linter and validator for Hugo handbook sites."""

__version__ = "0.1.0"
