"""LLM clients: the OpenAI-compatible client against a real loopback HTTP server (scripted
answers, broken JSON, timeouts, 5xx, auth errors), the local client on a tiny transformer,
metering, and how settings choose a client."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_llm import LoopbackLLM, Reply, completion, loopback_llm
from pydantic import BaseModel

import memos
from memos.agents.llm import LocalClient, MeteredLLM, OpenAIClient, Usage, ask
from memos.errors import BackendError, ConfigError, InvalidInputError
from memos.testing import HashEmbedder, ScriptedLLM, single_thread, tiny_runtime

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def server() -> Iterator[LoopbackLLM]:
    with loopback_llm() as state:
        yield state


def client(server: LoopbackLLM, **options: float) -> OpenAIClient:
    settings = {"timeout_s": 2.0, "max_retries": 2, "backoff_s": 0.01, **options}
    return OpenAIClient(server.url, model="m1", api_key="sk-test", **settings)  # type: ignore[arg-type]


def test_completion_over_http(server: LoopbackLLM) -> None:
    server.script(completion("hi there", prompt_tokens=5, completion_tokens=2))
    answer = client(server).complete(HELLO, max_tokens=20, temperature=0.3)
    assert (answer.text, answer.model, answer.prompt_tokens, answer.completion_tokens) == (
        "hi there",
        "loopback-model",
        5,
        2,
    )
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer sk-test"
    assert sent["json"]["model"] == "m1" and sent["json"]["max_tokens"] == 20
    assert sent["json"]["messages"] == HELLO and "response_format" not in sent["json"]


def test_retries_5xx_and_429_with_backoff(server: LoopbackLLM) -> None:
    server.script(
        Reply(503, {"error": {"message": "overloaded"}}),
        Reply(429, {"error": "slow down"}, headers={"Retry-After": "0"}),
        completion("finally"),
    )
    assert client(server).complete(HELLO).text == "finally"
    assert len(server.requests) == 3


def test_gives_up_after_retries_with_a_clear_error(server: LoopbackLLM) -> None:
    server.default = Reply(500, {"error": {"message": "boom"}})
    with pytest.raises(BackendError, match=r"failed 3 time\(s\).*HTTP 500: boom.*running"):
        client(server).complete(HELLO)
    assert len(server.requests) == 3


def test_timeout_is_retried_then_reported(server: LoopbackLLM) -> None:
    server.script(Reply(delay_s=1.0, body={"late": True}), completion("in time"))
    fast = client(server, timeout_s=0.3, max_retries=1)
    assert fast.complete(HELLO).text == "in time"
    server.script(Reply(delay_s=1.0), Reply(delay_s=1.0))
    with pytest.raises(BackendError, match=r"no answer within 0.3s"):
        fast.complete(HELLO)


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_is_a_config_error_without_retries(server: LoopbackLLM, status: int) -> None:
    server.default = Reply(status, {"error": {"message": "invalid api key"}})
    with pytest.raises(ConfigError, match=r"refused the API key.*MEMOS_LLM_API_KEY"):
        client(server).complete(HELLO)
    assert len(server.requests) == 1


def test_wrong_path_or_model_says_what_to_check(server: LoopbackLLM) -> None:
    server.default = Reply(404, {"error": {"message": "model 'm1' not found"}})
    with pytest.raises(ConfigError, match=r"404.*not found.*MEMOS_LLM_BASE_URL.*MEMOS_LLM_MODEL"):
        client(server).complete(HELLO)


def test_unreachable_host_is_a_backend_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = OpenAIClient(f"http://127.0.0.1:{port}/v1", model="m", max_retries=1, backoff_s=0)
    with pytest.raises(BackendError, match=r"failed 2 time.*cannot connect.*MEMOS_LLM_BASE_URL"):
        dead.complete(HELLO)


def test_an_undecodable_answer_is_retried(server: LoopbackLLM) -> None:
    garbled = Reply(200, "not gzip at all", headers={"Content-Encoding": "gzip"})
    server.script(garbled, completion("clean"))
    assert client(server).complete(HELLO).text == "clean"
    server.script(garbled, garbled, garbled)
    with pytest.raises(BackendError, match=r"failed 3 time.*bad answer"):
        client(server).complete(HELLO)


def test_not_a_completion_is_reported(server: LoopbackLLM) -> None:
    server.script(Reply(200, "<html>proxy login</html>"), Reply(200, {"choices": []}))
    for _ in range(2):
        with pytest.raises(BackendError, match="no chat completion"):
            client(server).complete(HELLO)


def test_json_mode_steps_down_when_the_server_rejects_it(server: LoopbackLLM) -> None:
    schema = {"title": "Answer", "type": "object", "properties": {"a": {"type": "integer"}}}
    server.script(
        Reply(400, {"error": {"message": "response_format json_schema unsupported"}}),
        Reply(400, {"error": {"message": "response_format unsupported"}}),
        completion('{"a": 1}'),
        completion('{"a": 2}'),
    )
    llm = client(server)
    assert llm.complete(HELLO, json_schema=schema).text == '{"a": 1}'
    formats = [r["json"].get("response_format") for r in server.requests]
    assert formats[0]["type"] == "json_schema"
    assert formats[0]["json_schema"] == {"name": "Answer", "schema": schema}
    assert formats[1] == {"type": "json_object"} and formats[2] is None
    llm.complete(HELLO, json_schema=schema)  # remembered: no second round of refusals
    assert len(server.requests) == 4 and "response_format" not in server.requests[3]["json"]


def test_structured_answers_survive_broken_json_over_http(server: LoopbackLLM) -> None:
    class Answer(BaseModel):
        name: str

    server.script(completion("Sure! {name: oops"), completion("```json\n{'name': 'ok',}\n```"))
    metered = MeteredLLM(client(server))
    assert ask(metered, HELLO, Answer) == Answer(name="ok")
    assert metered.usage == Usage(calls=2, prompt_tokens=22, completion_tokens=14)
    retry = server.requests[1]["json"]["messages"]
    assert retry[-1]["role"] == "user" and "not valid" in retry[-1]["content"]


def test_metering_counts_failures_and_keeps_the_error() -> None:
    metered = MeteredLLM(ScriptedLLM().enqueue(BackendError("down"), "two words"))
    with pytest.raises(BackendError):
        metered.complete(HELLO)
    assert isinstance(metered.last_error, BackendError)
    metered.complete(HELLO)
    assert metered.last_error is None
    assert metered.usage == Usage(calls=2, prompt_tokens=1, completion_tokens=2, failures=1)


def test_bad_client_settings_are_config_errors() -> None:
    for url in ("localhost:8000", "http://", "http://[::1/v1"):
        with pytest.raises(ConfigError, match="MEMOS_LLM_BASE_URL"):
            OpenAIClient(url, model="m")
    with pytest.raises(ConfigError, match="MEMOS_LLM_MODEL"):
        OpenAIClient("http://localhost:8000/v1", model=" ")
    assert OpenAIClient("http://h/v1/chat/completions/", model="m").url == (
        "http://h/v1/chat/completions"
    )


def test_settings_choose_the_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = HashEmbedder(dim=32)
    with memos.open(tmp_path / "a", embedder=embedder) as mos:
        assert mos.llm is None  # offline by default
    monkeypatch.setenv("MEMOS_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("MEMOS_LLM_MODEL", "qwen2.5")
    monkeypatch.setenv("MEMOS_LLM_API_KEY", "sk-secret")
    with memos.open(tmp_path / "b", embedder=embedder) as mos:
        assert isinstance(mos.llm, OpenAIClient) and mos.llm.model == "qwen2.5"
        assert "sk-secret" not in repr(mos.settings)
    with memos.open(tmp_path / "c", embedder=embedder, llm="none") as mos:
        assert mos.llm is None
    scripted = ScriptedLLM()
    with memos.open(tmp_path / "d", embedder=embedder, llm=scripted) as mos:
        assert mos.llm is scripted
    monkeypatch.delenv("MEMOS_LLM_MODEL")
    with (
        memos.open(tmp_path / "e", embedder=embedder) as mos,
        pytest.raises(ConfigError, match="MEMOS_LLM_MODEL"),
    ):
        _ = mos.llm
    with (
        memos.open(tmp_path / "f", embedder=embedder, llm="gpt") as mos,
        pytest.raises(ConfigError, match="not one of"),
    ):
        _ = mos.llm


def test_local_client_uses_the_runtime_and_its_chat_template(tmp_path: Path) -> None:
    runtime = tiny_runtime()
    with single_thread():
        local = LocalClient(runtime)
        answer = local.complete(HELLO, max_tokens=5)
        again = local.complete(HELLO, max_tokens=5)
        shaped = local.complete(HELLO, json_schema={"type": "object"}, max_tokens=3)
    assert answer == again  # greedy: the same prompt, the same answer
    assert 0 < answer.completion_tokens <= 5 and answer.prompt_tokens > 3
    assert answer.model == runtime.identity.model
    assert shaped.text.startswith("{")  # the answer is opened for the model
    with memos.open(tmp_path, embedder=HashEmbedder(dim=32), runtime=runtime, llm="local") as mos:
        assert isinstance(mos.llm, LocalClient) and mos.llm.runtime is runtime


def test_local_client_refuses_a_prompt_that_fills_the_context() -> None:
    runtime = tiny_runtime()
    huge = [{"role": "user", "content": "word " * 3000}]
    with single_thread(), pytest.raises(InvalidInputError, match="whole context"):
        LocalClient(runtime).complete(huge, max_tokens=5)
