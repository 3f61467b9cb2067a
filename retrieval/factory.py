"""Which vector index a cube uses, chosen by a setting: a factory of index backends.

`spann` (default) is memos' disk index; `flat` is exact search (the baseline);
`milvus://host:port` or `milvus:///path/file.db` keeps vectors in Milvus (optional extra).
A backend's module loads when the backend is first used, so commands that never search
(get, history, export) do not pay for faiss or a Milvus client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from memos.errors import ConfigError
from memos.models import CubeInfo
from memos.protocols import FloatArray, IdArray, VectorIndex


class IndexBackend(Protocol):
    """Opens, creates and bulk-builds one kind of `VectorIndex` for a cube."""

    name: str
    # Whether the index lives in this host's memos home (then a process of this host holds
    # it exclusively, and the others keep a private exact copy) or in a shared service.
    local: bool

    def open(self, path: Path, cube: CubeInfo) -> VectorIndex:
        """Raises: NotFoundError: none yet. ConflictError: another process holds it.
        BackendError: damaged. IndexMismatchError: another dimension or metric."""
        ...

    def create(self, path: Path, cube: CubeInfo) -> VectorIndex: ...

    def build(
        self, path: Path, cube: CubeInfo, ids: IdArray, vectors: FloatArray
    ) -> VectorIndex: ...

    def close(self) -> None:
        """Release what the backend holds for every cube (a service connection)."""
        ...


class SpannBackend:
    """memos' SPANN-style disk index (retrieval/spann)."""

    name = "spann"
    local = True

    def open(self, path: Path, cube: CubeInfo) -> VectorIndex:
        from memos.retrieval.spann import SpannIndex

        spec = cube.embedder
        return SpannIndex.open(path, dim=spec.dim, metric=spec.metric)

    def create(self, path: Path, cube: CubeInfo) -> VectorIndex:
        from memos.retrieval.spann import SpannIndex

        return SpannIndex.create(path, cube.embedder.dim, cube.embedder.metric)

    def build(self, path: Path, cube: CubeInfo, ids: IdArray, vectors: FloatArray) -> VectorIndex:
        from memos.retrieval.spann import SpannIndex

        return SpannIndex.build(path, ids, vectors, cube.embedder.metric)

    def close(self) -> None:
        """Each cube's index is closed by its owner; nothing is shared."""


class FlatBackend:
    """Exact search over every vector (faiss flat), persisted as checksummed snapshots."""

    name = "flat"
    local = True

    def open(self, path: Path, cube: CubeInfo) -> VectorIndex:
        from memos.errors import NotFoundError
        from memos.retrieval.flat import SNAPSHOT, FlatIndex

        if not (path / SNAPSHOT).exists():
            raise NotFoundError(f"no flat index at {path}")
        return FlatIndex.open(path, cube.embedder.dim, cube.embedder.metric)

    def create(self, path: Path, cube: CubeInfo) -> VectorIndex:
        from memos.retrieval.flat import FlatIndex

        path.mkdir(parents=True, exist_ok=True)
        index = FlatIndex(path, cube.embedder.dim, cube.embedder.metric)
        index.flush()
        return index

    def build(self, path: Path, cube: CubeInfo, ids: IdArray, vectors: FloatArray) -> VectorIndex:
        index = self.create(path, cube)
        index.add(ids, vectors)
        return index

    def close(self) -> None:
        """Each cube's index is closed by its owner; nothing is shared."""


def private_index(path: Path, cube: CubeInfo) -> VectorIndex:
    """An exact index in a scratch folder, for a process that cannot hold the shared one."""
    from memos.retrieval.flat import FlatIndex

    return FlatIndex(path, cube.embedder.dim, cube.embedder.metric)


def index_backend(name: str) -> IndexBackend:
    """The backend a setting names: 'spann', 'flat', or a Milvus URI.

    Raises:
        ConfigError: an unknown name, or Milvus without its client installed.
    """
    if name == "spann":
        return SpannBackend()
    if name == "flat":
        return FlatBackend()
    if name.startswith("milvus:"):
        from memos.retrieval.milvus import MilvusBackend

        return MilvusBackend(name)
    raise ConfigError(
        f"unknown vector index {name!r}: use 'spann' (default), 'flat', or a Milvus URI "
        "(milvus://host:19530, milvus:///path/to/file.db)"
    )
