"""The one base of every vsdstats error.

Catch ``VsdstatsError`` to handle anything the library raises about the user's input,
files or environment. Each domain error also keeps its standard base (``ValueError``
for bad input, ``RuntimeError`` for an unusable environment), so code written against
those keeps working.
"""

from __future__ import annotations


class VsdstatsError(Exception):
    """Base class of every error vsdstats raises on purpose."""


class InputError(VsdstatsError, ValueError):
    """Bad input: a file, field, option or value the user supplied (exit 2 in the CLI)."""


class EnvironmentProblem(VsdstatsError, RuntimeError):
    """The machine cannot do what was asked (R missing, a plugin broken, ...)."""
