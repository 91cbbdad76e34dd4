"""Credentials for live collection: an environment variable, else the user's
``credentials.toml`` in :func:`vsdstats.tables.study.config_dir` (outside any study).

The file is a flat TOML table with the variable names as keys::

    REDDIT_CLIENT_ID = "..."
    REDDIT_CLIENT_SECRET = "..."

Values are never logged, never written into a study or a manifest.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from vsdstats.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class CredentialError(InputError):
    """A credential is missing or the credentials file is unreadable."""


def credentials_file() -> Path:
    """``config_dir()/credentials.toml``."""
    from vsdstats.tables.study import config_dir

    return config_dir() / "credentials.toml"


def credential(name: str) -> str:
    """The value of credential ``name``: ``$name``, else ``name`` in credentials.toml;
    CredentialError (one line naming the variable) when neither has it."""
    value = os.environ.get(name)
    if value:
        return value
    path = credentials_file()
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            # the parser's message can quote a line of the file: give only its position
            where = f" (line {exc.lineno})" if hasattr(exc, "lineno") else ""
            raise CredentialError(f"{path}: unreadable credentials file{where}") from None
        value = data.get(name)
        if isinstance(value, str) and value:
            return value
    raise CredentialError(
        f"missing credential {name}: set the environment variable {name} "
        f'or add {name} = "..." to {path}'
    )
