"""Lenient JSON from LLM answers, pydantic validation, one retry, then None."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from memos.agents.structured import Attempt, UnparsableError, ask, parse_lenient
from memos.errors import BackendError
from memos.testing import ScriptedLLM


class Answer(BaseModel):
    name: str
    count: int = Field(ge=0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"name": "a", "count": 1}', {"name": "a", "count": 1}),
        ('```json\n{"name": "a", "count": 1}\n```\nHope this helps!', {"name": "a", "count": 1}),
        ('Sure! Here it is: {"name": "a", "count": 1} -- done {', {"name": "a", "count": 1}),
        ("{'name': 'a', 'count': 1}", {"name": "a", "count": 1}),
        ('{"name": "a", "count": 1,}', {"name": "a", "count": 1}),
        ("{'ok': true, 'none': null, 'name': 'it is true'}",
         {"ok": True, "none": None, "name": "it is true"}),
        ('[{"id": 3}, {"id": 4}]', [{"id": 3}, {"id": 4}]),
        ('noise {"a": "brace } inside"} tail', {"a": "brace } inside"}),
    ],
)  # fmt: skip
def test_parse_lenient_reads_what_models_write(text: str, expected: object) -> None:
    assert parse_lenient(text) == expected


@pytest.mark.parametrize("text", ["", "no json here", "{broken: ", "{'a': os.system('x')}"])
def test_parse_lenient_refuses_non_json(text: str) -> None:
    with pytest.raises(UnparsableError):
        parse_lenient(text)


def test_ask_accepts_a_valid_answer_in_one_call() -> None:
    llm = ScriptedLLM().enqueue('```json\n{"name": "x", "count": 2}\n```')
    attempts: list[Attempt] = []
    assert ask(llm, [{"role": "user", "content": "go"}], Answer, attempts=attempts) == Answer(
        name="x", count=2
    )
    assert len(llm.calls) == 1 and llm.calls[0]["json_schema"]["title"] == "Answer"
    assert attempts == [Attempt('```json\n{"name": "x", "count": 2}\n```', None)]


def test_ask_retries_once_with_the_validation_error() -> None:
    llm = ScriptedLLM().enqueue('{"name": "x", "count": -1}', '{"name": "x", "count": 1}')
    assert ask(llm, [{"role": "user", "content": "go"}], Answer) == Answer(name="x", count=1)
    assert len(llm.calls) == 2
    retry = llm.calls[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": '{"name": "x", "count": -1}'}
    assert "count" in retry[-1]["content"] and "not valid" in retry[-1]["content"]


def test_ask_gives_none_after_two_bad_answers_or_a_transport_error() -> None:
    llm = ScriptedLLM().enqueue("I cannot do that", '{"name": 5}')
    assert ask(llm, [{"role": "user", "content": "go"}], Answer) is None
    assert len(llm.calls) == 2
    down = ScriptedLLM().enqueue(BackendError("server unreachable"))
    attempts: list[Attempt] = []
    assert ask(down, [{"role": "user", "content": "go"}], Answer, attempts=attempts) is None
    assert attempts[0].error is not None and "unreachable" in attempts[0].error


def test_ask_lets_programming_errors_through() -> None:
    llm = ScriptedLLM().enqueue(KeyError("bug"))
    with pytest.raises(KeyError):
        ask(llm, [{"role": "user", "content": "go"}], Answer)
