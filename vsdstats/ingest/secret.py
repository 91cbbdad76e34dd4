"""The per-study pseudonymization secret: where it lives, how it is made and read.

At least 32 random bytes, stored as hex.  Taken from a secret file (created with mode
0600 if missing), else the ``VSDSTATS_SECRET`` environment variable (hex), else
``STUDY/.vsdstats/secret.key`` (created on first ingest into a study folder).  It never
enters a table, report or log; anyone holding it can re-identify authors by hashing
candidate handles, so never share it (nor a study's ``.vsdstats/`` folder) with the data.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets as _secrets
from pathlib import Path

from vsdstats.errors import InputError
from vsdstats.tables.study import StudyDir, default_secret_path

SECRET_BYTES = 32
SECRET_ENV = "VSDSTATS_SECRET"


class SecretError(InputError):
    """The secret is missing, unreadable or too short (the message names where)."""


def _parse_secret(data: bytes, where: str) -> bytes:
    text = data.strip()
    try:
        secret = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        secret = data
    if len(secret) < SECRET_BYTES:
        raise SecretError(f"{where}: the secret must be at least {SECRET_BYTES} bytes")
    return secret


def load_secret(secret_file: str | Path | None = None, out: str | Path | None = None) -> bytes:
    """The study secret: from ``secret_file`` (created if missing), else ``$VSDSTATS_SECRET``
    (hex), else ``STUDY/.vsdstats/secret.key`` (created if missing) for a study folder."""
    path = Path(secret_file) if secret_file else None
    if path is None:
        env = os.environ.get(SECRET_ENV)
        if env:
            try:
                secret = bytes.fromhex(env.strip())
            except ValueError:
                raise SecretError(f"${SECRET_ENV} is not hexadecimal") from None
            if len(secret) < SECRET_BYTES:
                raise SecretError(f"${SECRET_ENV} must hold at least {SECRET_BYTES} bytes")
            return secret
        path = default_secret_path(out) if out is not None else None
        if path is None:
            raise SecretError(
                "a .parquet or .duckdb output needs --secret-file FILE (created if missing) "
                f"or ${SECRET_ENV}; keep the secret apart from the data you share"
            )
        if not path.exists() and out is not None and StudyDir(out).posts.exists():
            raise SecretError(
                f"{out} holds posts but its secret {path} is missing; restore it (or pass "
                f"--secret-file / ${SECRET_ENV}) so that pseudonyms stay comparable"
            )
    if path.exists():
        try:
            return _parse_secret(path.read_bytes(), f"secret file {path}")
        except OSError as exc:
            raise SecretError(f"cannot read secret file {path}: {exc.strerror}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise SecretError(f"cannot create secret file {path}: {exc.strerror}") from None
    secret = _secrets.token_bytes(SECRET_BYTES)
    with os.fdopen(fd, "w") as f:
        f.write(secret.hex() + "\n")
    return secret


def secret_id(secret: bytes) -> str:
    """A keyed fingerprint telling secrets apart without revealing them."""
    return hmac.new(secret, b"vsdstats secret id", hashlib.sha256).hexdigest()[:16]
