"""Provenance manifests: what made a study's outputs, for a reviewer to audit.

Each run of a command that writes into a study folder leaves one JSON file,
``STUDY/manifests/<command>-<UTC time>.json``, e.g. ``code-20260412T093000.123456Z.json``
(:func:`write_manifest`; never rewritten, and the names sort in the order of the runs, so
a study's manifests are the history of its runs).  :func:`build_manifest` records

- ``vsdstats``: the version, and when run from a git checkout the commit (``git
  rev-parse HEAD`` in the package's folder, only if the package's files are tracked
  there) and whether tracked files had uncommitted changes; absent otherwise;
- ``plugins``: the installed platform plugins (distribution -> version);
- ``packages``: the versions of the key Python packages (None when not installed);
- ``python`` and ``platform``: interpreter and operating system (no host name);
- ``command_line``: the command as typed, credentials redacted (:func:`redact_argv`);
- ``inputs`` (and ``outputs``): every file read (written) with its size and SHA-256;
- ``settings`` and whatever the command adds (seeds, sampling, codebook and prompt
  hashes, counts).

:func:`r_environment` adds the R side for commands that run R (``paper``): the R
version and the versions of the R packages vsdstats uses.

It imports only the standard library at module level, so the CLI can use it at start-up.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: Bump when the layout of a manifest changes incompatibly.
MANIFEST_VERSION = 1
#: Packages whose versions every manifest records.
KEY_PACKAGES = (
    "pandas",
    "numpy",
    "scipy",
    "pyarrow",
    "instructor",
    "openai",
    "httpx",
    "httpx2",  # openai >= 3 is built on it
    "aiohttp",
    "pydantic",
    "pluggy",
    "click",
)
MASK = "***"
# an option whose value is a credential: --api-key, --token, --password, --auth, ...
# (not --api-key-env, --secret-file: their values name where the secret is)
_SECRET_OPTION = re.compile(
    r"^--?(?:[A-Za-z0-9]+[-_])*(?:api[-_]?key|key|token|secret|password|passwd|pass|pwd|"
    r"auth|bearer|credentials?)$",
    re.IGNORECASE,
)
_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of the file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sha256_text(text: str) -> str:
    """Hex SHA-256 of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_folder(path: str | Path) -> tuple[str, int, int]:
    """``(hex SHA-256, bytes, files)`` of a folder: the hash of the lines
    ``<relative path>\t<SHA-256 of the file>`` of its files in sorted order."""
    root = Path(path)
    files = sorted(f for f in root.rglob("*") if f.is_file())
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.relative_to(root).as_posix()}\t{sha256_file(f)}\n".encode())
    return h.hexdigest(), sum(f.stat().st_size for f in files), len(files)


def file_record(path: str | Path, role: str | None = None) -> dict[str, Any]:
    """``{role, path, bytes, sha256}`` of one file (``role``: what it was, e.g. posts);
    of a folder (e.g. ``filter --dask`` parts) also ``files``, hashed by
    :func:`sha256_folder`."""
    p = Path(path)
    rec: dict[str, Any] = {} if role is None else {"role": role}
    if p.is_dir():
        digest, size, n = sha256_folder(p)
        rec.update(path=str(p), bytes=size, sha256=digest, files=n)
        return rec
    rec.update(path=str(p), bytes=p.stat().st_size, sha256=sha256_file(p))
    return rec


def package_versions(names: Iterable[str] = KEY_PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution in ``names`` (None if not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for n in names:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            out[n] = None
    return out


def plugin_versions() -> dict[str, str]:
    """Installed platform plugins, distribution -> version (read from their metadata;
    nothing is imported)."""
    from importlib.metadata import entry_points

    from vsdstats.connectors.hookspecs import ENTRY_POINT_GROUP

    out: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.dist is not None:
            out[ep.dist.name] = ep.dist.version
        else:
            out.setdefault(ep.name, "")
    return dict(sorted(out.items()))


def _git(where: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            ["git", "--no-optional-locks", "-C", str(where), *args],
            capture_output=True,
            text=True,
            timeout=10,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except (OSError, subprocess.SubprocessError):
        return None


def git_info(package_dir: str | Path | None = None) -> dict[str, Any] | None:
    """``{"commit": HEAD, "dirty": bool}`` when ``package_dir`` (default: this package's
    folder) is inside a git work tree that tracks it; None otherwise (an installed
    wheel, no git, or a package merely sitting inside some other repository)."""
    where = Path(package_dir) if package_dir is not None else Path(__file__).resolve().parent
    tracked = _git(where, "ls-files", "--error-unmatch", "--", "__init__.py")
    if tracked is None or tracked.returncode != 0:
        return None
    head = _git(where, "rev-parse", "HEAD")
    if head is None or head.returncode != 0:
        return None
    status = _git(where, "status", "--porcelain", "--untracked-files=no")
    dirty = None if status is None or status.returncode != 0 else bool(status.stdout.strip())
    return {"commit": head.stdout.strip(), "dirty": dirty}


def redact_argv(argv: Iterable[str], secrets: Iterable[str] = ()) -> list[str]:
    """``argv`` with credentials masked: the value of an option named like a credential
    (``--api-key X``, ``--token=X``), the userinfo and secret query values of every URL
    (:func:`vsdstats.coding.redact.redact_url`), anything shaped like an OpenAI key, and
    each string in ``secrets``."""
    from vsdstats.coding.redact import redact_text

    secrets = [s for s in secrets if s]
    out: list[str] = []
    hide = False
    for a in argv:
        if hide:
            out.append(MASK)
            hide = False
            continue
        if a.startswith("-") and "=" in a:
            name, _, value = a.partition("=")
            if _SECRET_OPTION.match(name):
                out.append(f"{name}={MASK}")
            else:
                out.append(f"{name}={redact_text(value, secrets)}")
            continue
        if _SECRET_OPTION.match(a):
            hide = True
            out.append(a)
            continue
        out.append(redact_text(a, secrets))
    return out


def command_line(secrets: Iterable[str] = ()) -> list[str]:
    """The current command line, redacted (:func:`redact_argv`): ``vsdstats ARGS`` as the
    CLI received them, else the script name and ``sys.argv[1:]``."""
    argv: list[str] | None = None
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    import click

    from vsdstats.cli._common import ARGV_META

    ctx = click.get_current_context(silent=True)
    if ctx is not None and ARGV_META in ctx.meta:
        argv, prog = list(ctx.meta[ARGV_META]), "vsdstats"
    if argv is None:
        argv = sys.argv[1:]
    return [prog, *redact_argv(argv, secrets)]


def environment() -> dict[str, Any]:
    """The versions part of a manifest: vsdstats (with git), plugins, packages, Python,
    platform."""
    import vsdstats

    vs: dict[str, Any] = {"version": vsdstats.__version__}
    git = git_info()
    if git is not None:
        vs["git_commit"] = git["commit"]
        vs["git_dirty"] = git["dirty"]
    return {
        "vsdstats": vs,
        "plugins": plugin_versions(),
        "packages": package_versions(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "platform": platform.platform(),
        },
    }


#: How :func:`r_environment` asks R: its version, then ``name<TAB>version`` (``NA`` when
#: not installed) for every package named on the command line.
_R_VERSIONS = (
    "cat(R.version.string, '\\n', R.version$platform, '\\n', sep = '');"
    "for (p in commandArgs(trailingOnly = TRUE)) "
    "cat(p, '\\t', suppressWarnings(utils::packageDescription(p, fields = 'Version')), "
    "'\\n', sep = '')"
)


def r_environment(libraries: Iterable[str] | None = None) -> dict[str, Any] | None:
    """The R part of a manifest, from ``Rscript --vanilla`` (the R on PATH, which
    :func:`vsdstats.r.bridge.check_r` requires rpy2 to embed): ``{"version":
    R.version.string, "platform": R.version$platform, "packages": {library: version or
    None}}`` for ``libraries`` (default: every R library of
    ``vsdstats/r/scripts/packages.txt``, :func:`vsdstats.r.packages.required_libraries`);
    None when R is not installed or does not answer."""
    import shutil

    from vsdstats.r.packages import required_libraries

    libs = list(required_libraries() if libraries is None else libraries)
    exe = shutil.which("Rscript")
    if exe is None:
        return None
    try:
        res = subprocess.run(
            [exe, "--vanilla", "-e", _R_VERSIONS, *libs],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "LC_ALL": "C"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = res.stdout.splitlines()
    if res.returncode != 0 or len(lines) < 2:
        return None
    packages: dict[str, str | None] = {}
    for line in lines[2:]:
        name, _, ver = line.partition("\t")
        packages[name] = None if ver in ("", "NA") else ver
    return {"version": lines[0], "platform": lines[1], "packages": packages}


def utc_now() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


def build_manifest(
    command: str,
    *,
    inputs: Iterable[Mapping[str, Any]] = (),
    outputs: Iterable[Mapping[str, Any]] = (),
    settings: Mapping[str, Any] | None = None,
    argv: list[str] | None = None,
    secrets: Iterable[str] = (),
    **extra: Any,
) -> dict[str, Any]:
    """A provenance record of one run of ``command`` (see the module docstring).

    ``inputs``/``outputs`` are :func:`file_record` dicts; ``settings`` must already be
    free of credentials (e.g. ``CodeSettings.recorded()``); ``argv`` defaults to
    :func:`command_line` (redacted with ``secrets`` either way); ``extra`` keys are added
    as given (seeds, hashes, counts).
    """
    secrets = list(secrets)
    cmd = [argv[0], *redact_argv(argv[1:], secrets)] if argv else command_line(secrets)
    return {
        "manifest_version": MANIFEST_VERSION,
        "command": command,
        "created_at": utc_now(),
        "command_line": cmd,
        **environment(),
        "inputs": [dict(r) for r in inputs],
        "outputs": [dict(r) for r in outputs],
        "settings": dict(settings or {}),
        **extra,
    }


def manifest_dir(study: str | Path) -> Path:
    """``STUDY/manifests`` (also :attr:`vsdstats.tables.study.StudyDir.manifests`)."""
    return Path(study) / "manifests"


def write_manifest(study: str | Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``manifest`` as ``STUDY/manifests/<command>-<UTC time>.json`` (a new file,
    never one that exists) and return its path."""
    folder = manifest_dir(study)
    folder.mkdir(parents=True, exist_ok=True)
    # e.g. code-20260412T093000.123456Z: file names sort in the order of the runs
    stamp = str(manifest.get("created_at") or utc_now()).replace("-", "").replace(":", "")
    stem = f"{manifest.get('command', 'run')}-{stamp}"
    text = json.dumps(manifest, indent=2, sort_keys=False, ensure_ascii=False, default=str)
    for i in range(1, 10_000):
        path = folder / (f"{stem}.json" if i == 1 else f"{stem}-{i}.json")
        try:
            with open(path, "x", encoding="utf-8") as f:
                f.write(text + "\n")
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{folder}: too many manifests named {stem}")
