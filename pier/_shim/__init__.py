"""Holds a `cog` package that re-exports `pier.sdk`.

The runner puts this directory first on `sys.path`, so `from cog import ...` in an unmodified
Cog model resolves to Pier's types, whether or not the real `cog` package is installed.
"""
