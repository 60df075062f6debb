"""The learned reader: exact spans, long passages read in windows, and a cache threads can share."""

from __future__ import annotations

import threading

import pytest

from qa.models import reading
from qa.models.reading import Reader

PASSAGE = (
    "The Treaty of Lisbon entered into force on 1 December 2009. It renamed the European "
    "Security and Defence Policy the Common Security and Defence Policy."
)


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def test_spans_are_exact_offsets_into_the_passage(reader):
    (r,) = reader.read("When did the Treaty of Lisbon enter into force?", [PASSAGE])
    a, b = r.span
    assert 0 <= a < b <= len(PASSAGE)
    assert "2009" in PASSAGE[a:b]
    assert 0.0 <= r.probability <= 1.0


def test_an_answer_late_in_a_long_passage_is_found_in_a_later_window(reader):
    filler = " ".join(
        f"Delegates from region {i} discussed the agenda at length." for i in range(60)
    )
    text = f"{filler} The summit communique was signed by forty-two ministers in Vilnius."
    assert len(text.split()) > 2 * reader.max_length  # several windows
    (r,) = reader.read("Where was the summit communique signed?", [text])
    assert text[r.span[0] : r.span[1]].strip(" .") == "Vilnius"


def test_a_passage_that_answers_outscores_one_that_does_not(reader):
    other = "Information sharing is problematic because of the conflict between Türkiye and Cyprus."
    q = "What was the European Security and Defence Policy renamed?"
    answers, unrelated = reader.read(q, [PASSAGE, other])
    assert answers.probability > unrelated.probability
    assert reader.support(
        "The Common Security and Defence Policy replaced the ESDP.", PASSAGE
    ) > reader.support("The Common Security and Defence Policy replaced the ESDP.", other)


def test_the_cache_is_safe_under_concurrent_readers_that_evict(reader, monkeypatch):
    """Many threads reading while a tiny cache evicts entries: no errors, the same readings."""
    monkeypatch.setattr(reading, "CACHE_SIZE", 3)
    texts = [
        PASSAGE,
        f"{PASSAGE} More.",
        "Cyprus is not a NATO member.",
        "Türkiye is not an EU member.",
    ]
    questions = [f"Question {i} about the treaty?" for i in range(6)]
    expected = {q: Reader().read(q, texts) for q in questions}
    errors: list[BaseException] = []

    def work(q: str) -> None:
        try:
            for _ in range(3):
                got = reader.read(q, texts)
                assert [r.span for r in got] == [r.span for r in expected[q]]
                assert [r.answer_logit for r in got] == pytest.approx(
                    [r.answer_logit for r in expected[q]], abs=1e-3
                )
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(q,)) for q in questions * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(reader._cache) <= 3


def test_each_assistant_has_its_own_reader(settings, embedder, assistant):
    from qa.answer.assistant import Assistant

    other = Assistant(settings, embedder)
    assert other.reader is not assistant.reader


def test_weights_stored_as_float16_are_restored_and_read_as_the_float_model_reads(tmp_path):
    """training/export.py --weights float16 stores every float weight as float16 (half the file);
    the reader restores them to float32 at load, so it reads exactly as the model it was made
    from (here: the shipped model with its float weights rounded to float16's precision)."""
    import json
    import shutil

    import onnx

    meta = json.loads((reading.MODEL_DIR / "reader.json").read_text(encoding="utf-8"))
    model = onnx.load(str(reading.MODEL_DIR / "model.onnx"))
    assert reading.halve(model) > 10
    halved = model.SerializeToString()
    reference = onnx.load_from_string(reading.model_source_of(onnx.load_from_string(halved)))
    folders = {}
    for name, stored in (("restored", onnx.load_from_string(halved)), ("reference", reference)):
        folder = tmp_path / name
        folder.mkdir()
        onnx.save(stored, str(folder / "model.onnx"))
        shutil.copy(reading.MODEL_DIR / "tokenizer.json", folder / "tokenizer.json")
        note = {"stored": "float16"} if name == "restored" else {}
        (folder / "reader.json").write_text(json.dumps(meta | note), encoding="utf-8")
        folders[name] = folder
    question = "When did the Treaty of Lisbon enter into force?"
    (half,) = Reader(folders["restored"]).read(question, [PASSAGE])
    (full,) = Reader(folders["reference"]).read(question, [PASSAGE])
    assert half.span == full.span and half.answer_logit == full.answer_logit
    assert (folders["restored"] / "model.onnx").stat().st_size < (folders["reference"] / "model.onnx").stat().st_size  # fmt: skip
    # Without the note in reader.json the float16 weights are not restored, and do not load.
    (folders["restored"] / "reader.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(Exception, match="does not load"):
        Reader(folders["restored"])


def test_embedding_tables_stored_as_float16_look_up_exactly_what_float16_rounding_gives(tmp_path):
    """training/export.py --weights int8-emb16 halves the lookup tables inside the graph: each
    lookup is cast back to float32, so the model loads from its file with nothing restored and
    every lookup equals the float table rounded to float16; a table looked up twice is halved
    once, and a product's weights are left alone."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    table = rng.normal(size=(50, 8)).astype(np.float32)
    weight = rng.normal(size=(8, 3)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["table", "ids"], ["a"]),
            helper.make_node("Gather", ["table", "ids"], ["b"]),
            helper.make_node("Add", ["a", "b"], ["sum"]),
            helper.make_node("MatMul", ["sum", "weight"], ["out"]),
        ],
        "lookup",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [None])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, 3])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(weight, "weight")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    full = model.SerializeToString()
    assert reading.halve_embeddings(model) == 1
    onnx.checker.check_model(model)
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))
    assert path.stat().st_size < len(full)
    stored = {t.name: t.data_type for t in model.graph.initializer}
    assert stored == {"table": TensorProto.FLOAT16, "weight": TensorProto.FLOAT}
    ids = np.array([3, 7, 49], dtype=np.int64)
    (out,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"ids": ids})  # fmt: skip
    rounded = table.astype(np.float16).astype(np.float32)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, (rounded[ids] + rounded[ids]) @ weight)
    (before,) = ort.InferenceSession(full, providers=["CPUExecutionProvider"]).run(None, {"ids": ids})  # fmt: skip
    assert not np.array_equal(out, before)  # the rounding is real, and small
    np.testing.assert_allclose(out, before, atol=1e-2)


def test_a_title_read_first_is_context_never_a_span(reader):
    """The Typhon report's passage names its battery only as the MRC's: read after the
    document's title, the reader takes the title as context, and its span stays in the text."""
    text = (
        "According to the Army, the MRC battery is planned to consist of four launchers and a "
        "battery operations center. The numbers of soldiers assigned to each battery is not known."
    )
    title = "The U.S. Army's Typhon Mid-Range Capability (MRC) System"
    question = "How many launchers does a Typhon battery have?"
    (plain,) = reader.read(question, [text])
    (titled,) = reader.read(question, [text], [title])
    assert titled.answer_logit != plain.answer_logit  # the title was read
    a, b = titled.span
    assert 0 <= a < b <= len(text) and "four" in text[a:b]
    assert all(0 <= x < y <= len(text) for x, y, _ in titled.candidates)
    # a title that names the question's answer still gives no span outside the text
    (named,) = reader.read("What is the capability called?", [text], [title])
    assert 0 <= named.span[0] < named.span[1] <= len(text)
    # no title, or an empty one, is the plain reading (and its cache entry)
    assert reader.read(question, [text], [""])[0] == plain


def test_reranking_gives_titles_only_to_a_reader_trained_with_them(reader, monkeypatch):
    from qa.ingest.passages import Passage
    from qa.search.hybrid import Hit
    from qa.search.reranking import rerank

    text, title = PASSAGE, "EU Defence: A Primer"
    question = "When did the Treaty of Lisbon enter into force?"
    passage = Passage("d.md#1.1", "d.md", 0, len(text), text, "Intro", 1, (), title, None)
    hit = Hit(passage, 0.5, 1, 0.5, 0.5)
    for share, titles in ((0.0, None), (0.5, [title])):
        monkeypatch.setitem(reader.meta, "training", reader.meta["training"] | {"titles": share})
        (read,) = rerank(question, [hit], reader, weight=1.0)
        assert read.reading == reader.read(question, [text], titles)[0]
    assert reader.read(question, [text])[0] != reader.read(question, [text], [title])[0]
