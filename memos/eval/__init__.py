"""Evaluation harnesses: LoCoMo evidence recall (and MEMTRACK-style timelines)."""
