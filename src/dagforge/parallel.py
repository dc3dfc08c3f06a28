"""Parallel maps over independent tasks (bootstrap refits, multistarts, benchmarks).

One function, :func:`parallel_imap` (and its list form :func:`parallel_map`), runs
``fn`` on every item through :mod:`joblib` and gives the results in input order, so
a caller's result never depends on the number of workers or the order in which
tasks finish.

``n_jobs`` follows scikit-learn: ``1`` (or ``None``) runs the tasks here, one after
the other; ``-1`` uses every core, ``-2`` all but one, and so on; ``0`` is an error.

``backend`` names where the tasks run (:data:`BACKENDS`):

``"loky"`` (default with ``n_jobs != 1``)
    Worker processes on this machine, so torch fits run truly in parallel (no GIL);
    each task runs with one torch thread and one BLAS thread, so ``k`` workers use
    ``k`` cores rather than ``k`` times every core.
``"sequential"`` (default with ``n_jobs == 1``)
    In this process, with the caller's thread settings left alone.
``"ray"``
    Reserved for a Ray cluster (joblib's backend from ``ray.util.joblib``); not
    available yet.

``fn`` and the items must be picklable for ``"loky"`` (joblib uses cloudpickle, so
closures and lambdas work too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

import joblib
import torch
from threadpoolctl import threadpool_limits

from dagforge.errors import ConfigError

log = logging.getLogger(__name__)

__all__ = ["BACKENDS", "Backend", "effective_n_jobs", "parallel_imap", "parallel_map"]

T = TypeVar("T")
R = TypeVar("R")

Backend = Literal["loky", "sequential", "ray"]


def _joblib_loky() -> str:
    return "loky"


def _joblib_sequential() -> str:
    return "sequential"


def _joblib_ray() -> str:
    # the hook for later: ray.util.joblib.register_ray() makes "ray" a joblib backend
    raise ConfigError("the ray backend is not available yet; use backend='loky'")


#: backend name -> function that prepares it and returns joblib's name for it
BACKENDS: dict[str, Callable[[], str]] = {
    "loky": _joblib_loky,
    "sequential": _joblib_sequential,
    "ray": _joblib_ray,
}


def effective_n_jobs(n_jobs: int | None, n_tasks: int | None = None) -> int:
    """The number of workers ``n_jobs`` means (scikit-learn's convention, see the module
    docstring), at most ``n_tasks`` when given; raises :class:`ConfigError` for ``0``
    or a non-integer."""
    if n_jobs is None:
        n_jobs = 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ConfigError(f"n_jobs must be a non-zero integer (1: here, -1: all cores), "
                          f"got {n_jobs!r}")
    n = joblib.effective_n_jobs(n_jobs)
    return max(1, min(n, n_tasks)) if n_tasks is not None else n


@dataclass(frozen=True)
class _SingleThreaded(Generic[T, R]):
    """``fn`` run with one torch and one BLAS thread (in a worker process)."""

    fn: Callable[[T], R]

    def __call__(self, item: T) -> R:
        old = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with threadpool_limits(limits=1):
                return self.fn(item)
        finally:
            # loky reuses its workers: leave the next task the settings it found
            torch.set_num_threads(old)


def parallel_imap(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    n_jobs: int | None = 1,
    backend: Backend | None = None,
) -> Iterator[R]:
    """Yield ``fn(item)`` for every item, in the order of ``items``.

    Parameters
    ----------
    fn : callable
        A function of one item; for a process backend it and the items must pickle.
    items : iterable
        The tasks' inputs (read in full before the first task starts).
    n_jobs : int or None
        Workers (see the module docstring); never more than the number of items.
    backend : {"loky", "sequential", "ray"}, optional
        Where the tasks run (default: ``"sequential"`` for one worker, else ``"loky"``).

    Returns
    -------
    iterator
        The results, each as soon as it and every one before it are done; an
        exception in a task is raised from the iterator.
    """
    tasks: Sequence[T] = list(items)
    n = effective_n_jobs(n_jobs, len(tasks))
    if backend is None:
        backend = "sequential" if n == 1 else "loky"
    if backend not in BACKENDS:
        raise ConfigError(f"unknown parallel backend {backend!r}; choose one of "
                          f"{', '.join(BACKENDS)}")
    name = BACKENDS[backend]()
    if name == "sequential":
        # here, with the caller's threads: the same numbers as a plain loop
        return (fn(item) for item in tasks)
    log.debug("running %d tasks on %d %s workers", len(tasks), n, name)
    worker = _SingleThreaded(fn)
    parallel = joblib.Parallel(n_jobs=n, backend=name, return_as="generator")
    return iter(parallel(joblib.delayed(worker)(item) for item in tasks))


def parallel_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    n_jobs: int | None = 1,
    backend: Backend | None = None,
) -> list[R]:
    """``[fn(item) for item in items]``, run by :func:`parallel_imap` (same arguments)."""
    return list(parallel_imap(fn, items, n_jobs=n_jobs, backend=backend))
