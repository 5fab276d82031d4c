"""Tools for working on trueup, not part of the installed package: run from the repository's
root (`python -m tools.screenshots`); the tests and the bench import their shared helpers."""
