"""The assistant: one object that loads the index and model once and answers searches and questions.

Both surfaces (the CLI and the HTTP server) call these methods and nothing else.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial

from qa.answer.answering import Answer, compose
from qa.answer.checking import Evidence
from qa.answer.conversation import check_history, standalone
from qa.answer.keys import NameLikeness
from qa.answer.lists import items_after
from qa.answer.llm import LLMConfig, standalone_question
from qa.answer.overview import document_named, overview_of, passage_on
from qa.answer.resolution import readings
from qa.answer.writing import NOT_ASKED, write
from qa.errors import BadInput, LLMError, LLMTimeout, UnknownDocument
from qa.index.store import open_index
from qa.models.embedding import Embedder, resolve_model
from qa.models.onnx_embedding import OnnxEmbedder, load_embedder
from qa.models.reading import Reader
from qa.search.hybrid import Hit
from qa.search.retrieval import Retriever
from qa.settings import Settings

MAX_QUESTION_CHARS = 2000
# Candidates read for a follow-up's first reading (a question alone reads 8) and for each other
# reading: on benchmarks/conversations.jsonl and conversations-heldout.jsonl, 6 answered as 8
# did, in less time (benchmarks/followups.py); 2 other answered 0.83 on the held-out set, 1 0.80.
FOLLOWUP_DEPTH = 6
OTHER_DEPTH = 2
MAX_TOP_K = 50
ANSWERS_KEPT = 1024  # answers kept per assistant over a folder index: the same question again
# A question needs one visible character (also in the API schema): not a space, a control or an
# invisible one (zero-width spaces and joiners, direction marks, soft hyphen, fillers, BOM).
VISIBLE = (
    r"[^\s\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    r"\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)


def check_query(query: str, k: int) -> str:
    query = query.strip() if isinstance(query, str) else ""
    if not re.search(VISIBLE, query):  # nothing but spaces, controls and invisible characters
        raise BadInput("the question is empty: type a question")
    if not query.isprintable() and _unencodable(query):
        raise BadInput("the question is not valid text (it holds unpaired surrogates)")
    if len(query) > MAX_QUESTION_CHARS:
        raise BadInput(f"the question is too long: at most {MAX_QUESTION_CHARS} characters")
    if not 1 <= k <= MAX_TOP_K:
        raise BadInput(f"top_k must be between 1 and {MAX_TOP_K}")
    return query


def _unencodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class Assistant:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | OnnxEmbedder | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.settings = settings
        # The reader loads beside the index and the encoder (onnxruntime builds its session
        # outside the GIL): a cold `qa ask` waits for the slower of them, not for both.
        loading = None if reader else ThreadPoolExecutor(1).submit(Reader)
        name = embedder.name if embedder else resolve_model(settings.model)[0]
        self.index = open_index(settings, name)  # the folder or PostgreSQL (qa/index/store.py)
        # The index's ONNX export when valid: queries then never import torch.
        self.embedder = embedder or load_embedder(self.index.folder, settings.model)
        # The learned reader reranks candidates and finds answers; it holds this assistant's
        # reading cache, which threads share safely.
        self.reader = reader or loading.result()
        self.retriever = Retriever(self.index, self.embedder, self.reader)
        # How like a question's name the passages' names are: paraphrase weighs, never vetoes.
        self.likeness = NameLikeness(self.embedder.encode)
        self.llm = llm_config(settings)
        # A folder index never changes under this assistant (a build makes a new one:
        # `refreshed`), so its answers may be kept; PostgreSQL's may change at any time.
        self._answers: OrderedDict[tuple, Answer] | None = None if settings.database else OrderedDict()  # fmt: skip
        self._answers_lock = threading.Lock()
        _one_search_thread()

    def refreshed(self) -> Assistant:
        """A new assistant over the index as it is now (after a build), sharing this one's
        embedder and reader; this one goes on answering the requests it already has."""
        return Assistant(self.settings, self.embedder, self.reader)

    @property
    def passages(self) -> int:
        return len(self.index.passages)

    def search(self, query: str, k: int = 5, sources: Iterable[str] | None = None) -> list[Hit]:
        return self.retriever.search(check_query(query, k), k, self._check_sources(sources))

    def _check_sources(self, sources: Iterable[str] | None) -> list[str] | None:
        wanted = list(sources or [])
        unknown = [s for s in wanted if s not in self.index.documents]
        if unknown:
            raise UnknownDocument(f"no document {unknown[0]!r} in the index: `qa info` lists them")
        return wanted or None

    def query_for(self, question: str, history: Iterable | None = None) -> str:
        """The standalone query searched for `question` asked after `history` (oldest first);
        the question itself when it stands alone."""
        return standalone(check_query(question, 1), check_history(history))

    def ask(
        self,
        question: str,
        k: int = 5,
        sources: Iterable[str] | None = None,
        history: Iterable | None = None,
    ) -> Answer:
        *_, answer = self.ask_stream(question, k, sources, history)
        return answer

    def extractive(self, question: str, k: int = 5, sources: Iterable[str] | None = None, history: Iterable | None = None) -> Answer:  # fmt: skip
        """The extractive answer alone, as `ask` gives it before any LLM writes (a configured
        LLM still writes a follow-up's standalone question)."""
        question = check_query(question, k)
        return self._resolve(question, check_history(history), k, self._check_sources(sources))

    def ask_stream(
        self,
        question: str,
        k: int = 5,
        sources: Iterable[str] | None = None,
        history: Iterable | None = None,
    ) -> Iterator[str | Answer]:
        """The answer's text as it comes (at once when extractive, sentence by checked sentence
        from an LLM), then the whole Answer. Bad input fails at the first item."""
        question = check_query(question, k)
        turns = check_history(history)
        wanted = self._check_sources(sources)
        extractive = self._resolve(question, turns, k, wanted)
        query = extractive.query_used
        if self.llm is None or not extractive.answerable:
            note = NOT_ASKED if self.llm is not None else None
            yield extractive.answer
            yield replace(extractive, note=note)
            return
        hits = self.retriever.search(query, k, wanted)
        support = partial(support_score, self)
        yield from write(self.llm, query, hits, turns, extractive, support)

    def _resolve(self, question: str, turns: list, k: int, wanted: list[str] | None) -> Answer:
        """The extractive answer to the reading of `question` the reader answers best
        (qa.answer.resolution), each reading's candidates found with the conversation too;
        the same answer again, over a folder index, when the same is asked again."""
        if self._answers is None or (turns and self.llm is not None):  # an LLM may answer anew
            return self._resolved(question, turns, k, wanted)
        key = (question, tuple(turns), k, tuple(wanted or ()))  # one assistant, one LLM or none
        with self._answers_lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
        answer = self._resolved(question, turns, k, wanted)
        with self._answers_lock:
            self._answers[key] = answer
            while len(self._answers) > ANSWERS_KEPT:
                self._answers.popitem(last=False)
        return answer

    def _resolved(self, question: str, turns: list, k: int, wanted: list[str] | None) -> Answer:
        source, topic = document_named(question, self.index, wanted) or (None, None)
        if source is not None:
            seen = None if topic else overview_of(question, self.retriever, source, k)
            if seen is not None:
                return seen
            wanted = [source]  # "What does the joint statement say about methane?": read it
        following = partial(items_after, self.index)  # the lists an earlier answer opened
        found = readings(question, turns, self.reader, self._written(question, turns), following)
        rewrites = found.rewrites
        retriever = self.retriever
        if found.context:
            retriever = retriever.with_context(found.context, FOLLOWUP_DEPTH)
        best, chosen, answered = None, rewrites[0], []
        for i, rewrite in enumerate(rewrites):
            # other readings read fewer candidates: the /ask budget (benchmarks/followups.py)
            view = retriever if i == 0 else retriever.at_depth(OTHER_DEPTH)
            answer = compose(
                rewrite.query,
                view,
                k,
                wanted,
                given=found.given,
                said=found.said,
                asked=found.asked,
                likeness=self.likeness,
            )
            if answer.answerable:
                answered.append(answer.answer)
            if best is None or _strength(answer) > _strength(best):
                best, chosen = answer, rewrite
            if rewrite.sure and answer.answerable:  # the item its list names: no other reading
                best, chosen = answer, rewrite
                break
        if topic and not best.answerable and best.near_miss is None:  # where it speaks of it
            best = passage_on(question, topic, self.retriever, source, k) or best
        # Say which reading was taken where another reading gave another answer.
        unsure = len(set(answered)) > 1 or chosen is not rewrites[0]
        return replace(
            best,
            question=question,
            query_used=chosen.query,
            reading=chosen.taking if unsure else None,
        )

    def _written(self, question: str, turns: list) -> str | None:
        """The LLM's standalone question for a follow-up, where an LLM is configured and
        answers; none otherwise (the rules' readings stand alone)."""
        if self.llm is None or not turns:
            return None
        try:
            return standalone_question(self.llm, question, [(t.question, t.answer) for t in turns])
        except (LLMError, LLMTimeout):
            return None  # the answer itself then says what the LLM did (qa.answer.writing)

    def warm_up(self) -> None:
        """Load the model now rather than on the first question."""
        self.retriever.encode_query("warm up")


def _strength(answer: Answer) -> tuple[bool, float]:
    return answer.answerable, answer.signals.get("answer_probability", 0.0)


def support_score(assistant: Assistant, sentence: str, passage: str) -> tuple[float, Evidence]:
    """How far the passage supports the sentence, in [0, 1], by the learned reader, and the
    passage sentence the sentence restates (the closest by the sentence embedding, with the one
    before it, where a year or a number is often stated), which the exactness guard reads."""
    from qa.ingest.passages import sentence_spans

    parts = [passage[a:b] for a, b in sentence_spans(passage)] or [passage]
    vectors = assistant.embedder.encode([sentence, *parts])
    cosines = vectors[1:] @ vectors[0]
    best = int(cosines.argmax())
    evidence = Evidence(parts[best], parts[best - 1] if best else "")
    reader = getattr(assistant, "reader", None)
    if reader is None:  # an assistant without the reader: the embedding's cosine stands in
        return float(max(0.0, cosines[best])), evidence
    return float(reader.support(sentence, passage)), evidence


def llm_config(settings: Settings) -> LLMConfig | None:
    if not settings.llm_url:
        return None
    return LLMConfig(settings.llm_url, settings.llm_model, settings.llm_timeout)


def _one_search_thread() -> None:
    """A single query gains nothing from faiss's OpenMP threads, and on a busy machine their
    hand-offs cost more than the search itself (56 ms against 1.2 ms over 10,000 vectors, two
    threads against one, on a loaded 2-core machine); a server runs queries side by side
    instead. Process-wide."""
    import faiss

    faiss.omp_set_num_threads(1)
