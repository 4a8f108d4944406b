"""`python -m kmscli`: the same entry point as the console script."""

from kmscli.cli.main import main

main()
