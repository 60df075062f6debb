"""The HTTP API's shapes: requests validated by pydantic, answers described for OpenAPI."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, StrictBool
from pydantic_core import PydanticCustomError

from qa.answer.assistant import MAX_QUESTION_CHARS, MAX_TOP_K, VISIBLE
from qa.answer.conversation import MAX_ANSWER_CHARS, MAX_TURN_CHARS, MAX_TURNS


def _no_bool_or_text(value):
    """top_k is an integer as JSON Schema says (5, or 5.0): not true, not "5", which pydantic's
    lax int would take as 1 and 5."""
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


TopK = Annotated[int, BeforeValidator(_no_bool_or_text)]


class TurnIn(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_TURN_CHARS)
    answer: str = Field("", max_length=MAX_ANSWER_CHARS)
    short_answer: str = Field(
        "",
        max_length=MAX_TURN_CHARS,
        description="Optional: that answer's short_answer text, as /ask returned it; a follow-up "
        'pointing at it ("it", "that year") is then read as it',
    )


History = Field(
    default_factory=list,
    max_length=MAX_TURNS,
    description="The conversation so far, oldest first: a follow-up is searched as a standalone query",
)


class SearchRequest(BaseModel):
    # The pattern (and emptiness) is checked by the assistant, whose message is plainer than
    # pydantic's and the same for "" as for "   ".
    query: str = Field(max_length=MAX_QUESTION_CHARS, json_schema_extra={"pattern": VISIBLE})
    top_k: TopK = Field(5, ge=1, le=MAX_TOP_K)
    sources: list[str] | None = None
    history: list[TurnIn] = History


class AskRequest(BaseModel):
    # The pattern (and emptiness) is checked by the assistant, whose message is plainer than
    # pydantic's and the same for "" as for "   ".
    question: str = Field(max_length=MAX_QUESTION_CHARS, json_schema_extra={"pattern": VISIBLE})
    top_k: TopK = Field(5, ge=1, le=MAX_TOP_K)
    sources: list[str] | None = None
    history: list[TurnIn] = History
    stream: StrictBool = Field(
        False,
        description="Answer as server-sent events: `delta` events with the answer's text as it "
        "comes, then one `answer` event with the whole JSON answer (or an `error` event)",
    )


# The answers' shapes, for the OpenAPI schema only: the endpoints return the core's own dicts,
# so that fields the core adds pass through unfiltered (the contract allows extra fields).
class EndnoteOut(BaseModel):
    number: int
    text: str


class Citation(BaseModel):
    id: str
    source: str
    title: str | None
    date: str | None
    section: str | None
    paragraph: int
    start: int
    end: int
    endnotes: list[EndnoteOut]
    page: int | None = None
    page_end: int | None = None
    url: str = Field(description="a relative link that opens the document at this place (GET /documents/...)")  # fmt: skip


class PlaceOut(BaseModel):
    id: str
    source: str
    title: str | None
    start: int
    end: int
    page: int | None = None
    url: str


class CitedPassage(BaseModel):
    rank: int
    score: float
    text: str
    citation: Citation
    also_in: list[PlaceOut] = Field([], description="the same passage where other files hold it (a report saved as PDF and as web page), shown once")  # fmt: skip
    relevance: float | None = Field(None, description="the reader's probability that the passage answers the query")  # fmt: skip


class SentenceOut(BaseModel):
    text: str
    start: int
    end: int


class MarkedPassage(CitedPassage):
    marker: int
    sentence: SentenceOut | None = Field(None, description="the passage's sentence the answer quotes, with offsets into the document")  # fmt: skip


class SearchResponse(BaseModel):
    query: str
    query_used: str
    results: list[CitedPassage]


class ShortAnswerOut(BaseModel):
    text: str
    source: str
    start: int
    end: int
    page: int | None = None


class AskResponse(BaseModel):
    question: str
    answer: str
    answerable: bool
    short_answer: ShortAnswerOut | None = Field(None, description="the exact span that answers a question asking for a thing")  # fmt: skip
    citations: list[MarkedPassage]
    signals: dict = Field(default_factory=dict, description="the scores and the threshold behind `answerable`")  # fmt: skip
    query_used: str
    mode: str = Field("extractive", description='"llm" when a local model wrote the answer')
    sentences: list[dict] | None = Field(
        None, description="An LLM's sentences: text, markers, cited, support, kept, status"
    )
    note: str | None = None
    near_miss: dict | None = Field(
        None,
        description="where the question names a year or figure the documents never state: "
        '{"asked": "FY2024", "found": "FY2026", "marker": 1, "citation": {...}}',
    )
    reading: str | None = Field(
        None,
        description="Which reading of a follow-up was taken where others differed, e.g. "
        "\"Taking 'it' as the EU White Paper\"",
    )


class DocumentOut(BaseModel):
    source: str
    title: str | None
    date: str | None
    passages: int
    warning: str | None = Field(None, description="What could not be read, and what to do")


class HealthResponse(BaseModel):
    status: str
    passages: int
    model: str
    documents: list[DocumentOut] = []
    warning: str | None = Field(
        None, description="Present when the index's ONNX encoder is damaged: what to run"
    )


class Problem(BaseModel):
    detail: str
