"""Activation memory on a tiny random transformer: KV caches built from memories, reused
with the same tokens as recomputing, persisted, tiered, refused when stale or foreign, and
deleted when a source is hard-forgotten."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import memos
from memos.activation import kvfile
from memos.errors import (
    BackendError,
    ConflictError,
    InvalidInputError,
    ModelMismatchError,
    StaleMemoryError,
)
from memos.models import Kind, Tier
from memos.protocols import ArtifactStore
from memos.runtime.model import Runtime
from memos.stores.artifacts import FileArtifactStore
from memos.testing import (
    FakeClock,
    HashEmbedder,
    single_thread,
    tiny_model,
    tiny_runtime,
    tiny_tokenizer,
)

FACTS = [
    "Alice lives in Lisbon and works at Acme.",
    "Bob's birthday is March 3.",
    "Carol owns a red bicycle.",
]
PROMPTS = ["Where does Alice live?", "When is Bob's birthday?", "What does Carol own?"]


def open_memos(
    home: Path, runtime: Runtime, url: str | None = None, **settings: object
) -> memos.MemOS:
    return memos.open(
        home, url=url, user="alice", embedder=HashEmbedder(dim=64), runtime=runtime, **settings
    )


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with single_thread():
        yield


@pytest.fixture
def runtime() -> Runtime:
    return tiny_runtime()


@pytest.fixture
def lab(home: Path, runtime: Runtime, clock: FakeClock) -> Iterator[memos.MemCube]:
    with memos.open(
        home, user="alice", embedder=HashEmbedder(dim=64), runtime=runtime, clock=clock
    ) as mos:
        yield mos.create_cube("lab")


def add_facts(cube: memos.MemCube) -> list[int]:
    return [cube.add(fact).id for fact in FACTS]


def artifact_files(home: Path) -> list[Path]:
    return sorted(p for p in (home / "artifacts").rglob("*") if p.is_file())


def test_cache_gives_the_same_tokens_as_recomputing(lab: memos.MemCube) -> None:
    ids = add_facts(lab)
    kv = lab.build_activation(ids)
    assert kv.kind is Kind.ACTIVATION and kv.type == "kv_cache" and not kv.stale
    assert [d["id"] for d in kv.derived_from] == ids
    assert all(set(d) == {"id", "uid", "version"} for d in kv.derived_from)
    for prompt in PROMPTS:
        cached = lab.generate(prompt, activation=kv.id, max_new_tokens=24)
        recomputed = lab.generate(prompt, memories=ids, max_new_tokens=24)
        assert cached.tokens == recomputed.tokens and len(cached.tokens) > 0
        assert cached.cached_tokens == kv.attributes["prefix_tokens"]
        assert recomputed.cached_tokens == 0
        assert cached.prompt_tokens == recomputed.prompt_tokens
        assert cached.ttft_s > 0 and cached.text == recomputed.text


def test_plain_prompt_format_without_chat_template(home: Path) -> None:
    runtime = tiny_runtime(seed=3)
    runtime.tokenizer.chat_template = None
    with open_memos(home, runtime) as mos:
        cube = mos.create_cube("plain")
        ids = add_facts(cube)
        kv = cube.build_activation(ids, template="Facts:\n{memories}")
        assert kv.attributes["prompt_format"] == "plain"
        cached = cube.generate("Who owns a bicycle?", activation=kv.id, max_new_tokens=16)
        again = cube.generate(
            "Who owns a bicycle?", memories=ids, template="Facts:\n{memories}", max_new_tokens=16
        )
        assert cached.tokens == again.tokens


def test_reuse_never_mutates_the_stored_cache(lab: memos.MemCube, home: Path) -> None:
    kv = lab.build_activation(add_facts(lab))
    parts = lab.runtime.parts
    assert kv.artifact is not None
    before = [(k.clone(), v.clone()) for k, v in parts.tiers.get(kv.artifact, _never).layers]
    first = lab.generate(PROMPTS[0], activation=kv.id, max_new_tokens=16)
    second = lab.generate(PROMPTS[0], activation=kv.id, max_new_tokens=16)
    assert first.tokens == second.tokens
    after = parts.tiers.get(kv.artifact, _never).layers
    assert all(
        torch.equal(k0, k1) and torch.equal(v0, v1)
        for (k0, v0), (k1, v1) in zip(before, after, strict=True)
    )


def _never(data: bytes) -> kvfile.KVCache:
    raise AssertionError("expected a tier hit, not a disk load")


def test_round_trip_from_disk_in_a_new_process_view(home: Path, runtime: Runtime) -> None:
    with open_memos(home, runtime) as mos:
        cube = mos.create_cube("lab")
        ids = add_facts(cube)
        kv = cube.build_activation(ids)
        warm = cube.generate(PROMPTS[1], activation=kv.id, max_new_tokens=20)
    [path] = [p for p in artifact_files(home) if "kv" in p.parts]
    assert path.name == kv.artifact
    loaded = kvfile.decode(path.read_bytes(), dtype=torch.float32)
    assert loaded.tokens == kv.attributes["prefix_tokens"] and loaded.storage == "native"
    assert loaded.identity == runtime.identity
    assert len(loaded.layers) == runtime.model.config.num_hidden_layers
    with open_memos(home, runtime) as mos:  # a fresh memos: empty tiers, the file only
        cube = mos.cube("lab")
        cold = cube.generate(PROMPTS[1], activation=kv.id, max_new_tokens=20)
        assert cold.tokens == warm.tokens
        assert mos.runtime_parts.tiers.counters["disk_loads"] == 1
        cube.generate(PROMPTS[1], activation=kv.id, max_new_tokens=4)
        assert mos.runtime_parts.tiers.counters["ram_hits"] == 1


def test_a_cache_from_another_model_is_refused(home: Path) -> None:
    with open_memos(home, tiny_runtime(seed=0)) as mos:
        cube = mos.create_cube("lab")
        kv = cube.build_activation(add_facts(cube))
    with open_memos(home, tiny_runtime(seed=1)) as mos, pytest.raises(ModelMismatchError) as err:
        mos.cube("lab").generate(PROMPTS[0], activation=kv.id)
    assert "weights" in str(err.value) and "rebuild" in str(err.value)
    tokenizer = tiny_tokenizer()
    wide = Runtime.from_model(
        tiny_model(tokenizer, seed=0).to(torch.float64), tokenizer, model_id="tiny, wider"
    )
    with open_memos(home, wide) as mos, pytest.raises(ModelMismatchError, match="dtype"):
        mos.cube("lab").generate(PROMPTS[0], activation=kv.id)


def test_stale_after_update_and_after_forget_then_rebuild(
    home: Path, db_url: str | None, runtime: Runtime
) -> None:
    with open_memos(home, runtime, db_url) as mos:
        cube = mos.create_cube("lab")
        ids = add_facts(cube)
        kv = cube.build_activation(ids)
        cube.update(ids[0], "Alice lives in Porto now.")
        assert cube.get(kv.id).stale
        with pytest.raises(StaleMemoryError, match=rf"cube.rebuild\({kv.id}\)"):
            cube.generate(PROMPTS[0], activation=kv.id)
        fresh = cube.rebuild(kv.id)
        assert not fresh.stale and fresh.version > kv.version
        assert fresh.derived_from[0]["version"] == cube.get(ids[0]).version
        after = cube.generate(PROMPTS[0], activation=kv.id, max_new_tokens=16)
        assert after.tokens == cube.generate(PROMPTS[0], memories=ids, max_new_tokens=16).tokens
        cube.forget(ids[1])
        assert cube.get(kv.id).stale
        with pytest.raises(StaleMemoryError):
            cube.generate(PROMPTS[0], activation=kv.id)
        rebuilt = cube.rebuild(kv.id)
        assert [d["id"] for d in rebuilt.derived_from] == [ids[0], ids[2]]
        remaining = [ids[0], ids[2]]
        assert (
            cube.generate(PROMPTS[2], activation=kv.id, max_new_tokens=12).tokens
            == cube.generate(PROMPTS[2], memories=remaining, max_new_tokens=12).tokens
        )


def test_hard_forget_deletes_derived_caches_on_disk_and_in_memory(
    home: Path, db_url: str | None, runtime: Runtime
) -> None:
    with open_memos(home, runtime, db_url) as mos:
        cube = mos.create_cube("lab")
        ids = add_facts(cube)
        kv = cube.build_activation(ids)
        other = cube.build_activation([ids[2]])
        assert kv.artifact is not None and other.artifact is not None
        tiers = mos.runtime_parts.tiers
        assert tiers.where(kv.artifact) is Tier.CPU
        cube.forget(ids[0], hard=True)
        assert not (home / "artifacts" / "kv" / kv.artifact[:2] / kv.artifact).exists()
        assert tiers.where(kv.artifact) is Tier.COLD
        assert FACTS[0] not in (cube.get(kv.id).content or "")
        # A cache that never held the forgotten text stays.
        assert tiers.where(other.artifact) is Tier.CPU
        assert cube.generate(PROMPTS[2], activation=other.id, max_new_tokens=4).tokens
        with pytest.raises(StaleMemoryError):
            cube.generate(PROMPTS[0], activation=kv.id)
        rebuilt = cube.rebuild(kv.id)
        assert [d["id"] for d in rebuilt.derived_from] == ids[1:]


def test_hard_forget_purges_files_without_loading_a_model(home: Path) -> None:
    with open_memos(home, tiny_runtime()) as mos:
        cube = mos.create_cube("lab")
        ids = add_facts(cube)
        cube.build_activation(ids)
    assert artifact_files(home)
    # The default runtime (SmolLM2) is configured but must not load just to delete files.
    with memos.open(home, user="alice", embedder=HashEmbedder(dim=64)) as mos:
        mos.cube("lab").forget(ids[1], hard=True)
        assert not mos.runtime_parts.runtime.loaded
    assert artifact_files(home) == []


def test_dropping_a_cache_item_deletes_its_file_but_not_a_shared_one(lab: memos.MemCube) -> None:
    ids = add_facts(lab)
    first = lab.build_activation(ids[:2])
    twin = lab.build_activation(ids[:2])  # same model, same tokens: the same file
    assert first.artifact == twin.artifact
    store = lab.runtime.parts.kv_store
    lab.forget(first.id, hard=True)
    assert twin.artifact is not None and store.contains(twin.artifact)
    lab.forget(twin.id, hard=True)
    assert not store.contains(twin.artifact)


def test_ram_tier_evicts_least_recently_used_under_its_budget(home: Path) -> None:
    runtime = tiny_runtime()
    with open_memos(home, runtime) as mos:
        cube = mos.create_cube("lab")
        ids = add_facts(cube)
        caches = [cube.build_activation([i]) for i in ids]
        sizes = [mos.runtime_parts.tiers._memory[Tier.CPU][c.artifact or ""].size for c in caches]
    budget = sizes[0] + sizes[1] + 1
    with open_memos(home, runtime, kv_ram_bytes=budget, kv_eviction="lru") as mos:
        cube = mos.cube("lab")
        tiers = mos.runtime_parts.tiers
        digest = [c.artifact or "" for c in caches]
        cube.generate("hi", activation=caches[0].id, max_new_tokens=1)
        cube.generate("hi", activation=caches[1].id, max_new_tokens=1)
        cube.generate("hi", activation=caches[0].id, max_new_tokens=1)  # 0 is now the newest
        cube.generate("hi", activation=caches[2].id, max_new_tokens=1)  # evicts 1, not 0
        assert [tiers.where(d) for d in digest] == [Tier.CPU, Tier.DISK, Tier.CPU]
        stats = cube.runtime.kv_stats()
        assert stats["tiers"]["cpu"]["bytes"] <= budget
        assert stats["counters"]["cpu_evictions"] == 1
        assert stats["counters"]["disk_loads"] == 3


def _d(name: str) -> str:
    """An artifact digest for a named test cache."""
    return hashlib.sha256(name.encode()).hexdigest()


class _Held:
    """A cache of a given size in the tier tests below: eviction weighs only its size."""

    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes

    def to(self, _device: object) -> _Held:
        return self


def test_cost_aware_weighs_what_a_miss_costs_not_prefill_per_byte(tmp_path: Path) -> None:
    """Every cache in RAM is also on disk, so losing one costs a read (proportional to its
    size) unless recomputing is cheaper. A large cache then costs as much per byte as small
    ones and stays when it was used last, though each small one has more prefill seconds
    per byte (a forward pass has a fixed cost): weighing prefill per byte dropped it."""
    from memos.activation.tiers import TierCache

    mb = 1 << 20
    tiers = TierCache(FileArtifactStore(tmp_path), ram_bytes=12 * mb, disk_bytes=1 << 40)
    assert tiers.miss_cost(10 * mb, cost_s=5.0) == pytest.approx(10 * mb / 500e6)
    assert tiers.miss_cost(10 * mb, cost_s=0.001) == 0.001  # recomputing is cheaper
    big: Any = _Held(8 * mb)
    tiers.put(_d("big"), big, cost_s=0.4)
    for name in ("s1", "s2", "s3"):
        tiers.put(_d(name), _Held(1 * mb), cost_s=0.2)  # type: ignore[arg-type]
    tiers.get(_d("big"), lambda _data: big, cost_s=0.4)
    for name in ("s4", "s5"):
        tiers.put(_d(name), _Held(1 * mb), cost_s=0.2)  # type: ignore[arg-type]
    assert tiers.where(_d("big")) is Tier.CPU
    assert [tiers.where(_d(n)) for n in ("s1", "s2", "s3", "s4", "s5")] == [
        Tier.COLD, Tier.CPU, Tier.CPU, Tier.CPU, Tier.CPU
    ]  # fmt: skip
    assert tiers.used(Tier.CPU) <= 12 * mb


def test_cost_aware_keeps_a_cache_dear_to_lose_where_lru_drops_it(tmp_path: Path) -> None:
    """Two caches of one size: "dear" would be read back from disk, "cheap" recomputes in
    a tenth of a millisecond. After both and a use of "cheap", a third needs room: LRU drops
    "dear" (used longest ago), the cost-aware policy drops "cheap" (less lost per byte);
    among caches of equal cost per byte it is LRU."""
    from memos.activation.tiers import TierCache

    mb = 1 << 20
    kept: dict[str, list[Tier]] = {}
    for policy in ("lru", "cost"):
        tiers = TierCache(
            FileArtifactStore(tmp_path / policy), ram_bytes=17 * mb, disk_bytes=1 << 40,
            policy=policy,
        )  # fmt: skip
        dear: Any = _Held(8 * mb)
        cheap: Any = _Held(8 * mb)
        tiers.put(_d("dear"), dear, cost_s=0.5)
        tiers.put(_d("cheap"), cheap, cost_s=0.0001)
        tiers.get(_d("cheap"), lambda _data, c=cheap: c, cost_s=0.0001)
        tiers.put(_d("third"), _Held(1 * mb), cost_s=0.5)  # type: ignore[arg-type]
        tiers.put(_d("fourth"), _Held(1 * mb), cost_s=0.5)  # type: ignore[arg-type]
        kept[policy] = [tiers.where(_d(n)) for n in ("dear", "cheap", "third", "fourth")]
    assert kept["lru"] == [Tier.COLD, Tier.CPU, Tier.CPU, Tier.CPU]
    assert kept["cost"] == [Tier.CPU, Tier.COLD, Tier.CPU, Tier.CPU]


def test_disk_budget_turns_old_caches_cold_and_they_rebuild_on_use(home: Path) -> None:
    runtime = tiny_runtime()
    with open_memos(home, runtime) as mos:
        cube = mos.create_cube("lab")
        ids = add_facts(cube)
        first = cube.build_activation([ids[0]])
        size = first.size_bytes
    with open_memos(home, runtime, kv_disk_bytes=int(size * 1.5)) as mos:
        cube = mos.cube("lab")
        reference = cube.generate(PROMPTS[0], memories=[ids[0]], max_new_tokens=12)
        second = cube.build_activation([ids[1]])
        tiers = mos.runtime_parts.tiers
        assert first.artifact is not None and second.artifact is not None
        assert tiers.where(first.artifact) is Tier.COLD
        assert tiers.where(second.artifact) is Tier.CPU
        again = cube.generate(PROMPTS[0], activation=first.id, max_new_tokens=12)
        assert again.tokens == reference.tokens
        assert tiers.where(first.artifact) is Tier.CPU  # rebuilt: same tokens, same file
        assert cube.get(first.id).version == first.version
        assert tiers.where(second.artifact) is Tier.COLD


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_corrupt_cache_file_is_detected(home: Path, damage: str) -> None:
    runtime = tiny_runtime()
    with open_memos(home, runtime) as mos:
        cube = mos.create_cube("lab")
        kv = cube.build_activation(add_facts(cube))
    [path] = artifact_files(home)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    else:
        del data[len(data) // 3 :]
    path.write_bytes(bytes(data))
    with open_memos(home, runtime) as mos, pytest.raises(BackendError, match="corrupt"):
        mos.cube("lab").generate(PROMPTS[0], activation=kv.id)


def test_compressed_storage_is_smaller_and_close(lab: memos.MemCube) -> None:
    ids = add_facts(lab)
    native = lab.build_activation(ids)
    results = {}
    for storage in ("float16", "bfloat16", "int8"):
        item = lab.build_activation(ids, storage=storage)
        assert item.attributes["storage"] == storage
        results[storage] = item.size_bytes
        cached = lab.generate(PROMPTS[0], activation=item.id, max_new_tokens=8)
        assert len(cached.tokens) > 0
    assert results["float16"] < native.size_bytes * 0.6
    assert results["int8"] < native.size_bytes * 0.4
    parts = lab.runtime.parts
    exact = kvfile.decode(parts.kv_store.get(native.artifact or ""), dtype=torch.float32)
    for storage, tolerance in (("float16", 2e-3), ("int8", 5e-2)):
        data = kvfile.encode(exact.layers, exact.prefix_ids, exact.identity, storage)
        approx = kvfile.decode(data, dtype=torch.float32)
        for (k0, v0), (k1, v1) in zip(exact.layers, approx.layers, strict=True):
            scale = max(float(k0.abs().max()), float(v0.abs().max()))
            assert float((k0 - k1).abs().max()) <= tolerance * scale
            assert float((v0 - v1).abs().max()) <= tolerance * scale


def test_bad_input_is_refused_with_clear_errors(lab: memos.MemCube) -> None:
    ids = add_facts(lab)
    kv = lab.build_activation(ids[:1])
    with pytest.raises(InvalidInputError, match="memories"):
        lab.build_activation(ids, template="no placeholder")
    with pytest.raises(InvalidInputError, match="storage"):
        lab.build_activation(ids, storage="int4")
    with pytest.raises(InvalidInputError, match="plaintext"):
        lab.build_activation([kv.id])
    with pytest.raises(InvalidInputError, match="at least one"):
        lab.build_activation([])
    with pytest.raises(InvalidInputError, match="not both"):
        lab.generate("hi", activation=kv.id, memories=ids)
    with pytest.raises(InvalidInputError, match="max_new_tokens"):
        lab.generate("hi", max_new_tokens=0)
    with pytest.raises(InvalidInputError, match="prompt"):
        lab.generate("   ")
    with pytest.raises(InvalidInputError, match="not a KV cache"):
        lab.generate("hi", activation=ids[0])
    with pytest.raises(InvalidInputError, match="only derived memory"):
        lab.rebuild(ids[0])
    with pytest.raises(InvalidInputError, match="context"):
        lab.generate("hi", activation=kv.id, max_new_tokens=4096)


def test_lifecycle_of_a_cache_item(lab: memos.MemCube) -> None:
    ids = add_facts(lab)
    kv = lab.build_activation(ids)
    lab.archive(kv.id)
    with pytest.raises(ConflictError, match="archived"):
        lab.generate("hi", activation=kv.id)
    lab.activate(kv.id)
    lab.freeze(kv.id)
    lab.generate("hi", activation=kv.id, max_new_tokens=2)
    lab.update(ids[0], "Alice moved to Madrid.")
    with pytest.raises(ConflictError, match="frozen"):
        lab.rebuild(kv.id)
    assert not lab.rebuild(kv.id, force=True).stale


def test_cache_item_holds_no_source_text_and_no_vector(lab: memos.MemCube) -> None:
    kv = lab.build_activation(add_facts(lab))
    assert all(fact not in (kv.content or "") for fact in FACTS)
    assert all(h.item.kind is Kind.PLAINTEXT for h in lab.search("Alice Lisbon", k=10))


def test_file_artifact_store_contract(tmp_path: Path) -> None:
    store = FileArtifactStore(tmp_path / "a")
    assert isinstance(store, ArtifactStore)
    digest = store.put(b"hello")
    assert store.put(b"hello") == digest and store.get(digest) == b"hello"
    assert store.contains(digest) and store.sizes() == {digest: 5}
    assert not any(p.name.startswith(".tmp") for p in (tmp_path / "a").rglob("*"))
    assert store.delete(digest) and not store.delete(digest)
    with pytest.raises(memos.NotFoundError):
        store.get(digest)
    with pytest.raises(InvalidInputError):
        store.get("../../etc/passwd")


def test_nothing_loads_at_open(home: Path) -> None:
    with memos.open(home, user="alice", embedder=HashEmbedder(dim=64)) as mos:
        cube = mos.create_cube("lab")
        cube.add("text")
        assert not mos.runtime_parts.runtime.loaded
        assert cube.runtime.kv_stats()["model_loaded"] is False


def test_private_sources_make_a_private_cache_and_drop_cube_deletes_files(home: Path) -> None:
    with open_memos(home, tiny_runtime()) as mos:
        cube = mos.create_cube("lab")
        cube.grant("bob", "read")
        secret = cube.add("Alice's PIN is 4242.", visibility="private")
        public = cube.add("Alice lives in Lisbon.")
        kv = cube.build_activation([secret.id, public.id])
        assert kv.visibility.value == "private"
        assert cube.build_activation([public.id]).visibility.value == "shared"
        with pytest.raises(memos.PermissionDeniedError):
            mos.as_user("bob").cube("lab").generate("PIN?", activation=kv.id)
        mos.drop_cube("lab")
    assert artifact_files(home) == []
