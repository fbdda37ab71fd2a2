"""Errors as values a person can act on.

Every error the engine raises on purpose is a `RewrapError`: its message names what was wrong and
where, never a secret, and the CLI prints it without a traceback.
"""

from __future__ import annotations


class RewrapError(Exception):
    """Base of every expected failure (bad input, missing file, refused key, ...)."""


class FormatError(RewrapError):
    """Bytes that are not what the CockroachDB format says they should be."""


class UnsupportedError(RewrapError):
    """A valid request this build cannot carry out (e.g. a statement that needs a cluster)."""
