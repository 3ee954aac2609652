from handbook_lint.cli import run

run()
