"""Tests for dagforge.parallel: joblib maps in input order, scikit-learn's n_jobs."""

from __future__ import annotations

import os
import time

import joblib
import pytest
import torch
from threadpoolctl import threadpool_info

from dagforge.errors import ConfigError
from dagforge.parallel import BACKENDS, effective_n_jobs, parallel_imap, parallel_map


def _slow_square(x: int) -> int:
    time.sleep(0.05 * (3 - x))  # the first items finish last
    return x * x


def _where_and_threads(_: int) -> tuple[int, int, list[int]]:
    blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return os.getpid(), torch.get_num_threads(), blas


def _fail(x: int) -> int:
    if x == 1:
        raise ValueError("task 1 failed")
    return x


def test_n_jobs_follows_scikit_learn() -> None:
    assert effective_n_jobs(1) == effective_n_jobs(None) == 1
    assert effective_n_jobs(-1) == joblib.cpu_count()
    assert effective_n_jobs(-1, n_tasks=1) == 1
    assert effective_n_jobs(8, n_tasks=3) == 3
    assert effective_n_jobs(2, n_tasks=0) == 1
    for bad in (0, 2.5, True, "2"):
        with pytest.raises(ConfigError, match="n_jobs"):
            effective_n_jobs(bad)  # type: ignore[arg-type]


def test_sequential_runs_here_with_the_callers_threads() -> None:
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        (pid, threads, _), = parallel_map(_where_and_threads, [0], n_jobs=1)
        assert pid == os.getpid() and threads == 2
    finally:
        torch.set_num_threads(old)
    assert parallel_map(_slow_square, range(4)) == [0, 1, 4, 9]
    assert parallel_map(_slow_square, [], n_jobs=2) == []


def test_workers_keep_input_order_and_run_single_threaded() -> None:
    assert parallel_map(_slow_square, range(4), n_jobs=2) == [0, 1, 4, 9]
    seen = parallel_map(_where_and_threads, range(4), n_jobs=2, backend="loky")
    assert all(pid != os.getpid() for pid, _, _ in seen)
    assert all(threads == 1 and all(n == 1 for n in blas) for _, threads, blas in seen)


def test_errors_and_backends() -> None:
    with pytest.raises(ValueError, match="task 1 failed"):
        parallel_map(_fail, range(3), n_jobs=2)
    with pytest.raises(ValueError, match="task 1 failed"):
        list(parallel_imap(_fail, range(3)))
    assert set(BACKENDS) == {"loky", "sequential", "ray"}
    with pytest.raises(ConfigError, match="unknown parallel backend"):
        parallel_map(_slow_square, range(2), backend="dask")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="ray"):
        parallel_map(_slow_square, range(2), n_jobs=2, backend="ray")
    # arguments are checked when the map is made, not when it is first read
    with pytest.raises(ConfigError, match="n_jobs"):
        parallel_imap(_slow_square, range(2), n_jobs=0)
