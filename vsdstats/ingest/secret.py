"""The per-study pseudonymization secret: where it lives, how it is made and read.

At least 32 random bytes, stored as hex.  Taken from a secret file (created with mode
0600 if missing), else the ``VSDSTATS_SECRET`` environment variable (hex), else the
study's key in the user's configuration folder,
``~/.config/vsdstats/secrets/<study id>.key`` (``$VSDSTATS_CONFIG_DIR`` or
``$XDG_CONFIG_HOME`` move it; :func:`vsdstats.tables.study.default_secret_path`),
created on first ingest into a study folder, whose ``.vsdstats/study-id`` names it.
The key is thus never inside the study folder: sharing the folder shares no key.
Studies made before keep reading ``STUDY/.vsdstats/secret.key``.  It never enters a
table, report or log; anyone holding it can re-identify authors by hashing candidate
handles, so back it up privately and never share it with the data.
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
        study_has_posts = out is not None and StudyDir(out).posts.exists()
        path = default_secret_path(out, create_id=not study_has_posts) if out else None
        if path is None and study_has_posts:
            raise SecretError(
                f"{out} holds posts but has no study id (.vsdstats/study-id) or secret; "
                f"pass the secret it was made with (--secret-file / ${SECRET_ENV})"
            )
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
        fresh = not path.parent.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            os.chmod(path.parent, 0o700)  # the folder of keys: the user's alone
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
