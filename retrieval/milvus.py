"""Milvus as a cube's vector index (optional: `pip install 'memos-kernel[milvus]'`).

Every cube whose embedder has the same dimension and metric shares one collection
(`memos_v384_ip`); `cube_id` is its partition key. Isolation is built here, never taken
from caller text: a row's primary key is `"<cube>:<item>"`, so an upsert or delete by one
cube cannot touch another cube's row, and every search and count filters on this cube's
id. Each cube's `applied_seq` lives in Milvus too (the `memos_meta` collection), beside
the vectors it describes, so several memos hosts sharing one Milvus and one database
agree on where the operation-log replay starts.

Targets: `milvus://[user:password@]host[:port][/database]` for a server, and
`milvus:///absolute/path/file.db` for Milvus Lite embedded in this process (its file is
locked by one process at a time).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import numpy as np

from memos.errors import (
    BackendError,
    ConfigError,
    IndexMismatchError,
    InvalidInputError,
    NotFoundError,
)
from memos.models import CubeInfo
from memos.protocols import FloatArray, IdArray, VectorIndex

log = logging.getLogger(__name__)

INSTALL = "pip install 'memos-kernel[milvus]'"
DEFAULT_PORT = 19530
METRICS = {"ip": "IP", "cosine": "COSINE", "l2": "L2"}
# Rows per upsert and queries per search call: well under gRPC's 64 MiB message limit.
WRITE_BYTES = 8 * 2**20
SEARCH_BATCH = 256
# Milvus wants a vector field in every collection, the meta collection included.
META_DIM = 2

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HnswParams:
    """HNSW graph degree and build width, and the search width (raised to k when smaller).
    ef=256 gives recall@10 0.994 searching one of 10 cubes in 100k clustered 384-d vectors
    (0.966 at ef=64; bench/milvus.py)."""

    m: int = 16
    ef_construction: int = 200
    ef: int = 256


@dataclass(frozen=True, slots=True)
class MilvusTarget:
    """Where Milvus is: a server address (`http://host:port`) or a Milvus Lite file."""

    uri: str
    database: str = ""
    user: str = ""
    password: str = field(default="", repr=False)

    @property
    def embedded(self) -> bool:
        return not self.uri.startswith("http")

    def __str__(self) -> str:
        if self.embedded:
            return f"milvus://{self.uri}"
        tail = f"/{self.database}" if self.database else ""
        return f"milvus://{self.uri.removeprefix('http://')}{tail}"

    @classmethod
    def parse(cls, uri: str) -> MilvusTarget:
        """Read `milvus://host:port[/database]` or `milvus:///abs/path/file.db`.

        Raises:
            ConfigError: not a milvus:// URI, or a Lite path that is relative or not a .db.
        """
        parts = urlsplit(uri)
        if parts.scheme != "milvus":
            raise ConfigError(
                f"vector store URI {uri!r} is not a Milvus URI; use milvus://host:19530 for "
                "a server or milvus:///absolute/path/vectors.db for Milvus Lite"
            )
        if parts.query or parts.fragment:
            raise ConfigError(f"Milvus URI {uri!r} takes no query string or fragment")
        if not parts.netloc:
            path = unquote(parts.path)
            if not path.endswith(".db") or not Path(path).is_absolute():
                raise ConfigError(
                    f"Milvus Lite path {path!r} must be absolute and end in .db, "
                    "e.g. milvus:///home/me/memos/vectors.db"
                )
            return cls(uri=path)
        try:
            host, port = parts.hostname, parts.port or DEFAULT_PORT
        except ValueError:
            raise ConfigError(f"Milvus URI {uri!r} has a bad port") from None
        if not host or host.endswith(".db"):
            raise ConfigError(
                f"Milvus URI {uri!r} names no server; a Milvus Lite file needs three "
                "slashes and an absolute path: milvus:///path/to/vectors.db"
            )
        database = parts.path.strip("/")
        if database and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", database):
            raise ConfigError(f"Milvus database name {database!r} in {uri!r} is not valid")
        if ":" in host:
            host = f"[{host}]"
        return cls(
            uri=f"http://{host}:{port}",
            database=database,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )


def _pymilvus() -> Any:
    try:
        import pymilvus
    except ImportError:
        raise ConfigError(f"the Milvus vector store needs pymilvus: {INSTALL}") from None
    return pymilvus


# Milvus Lite serves a file from a thread of this process until released; count the
# connections using each file so the last one to close releases the file lock.
_lite_users: dict[str, int] = {}
_lite_lock = threading.Lock()


class MilvusConnection:
    """One client to one Milvus, shared by the indexes of every cube that uses it.

    Writes go through one lock: Milvus Lite allows one writer per collection at a time,
    and every cube of a dimension shares a collection.
    """

    def __init__(
        self,
        client: Any,
        target: MilvusTarget,
        *,
        params: HnswParams = HnswParams(),
        prefix: str = "memos",
        timeout: float = 30.0,
        lite: bool = False,
        lite_flush_rows: int = 1000,
    ) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", prefix):
            raise InvalidInputError(f"Milvus collection prefix {prefix!r} is not a valid name")
        self.client = client
        self.target = target
        self.params = params
        self.prefix = prefix
        self.timeout = timeout
        self.lite = lite
        self.lite_flush_rows = lite_flush_rows
        self.write_lock = threading.Lock()
        self._unflushed: dict[str, int] = {}
        self._ready: set[str] = set()
        self._ready_lock = threading.Lock()
        self._closed = False

    @classmethod
    def connect(
        cls,
        target: MilvusTarget | str,
        *,
        params: HnswParams = HnswParams(),
        prefix: str = "memos",
        timeout: float = 30.0,
        lite_flush_rows: int = 1000,
    ) -> MilvusConnection:
        """Connect to a server (creating its database if needed) or open a Lite file.

        Raises:
            ConfigError: pymilvus or milvus-lite is missing, or the URI is malformed.
            BackendError: Milvus cannot be reached or refuses the connection.
        """
        if isinstance(target, str):
            target = MilvusTarget.parse(target)
        pymilvus = _pymilvus()
        if target.embedded:
            try:
                import milvus_lite  # noqa: F401
            except ImportError:
                raise ConfigError(f"Milvus Lite needs the milvus-lite package: {INSTALL}") from None
            Path(target.uri).parent.mkdir(parents=True, exist_ok=True)
        token = f"{target.user}:{target.password}" if target.user else ""
        try:
            client = pymilvus.MilvusClient(uri=target.uri, token=token, timeout=timeout)
            if target.database:
                if target.database not in client.list_databases(timeout=timeout):
                    client.create_database(target.database, timeout=timeout)
                client.use_database(target.database)
            version = str(client.get_server_version(timeout=timeout))
        except pymilvus.MilvusException as exc:
            if target.embedded:
                hint = "check that no other process has this Milvus Lite file open"
            else:
                hint = "check that the server is running, reachable and the credentials right"
            raise BackendError(f"cannot open Milvus at {target}: {exc.message}; {hint}") from None
        if target.embedded:
            with _lite_lock:
                _lite_users[target.uri] = _lite_users.get(target.uri, 0) + 1
        return cls(
            client,
            target,
            params=params,
            prefix=prefix,
            timeout=timeout,
            lite=target.embedded or version.startswith("milvus_lite"),
            lite_flush_rows=lite_flush_rows,
        )

    def close(self) -> None:
        """Close the client; the last connection to a Lite file releases it."""
        if self._closed:
            return
        self._closed = True
        self.client.close()
        if self.target.embedded:
            with _lite_lock:
                left = _lite_users.get(self.target.uri, 1) - 1
                _lite_users[self.target.uri] = left
            if left <= 0:
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(self.target.uri)

    def __enter__(self) -> MilvusConnection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def call(self, what: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one client call, turning Milvus's errors into BackendError."""
        pymilvus = _pymilvus()
        try:
            return method(*args, timeout=self.timeout, **kwargs)
        except pymilvus.MilvusException as exc:
            raise BackendError(
                f"Milvus at {self.target} failed to {what}: {exc.message}; check that it is "
                "running and reachable, then retry (the index replays the operation log)"
            ) from None

    def write(self, what: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One write, serialised (Milvus Lite takes one writer per collection)."""
        with self.write_lock:
            return self.call(what, method, *args, **kwargs)

    def wrote(self, collection: str, rows: int) -> None:
        """Count rows written; on Milvus Lite, seal them once enough have accumulated,
        because it scans unsealed rows in Python on every search and count."""
        if not self.lite:
            return
        with self.write_lock:
            pending = self._unflushed.get(collection, 0) + rows
            if pending >= self.lite_flush_rows:
                self.call(f"seal {collection}", self.client.flush, collection)
                pending = 0
            self._unflushed[collection] = pending

    def seal(self, collection: str) -> None:
        """Seal a collection's unsealed rows (Milvus Lite only; a server does it itself)."""
        if not self.lite:
            return
        with self.write_lock:
            if self._unflushed.get(collection, 0):
                self.call(f"seal {collection}", self.client.flush, collection)
                self._unflushed[collection] = 0

    # -- collections ---------------------------------------------------------------------

    @property
    def meta_collection(self) -> str:
        return f"{self.prefix}_meta"

    def collection_for(self, dim: int, metric: str) -> str:
        if metric not in METRICS:
            raise InvalidInputError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
        if dim < 2:
            raise InvalidInputError(f"Milvus needs vectors of at least 2 dimensions, got {dim}")
        return f"{self.prefix}_v{dim}_{metric}"

    def ensure(self, name: str, dim: int, metric: str) -> None:
        """Create (or check, then load) a collection once per connection."""
        with self._ready_lock:
            if name in self._ready:
                return
            pymilvus = _pymilvus()
            if self.call("list collections", self.client.has_collection, name):
                self._check_dim(name, dim)
            else:
                self._create(pymilvus, name, dim, metric)
            self.call(f"load collection {name}", self.client.load_collection, name)
            self._ready.add(name)

    def _create(self, pymilvus: Any, name: str, dim: int, metric: str) -> None:
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("pk", pymilvus.DataType.VARCHAR, is_primary=True, max_length=256)
        index = self.client.prepare_index_params()
        if name == self.meta_collection:
            schema.add_field("seq", pymilvus.DataType.INT64)
            schema.add_field("identity", pymilvus.DataType.VARCHAR, max_length=2048)
            schema.add_field("vector", pymilvus.DataType.FLOAT_VECTOR, dim=META_DIM)
            index.add_index(field_name="vector", index_type="FLAT", metric_type="L2")
        else:
            schema.add_field("cube_id", pymilvus.DataType.INT64, is_partition_key=True)
            schema.add_field("vector", pymilvus.DataType.FLOAT_VECTOR, dim=dim)
            index.add_index(
                field_name="vector",
                index_type="HNSW",
                metric_type=METRICS[metric],
                params={"M": self.params.m, "efConstruction": self.params.ef_construction},
            )
        try:
            self.client.create_collection(
                name,
                schema=schema,
                index_params=index,
                consistency_level="Strong",
                timeout=self.timeout,
            )
        except pymilvus.MilvusException:
            # Another host may have created it a moment ago.
            if not self.call("list collections", self.client.has_collection, name):
                raise BackendError(
                    f"Milvus at {self.target} refused to create collection {name}; check "
                    "the server's logs and that this user may create collections"
                ) from None
            self._check_dim(name, dim)

    def _check_dim(self, name: str, dim: int) -> None:
        info = self.call(f"describe {name}", self.client.describe_collection, name)
        found = next(
            (f["params"].get("dim") for f in info["fields"] if f["name"] == "vector"), None
        )
        if found is not None and int(found) != dim:
            raise IndexMismatchError(
                f"Milvus collection {name} holds {found}-d vectors, expected {dim}-d; "
                "drop it or use another collection prefix"
            )

    # -- indexes ---------------------------------------------------------------------------

    def index(self, cube_id: int, dim: int, metric: str, *, identity: str = "") -> MilvusIndex:
        """The vector index of one cube, with its durable `applied_seq`.

        `identity` (say, the cube's name and creation time) is stored with the cube's
        state: vectors left by an earlier cube of the same id, with another identity,
        are dropped and the index starts empty at sequence 0 (so its owner rebuilds it).

        Raises:
            BackendError: Milvus failed; IndexMismatchError: the collection has another dim.
        """
        collection = self.collection_for(dim, metric)
        self.ensure(self.meta_collection, META_DIM, "l2")
        self.ensure(collection, dim, metric)
        index = MilvusIndex(self, collection, int(cube_id), dim, metric, identity=identity)
        rows = self.call(
            "read index state",
            self.client.get,
            self.meta_collection,
            ids=[index.state_key],
            output_fields=["seq", "identity"],
        )
        if rows and rows[0]["identity"] == identity:
            index.loaded(int(rows[0]["seq"]))
        else:
            if rows:
                log.warning(
                    "Milvus holds vectors of an earlier cube %d in %s; dropping them",
                    cube_id,
                    collection,
                )
            # No state row: whatever vectors carry this cube id are nobody's we know.
            index.destroy()
        return index


class MilvusIndex:
    """`VectorIndex` over one cube's rows of a shared Milvus collection.

    Thread-safe: the client is, and writes are serialised by the connection. `len()`
    counts in Milvus once, then follows this index's own adds and removes (each checks
    which ids exist), because Milvus Lite counts by reading every row.
    """

    def __init__(
        self,
        connection: MilvusConnection,
        collection: str,
        cube_id: int,
        dim: int,
        metric: str,
        *,
        identity: str = "",
    ) -> None:
        self.connection = connection
        self.collection = collection
        self.cube_id = int(cube_id)
        self.dim = dim
        self.metric = metric
        self.identity = identity
        self.state_key = f"{collection}/{self.cube_id}"
        self._filter = f"cube_id == {self.cube_id}"
        self._applied_seq = 0
        self._saved_seq = 0
        self._count: int | None = None
        self._lock = threading.RLock()

    def loaded(self, seq: int) -> None:
        """Start from the `applied_seq` stored in Milvus."""
        self._applied_seq = self._saved_seq = seq

    def _keys(self, ids: IdArray) -> list[str]:
        return [f"{self.cube_id}:{item}" for item in ids.tolist()]

    def _present(self, keys: list[str]) -> int:
        """How many of these keys Milvus holds."""
        connection = self.connection
        rows = connection.call(
            "look up ids", connection.client.get, self.collection, ids=keys, output_fields=["pk"]
        )
        return len(rows)

    # -- VectorIndex -----------------------------------------------------------------------

    @property
    def applied_seq(self) -> int:
        return self._applied_seq

    def mark_applied(self, seq: int) -> None:
        with self._lock:
            self._applied_seq = max(self._applied_seq, seq)

    def add(self, ids: IdArray, vectors: FloatArray) -> None:
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim or len(ids) != len(vectors):
            raise InvalidInputError(
                f"expected {len(ids)} vectors of dimension {self.dim}, got shape {vectors.shape}"
            )
        if len(set(ids.tolist())) != len(ids):
            raise InvalidInputError("duplicate ids in one add")
        step = max(1, WRITE_BYTES // (4 * self.dim + 64))
        keys = self._keys(ids)
        connection = self.connection
        with self._lock:
            for start in range(0, len(keys), step):
                chunk = keys[start : start + step]
                rows = [
                    {"pk": key, "cube_id": self.cube_id, "vector": vector}
                    for key, vector in zip(chunk, vectors[start : start + step], strict=True)
                ]
                fresh = len(chunk) - self._present(chunk) if self._count is not None else 0
                connection.write("write vectors", connection.client.upsert, self.collection, rows)
                if self._count is not None:
                    self._count += fresh
                connection.wrote(self.collection, len(rows))

    def remove(self, ids: IdArray) -> None:
        keys = self._keys(np.asarray(ids, dtype=np.int64).reshape(-1))
        connection = self.connection
        with self._lock:
            for start in range(0, len(keys), 10_000):
                chunk = keys[start : start + 10_000]
                gone = self._present(chunk) if self._count is not None else 0
                connection.write(
                    "delete vectors", connection.client.delete, self.collection, ids=chunk
                )
                if self._count is not None:
                    self._count -= gone

    def search(self, queries: FloatArray, k: int) -> tuple[IdArray, FloatArray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        shape = (len(queries), max(k, 0))
        found = np.full(shape, -1, dtype=np.int64)
        scores = np.zeros(shape, dtype=np.float32)
        if k <= 0 or len(queries) == 0:
            return found, scores
        params = {
            "metric_type": METRICS[self.metric],
            "params": {"ef": max(self.connection.params.ef, k)},
        }
        connection = self.connection
        for start in range(0, len(queries), SEARCH_BATCH):
            results = connection.call(
                "search",
                connection.client.search,
                self.collection,
                data=list(queries[start : start + SEARCH_BATCH]),
                limit=k,
                filter=self._filter,
                search_params=params,
            )
            for row, hits in enumerate(results, start=start):
                for column, hit in enumerate(hits[:k]):
                    found[row, column] = int(str(hit["pk"]).rpartition(":")[2])
                    scores[row, column] = hit["distance"]
        if self.metric == "l2":
            # Milvus reports squared distances; higher = closer everywhere in memos.
            scores = np.where(found >= 0, 0.0 - scores, 0.0).astype(np.float32)
        return found, scores

    def contains(self, item_id: int) -> bool:
        return self._present([f"{self.cube_id}:{int(item_id)}"]) > 0

    def __len__(self) -> int:
        with self._lock:
            if self._count is None:
                self.connection.seal(self.collection)
                connection = self.connection
                rows = connection.call(
                    "count vectors",
                    connection.client.query,
                    self.collection,
                    filter=self._filter,
                    output_fields=["count(*)"],
                )
                self._count = int(rows[0]["count(*)"]) if rows else 0
            return self._count

    def flush(self) -> None:
        """Store `applied_seq` in Milvus (each write is durable once its call returns)."""
        with self._lock:
            self.connection.seal(self.collection)
            seq = self._applied_seq
            if seq != self._saved_seq:
                self._save(seq)
                self._saved_seq = seq

    def _save(self, seq: int) -> None:
        connection = self.connection
        row = {"pk": self.state_key, "seq": seq, "identity": self.identity}
        row["vector"] = [0.0] * META_DIM
        connection.write(
            "save index state", connection.client.upsert, connection.meta_collection, [row]
        )

    def close(self) -> None:
        """Save `applied_seq`; the shared connection stays open."""
        self.flush()

    def destroy(self) -> None:
        """Delete every vector of this cube and restart its state at sequence 0."""
        connection = self.connection
        with self._lock:
            connection.write(
                "drop a cube's vectors",
                connection.client.delete,
                self.collection,
                filter=self._filter,
            )
            self._save(0)
            self._applied_seq = self._saved_seq = 0
            self._count = 0


class MilvusBackend:
    """The index factory's Milvus backend (retrieval/factory.py): one connection per
    opened memos, one `MilvusIndex` per cube. Vectors live in the shared service, so every
    process and host reads and writes the same index; the operation log still drives it
    (an index behind the log replays, one ahead of it is rebuilt)."""

    name = "milvus"
    local = False

    def __init__(self, uri: str) -> None:
        self.target = MilvusTarget.parse(uri)
        self.uri = uri
        self._connection: MilvusConnection | None = None
        self._lock = threading.Lock()

    def _connect(self) -> MilvusConnection:
        with self._lock:
            if self._connection is None:
                self._connection = MilvusConnection.connect(self.uri)
            return self._connection

    @staticmethod
    def _identity(cube: CubeInfo) -> str:
        return json.dumps(
            {"cube_id": cube.id, "name": cube.name, "created_at": cube.created_at.isoformat()},
            sort_keys=True,
        )

    def _index(self, cube: CubeInfo) -> MilvusIndex:
        spec = cube.embedder
        return self._connect().index(cube.id, spec.dim, spec.metric, identity=self._identity(cube))

    def open(self, path: Path, cube: CubeInfo) -> VectorIndex:
        index = self._index(cube)
        if index.applied_seq == 0 and len(index) == 0:
            raise NotFoundError(f"no vectors of cube {cube.name!r} in Milvus at {self.target}")
        return index

    def create(self, path: Path, cube: CubeInfo) -> VectorIndex:
        index = self._index(cube)
        index.destroy()
        return index

    def build(self, path: Path, cube: CubeInfo, ids: IdArray, vectors: FloatArray) -> VectorIndex:
        index = self.create(path, cube)
        index.add(ids, vectors)
        index.flush()
        return index

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
