"""What agents spent on LLMs, per cube: one run's `Usage` as counters for the store's
ledger, and the totals with per-message rates (`memos stats` shows them)."""

from __future__ import annotations

from memos.agents.llm.base import Usage
from memos.protocols import UsageLedger


def record_usage(
    ledger: UsageLedger, cube_id: int, operation: str, *, messages: int, usage: Usage
) -> None:
    """Add one run of `operation` (e.g. 'ingest') to the cube's totals."""
    ledger.add_usage(
        cube_id,
        operation,
        {
            "runs": 1,
            "messages": messages,
            "llm_calls": usage.calls,
            "llm_failures": usage.failures,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
        },
    )


def usage_totals(ledger: UsageLedger, cube_id: int) -> dict[str, dict[str, float]]:
    """Totals per operation, with LLM calls and tokens per message."""
    report: dict[str, dict[str, float]] = {}
    for operation, counts in ledger.usage_totals(cube_id).items():
        row: dict[str, float] = dict(counts)
        per = max(counts["messages"], 1)
        row["llm_calls_per_message"] = round(counts["llm_calls"] / per, 3)
        tokens = counts["prompt_tokens"] + counts["completion_tokens"]
        row["tokens_per_message"] = round(tokens / per, 1)
        report[operation] = row
    return report
