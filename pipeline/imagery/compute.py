"""Where a tile job reads its scenes: in its own thread(s), or on a dask.distributed cluster.

``run.threads`` > 1 reads the dates of a chunk in that many threads (GDAL decodes outside the
GIL); ``run.dask`` sends them to a ``dask.distributed`` cluster instead: ``local`` starts a
LocalCluster of ``run.threads`` single-threaded worker processes for the job, an address
(``tcp://host:8786``) joins a running cluster (shared by every job of the run). Either way
the reads come back to the job, which reduces them; results are identical.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor

from pipeline.config import RunOptions
from pipeline.errors import ConfigError


@contextlib.contextmanager
def open_executor(run: RunOptions) -> Iterator[Executor | None]:
    """The executor ``run`` asks for (None: read in the job's own thread)."""
    if run.dask is None:
        if run.threads <= 1:
            yield None
            return
        with ThreadPoolExecutor(max_workers=run.threads, thread_name_prefix="tushu-read") as ex:
            yield ex
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(
            "run.dask needs the dask.distributed package: pip install 'tushu[cluster]' "
            "(or remove run.dask)"
        ) from None
    if run.dask == "local":
        with (
            LocalCluster(
                n_workers=run.threads,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client.get_executor()
        return
    with Client(run.dask, timeout=run.retry.timeout_s) as client:
        yield client.get_executor()
