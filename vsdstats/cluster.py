"""The Dask distributed connection behind ``--dask`` (``filter``, ``ingest``, ``code``).

``--dask local:N`` starts a :class:`distributed.LocalCluster` of N worker *processes*
(one thread each) on this machine for the run; ``--dask tcp://HOST:PORT`` (or
``tls://``) connects to the scheduler of an existing cluster, e.g. one started with
``dask scheduler`` / ``dask worker``, dask-jobqueue on an HPC cluster or a cloud
Dask deployment.  Workers must have the same vsdstats version installed (checked
at connection) and, for a remote cluster, see the input and output paths at the same
place (a shared file system).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from vsdstats.errors import InputError

_LOCAL_RE = re.compile(r"local(?::(\d+))?$")
_REMOTE_RE = re.compile(r"(tcp|tls|ws|wss|inproc|ucx)://\S+$")
DASK_HELP = (
    "run on Dask distributed: local:N (N worker processes on this machine) or the "
    "scheduler address of an existing cluster, tcp://HOST:PORT"
)


class ClusterError(InputError):
    """``--dask`` is unusable (bad spec, Dask missing, scheduler unreachable)."""


@dataclass(frozen=True)
class DaskSpec:
    """A parsed ``--dask`` value: ``local`` with ``workers``, or a scheduler ``address``."""

    workers: int | None = None
    address: str | None = None

    @property
    def local(self) -> bool:
        return self.address is None

    def __str__(self) -> str:
        return f"local:{self.workers}" if self.local else str(self.address)


def parse_spec(spec: str) -> DaskSpec:
    """``local``, ``local:N`` or a scheduler address; ClusterError otherwise."""
    spec = spec.strip()
    if m := _LOCAL_RE.match(spec):
        n = int(m.group(1) or 2)
        if n < 1:
            raise ClusterError(f"--dask {spec}: local needs at least 1 worker")
        return DaskSpec(workers=n)
    if _REMOTE_RE.match(spec):
        return DaskSpec(address=spec)
    raise ClusterError(f"--dask {spec!r}: expected local:N or a scheduler address tcp://HOST:PORT")


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ClusterError(
            "--dask needs Dask distributed, which is not installed: pip install 'vsdstats[dask]'"
        ) from None
    return distributed


@contextmanager
def dask_client(spec: str | DaskSpec, *, timeout: float | None = None) -> Iterator[Any]:
    """A :class:`distributed.Client` for ``spec``; a local cluster is closed on exit.
    ``timeout`` (seconds) defaults to Dask's ``distributed.comm.timeouts.connect``."""
    s = parse_spec(spec) if isinstance(spec, str) else spec
    distributed = _distributed()
    cluster = None
    kw = {} if timeout is None else {"timeout": timeout}
    try:
        if s.local:
            cluster = distributed.LocalCluster(
                n_workers=s.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # a free port: never clashes with a running one
                silence_logs=logging.ERROR,
            )
            client = distributed.Client(cluster, **kw)
        else:
            client = distributed.Client(s.address, **kw)
    except (OSError, TimeoutError, RuntimeError) as exc:
        if cluster is not None:
            cluster.close()
        raise ClusterError(f"--dask {s}: cannot reach the scheduler: {exc}") from None
    try:
        check_workers(client)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _worker_version() -> str:
    import vsdstats

    return vsdstats.__version__


def check_workers(client: Any) -> None:
    """ClusterError unless the cluster has workers running this vsdstats version."""
    import vsdstats

    try:
        versions = client.run(_worker_version)
    except Exception as exc:  # a worker without vsdstats cannot unpickle the function
        raise ClusterError(f"Dask workers cannot run vsdstats: {exc}") from None
    if not versions:
        raise ClusterError("the Dask cluster has no workers")
    wrong = {a: v for a, v in versions.items() if v != vsdstats.__version__}
    if wrong:
        addr, v = next(iter(wrong.items()))
        raise ClusterError(
            f"Dask worker {addr} runs vsdstats {v}, this client {vsdstats.__version__}; "
            "install the same version on every worker"
        )


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity mask where the OS has one (a SLURM
    job step or ``taskset`` narrows it), else all of the machine's."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def spare_cores(client: Any) -> bool:
    """True when every host has more usable CPUs than its workers have threads, so a
    task can use a second thread of its own (the filter's reader) without crowding
    another."""
    cpus = client.run(usable_cpus)
    workers = client.scheduler_info(n_workers=-1)["workers"]
    threads: dict[str, int] = {}
    host_cpus: dict[str, int] = {}
    for addr, w in workers.items():
        host = w.get("host", addr)
        threads[host] = threads.get(host, 0) + int(w.get("nthreads", 1))
        host_cpus[host] = int(cpus.get(addr) or 1)
    return bool(threads) and all(threads[h] < host_cpus[h] for h in threads)
