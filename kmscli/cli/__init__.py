"""The command line: click and rich live only in this package."""
