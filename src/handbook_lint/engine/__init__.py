"""The run: the linter over a site, worker processes, changes against git,
suppressions, baselines."""
