"""How memories and a prompt become tokens: the documented prefix template.

With memories, the prompt is two token runs, concatenated:

* the **prefix**: a system message made from `template` (default `DEFAULT_TEMPLATE`) with
  `{memories}` replaced by one `- <text>` line per memory, in the order given;
* the **suffix**: the user's prompt and the cue for the assistant to answer.

For a tokenizer with a chat template both come from that template (ChatML for SmolLM2:
`<|im_start|>system\\n...<|im_end|>\\n` then `<|im_start|>user\\n<prompt><|im_end|>\\n
<|im_start|>assistant\\n`); otherwise from the plain form `<system>\\n\\nQuestion: <prompt>
\\nAnswer:`. The two runs are tokenized apart, so the prefix's tokens, and hence a KV cache
of them, are the same whatever prompt follows; generating from a cache and generating from
the full text feed the model exactly the same tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memos.errors import InvalidInputError

DEFAULT_TEMPLATE = "Use these memories when you answer.\n{memories}"
PLACEHOLDER = "{memories}"
# Stands in for the system message when only the text after it is wanted.
_SYSTEM_STANDIN = "memos"
# Marks where the memories go while the template is rendered, to cut it there.
_MEMORIES_MARK = "\u2063memos-memories\u2063"


@dataclass(frozen=True, slots=True)
class Segments:
    """A memory prefix as separately tokenized pieces: the head (all before the first
    memory), one piece per memory (`- text`, the second on with a leading newline), and
    the tail (all after the last memory). Because each piece is tokenized on its own, the
    tokens of the first j memories are a prefix of the tokens of any longer run that starts
    with them: a KV cache of the open prefix `prefix(j)` continues with `rest(j)` and gives
    the very tokens recomputing `prefix(j) + rest(j)` would."""

    head: tuple[int, ...]
    memories: tuple[tuple[int, ...], ...]
    tail: tuple[int, ...]

    def prefix(self, count: int) -> list[int]:
        """The head and the first `count` memories (an open prefix: no tail)."""
        return [*self.head, *(t for piece in self.memories[:count] for t in piece)]

    def rest(self, count: int) -> list[int]:
        """What follows `prefix(count)`: the other memories and the tail."""
        return [*(t for piece in self.memories[count:] for t in piece), *self.tail]

    def tokens(self, count: int) -> int:
        """How many tokens `prefix(count)` holds."""
        return len(self.head) + sum(len(piece) for piece in self.memories[:count])


def check_template(template: str | None) -> str:
    """The template to use. Raises: InvalidInputError: it lacks `{memories}`."""
    if template is None:
        return DEFAULT_TEMPLATE
    if not isinstance(template, str) or PLACEHOLDER not in template:
        raise InvalidInputError(
            f"a prefix template must be text containing {PLACEHOLDER} (where the memories "
            f"go), e.g. {DEFAULT_TEMPLATE!r}"
        )
    return template


def memory_lines(texts: Sequence[str]) -> str:
    return "\n".join(f"- {text.strip()}" for text in texts)


class Prompter:
    """Renders prefixes, prompts and answers for one tokenizer."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.chat = self._chat_works()

    def _chat_works(self) -> bool:
        if not getattr(self.tokenizer, "chat_template", None):
            return False
        try:
            head = self._render([_system(_SYSTEM_STANDIN)], cue=False)
            full = self._render([_system(_SYSTEM_STANDIN), _user("x")], cue=True)
        except Exception:  # a template without a system role raises its own error types
            return False
        return full.startswith(head) and len(full) > len(head)

    def _render(self, messages: list[dict[str, str]], *, cue: bool) -> str:
        return str(
            self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=cue)
        )

    def encode(self, text: str, *, special: bool = False) -> list[int]:
        return [int(i) for i in self.tokenizer(text, add_special_tokens=special)["input_ids"]]

    def system_text(self, memories: Sequence[str], template: str) -> str:
        return template.replace(PLACEHOLDER, memory_lines(memories))

    def prefix_ids(self, memories: Sequence[str], template: str) -> list[int]:
        """The tokens of the memory prefix (what a KV cache holds)."""
        system = self.system_text(memories, template)
        if self.chat:
            return self.encode(self._render([_system(system)], cue=False))
        return self.encode(f"{system}\n\n", special=True)

    def segments(self, memories: Sequence[str], template: str) -> Segments:
        """The prefix cut into pieces for prefix caching (see `Segments`); the memories go
        where the template's first `{memories}` is."""
        system = template.replace(PLACEHOLDER, _MEMORIES_MARK, 1)
        plain = f"{system}\n\n"
        rendered = self._render([_system(system)], cue=False) if self.chat else plain
        head, _, tail = rendered.partition(_MEMORIES_MARK)
        pieces = [("\n" if n else "") + f"- {text.strip()}" for n, text in enumerate(memories)]
        return Segments(
            head=tuple(self.encode(head, special=not self.chat)),
            memories=tuple(tuple(self.encode(piece)) for piece in pieces),
            tail=tuple(self.encode(tail)) if tail else (),
        )

    def prompt_ids(self, prompt: str, *, after_prefix: bool) -> list[int]:
        """The tokens of a prompt, either following a memory prefix or on its own."""
        if self.chat:
            if after_prefix:
                head = self._render([_system(_SYSTEM_STANDIN)], cue=False)
                full = self._render([_system(_SYSTEM_STANDIN), _user(prompt)], cue=True)
                return self.encode(full[len(head) :])
            return self.encode(self._render([_user(prompt)], cue=True))
        return self.encode(f"Question: {prompt}\nAnswer:", special=not after_prefix)

    def answer_ids(self, answer: str) -> list[int]:
        """The tokens of an answer as the model should produce it, ending the turn."""
        text = answer.strip() if self.chat else " " + answer.strip()
        ids = self.encode(text)
        stop = self.tokenizer.eos_token_id
        return ids + ([int(stop)] if stop is not None else [])

    def stop_ids(self, model_config: Any) -> set[int]:
        found: set[int] = set()
        for source in (self.tokenizer.eos_token_id, getattr(model_config, "eos_token_id", None)):
            if isinstance(source, int):
                found.add(source)
            elif isinstance(source, list | tuple):
                found.update(int(s) for s in source)
        return found


def _system(text: str) -> dict[str, str]:
    return {"role": "system", "content": text}


def _user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}
