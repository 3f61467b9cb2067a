"""Structured answers from an LLM: lenient JSON, pydantic validation, one retry.

Small models wrap JSON in code fences, add a sentence after it, use single quotes or
Python literals, or leave a trailing comma. `parse_lenient` accepts all of that. `ask`
validates the parsed value against a pydantic model, asks once more with the validation
error when it does not fit, and returns None after that, so every agent can fall back to
its offline path: an LLM answer never crashes an agent and never reaches the store
unvalidated.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from memos.errors import MemosError
from memos.protocols import ChatMessage, LLMClient

_FENCE = re.compile(r"```(?:json|JSON|javascript|python)?\s*\n?(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_PYTHON_NAMES = {"true": "True", "false": "False", "null": "None"}
# What a client may raise when the model or its server misbehaves. Anything else is a bug
# in memos and must surface.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (MemosError, OSError, TimeoutError)


Model = TypeVar("Model", bound=BaseModel)


class UnparsableError(ValueError):
    """The text holds no JSON object or array that any lenient reading accepts."""


def _balanced(text: str, start: int) -> str | None:
    """The bracketed span opening at `start`, honouring single and double quotes."""
    pairs = {"{": "}", "[": "]"}
    stack: list[str] = []
    quote: str | None = None
    escaped = False
    for position in range(start, len(text)):
        char = text[position]
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in pairs:
            stack.append(pairs[char])
        elif char in "}]":
            if not stack or stack.pop() != char:
                return None
            if not stack:
                return text[start : position + 1]
    return None


def _python_literal(span: str) -> Any:
    """Read a span as a Python literal, mapping bare true/false/null (never inside a
    string: the tokenizer tells names from strings)."""
    tokens = []
    for token in tokenize.generate_tokens(io.StringIO(span).readline):
        if token.type == tokenize.NAME and token.string in _PYTHON_NAMES:
            tokens.append(token._replace(string=_PYTHON_NAMES[token.string]))
        else:
            tokens.append(token)
    return ast.literal_eval(tokenize.untokenize(tokens))


def _read(span: str) -> Any:
    for attempt in (span, _TRAILING_COMMA.sub(r"\1", span)):
        try:
            return json.loads(attempt)
        except ValueError:
            pass
    try:
        return _python_literal(_TRAILING_COMMA.sub(r"\1", span))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, tokenize.TokenError):
        raise UnparsableError("not JSON, even read leniently") from None


def parse_lenient(text: str) -> Any:
    """The first JSON object or array in `text`, read leniently (see the module doc).

    Raises:
        UnparsableError: nothing in the text reads as JSON.
    """
    fenced = _FENCE.search(text)
    body = fenced.group(1) if fenced else text
    for position, char in enumerate(body):
        if char in "{[":
            span = _balanced(body, position)
            if span is None:
                continue
            try:
                return _read(span)
            except UnparsableError:
                continue
    raise UnparsableError("no JSON object or array found in the answer")


def _describe(error: UnparsableError | ValidationError) -> str:
    if isinstance(error, UnparsableError):
        return str(error)
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in error.errors()[:5]
    )


@dataclass(frozen=True, slots=True)
class Attempt:
    """What happened on one call: the raw answer and why it was refused (if it was)."""

    answer: str
    error: str | None


def ask(
    llm: LLMClient,
    messages: Sequence[ChatMessage],
    model: type[Model],
    *,
    max_tokens: int = 512,
    attempts: list[Attempt] | None = None,
) -> Model | None:
    """Ask for an answer matching `model`; one retry with the error; None when both fail.

    Transport failures (a `MemosError`, `OSError` or timeout from the client) also give
    None: the caller's offline path takes over. `attempts`, when given, collects each raw
    answer and its problem for diagnostics.
    """
    schema = model.model_json_schema()
    conversation = list(messages)
    for _ in range(2):
        try:
            answer = llm.complete(conversation, json_schema=schema, max_tokens=max_tokens).text
        except TRANSPORT_ERRORS as error:
            if attempts is not None:
                attempts.append(Attempt("", f"LLM call failed: {error}"))
            return None
        try:
            parsed = model.model_validate(parse_lenient(answer))
        except (UnparsableError, ValidationError) as error:
            problem = _describe(error)
            if attempts is not None:
                attempts.append(Attempt(answer, problem))
            conversation = [
                *conversation,
                {"role": "assistant", "content": answer},
                {
                    "role": "user",
                    "content": f"That answer was not valid ({problem}). Reply with only a "
                    f"JSON object matching this schema:\n{json.dumps(schema)}",
                },
            ]
            continue
        if attempts is not None:
            attempts.append(Attempt(answer, None))
        return parsed
    return None
