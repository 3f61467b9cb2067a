"""The scheduler: memory that moves itself across kinds (plaintext, KV cache, LoRA) and
tiers (GPU, RAM, disk) under budgets. See `memos.scheduler.core`."""

from memos.scheduler.core import Scheduler
from memos.scheduler.host import KernelHost, SchedulerHost
from memos.scheduler.records import Decision, PassReport, SchedulerStatus, TierStatus

__all__ = [
    "Decision",
    "KernelHost",
    "PassReport",
    "Scheduler",
    "SchedulerHost",
    "SchedulerStatus",
    "TierStatus",
]
