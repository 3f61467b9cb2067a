"""Request bodies: the SDK's request models (`memos.requests`) where the SDK has one, and
small models for the server's own shapes (a search over several cubes, a job, ...).

Bodies are read as JSON objects and validated by `memos.requests.parse`, with the
server's own limits (`max_content_chars`), so a value is accepted or refused exactly as
the embedded SDK would; the models also give `/openapi.json` its request schemas.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from memos.requests import AddRequest, LinkRequest, UpdateRequest

__all__ = [
    "AbstractBody",
    "ActivationBody",
    "AdapterBody",
    "AddRequest",
    "ConceptBody",
    "ConceptQueryBody",
    "ConceptUseBody",
    "CubeBody",
    "GenerateBody",
    "GrantBody",
    "IngestBody",
    "LinkRequest",
    "NoteBody",
    "RevertBody",
    "SearchBody",
    "SearchFilterBody",
    "StatusBody",
    "UpdateRequest",
    "openapi_body",
    "schema_components",
]

ItemRef = int | str


class _Body(BaseModel):
    # The same strictness as memos.requests: "5" is not a number, unknown fields fail.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class CubeBody(_Body):
    """A new cube, owned by the caller."""

    name: str
    attributes: dict[str, Any] | None = None


class SearchFilterBody(_Body):
    """The filters of `MemCube.search`; times are ISO 8601."""

    types: list[str] | None = None
    sources: list[str] | None = None
    authors: list[str] | None = None
    tags: list[str] | None = None
    statuses: list[str] | None = None
    kinds: list[str] | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    recorded_from: str | None = None
    recorded_to: str | None = None


class SearchBody(_Body):
    """A search over some cubes (default: every cube the caller may read)."""

    query: str
    cubes: list[str] | None = None
    k: int = 10
    filters: SearchFilterBody | None = None
    as_of: str | None = None
    weights: dict[str, float] | None = None

    def search_options(self) -> dict[str, Any]:
        """Keyword arguments of `MemCube.search` besides the query."""
        given = self.filters.model_dump(exclude_none=True) if self.filters else {}
        if self.as_of is not None:
            given["as_of"] = self.as_of
        return {"k": self.k, "weights": self.weights, **given}


class IngestBody(_Body):
    """Messages and events for MemReader (`MemCube.ingest`)."""

    records: list[dict[str, Any] | str]
    source: str | None = None


class NoteBody(_Body):
    """A Zettelkasten note (`MemCube.note`); `fields` are those of `add`."""

    content: str
    agent: str | None = None
    fields: dict[str, Any] | None = None


class ConceptBody(_Body):
    """A concept stored by hand (`MemCube.add_concept`)."""

    name: str
    kind: str
    description: str
    cues: list[str] | None = None
    parameters: list[str] | None = None
    notes: list[str] | None = None


class ConceptQueryBody(_Body):
    """The concepts that fit a problem (`MemCube.concepts_for`)."""

    problem: str
    k: int = 5


class ConceptUseBody(_Body):
    """Count that concepts were applied (`MemCube.record_concept_use`)."""

    concepts: list[ItemRef]
    success: bool


class AbstractBody(_Body):
    """A solution trace to distil concepts from (`MemCube.abstract`)."""

    trace: str | list[str]
    outcome: str | bool = "success"
    task: str | None = None
    used: list[ItemRef] = Field(default_factory=list)


class StatusBody(_Body):
    """A lifecycle move (`MemCube.set_status`)."""

    status: str


class RevertBody(_Body):
    """Make an earlier version current again (`MemCube.revert`)."""

    version: int


class GrantBody(_Body):
    """A grant on a cube (`MemCube.grant`); user '*' means everyone."""

    user: str
    permission: str


class ActivationBody(_Body):
    """A KV cache of a prefix built from plaintext items (`MemCube.build_activation`)."""

    items: list[ItemRef]
    template: str | None = None
    storage: str = "native"


class AdapterBody(_Body):
    """A LoRA adapter trained on plaintext items (`MemCube.distill`)."""

    items: list[ItemRef]
    rank: int = 8
    steps: int | None = None
    seed: int | None = None
    learning_rate: float | None = None
    batch_size: int | None = None
    target_loss: float | None = None
    heldout_fraction: float | None = None
    anchor_weight: float | None = None

    def plan(self) -> dict[str, Any]:
        """The `TrainingPlan` options given (besides rank)."""
        given = self.model_dump(exclude_none=True, exclude={"items", "rank"})
        if self.steps is None:
            given.pop("steps", None)
        return given


class GenerateBody(_Body):
    """Greedy generation (`MemCube.generate`) in a cube."""

    cube: str
    prompt: str
    activation: ItemRef | None = None
    adapters: list[ItemRef] | None = None
    memories: list[ItemRef] | None = None
    template: str | None = None
    max_new_tokens: int = 32

    def options(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude={"cube", "prompt"})


# -- OpenAPI ------------------------------------------------------------------------------

_COMPONENTS: dict[str, Any] = {}
_REF = "#/components/schemas/{model}"


def _register(model: type[BaseModel]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=_REF)
    for name, definition in schema.pop("$defs", {}).items():
        _COMPONENTS[name] = definition
    if "ttl" in schema.get("properties", {}):
        # The SDK reads seconds or '30m' / '12h' / '7d', not the ISO durations pydantic
        # would advertise for a timedelta.
        schema["properties"]["ttl"] = {
            "anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}, {"type": "null"}],
            "title": "Ttl",
            "description": "Time to live: seconds, or '30m', '12h', '7d'.",
        }
    _COMPONENTS[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def openapi_body(model: type[BaseModel], *, batch: bool = False) -> dict[str, Any]:
    """`openapi_extra` of a route whose JSON body is `model` (or, with `batch`, either
    one object or a list of them)."""
    ref: dict[str, Any] = _register(model)
    schema = {"oneOf": [ref, {"type": "array", "items": ref}]} if batch else ref
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


def schema_components() -> dict[str, Any]:
    """Every schema the request bodies refer to, for the OpenAPI document."""
    return dict(_COMPONENTS)
