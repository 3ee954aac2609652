"""`suppression-unused`: the engine applies inline suppressions
(`engine/suppress.py`) and reports those that hid nothing under this rule."""

from handbook_lint.checks.registry import declare
from handbook_lint.engine.suppress import UNUSED

declare(
    UNUSED,
    "warning",
    "An inline suppression comment that suppresses nothing.",
    """
    **What it does.** Reports a `<!-- handbook-lint-disable ... -->`,
    `disable-next-line` or `disable-file` comment that hid no finding in this
    run, or that names a rule that does not exist. Suppressions of rules that
    did not run (`--select`, `--ignore`, rules turned off) are not reported.

    **Why.** Suppressions outlive the problem they hid; a stale one would
    silently hide the next real problem on that line.

    **Example (bad).** The link below was fixed, the comment stayed:

    ```markdown
    <!-- handbook-lint-disable-next-line link-broken -->
    See the [values](/handbook/values/).
    ```

    **Use instead.**

    ```markdown
    See the [values](/handbook/values/).
    ```
    """,
)
