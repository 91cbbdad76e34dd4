"""Credentials out of everything stored, printed or logged by a coding run.

A base URL may carry credentials: ``http://user:password@host/v1`` (userinfo) or
``https://host/v1?api-key=SECRET`` (a query parameter whose name says it is a secret:
key, token, sig, secret, password, auth, ...).  :func:`redact_url` replaces them with
``***``; :func:`url_secrets` lists them so they can be scrubbed from free text (error
messages of the openai client and its HTTP transports echo URLs); :class:`Redactor`
does both, plus the API key, for one run; :func:`redacting_logs` applies it to every log
record created while a run is going on (httpx logs each request URL at INFO).

:func:`client_url` splits a base URL into what the openai client needs: the URL without
its query, and the query as ``default_query`` (openai appends paths to the raw path, so
a query left in the base URL would end up in front of ``/chat/completions``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

MASK = "***"
#: Query parameter names whose values are secrets (matched anywhere in the name).
SECRET_PARAM = re.compile(
    r"key|token|sig|secret|pass|pwd|auth|credential|session|cookie|jwt|bearer", re.IGNORECASE
)
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>`]+")
_KEYISH = re.compile(r"\b(sk-[A-Za-z0-9_\-]{6})[A-Za-z0-9_\-]+")
_MIN_SECRET = 3  # shorter values (e.g. a user "a") are masked in URLs, not in free text


def _split(url: str) -> tuple[str, str, str, str, str, str, str] | None:
    """(scheme, user, password, hostport, path, query, fragment), None if not a URL."""
    try:
        p = urlsplit(url)
    except ValueError:
        return None
    if not p.scheme or not p.netloc:
        return None
    userinfo, at, hostport = p.netloc.rpartition("@")
    user, _, password = userinfo.partition(":") if at else ("", "", "")
    return p.scheme, user, password, hostport, p.path, p.query, p.fragment


def _redact_query(query: str) -> str:
    parts = []
    for item in query.split("&") if query else []:
        name, eq, _ = item.partition("=")
        secret = eq and SECRET_PARAM.search(unquote(name))
        parts.append(f"{name}={MASK}" if secret else item)
    return "&".join(parts)


def redact_url(url: str | None) -> str | None:
    """``url`` with userinfo and secret query values replaced by ``***``.

    >>> redact_url("http://me:pw@host:8000/v1?api-key=abc&api-version=2024")
    'http://***:***@host:8000/v1?api-key=***&api-version=2024'
    """
    if url is None:
        return None
    s = _split(url)
    if s is None:
        return url
    scheme, user, password, hostport, path, query, fragment = s
    netloc = hostport
    if user or password or "@" in urlsplit(url).netloc:
        netloc = f"{MASK}:{MASK}@{hostport}" if password else f"{MASK}@{hostport}"
    return urlunsplit((scheme, netloc, path, _redact_query(query), fragment))


def url_secrets(url: str | None) -> list[str]:
    """The credential strings in ``url`` (raw and percent-decoded), longest first."""
    s = _split(url) if url else None
    if s is None:
        return []
    _, user, password, _, _, query, _ = s
    found = [user, password]
    for item in query.split("&") if query else []:
        name, eq, value = item.partition("=")
        if eq and SECRET_PARAM.search(unquote(name)):
            found.append(value)
    out = {v for f in found if f for v in (f, unquote(f), quote(unquote(f), safe=""))}
    return sorted(out, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every URL in it redacted and the ``secrets`` masked."""
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)) or "", text)
    for s in sorted(set(secrets), key=len, reverse=True):
        if len(s) >= _MIN_SECRET:
            text = text.replace(s, MASK)
    return _KEYISH.sub(r"\1" + MASK, text)


def client_url(base_url: str | None) -> tuple[str | None, dict[str, str] | None]:
    """(base URL without its query, the query as ``default_query``) for openai's client."""
    if not base_url:
        return base_url, None
    p = urlsplit(base_url)
    if not p.query:
        return base_url, None
    query = dict(parse_qsl(p.query, keep_blank_values=True))
    return urlunsplit((p.scheme, p.netloc, p.path, "", p.fragment)), query


def has_userinfo(base_url: str | None) -> bool:
    """Whether ``base_url`` carries ``user[:password]@``."""
    return bool(base_url) and "@" in urlsplit(base_url or "").netloc


class Redactor:
    """Masks one run's API key and base-URL credentials (and any URL's) in text."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None) -> None:
        keys = [api_key] if api_key and len(api_key) >= 4 and api_key != "not-needed" else []
        self.secrets = [*keys, *url_secrets(base_url)]

    def __call__(self, text: str) -> str:
        return redact_text(text, self.secrets)


@contextmanager
def redacting_logs(redact: Callable[[str], str]) -> Iterator[None]:
    """Within the block, every new log record's message and traceback pass ``redact``."""
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            record.msg, record.args = redact(record.getMessage()), None
            if record.exc_info:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
            if record.stack_info:
                record.stack_info = redact(record.stack_info)
        except Exception:  # a broken record must not break the run
            record.msg, record.args = "(log message withheld: could not be redacted)", None
        return record

    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(previous)
