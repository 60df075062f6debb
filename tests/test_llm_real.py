"""A real small instruct model (SmolLM2-135M-Instruct, served by llama.cpp through xllamacpp on
127.0.0.1) answering through `qa`: the plumbing end to end, and the check holding on what a weak
model really writes: nothing is shown as supported unless its cited passage supports it."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from qa.answer.assistant import Assistant, support_score
from qa.answer.checking import SUPPORT_THRESHOLD, exact
from qa.answer.llm import LLMConfig
from qa.surfaces.server import create_app
from tests import smollm_server
from tests.test_llm import closed_port, events

pytest.importorskip("xllamacpp", reason="xllamacpp is not installed: run `make install`")

# Questions of the brief's kind, not the dev set's; two passages and short replies keep each
# answer to seconds on two cores.
QUESTIONS = [
    "Which two countries applied for NATO membership in the same year?",
    "What did the EU adopt in 2016 with a section on defence?",
    "Who is the President of the European Commission?",
]


@pytest.fixture(scope="session")
def smollm(tmp_path_factory):
    port = closed_port()
    log = tmp_path_factory.mktemp("smollm") / "server.log"
    try:
        process = smollm_server.start(port, log)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield f"http://127.0.0.1:{port}"
    smollm_server.stop(process)


@pytest.fixture(scope="module")
def real(settings, embedder, smollm):
    a = Assistant(replace(settings, llm_url=smollm), embedder)
    a.llm = LLMConfig(smollm, "smollm2", timeout=120, max_tokens=48)
    return a


def assert_every_shown_sentence_is_supported(assistant, data: dict) -> None:
    by_marker = {c["marker"]: c["text"] for c in data["citations"]}
    shown = re.findall(r"\[(\d+)\]", data["answer"])
    assert all(int(n) in by_marker for n in shown), (data["answer"], list(by_marker))
    for s in data.get("sentences", []):
        assert s["status"] in ("supported", "unsupported", "dropped")
        if not s["kept"]:
            assert s["text"] not in data["answer"] or data["mode"] == "extractive"
            continue
        assert s["markers"] and s["text"] in data["answer"]
        passages = [by_marker[m] for m in s["markers"]]
        checks = [support_score(assistant, s["text"], p) for p in passages]
        assert any(
            score >= SUPPORT_THRESHOLD and exact(s["text"], e.sentence, numbers_also_in=e.before)
            for score, e in checks
        ), s


def test_a_real_model_answers_through_the_api_streamed_and_checked(settings, real):
    with TestClient(create_app(settings, real)) as client:
        body = {"question": QUESTIONS[0], "top_k": 2, "stream": True}
        with client.stream("POST", "/ask", json=body) as r:
            assert r.status_code == 200
            got = events(r.read().decode())
    names = [n for n, _ in got]
    assert names[-1] == "answer" and set(names[:-1]) <= {"delta"}, names
    data = got[-1][1]
    assert data["mode"] in ("llm", "extractive")
    assert data["sentences"], "the model wrote nothing"
    if data["mode"] == "llm":
        assert "".join(d["text"] for _, d in got[:-1]).strip() == data["answer"]
    else:
        assert data["note"]
    assert_every_shown_sentence_is_supported(real, data)


@pytest.mark.parametrize("question", QUESTIONS[1:])
def test_what_a_real_model_writes_is_shown_only_when_supported(real, question):
    data = real.ask(question, k=2).to_dict()
    assert data["sentences"], "the model wrote nothing"
    assert_every_shown_sentence_is_supported(real, data)
    print(json.dumps(data["sentences"], ensure_ascii=False))  # seen with -s: what was caught


def test_what_a_real_model_writes_for_a_follow_up_is_searched_only_where_it_checks(real):
    """SmolLM2 mostly copies the follow-up back ("When was it renamed?"), which brings nothing of
    the conversation in: then only the rules' readings are searched."""
    from qa.answer.conversation import Turn
    from qa.answer.llm import standalone_question
    from qa.answer.resolution import checked, readings

    first, question = "What did France and the UK push for?", "When was it renamed?"
    said = "France and the UK pushed for a European Security and Defence Policy, established in 1999. [1]"  # fmt: skip
    turns = [Turn(first, said)]
    written = standalone_question(real.llm, question, [(first, said)])
    assert written and "\n" not in written
    kept = checked(written, question, turns)
    rules = [r.query for r in readings(question, turns, real.reader).rewrites]
    answer = real.extractive(question, history=[{"question": first, "answer": said}])
    assert answer.query_used in ([kept] if kept else []) + rules
