"""SPANN-style disk-backed vector index: centroids in RAM, posting lists on disk.

See `index.py` for the directory layout and `DESIGN.md` (vector index) for the approach.
"""

from memos.retrieval.spann.index import SpannIndex
from memos.retrieval.spann.params import SpannParams

__all__ = ["SpannIndex", "SpannParams"]
