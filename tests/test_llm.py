"""Answers from an LLM, every sentence checked: the rule on chosen replies (a fake OpenAI-compatible
server on 127.0.0.1 stands in for the external model), failures of the server, and streaming."""

from __future__ import annotations

import json
import re
import socket
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from qa.answer.assistant import Assistant
from qa.answer.checking import (
    SUPPORT_THRESHOLD,
    Evidence,
    check,
    complete_sentences,
    exact,
    sentences,
)
from qa.answer.llm import REWRITE_SYSTEM
from qa.answer.writing import NOT_ASKED, NOTHING_SUPPORTED
from qa.errors import LLMError, LLMTimeout
from qa.ingest.passages import sentence_spans
from qa.surfaces.cli import app as cli
from qa.surfaces.server import create_app
from tests.fake_llm import FakeLLM, passages_of

QUESTION = "When was the latest joint declaration published?"
UNANSWERABLE = "What is the population of Estonia?"


# ---------------------------------------------------------------- the rule, on its own

PASSAGES = [
    "The museum opened in 1902. Its first director was Anna Berg.",
    "The harbour was rebuilt after the storm of 1953.",
]


def scorer(sentence: str, passage: str) -> tuple[float, Evidence]:
    """A stand-in for the learned scorer: the share of the sentence's words the passage has."""
    words = re.findall(r"\w+", sentence.lower())
    return sum(w in passage.lower() for w in words) / len(words), Evidence(passage)


def test_a_supported_sentence_is_kept_with_its_citations():
    result = check("The museum opened in 1902. [1]", PASSAGES, scorer)
    assert (result.status, result.cited, result.phantom) == ("supported", [1], 0)
    assert result.support >= SUPPORT_THRESHOLD and result.text == "The museum opened in 1902."


def test_a_wrongly_cited_sentence_is_unsupported():
    assert check("The museum opened in 1902. [2]", PASSAGES, scorer).status == "unsupported"


def test_a_changed_number_or_name_is_unsupported_however_close():
    assert check("The museum opened in 1903. [1]", PASSAGES, scorer).status == "unsupported"
    assert check("Its first director was Anna Lind. [1]", PASSAGES, scorer).status == "unsupported"


def test_a_citation_to_no_passage_is_never_kept():
    result = check("The museum opened in 1902. [1][5]", PASSAGES, scorer)
    assert (result.status, result.cited, result.phantom) == ("supported", [1], 1)
    dropped = check("The museum opened in 1902. [3]", PASSAGES, scorer)
    assert (dropped.status, dropped.cited, dropped.phantom) == ("dropped", [], 1)
    assert check("The museum opened in 1902.", PASSAGES, scorer).status == "dropped"


def test_a_sentence_may_cite_several_passages():
    result = check("The harbour was rebuilt after the storm of 1953 [1, 2].", PASSAGES, scorer)
    assert (result.status, result.cited) == ("supported", [1, 2])


def test_exactness_reads_numbers_and_names():
    assert not exact("The EU agreed.", "Euro Atlantic security was agreed.")  # whole words
    assert exact("It opened in 1902 under Anna Berg.", PASSAGES[0])
    assert not exact("It opened in 1902 under Anna Lind.", PASSAGES[0])
    assert exact("In 1953, the harbour was rebuilt.", PASSAGES[1])  # "In" opens the sentence
    assert exact("It opened in 1902.", "It opened then.", numbers_also_in="That was 1902.")
    assert not exact("Anna Berg opened it.", "It opened then.", numbers_also_in="Anna Berg")


def test_sentences_and_markers_split_as_written():
    reply = "It opened in 1902. [1] Anna Berg led it [1]. She said “yes.” [2] Later, it grew"
    assert sentences(reply) == [
        "It opened in 1902. [1]",
        "Anna Berg led it [1].",
        "She said “yes.” [2]",
        "Later, it grew",
    ]
    done, rest = complete_sentences("It opened in 1902. [1] Anna Berg le")
    assert (done, rest.strip()) == (["It opened in 1902. [1]"], "Anna Berg le")
    assert complete_sentences("It opened in 1902. [1]") == ([], "It opened in 1902. [1]")
    assert complete_sentences("It opened in 1902. [")[0] == []  # its marker may be coming
    assert complete_sentences("It opened in 1902. [1")[0] == []


# ---------------------------------------------------------------- through the assistant


@pytest.fixture(scope="module")
def fake():
    server = FakeLLM()
    yield server
    server.close()


@pytest.fixture(scope="module")
def llm_assistant(settings, embedder, fake):
    return Assistant(replace(settings, llm_url=fake.url, llm_timeout=2.0), embedder)


@pytest.fixture
def reply(fake):
    """Sets what the fake model writes for the next requests, from the prompt's passages."""
    fake.mode = "stream"

    def set_reply(write, rewrite=None):
        def answer(request):
            if request["messages"][0]["content"] == REWRITE_SYSTEM:  # a follow-up to rewrite
                asked = request["messages"][-1]["content"].split("Last question: ")[-1]
                return rewrite(asked) if rewrite else asked
            return write(passages_of(request))

        fake.reply = answer

    yield set_reply
    fake.mode = "stream"


def sentence_with_number(passage: str, absent_from: str = "") -> str:
    """A verbatim sentence of the passage, markers stripped, that states a number which
    `absent_from` does not contain."""
    for a, b in sentence_spans(passage):
        s = re.sub(r"\[\d+\]", "", passage[a:b]).strip()
        numbers = re.findall(r"\d{4}", s)
        if numbers and not any(n in absent_from for n in numbers) and len(s.split()) >= 5:
            return s
    raise AssertionError(f"no sentence with a number only it has in {passage[:80]!r}")


def test_llm_answer_keeps_supported_sentences_and_hides_phantom_citations(llm_assistant, reply):
    reply(lambda p: f"{sentence_with_number(p[0])} [1][9] This answer is certainly right.")
    answer = llm_assistant.ask(QUESTION)
    data = answer.to_dict()
    assert data["mode"] == "llm"
    kept = [s for s in data["sentences"] if s["kept"]]
    assert len(kept) == 1 and kept[0]["markers"] == [1] and kept[0]["cited"] == [1]
    assert data["answer"] == f"{kept[0]['text']} [1]"
    assert "[9]" not in json.dumps(data)  # a citation to no passage is never shown
    [dropped] = [s for s in data["sentences"] if not s["kept"]]
    assert dropped["status"] == "dropped" and dropped["text"] == "This answer is certainly right."
    [(marker, citation)] = [(c["marker"], c) for c in data["citations"]]
    assert marker == 1 and kept[0]["text"] in citation["text"]


def test_a_wrong_citation_is_caught_and_the_answer_falls_back(llm_assistant, reply):
    # The first passage's sentence, cited as the second passage (which lacks its year).
    reply(lambda p: f"{sentence_with_number(p[0], absent_from=p[1])} [2]")
    data = llm_assistant.ask(QUESTION).to_dict()
    assert data["mode"] == "extractive" and data["note"] == NOTHING_SUPPORTED
    [sentence] = data["sentences"]
    assert (sentence["status"], sentence["kept"], sentence["markers"]) == ("unsupported", False, [])
    assert sentence["text"] not in data["answer"]
    assert data["answerable"] is True  # the extractive answer, quoted from the passages


def test_an_invented_number_is_caught(llm_assistant, reply):
    def wrong_year(p):
        s = sentence_with_number(p[0])
        year = re.search(r"\d{4}", s).group()
        return f"{s.replace(year, str(int(year) + 7))} [1]"

    reply(wrong_year)
    data = llm_assistant.ask(QUESTION).to_dict()
    assert data["mode"] == "extractive"
    assert [s["status"] for s in data["sentences"]] == ["unsupported"]


def test_the_model_is_not_asked_when_the_corpus_does_not_answer(llm_assistant, reply, fake):
    reply(lambda p: "Estonia has 1.3 million people. [1]")
    before = len(fake.requests)
    data = llm_assistant.ask(UNANSWERABLE).to_dict()
    assert len(fake.requests) == before
    assert data["answerable"] is False and data["mode"] == "extractive"
    assert data["note"] == NOT_ASKED


def test_the_prompt_numbers_the_passages_and_carries_the_conversation(llm_assistant, reply, fake):
    reply(lambda p: f"{sentence_with_number(p[0])} [1]")
    history = [{"question": "Who wrote the brief?", "answer": "Nobody said. [1]"}]
    llm_assistant.ask(QUESTION, history=history)
    request = fake.requests[-1]
    roles = [m["role"] for m in request["messages"]]
    # The instructions, a worked example, the conversation, then the passages and the question.
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert request["messages"][3]["content"] == "Who wrote the brief?"
    assert request["messages"][4]["content"] == "Nobody said."  # its [1] meant another passage
    assert request["messages"][-1]["content"].startswith("Passages:\n\n[1] ")
    assert f"\n\nQuestion: {QUESTION}\n\n" in request["messages"][-1]["content"]
    assert request["stream"] is True and request["max_tokens"] > 0


def test_the_model_writes_a_follow_up_standing_alone_and_is_checked(llm_assistant, reply, fake):
    first = "When was the latest joint declaration published?"
    history = [{"question": first, "answer": "The latest joint declaration was published in 2023. [1]"}]  # fmt: skip
    invented = "What did the 2019 joint declaration between NATO and Japan prioritise?"
    reply(lambda p: f"{sentence_with_number(p[0])} [1]", rewrite=lambda asked: invented)
    answer = llm_assistant.ask("What did it prioritise?", history=history)
    rewrite, *_ = [r for r in fake.requests[-2:] if r["messages"][0]["content"] == REWRITE_SYSTEM]
    said = rewrite["messages"][-1]["content"]
    assert f"Q: {first}\nA: The latest joint declaration was published in 2023." in said
    assert said.endswith("Last question: What did it prioritise?") and rewrite["max_tokens"] <= 60
    assert answer.query_used == "What did the latest joint declaration prioritise?"  # the rules'
    assert answer.reading is None  # the invented one was never read

    written = "What did the joint declaration published in 2023 prioritise?"
    reply(lambda p: f"{sentence_with_number(p[0])} [1]", rewrite=lambda asked: written)
    answer = llm_assistant.ask("What did it prioritise?", history=history)
    assert answer.query_used == written  # read first, and as well answered as the rules' reading
    assert answer.reading in (None, f"Reading the question as '{written}'")  # said where unsure


def test_a_server_that_ignores_stream_still_works(llm_assistant, reply, fake):
    reply(lambda p: f"{sentence_with_number(p[0])} [1]")
    fake.mode = "json"
    assert llm_assistant.ask(QUESTION).mode == "llm"


@pytest.mark.parametrize(
    ("mode", "error", "words"),
    [
        ("status", LLMError, "answered HTTP 500"),
        ("garbage", LLMError, "not JSON"),
        ("silent", LLMTimeout, "did not answer within 2 s"),
    ],
)
def test_a_failing_server_is_one_clear_error(llm_assistant, reply, fake, mode, error, words):
    reply(lambda p: "Anything. [1]")
    fake.mode = mode
    with pytest.raises(error, match=words):
        llm_assistant.ask(QUESTION)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the surfaces


@pytest.fixture(scope="module")
def client(settings, llm_assistant):
    with TestClient(create_app(settings, llm_assistant)) as c:
        yield c


@pytest.mark.parametrize(
    ("mode", "status", "words"),
    [("status", 502, "HTTP 500"), ("garbage", 502, "not JSON"), ("silent", 504, "within 2 s")],
)
def test_http_maps_llm_failures_to_502_and_504(client, reply, fake, mode, status, words):
    reply(lambda p: "Anything. [1]")
    fake.mode = mode
    r = client.post("/ask", json={"question": QUESTION})
    assert r.status_code == status and words in r.json()["detail"]


def test_http_unreachable_llm_is_502(settings, embedder):
    down = Assistant(replace(settings, llm_url=f"http://127.0.0.1:{closed_port()}"), embedder)
    with TestClient(create_app(settings, down)) as c:
        r = c.post("/ask", json={"question": QUESTION})
    assert r.status_code == 502 and r.json()["detail"].startswith("cannot reach the LLM at http://127.0.0.1:")  # fmt: skip


def test_cli_unreachable_llm_is_one_line(brief_corpus, brief_index, monkeypatch):
    monkeypatch.setenv("QA_CORPUS", str(brief_corpus))
    monkeypatch.setenv("QA_INDEX", str(brief_index))
    url = f"http://127.0.0.1:{closed_port()}"
    result = CliRunner().invoke(cli, ["ask", QUESTION, "--llm", url])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot reach the LLM at {url}/v1/chat/completions")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def events(text: str) -> list[tuple[str, dict]]:
    found = re.findall(r"event: (\w+)\ndata: (.*)\n\n", text)
    return [(name, json.loads(data)) for name, data in found]


def test_stream_sends_checked_sentences_then_the_whole_answer(client, reply):
    reply(lambda p: f"{sentence_with_number(p[0])} [1] Made up and uncited.")
    with client.stream("POST", "/ask", json={"question": QUESTION, "stream": True}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        got = events(r.read().decode())
    names = [name for name, _ in got]
    assert names[-1] == "answer" and set(names[:-1]) == {"delta"}
    final = got[-1][1]
    assert final["mode"] == "llm" and final["citations"] and final["signals"]
    assert "".join(d["text"] for _, d in got[:-1]).strip() == final["answer"]
    assert "Made up" not in "".join(d["text"] for _, d in got[:-1])


def test_stream_reports_a_failure_after_it_began(client, reply, fake):
    def first_then_more(p):
        first = f"{sentence_with_number(p[0])} [1]"
        fake.stall_after = len(first.split()) + 2  # quiet once the first sentence is complete
        return f"{first} And more words follow here."

    reply(first_then_more)
    fake.mode = "stall"
    with client.stream("POST", "/ask", json={"question": QUESTION, "stream": True}) as r:
        assert r.status_code == 200
        got = events(r.read().decode())
    assert [n for n, _ in got] == ["delta", "error"] and got[-1][1]["status"] == 504
    assert "did not answer within 2 s" in got[-1][1]["detail"]


def test_stream_refuses_bad_input_before_streaming(client):
    r = client.post("/ask", json={"question": "  ", "stream": True})
    assert r.status_code == 422 and "empty" in r.json()["detail"]


def test_extractive_stream_without_an_llm(settings, assistant):
    with TestClient(create_app(settings, assistant)) as c:
        r = c.post("/ask", json={"question": QUESTION, "stream": True})
        plain = c.post("/ask", json={"question": QUESTION}).json()
    got = events(r.text)
    assert [n for n, _ in got] == ["delta", "answer"]
    assert got[0][1]["text"] == plain["answer"] and got[1][1] == plain
    assert plain["mode"] == "extractive" and "sentences" not in plain and "note" not in plain


def test_the_terminal_prints_an_answer_as_it_comes(llm_assistant, reply):
    import io

    from rich.console import Console

    from qa.surfaces.render import print_stream

    reply(lambda p: f"{sentence_with_number(p[0])} [1] The Moon hosted it in 2031. [1]")
    out = io.StringIO()
    answer = print_stream(Console(file=out, width=200), llm_assistant.ask_stream(QUESTION))
    printed = " ".join(out.getvalue().split())
    assert printed.startswith(" ".join(answer.answer.split()))
    assert "Not supported by the passages it cited" in printed and "The Moon hosted it" in printed
    assert "Sources" in printed
