"""The chat page and the embeddable widget in headless Chromium, against a real `qa serve`."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from qa.surfaces.render import apart

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = ROOT / "docs" / "screenshot-chat.png"
BRIEF = "eu-nato-relationship.txt"
ANSWER_TIMEOUT_MS = 30_000

# A document whose text is markup: the page must show it as text and never run it.
XSS_DOCUMENT = """\
March 3, 2025

Beacon Notes <b>for</b> <i>keepers</i>

Lens <img src=x onerror="window.__xss=3"> repairs

The Saaremaa beacon needs a new Fresnel lens <img src=x onerror="window.__xss=1"> before the \
autumn storms, and the keepers' guild budget <script>window.__xss=2</script> covers only two \
lens repairs each year.
"""
XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=2</script>"

SA = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def qa_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "qa", *args]


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = tmp_path_factory.mktemp("corpus")
    brief = ROOT / "corpus" / BRIEF
    if not brief.exists():
        brief = Path("/work/shared/corpus") / BRIEF
    shutil.copy(brief, corpus / BRIEF)
    (corpus / "beacon-notes.txt").write_text(XSS_DOCUMENT, encoding="utf-8")
    return corpus


@pytest.fixture(scope="session")
def index_dir(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("index") / "index"
    done = subprocess.run(
        qa_command("index", "--corpus", str(corpus_dir), "--index", str(index)),
        cwd=corpus_dir.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"qa index failed:\n{done.stdout}\n{done.stderr}"
    return index


class HostPages:
    """A plain static site on its own origin whose page embeds the widget with a script tag."""

    def __init__(self) -> None:
        self.widget_tag = ""
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                if self.path != "/":
                    self.send_error(404)
                    return
                body = (
                    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                    "<title>A host site</title><link rel='icon' href='data:,'></head>"
                    "<body><h1>A host site</h1><p>Some article text.</p>"
                    f"{pages.widget_tag}</body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def allowed_site() -> Iterator[HostPages]:
    site = HostPages()
    yield site
    site.close()


@pytest.fixture(scope="session")
def other_site() -> Iterator[HostPages]:
    site = HostPages()
    yield site
    site.close()


def wait_for_health(base: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"qa serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"qa serve did not answer /health within {timeout:.0f} s:\n{log.read_text()}")


@contextmanager
def qa_serve(corpus_dir: Path, index_dir: Path, log: Path, *options: str) -> Iterator[str]:
    """A real `qa serve` on a free port of 127.0.0.1 with these options, stopped afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "QA_CORPUS": str(corpus_dir), "QA_INDEX": str(index_dir)}
    env.pop("QA_CORS_ORIGINS", None)
    with log.open("w") as out:
        process = subprocess.Popen(
            qa_command("serve", "--host", "127.0.0.1", "--port", str(port), *options),
            cwd=corpus_dir.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_health(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def server(
    corpus_dir: Path,
    index_dir: Path,
    allowed_site: HostPages,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A real `qa serve` that lets `allowed_site` (and no other origin) call it from a browser."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with qa_serve(corpus_dir, index_dir, log, "--cors-origin", allowed_site.origin) as base:
        yield base


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium to run browser tests")
    with SA.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watched:
    """A page plus everything it reported: script errors and the URLs it requested."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self.requests.append(request.url))


@pytest.fixture
def open_page(browser) -> Iterator:
    contexts = []

    def open_(width: int = 1100, height: int = 800) -> Watched:
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(ANSWER_TIMEOUT_MS)
        # The chat announces each answer it shows as a `qa:answer` event holding the API's JSON.
        context.add_init_script(
            "window.__qaAnswers = [];"
            "document.addEventListener('qa:answer', e => window.__qaAnswers.push(e.detail));"
        )
        contexts.append(context)
        return Watched(context.new_page())

    yield open_
    for context in contexts:
        context.close()


DONE = ".qa-msg--answer:not(.qa-msg--streaming), .qa-msg--refusal, .qa-msg--error"


def ask(page, question: str) -> dict | None:
    """Types a question, sends it with Enter and returns the answer the page showed (the JSON
    the API returned, streamed or not), or None when it showed an error."""
    answered = page.evaluate("window.__qaAnswers.length")
    shown = page.locator(DONE).count()
    page.locator(".qa-input").fill(question)
    with page.expect_response(lambda r: r.url.endswith("/ask")):
        page.locator(".qa-input").press("Enter")
    page.locator(DONE).nth(shown).wait_for()
    answers = page.evaluate("window.__qaAnswers")
    return answers[-1] if len(answers) > answered else None


def marked(result: dict) -> dict[int, dict]:
    return {c["marker"]: c for c in result["citations"] if c.get("marker") is not None}


# ---------------------------------------------------------------- the page


def test_page_answers_with_clickable_citations(server: str, open_page) -> None:
    watched = open_page()
    page = watched.page
    response = page.goto(server + "/")
    assert response is not None and response.ok

    SA.expect(page.locator(".qa-starter")).to_have_count(3)
    SA.expect(page.locator(".qa-corpus")).not_to_contain_text("Connecting")
    SA.expect(page.locator(".qa-corpus")).not_to_have_class(re.compile("qa-corpus--error"))
    SA.expect(page.locator(".qa-log")).to_have_attribute("aria-live", "polite")

    result = ask(page, "When was the latest joint declaration published?")
    assert result["answerable"], result
    answer = page.locator(".qa-msg--answer").last
    SA.expect(answer.locator(".qa-msg-label")).to_have_text("Answer")

    # Every [n] whose n is a citation marker became a button; the rest of the text is verbatim.
    markers = marked(result)
    in_text = [int(n) for n in re.findall(r"\[(\d+)\]", result["answer"]) if int(n) in markers]
    assert in_text, f"the answer cites nothing: {result['answer']!r}"
    cites = answer.locator(".qa-msg-text .qa-cite")
    SA.expect(cites).to_have_count(len(in_text))
    assert [int(t) for t in cites.all_inner_texts()] == in_text
    plain = re.sub(r"\[(\d+)\]", lambda m: m[1] if int(m[1]) in markers else m[0], result["answer"])
    assert answer.locator(".qa-msg-text").text_content() == plain
    # The reader's short answer is marked inside the quoted sentence.
    assert result["short_answer"] and result["short_answer"]["text"] in result["answer"]
    SA.expect(answer.locator(".qa-msg-text mark.qa-short")).to_have_text(
        result["short_answer"]["text"]
    )

    # Opening a citation shows the exact passage and where it comes from.
    first = markers[in_text[0]]
    cites.first.click()
    panel = page.locator(".qa-passage")
    SA.expect(panel).to_be_visible()
    SA.expect(cites.first).to_have_attribute("aria-expanded", "true")
    assert panel.locator(".qa-passage-text").text_content() == first["text"]
    citation = first["citation"]
    meta = panel.locator(".qa-passage-meta")
    SA.expect(panel.locator(".qa-passage-origin")).to_contain_text(citation["source"])
    SA.expect(meta).to_contain_text(f"{citation['start']}–{citation['end']}")
    if citation.get("section"):
        SA.expect(meta).to_contain_text(citation["section"])
    SA.expect(panel.locator(".qa-passage-doc")).to_have_text(citation["title"])

    # The endnotes of whichever cited passage has them, in full.
    with_notes = [c for c in result["citations"] if c["citation"].get("endnotes")]
    assert with_notes, "expected a cited passage with endnotes for this question"
    target = with_notes[0]
    page.locator(".qa-source").nth(result["citations"].index(target)).click()
    notes = panel.locator(".qa-endnote")
    SA.expect(notes).to_have_count(len(target["citation"]["endnotes"]))
    for row, note in zip(notes.all(), target["citation"]["endnotes"], strict=True):
        assert row.locator(".qa-endnote-number").text_content() == f"[{note['number']}]"
        assert row.locator(".qa-endnote-text").text_content() == note["text"]

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), animations="disabled")

    origin = server.rstrip("/")
    foreign = [u for u in watched.requests if not u.startswith((origin + "/", "data:"))]
    assert not foreign, f"the page requested other hosts: {foreign}"
    assert not watched.errors


def test_example_questions_fit_the_indexed_documents(open_page, tmp_path_factory) -> None:
    """Over a user's own documents (three White House pages), no example is about the brief:
    each asks about one of their titles, and is answered from that document."""
    pages = sorted((ROOT.parent / "shared" / "benchmarks" / "real-markdown").glob("*.md"))
    assert len(pages) == 3
    corpus = tmp_path_factory.mktemp("own")
    for page_file in pages:
        shutil.copy(page_file, corpus / page_file.name)
    index = corpus.parent / "own-index"
    done = subprocess.run(qa_command("index", "--corpus", str(corpus), "--index", str(index)), capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    titles = [
        "FACT SHEET: The 2022 NATO Summit in Madrid",
        "U.S.-EU Summit Joint Statement",
        "FACT SHEET: U.S. Contributions to NATO Deterrence and Defense",
    ]
    with qa_serve(corpus, index, tmp_path_factory.mktemp("own-serve") / "serve.log") as base:
        page = open_page().page
        page.goto(base + "/")
        starters = page.locator(".qa-starter")
        SA.expect(starters).to_have_text([f"What does {title} say?" for title in titles])
        SA.expect(page.locator(".qa-empty-label")).to_be_visible()
        with page.expect_response(lambda r: r.url.endswith("/ask")):
            starters.first.click()
        page.locator(DONE).first.wait_for()
        shown = page.evaluate("window.__qaAnswers")[-1]
        assert shown["answerable"], shown
        assert shown["citations"][0]["citation"]["title"] == titles[0]
        for title in titles[1:]:
            body = json.dumps({"question": f"What does {title} say?"}).encode()
            request = urllib.request.Request(base + "/ask", body, {"Content-Type": "application/json"})  # fmt: skip
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = json.load(response)
            assert answer["answerable"] and answer["citations"][0]["citation"]["title"] == title


def test_refusal_looks_different_and_offers_related_reading(server: str, open_page) -> None:
    page = open_page().page
    page.goto(server + "/")
    answered = ask(page, "Why is information sharing between the EU and NATO problematic?")
    assert answered["answerable"], answered
    refused = ask(page, "What is the population of Estonia?")
    assert refused["answerable"] is False, refused

    refusal = page.locator(".qa-msg--refusal")
    SA.expect(refusal).to_have_count(1)
    SA.expect(refusal.locator(".qa-msg-label")).to_have_text("Not answered by the documents")
    first_words = re.sub(r"\[\d+\]", "", refused["answer"])[:20]
    SA.expect(refusal.locator(".qa-msg-text")).to_contain_text(first_words)
    # It says why: the calibrated score and the threshold it fell below.
    score, threshold = apart(refused["signals"]["answer_probability"], refused["signals"]["threshold"])  # fmt: skip
    why = f"Best answer score {score}, below the threshold of {threshold}."
    SA.expect(refusal.locator(".qa-msg-why")).to_have_text(why)

    def background(locator) -> str:
        return locator.evaluate("e => getComputedStyle(e).backgroundColor")

    assert background(refusal) != background(page.locator(".qa-msg--answer"))

    related = refusal.locator(".qa-sources--related .qa-source")
    SA.expect(related).to_have_count(len(refused["citations"]))
    if refused["citations"]:
        SA.expect(refusal.locator(".qa-sources-label")).to_have_text("Related reading")
        related.first.click()
        panel = page.locator(".qa-passage")
        SA.expect(panel).to_be_visible()
        assert panel.locator(".qa-passage-text").text_content() == refused["citations"][0]["text"]


def test_a_score_just_below_the_threshold_is_shown_apart_from_it(server: str, open_page) -> None:
    """A score 0.0019 below the threshold (0.0781 against 0.08) reads "0.078, below the
    threshold of 0.080", never "0.08 ... 0.08"."""
    calibration = json.loads((ROOT / "qa" / "models" / "reader" / "reader.json").read_text())
    threshold = calibration["calibration"]["refusal"]["threshold"]
    below = round(threshold - 0.0019, 4)
    page = open_page().page
    page.goto(server + "/")

    def nearly(route) -> None:
        response = route.fetch()
        body = re.sub(r'("answer_probability":\s*)[-0-9.e]+', rf"\g<1>{below}", response.text())
        route.fulfill(response=response, body=body)

    page.route("**/ask", nearly)
    refused = ask(page, "What is the population of Estonia?")
    assert refused["signals"]["answer_probability"] == below, refused["signals"]
    assert refused["signals"]["threshold"] == threshold
    score, shown_threshold = apart(below, threshold)
    assert score == f"{below:.3f}" and score != shown_threshold
    why = f"Best answer score {score}, below the threshold of {shown_threshold}."
    SA.expect(page.locator(".qa-msg--refusal .qa-msg-why")).to_have_text(why)


def test_a_refusal_for_want_of_a_figure_says_so(server: str, open_page) -> None:
    """A "how much?" whose likeliest sentence states no figure is refused however likely that
    sentence reads, and the page says why, not that a score fell below the threshold."""
    page = open_page().page
    page.goto(server + "/")
    refused = ask(page, "What is the cost of the European Defence Industrial Strategy and Programme?")  # fmt: skip
    assert refused["answerable"] is False and refused["signals"]["reason"] == "no figure stated"
    why = "The passages that might answer state no figure, and the question asks for one."
    SA.expect(page.locator(".qa-msg--refusal .qa-msg-why")).to_have_text(why)


def test_a_near_miss_says_which_year_the_passages_state(server: str, open_page) -> None:
    """A year the brief never states is not answered with another year's passage; the page says
    so in the refusal's own words, with the passage it would have quoted cited."""
    page = open_page().page
    page.goto(server + "/")
    # The brief speaks of joint declarations of 2016, 2018 and 2023.
    refused = ask(page, "When was the 2021 joint declaration published?")
    assert refused["answerable"] is False and refused["near_miss"]["asked"] == "2021", refused
    found = refused["near_miss"]["found"]
    why = f"A near miss: the passages never state 2021; they state {found}."
    SA.expect(page.locator(".qa-msg--refusal .qa-msg-why")).to_have_text(why)
    SA.expect(page.locator(".qa-msg--refusal .qa-msg-text")).to_contain_text("say nothing of 2021")


def test_keyboard_only(server: str, open_page) -> None:
    page = open_page().page
    page.goto(server + "/")
    SA.expect(page.locator(".qa-input")).to_be_focused()

    # Shift+Enter is a new line, Enter sends.
    page.keyboard.type("When was the latest joint")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("declaration published?")
    SA.expect(page.locator(".qa-input")).to_have_value(
        "When was the latest joint\ndeclaration published?"
    )
    SA.expect(page.locator(".qa-msg")).to_have_count(0)
    with page.expect_response(lambda r: r.url.endswith("/ask")):
        page.keyboard.press("Enter")
    SA.expect(page.locator(".qa-msg--pending, .qa-msg--answer")).to_have_count(1)
    page.locator(".qa-msg--answer").wait_for()
    SA.expect(page.locator(".qa-input")).to_have_value("")

    # Back through the conversation to a citation marker, open it, close it with Escape.
    for _ in range(30):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.classList.contains('qa-cite')"):
            break
    else:
        pytest.fail("no citation button is reachable with the keyboard")
    marker = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    panel = page.locator(".qa-passage")
    SA.expect(panel).to_be_visible()
    SA.expect(panel.locator(".qa-passage-title")).to_be_focused()
    SA.expect(panel.locator(".qa-passage-title")).to_have_text(f"Source {marker}")
    page.keyboard.press("Escape")
    SA.expect(panel).to_be_hidden()
    assert page.evaluate("document.activeElement.classList.contains('qa-cite')")


def test_phone_width(server: str, open_page) -> None:
    page = open_page(375, 740).page
    page.goto(server + "/")
    page.locator(".qa-starter").first.click()
    page.locator(".qa-msg--answer, .qa-msg--refusal").last.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.locator(".qa-source").first.click()
    panel = page.locator(".qa-passage")
    SA.expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box is not None and box["x"] >= 0 and box["width"] >= 360
    panel.locator(".qa-passage-close").click()
    SA.expect(panel).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_errors_are_shown_in_the_conversation(server: str, open_page) -> None:
    page = open_page().page
    page.goto(server + "/")
    # FastAPI's default shape for a validation error: a list of pydantic errors.
    detail = [{"loc": ["body", "question"], "msg": "String should have at most 4 characters"}]
    body = json.dumps({"detail": detail})
    page.route(
        "**/ask",
        lambda route: route.fulfill(status=422, body=body, content_type="application/json"),
    )
    ask(page, "Is this too long?")
    error = page.locator(".qa-msg--error")
    SA.expect(error).to_contain_text("422")
    SA.expect(error).to_contain_text("question: String should have at most 4 characters")
    SA.expect(error).to_have_attribute("role", "alert")

    page.unroute("**/ask")
    page.route("**/ask", lambda route: route.abort("connectionrefused"))
    ask_error = page.locator(".qa-msg--error")
    page.locator(".qa-retry").last.click()
    SA.expect(ask_error.last).to_contain_text("Could not reach the assistant")

    page.unroute("**/ask")
    page.locator(".qa-retry").last.click()
    page.locator(".qa-msg--answer, .qa-msg--refusal").last.wait_for()
    SA.expect(page.locator(".qa-msg--user")).to_have_count(1)


def test_markup_in_documents_is_shown_as_text(server: str, open_page) -> None:
    page = open_page().page
    page.goto(server + "/")
    result = ask(page, "What does the Saaremaa beacon need before the autumn storms?")
    sources = [c["citation"]["source"] for c in result["citations"]]
    assert "beacon-notes.txt" in sources, result

    conversation = page.locator(".qa-chat")
    if XSS_IMG in result["answer"]:
        SA.expect(page.locator(".qa-msg-text").last).to_contain_text(XSS_IMG)
    beacon = result["citations"][sources.index("beacon-notes.txt")]
    page.locator(".qa-source").nth(sources.index("beacon-notes.txt")).click()
    quote = page.locator(".qa-passage-text")
    SA.expect(quote).to_contain_text(XSS_IMG)
    SA.expect(quote).to_contain_text(XSS_SCRIPT)
    assert quote.text_content() == beacon["text"]
    if beacon["citation"].get("title"):
        SA.expect(page.locator(".qa-passage-doc")).to_have_text(beacon["citation"]["title"])
    if beacon["citation"].get("section"):
        SA.expect(page.locator(".qa-passage-meta")).to_contain_text(beacon["citation"]["section"])

    assert conversation.locator("img, script, b, i").count() == 0
    page.wait_for_timeout(200)  # an injected <img src=x> would have fired onerror by now
    assert page.evaluate("typeof window.__xss") == "undefined"


# ---------------------------------------------------------------- the widget


def test_widget_on_an_allowed_origin(server: str, allowed_site: HostPages, open_page) -> None:
    allowed_site.widget_tag = (
        f'<script src="{server}/widget.js" data-endpoint="{server}"'
        ' data-api-key="test-key" defer></script>'
    )
    watched = open_page()
    page = watched.page
    page.goto(allowed_site.origin + "/")

    launcher = page.locator(".qa-launcher")
    SA.expect(launcher).to_be_visible()
    assert launcher.evaluate("e => getComputedStyle(e.parentElement).position") == "fixed"
    box = launcher.bounding_box()
    assert box is not None and box["x"] > 1100 / 2 and box["y"] > 800 / 2  # bottom right
    assert page.evaluate("document.querySelector('[data-qa-widget]').shadowRoot !== null")
    assert page.locator("body > .qa-chat").count() == 0  # nothing leaks out of the shadow root

    launcher.click()
    SA.expect(launcher).to_have_attribute("aria-expanded", "true")
    SA.expect(page.locator(".qa-panel")).to_be_visible()
    SA.expect(page.locator(".qa-corpus")).not_to_contain_text("Connecting")
    SA.expect(page.locator(".qa-corpus")).not_to_have_class(re.compile("qa-corpus--error"))

    with page.expect_request(lambda r: r.url == server + "/ask" and r.method == "POST") as sent:
        result = ask(page, "Why is information sharing between the EU and NATO problematic?")
    assert sent.value.headers.get("authorization") == "Bearer test-key"
    assert result["answerable"], result
    # The cards name their documents and link to them on the server, not on the host site.
    cards = page.locator(".qa-msg--answer .qa-source-doc")
    SA.expect(cards).to_have_count(len(result["citations"]))
    first = result["citations"][0]["citation"]
    SA.expect(cards.first).to_have_text(first["title"])
    link = page.locator(".qa-msg--answer .qa-source-open").first
    SA.expect(link).to_have_attribute("href", server + first["url"])
    page.locator(".qa-msg--answer .qa-cite").first.click()
    SA.expect(page.locator(".qa-passage")).to_be_visible()
    SA.expect(page.locator(".qa-passage-text mark.qa-sentence")).to_have_count(1)

    page.keyboard.press("Escape")  # closes the passage
    page.keyboard.press("Escape")  # closes the panel
    SA.expect(page.locator(".qa-panel")).to_be_hidden()
    SA.expect(launcher).to_be_focused()
    assert not watched.errors


def test_widget_on_an_origin_the_server_does_not_allow(
    server: str, other_site: HostPages, open_page
) -> None:
    # No data-endpoint: the widget falls back to the origin it was loaded from.
    other_site.widget_tag = f'<script src="{server}/widget.js" defer></script>'
    page = open_page(375, 700).page
    page.goto(other_site.origin + "/")
    page.locator(".qa-launcher").click()
    SA.expect(page.locator(".qa-corpus")).to_contain_text("Could not reach the assistant")

    page.locator(".qa-input").fill("When was the latest joint declaration published?")
    page.locator(".qa-input").press("Enter")
    error = page.locator(".qa-msg--error")
    SA.expect(error).to_contain_text("Could not reach the assistant")
    # It names the fix: the server started with this site's origin allowed.
    SA.expect(error).to_contain_text(f"start it with `qa serve --cors-origin {other_site.origin}`")
    SA.expect(page.locator(".qa-msg--answer")).to_have_count(0)
    assert page.locator(".qa-panel").bounding_box()["width"] == 375  # full screen on a phone


# ---------------------------------------------------------------- conversations and streaming


def test_a_follow_up_is_sent_with_the_conversation(server: str, open_page) -> None:
    page = open_page().page
    page.goto(server + "/")
    first = ask(page, "When was the latest joint declaration published?")
    with page.expect_request(lambda r: r.url.endswith("/ask")) as sent:
        second = ask(page, "And the one before?")
    body = sent.value.post_data_json
    assert body["stream"] is True
    short = (first["short_answer"] or {}).get("text", "")  # sent back, so "it" can mean it
    assert body["history"] == [
        {
            "question": "When was the latest joint declaration published?",
            "answer": first["answer"],
            "short_answer": short,
        }  # fmt: skip
    ]
    # the rules' reading, or the one placed by the earlier answer's short answer (2023)
    readings = {"When was the previous joint declaration published?", f"When was the joint declaration before {short} published?"}  # fmt: skip
    assert second["query_used"] in readings
    used = page.locator(".qa-msg--answer, .qa-msg--refusal").last.locator(".qa-query-used")
    SA.expect(used).to_contain_text(second["query_used"])
    # A standalone question shows no rewritten query.
    SA.expect(page.locator(".qa-query-used")).to_have_count(1)


@pytest.fixture(scope="session")
def fake_model():
    from tests.fake_llm import FakeLLM, passages_of
    from tests.test_llm import sentence_with_number

    model = FakeLLM()
    # One sentence of the first passage, cited; one invented, cited too: it must be flagged.
    model.reply = lambda request: (
        f"{sentence_with_number(passages_of(request)[0])} [1] "
        "The summit was moved to the Moon in 2031. [1]"
    )
    yield model
    model.close()


@pytest.fixture(scope="session")
def llm_server(corpus_dir: Path, index_dir: Path, fake_model, tmp_path_factory) -> Iterator[str]:
    """A real `qa serve --llm` in front of the fake model server."""
    log = tmp_path_factory.mktemp("serve-llm") / "serve.log"
    with qa_serve(corpus_dir, index_dir, log, "--llm", fake_model.url) as base:
        yield base


def test_a_streamed_llm_answer_is_rendered_checked_and_cited(llm_server: str, open_page) -> None:
    watched = open_page()
    page = watched.page
    page.goto(llm_server + "/")
    # Record whether the answer was ever on screen while it was still coming.
    page.evaluate(
        """() => { window.__sawStreaming = false;
        new MutationObserver(records => records.forEach(r => r.addedNodes.forEach(n => {
          if (n.classList && n.classList.contains('qa-msg--streaming')) window.__sawStreaming = true;
        }))).observe(document.body, {childList: true, subtree: true}); }"""
    )
    result = ask(page, "When was the latest joint declaration published?")
    assert result["mode"] == "llm", result
    assert page.evaluate("window.__sawStreaming")
    answer = page.locator(".qa-msg--answer").last
    SA.expect(answer.locator(".qa-msg-label")).to_contain_text("every sentence checked")
    SA.expect(answer.locator(".qa-msg-text")).to_have_text(
        re.sub(r"\[(\d+)\]", r"\1", result["answer"])
    )
    SA.expect(answer.locator(".qa-unsupported-text")).to_have_text(
        ["The summit was moved to the Moon in 2031."]
    )
    assert "Moon" not in answer.locator(".qa-msg-text").text_content()
    answer.locator(".qa-msg-text .qa-cite").first.click()
    panel = page.locator(".qa-passage")
    SA.expect(panel).to_be_visible()
    assert panel.locator(".qa-passage-text").text_content() == result["citations"][0]["text"]
    assert not watched.errors


# ---------------------------------------------------------------- documents opened at a citation


def test_a_citation_opens_its_document_at_the_span(server: str, open_page) -> None:
    watched = open_page(900, 600)
    page = watched.page
    found = page.request.post(
        server + "/search", data={"query": "information sharing problematic", "top_k": 5}
    ).json()
    late = max(found["results"], key=lambda r: r["citation"]["start"])  # far down the document
    response = page.goto(server + late["citation"]["url"])
    assert response is not None and response.ok
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    cited = page.locator("mark#cited")
    SA.expect(cited).to_have_text(late["text"])
    SA.expect(cited).to_be_in_viewport()
    SA.expect(cited).to_be_focused()
    SA.expect(page.locator(".qa-document-title")).to_have_text(late["citation"]["title"])
    assert page.evaluate("window.scrollY") > 0
    assert not watched.errors

    # The document holding markup is shown as text, and nothing outside the corpus is served.
    page.goto(server + "/documents/beacon-notes.txt")
    SA.expect(page.locator(".qa-document-text")).to_contain_text(XSS_IMG)
    assert page.locator(".qa-document-text img, .qa-document-text script").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    for path in ("/documents/%2e%2e/%2e%2e/etc/passwd", "/documents/..%2fpyproject.toml"):
        assert page.goto(server + path).status == 404


def test_sources_name_their_documents_mark_the_sentence_and_open_at_the_span(
    server: str, open_page
) -> None:
    watched = open_page()
    page = watched.page
    page.goto(server + "/")
    result = ask(page, "When was the latest joint declaration published?")
    assert result["answerable"] and result["short_answer"], result
    answer = page.locator(".qa-msg--answer").last
    cards = answer.locator(".qa-source")
    SA.expect(cards).to_have_count(len(result["citations"]))
    for card, passage in zip(cards.all(), result["citations"], strict=True):
        c = passage["citation"]
        assert card.locator(".qa-source-doc").text_content() == c["title"]
        assert c["title"] in card.get_attribute("aria-label")
        # The preview starts at the sentence the answer quotes, exact against the passage.
        sentence = passage["sentence"]
        at = sentence["start"] - c["start"]
        assert passage["text"][at : sentence["end"] - c["start"]] == sentence["text"]
        preview = card.locator(".qa-source-snippet").text_content().strip("…")
        assert " ".join(passage["text"][at:].split()).startswith(preview[:40])

    # The panel marks the quoted sentence, and the short answer inside it.
    first = result["citations"][0]
    cards.first.click()
    quote = page.locator(".qa-passage-text")
    assert quote.text_content() == first["text"]
    SA.expect(quote.locator("mark.qa-sentence")).to_have_text(first["sentence"]["text"])
    short = result["short_answer"]
    if short["source"] == first["citation"]["source"] and first["sentence"]["start"] <= short["start"] < first["sentence"]["end"]:  # fmt: skip
        SA.expect(quote.locator("mark.qa-sentence mark.qa-short")).to_have_text(short["text"])

    # Its link opens the document in a new tab, scrolled to the span, the span marked.
    with page.context.expect_page() as opened:
        page.locator(".qa-passage-open").click()
    document = opened.value
    document.wait_for_load_state()
    assert document.url == server + first["citation"]["url"]
    SA.expect(document.locator("mark#cited")).to_have_text(first["text"])
    SA.expect(document.locator("mark#cited")).to_be_in_viewport()
    assert not watched.errors


def test_the_question_box_is_bounded_and_counts(server: str, open_page) -> None:
    page = open_page().page
    page.goto(server + "/")
    box = page.locator(".qa-input")
    limit = int(box.get_attribute("maxlength"))
    from qa.answer.assistant import MAX_QUESTION_CHARS

    assert limit == MAX_QUESTION_CHARS
    counter = page.locator(".qa-count")
    SA.expect(counter).to_be_visible()
    SA.expect(counter).to_have_text(f"0 / {limit}")
    box.press_sequentially("Why?")
    SA.expect(counter).to_have_text(f"4 / {limit}")
    box.fill("")
    page.keyboard.insert_text("x" * (limit + 500))  # a paste: the box keeps the first `limit`
    assert len(box.input_value()) == limit
    SA.expect(counter).to_have_text(f"{limit} / {limit}")
    SA.expect(counter).to_have_class(re.compile("qa-count--full"))


# ---------------------------------------------------------------- real folders (issue 27)
# A report saved as PDF and as web page is one card naming both files, and a Markdown document
# opened from its citation reads as a document, the span marked (with a screenshot,
# docs/screenshot-document.png, checked where the span is).

REAL_PDFS = ROOT.parent / "shared" / "benchmarks" / "real-pdfs"
SUMMIT = ROOT.parent / "shared" / "benchmarks" / "real-markdown" / "2023-10-20-u-s-eu-summit-joint-statement.md"  # fmt: skip
DOCUMENT_SCREENSHOT = ROOT / "docs" / "screenshot-document.png"
QUESTION = "How many launchers are in a Typhon MRC battery?"


@pytest.fixture(scope="module")
def twice_saved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`qa serve` over IF12135 as PDF and as web page, and a White House page, in one folder."""
    corpus = tmp_path_factory.mktemp("twice-saved")
    for kind, pattern in (("pdf", "IF12135.*.pdf"), ("web-version", "IF12135v*.md")):
        (corpus / kind).mkdir()
        (found,) = (REAL_PDFS / kind).glob(pattern)
        shutil.copy(found, corpus / kind / found.name)
    shutil.copy(SUMMIT, corpus / SUMMIT.name)
    index = corpus.parent / "twice-saved-index"
    done = subprocess.run(qa_command("index", "--corpus", str(corpus), "--index", str(index)), capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with qa_serve(corpus, index, tmp_path_factory.mktemp("serve") / "serve.log") as base:
        yield base


def test_one_card_names_both_files_and_opens_each(twice_saved: str, open_page) -> None:
    watched = open_page()
    page = watched.page
    page.goto(twice_saved + "/")
    result = ask(page, QUESTION)
    assert result["answerable"], result
    (cited,) = result["citations"]
    (copy,) = cited["also_in"]
    files = {cited["citation"]["source"], copy["source"]}
    assert {Path(f).parent.name for f in files} == {"pdf", "web-version"}

    card = page.locator(".qa-msg--answer .qa-source-list li").first
    also = card.locator(".qa-source-also")
    SA.expect(also).to_have_text(f"Also in {copy['source']}")
    link = also.locator("a.qa-also-file")
    SA.expect(link).to_have_attribute("href", twice_saved + copy["url"])
    SA.expect(link).to_have_attribute("target", "_blank")
    card.locator(".qa-source").click()
    SA.expect(page.locator(".qa-passage .qa-passage-also")).to_have_text(f"Also in {copy['source']}")  # fmt: skip
    assert not watched.errors


def test_counts_are_written_as_the_command_line_writes_them(twice_saved: str, open_page) -> None:
    page = open_page().page

    def many(route) -> None:  # the real /health, as an index of 1,866 passages would answer
        response = route.fetch()
        body = re.sub(r'("passages":\s*)\d+', r"\g<1>1866", response.text(), count=1)
        route.fulfill(response=response, body=body)

    page.route("**/health", many)
    page.goto(twice_saved + "/")
    SA.expect(page.locator(".qa-corpus")).to_have_text("Answers from 3 documents · 1,866 passages")


def test_a_markdown_citation_opens_as_a_document_the_span_marked(twice_saved: str, open_page) -> None:  # fmt: skip
    from PIL import Image

    page = open_page(1000, 760).page
    page.goto(twice_saved + "/")
    result = ask(page, "What does the U.S.-EU Summit Joint Statement say about Ukraine?")
    hits = [c for c in result["citations"] if c["citation"]["source"].endswith(".md")]
    assert hits, result
    cited = hits[0]
    c = cited["citation"]
    page.goto(twice_saved + c["url"])

    text = page.locator("main")
    SA.expect(text.locator("mark#cited")).to_be_focused()
    shown = text.inner_text()
    assert not re.search(r"(?m)^\s*(#{1,6} |\|)", shown), "markup shown as text"
    assert "published_time" not in page.content()  # the front matter is no text
    assert text.locator("ol > li").count() > 5  # the statement's numbered paragraphs
    # Each mark is the kept text at the offsets it carries: the citation's own text.
    marks = text.locator("mark.qa-cited")
    assert marks.count() >= 1
    for i in range(marks.count()):
        mark = marks.nth(i)
        a, b = int(mark.get_attribute("data-start")), int(mark.get_attribute("data-end"))
        assert c["start"] <= a < b <= c["end"]
        assert mark.text_content() == cited["text"][a - c["start"] : b - c["start"]]
    # its first line's box (a span over several lines is an inline box per line)
    first = marks.first.evaluate(
        "e => { const r = e.getClientRects()[0]; return {x: r.x, y: r.y, width: r.width, height: r.height}; }"
    )
    assert 0 <= first["y"] < 760, "the span is scrolled into view"

    DOCUMENT_SCREENSHOT.parent.mkdir(exist_ok=True)
    png = page.screenshot(path=str(DOCUMENT_SCREENSHOT), animations="disabled")
    shot = Image.open(io.BytesIO(png)).convert("RGB")
    box = (int(first["x"]), int(first["y"]), int(first["x"] + first["width"]), int(first["y"] + first["height"]))  # fmt: skip
    _, (r, g, b) = max(shot.crop(box).getcolors(maxcolors=1 << 16))  # its commonest colour
    assert r > 230 and g > 200 and b < 170, f"the span is not marked in the screenshot: {(r, g, b)}"

    # The web version of a CRS report: headings and a table, laid out.
    (web,) = REAL_PDFS.glob("web-version/IF12135v*.md")
    page.goto(f"{twice_saved}/documents/web-version/{web.name}")
    SA.expect(page.locator("main h2").first).to_be_visible()
    heading = page.locator("main h2").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    para = page.locator("main p").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert heading > para
    assert page.locator("main table td").count() > 4
    assert "## " not in page.locator("main").inner_text()
