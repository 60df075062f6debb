"""A local LLM over any OpenAI-compatible chat endpoint: the prompt, and the streamed reply.

Nothing here decides what is shown: qa/answer/checking.py checks every sentence the model writes against
the passages it cites. The client streams (`"stream": true`), reads server-sent events, and turns
every way a server can fail (down, slow, an error status, a reply that is not the protocol) into
an LLMError or LLMTimeout with one line that says what happened.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from qa.errors import LLMError, LLMTimeout

DEFAULT_TIMEOUT = 60.0  # seconds for the whole reply; a stall between chunks counts too
CONNECT_TIMEOUT = 5.0
MAX_TOKENS = 200  # "answer briefly": three short sentences with their markers fit
PASSAGE_WORDS = 160  # each passage shown to the model is cut to this (small models, small contexts)

SYSTEM = (
    "You answer questions using only the numbered passages you are given. "
    "Answer briefly, in one to three sentences. "
    "End every sentence with the number of the passage it comes from in square brackets, like [1]. "
    "If the passages do not answer the question, reply exactly: "
    "The corpus does not answer this question."
)


REMINDER = (
    "Answer in one or two sentences, each ending with its passage number in brackets, like [1]."
)


# One worked exchange, on a made-up text: small models copy the form of an example better than
# they follow a description of it.
EXAMPLE = [
    {
        "role": "user",
        "content": "Passages:\n\n[1] The old bridge was closed in 1998 after floods.\n\n"
        "[2] A new bridge, built by the county, opened in 2004.\n\n"
        "Question: When did the new bridge open?\n\n" + REMINDER,
    },
    {"role": "assistant", "content": "The new bridge opened in 2004. [2]"},
]


REWRITE_SYSTEM = (
    "You rewrite the last question of a conversation so that it can be understood without the "
    "conversation. Replace every word that points back (it, they, he, she, that, there, then, "
    "the one before, the second one) with what it means in the conversation. "
    "Use only names, numbers and words from the conversation. "
    "Reply with the rewritten question only, on one line."
)
REWRITE_EXAMPLE = [
    {
        "role": "user",
        "content": "Conversation:\nQ: When did the county open the new bridge?\nA: The new bridge "
        "opened in 2004.\n\nLast question: Who built it?",
    },
    {"role": "assistant", "content": "Who built the new bridge that opened in 2004?"},
]
REWRITE_TOKENS = 60


@dataclass(frozen=True)
class LLMConfig:
    """Where the model is and how long to wait for it."""

    url: str
    model: str = "local"
    timeout: float = DEFAULT_TIMEOUT
    max_tokens: int = MAX_TOKENS

    @property
    def endpoint(self) -> str:
        """The chat-completions URL, from a server root, a /v1 base or the full URL."""
        url = self.url.rstrip("/")
        if url.endswith("/chat/completions"):
            return url
        return f"{url}/chat/completions" if url.endswith("/v1") else f"{url}/v1/chat/completions"


def messages(question: str, passages: Sequence[str], history: Sequence[tuple[str, str]] = ()) -> list[dict]:  # fmt: skip
    """The chat: the instructions, the conversation so far, then the numbered passages and the
    question."""
    numbered = "\n\n".join(f"[{i}] {_cut(text)}" for i, text in enumerate(passages, start=1))
    chat = [{"role": "system", "content": SYSTEM}, *EXAMPLE]
    for asked, answered in history:
        # Earlier answers' markers number other passages than this prompt's: they go.
        answered = re.sub(r"\s*\[\d+\]", "", answered).strip()
        chat.append({"role": "user", "content": asked})
        chat.append({"role": "assistant", "content": answered or "(no answer)"})
    # Small models follow the instruction nearest the end: it is repeated after the question.
    ask = f"Passages:\n\n{numbered}\n\nQuestion: {question}\n\n{REMINDER}"
    chat.append({"role": "user", "content": ask})
    return chat


def rewrite_messages(question: str, history: Sequence[tuple[str, str]]) -> list[dict]:
    """The chat that asks for `question` as a standalone question, after `history` (oldest
    first, answers without their markers)."""
    lines = []
    for asked, answered in history:
        answered = re.sub(r"\s*\[\d+\]", "", answered).strip() or "(no answer)"
        lines.append(f"Q: {asked}\nA: {_cut(answered)}")
    ask = "Conversation:\n" + "\n".join(lines) + f"\n\nLast question: {question}"
    return [{"role": "system", "content": REWRITE_SYSTEM}, *REWRITE_EXAMPLE, {"role": "user", "content": ask}]  # fmt: skip


def standalone_question(config: LLMConfig, question: str, history: Sequence[tuple[str, str]]) -> str:  # fmt: skip
    """What the model writes as `question` standing alone: its first line, unchecked."""
    short = replace(config, max_tokens=REWRITE_TOKENS)
    reply = "".join(stream_reply(short, rewrite_messages(question, history))).strip()
    line = reply.splitlines()[0] if reply else ""
    return re.sub(r"^(?:rewritten question|question)\s*:\s*", "", line, flags=re.I).strip(" \"'“”")


def _cut(text: str) -> str:
    words = text.split()
    return text if len(words) <= PASSAGE_WORDS else " ".join(words[:PASSAGE_WORDS]) + " …"


def stream_reply(config: LLMConfig, chat: list[dict]) -> Iterator[str]:
    """The model's reply as it is written. The first chunk is read before this returns, so a
    server that is down or refuses fails here, not halfway through an answer."""
    chunks = _chunks(config, chat)
    first = next(chunks, None)

    def rest() -> Iterator[str]:
        if first:
            yield first
        yield from chunks

    return rest()


def _chunks(config: LLMConfig, chat: list[dict]) -> Iterator[str]:
    import httpx

    body = {
        "model": config.model,
        "messages": chat,
        "stream": True,
        "temperature": 0,
        "max_tokens": config.max_tokens,
    }
    timeout = httpx.Timeout(config.timeout, connect=CONNECT_TIMEOUT)
    deadline = time.monotonic() + config.timeout
    where = config.endpoint
    try:
        with (
            httpx.Client(timeout=timeout) as client,
            client.stream("POST", where, json=body) as response,
        ):
            if response.status_code != 200:
                response.read()
                raise LLMError(
                    f"the LLM at {where} answered HTTP {response.status_code}: {_said(response.text)}"
                )
            kind = response.headers.get("content-type", "")
            if "text/event-stream" not in kind:  # a server that ignores "stream": one JSON reply
                response.read()
                yield _message(_json(response.text, where), where)
                return
            for line in response.iter_lines():
                if time.monotonic() > deadline:
                    raise LLMTimeout(f"the LLM at {where} took over {config.timeout:g} s to answer")
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                piece = _delta(_json(data, where), where)
                if piece:
                    yield piece
    except httpx.TimeoutException as exc:
        raise LLMTimeout(
            f"the LLM at {where} did not answer within {config.timeout:g} s ({type(exc).__name__})"
        ) from exc
    except httpx.HTTPError as exc:
        raise LLMError(f"cannot reach the LLM at {where}: {_said(str(exc))}") from exc


def _json(text: str, where: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise LLMError(
            f"the LLM at {where} sent something that is not JSON: {_said(text)}"
        ) from exc
    if not isinstance(value, dict):
        raise LLMError(f"the LLM at {where} sent JSON that is not a chat completion: {_said(text)}")
    return value


def _delta(event: dict, where: str) -> str:
    if "error" in event:
        raise LLMError(f"the LLM at {where} reported an error: {_said(json.dumps(event['error']))}")
    try:
        choice = event["choices"][0] if event.get("choices") else {}
        piece = (choice.get("delta") or choice.get("message") or {}).get("content") or ""
    except (AttributeError, IndexError, KeyError, TypeError) as exc:
        raise LLMError(f"the LLM at {where} sent a chunk that is not a chat completion: {_said(json.dumps(event))}") from exc  # fmt: skip
    if not isinstance(piece, str):
        raise LLMError(f"the LLM at {where} sent content that is not text")
    return piece


def _message(reply: dict, where: str) -> str:
    try:
        content = reply["choices"][0]["message"]["content"]
    except (IndexError, KeyError, TypeError) as exc:
        raise LLMError(f"the LLM at {where} sent a reply that is not a chat completion: {_said(json.dumps(reply))}") from exc  # fmt: skip
    if not isinstance(content, str):
        raise LLMError(f"the LLM at {where} sent content that is not text")
    return content


def _said(text: str) -> str:
    """A server's words, on one short line."""
    flat = " ".join(str(text).split())
    return (flat[:160] + "…") if len(flat) > 160 else (flat or "(nothing)")
