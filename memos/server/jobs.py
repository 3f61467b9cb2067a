"""Long work (building a KV cache, training an adapter) runs as a job: the request
returns at once with the job, `GET /v1/jobs/{id}` tells how it went.

Jobs run one at a time on a worker thread (they share one runtime model) and live in
memory: a restarted server forgets them, the items they made stay.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from memos.errors import MemosError, NotFoundError
from memos.models import Record
from memos.server.encode import jsonable
from memos.server.errors import INTERNAL_MESSAGE
from memos.timeutil import utcnow

log = logging.getLogger("memos.server")

# Finished jobs kept for `GET /v1/jobs/{id}`; the oldest go first.
MAX_JOBS = 1000


@dataclass(frozen=True, slots=True)
class Job(Record):
    """One piece of long work: 'queued', 'running', 'done' or 'failed'."""

    id: str
    kind: str
    user: str
    cube: str
    status: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: Any = None
    error: dict[str, str] | None = field(default=None)


class JobRunner:
    """Runs jobs on one worker thread and remembers the last `MAX_JOBS`."""

    def __init__(self, *, workers: int = 1) -> None:
        self._workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="memos-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def submit(self, kind: str, user: str, cube: str, work: Callable[[], Any]) -> Job:
        job = Job(
            id=secrets.token_hex(8),
            kind=kind,
            user=user,
            cube=cube,
            status="queued",
            created_at=utcnow(),
        )
        self._put(job)
        with self._lock:
            self._pool.submit(self._run, job.id, work)
        return job

    def get(self, job_id: str, user: str) -> Job:
        """A job of `user`. Raises: NotFoundError: none (or another user's)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.user != user:
            raise NotFoundError(f"no job {job_id!r}; jobs live in the server's memory")
        return job

    def drain(self) -> None:
        """An app stopping: finish the running job, fail the queued ones; the runner stays
        usable (an app can start again)."""
        with self._lock:
            pool, self._pool = (
                self._pool,
                ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="memos-job"),
            )
        pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            queued = [job.id for job in self._jobs.values() if job.status == "queued"]
        stopped = {"type": "BackendError", "message": "the server stopped before this job ran"}
        for job_id in queued:
            self._update(job_id, status="failed", finished_at=utcnow(), error=stopped)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _put(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.id] = job
            self._jobs.move_to_end(job.id)
            while len(self._jobs) > MAX_JOBS:
                self._jobs.popitem(last=False)

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                self._jobs[job_id] = replace(job, **changes)

    def _run(self, job_id: str, work: Callable[[], Any]) -> None:
        self._update(job_id, status="running", started_at=utcnow())
        try:
            result = jsonable(work())
        except MemosError as exc:
            self._update(
                job_id,
                status="failed",
                finished_at=utcnow(),
                error={"type": type(exc).__name__, "message": str(exc)},
            )
        except Exception:  # a bug in a job must not kill the worker; the log has it
            log.exception("job %s failed", job_id)
            self._update(
                job_id,
                status="failed",
                finished_at=utcnow(),
                error={"type": "InternalError", "message": INTERNAL_MESSAGE},
            )
        else:
            self._update(job_id, status="done", finished_at=utcnow(), result=result)
