"""How many OpenMP threads faiss may use for one call."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import faiss

T = TypeVar("T")
R = TypeVar("R")

# Below this many multiply-adds a call runs on one thread: waking an OpenMP team costs more
# than the work, and on a busy machine its barrier can stall for milliseconds.
SMALL_WORK = 50_000_000


@contextmanager
def single_thread(work: int = 0) -> Iterator[None]:
    """Run faiss calls on this thread only, unless `work` is large. The OpenMP setting is per
    calling thread, so other threads are unaffected."""
    if work > SMALL_WORK:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def parallel_map(work: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """Map over items on a few threads, each running faiss single-threaded.

    Coarse tasks without barriers keep both cores busy even on a loaded machine, where an
    OpenMP team inside every small call stalls whenever one of its threads is descheduled.
    faiss and numpy release the GIL in their kernels.
    """

    def task(item: T) -> R:
        with single_thread():
            return work(item)

    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(task, items))
