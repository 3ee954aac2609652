from handbook_lint.entry import run

run()
