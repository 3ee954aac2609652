from handbook_lint.cli import main

main()
