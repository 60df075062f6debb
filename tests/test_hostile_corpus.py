"""Folders nobody checked: bad encodings, binaries, bombs, links out of the folder. Each bad file
costs only itself, with a message naming it; nothing outside the corpus is ever read."""

from __future__ import annotations

import codecs
import os
import zlib

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from qa.errors import BadDocument
from qa.index import CURRENT, Index, build
from qa.ingest.corpus import scan
from qa.ingest.documents import parse
from qa.ingest.extract import decode, extract
from qa.ingest.passages import cut
from qa.ingest.pdf import PDF_STREAM_MAX_BYTES
from qa.surfaces.cli import app

GOOD = "# Rail gauges\n\nSpain and Portugal lay their railways to the Iberian gauge of 1668 mm.\n"
SECRET = "TOPSECRET the launch codes are 0000."


def pdf(streams: list[bytes]) -> bytes:
    """A minimal PDF with one page per (Flate-compressed) content stream."""
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(streams)))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {len(streams)} >>".encode()]  # fmt: skip
    for i, stream in enumerate(streams):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R >>".encode())  # fmt: skip
        objects.append(f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream")  # fmt: skip
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def bomb(megabytes: int) -> bytes:
    text = b"BT /F1 12 Tf 72 720 Td (boom) Tj ET\n"
    return zlib.compress(text + b" " * (megabytes * 2**20), 9)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, embedder):
    """A folder of every kind of trouble, built once; returns (corpus, index, messages)."""
    base = tmp_path_factory.mktemp("hostile")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    corpus = base / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "good.md").write_text(GOOD)
    (corpus / "sub" / "alias.md").symlink_to("../good.md")  # inside the folder: followed
    (corpus / "latin1.txt").write_bytes("# Café\n\nThe café served crème brûlée in Zürich.\n".encode("cp1252"))  # fmt: skip
    (corpus / "mixed.txt").write_bytes(
        "# Naïve\n\nMostly UTF-8, one stray byte: ".encode() + b"\xff.\n"
    )
    (corpus / "utf16.txt").write_bytes(codecs.BOM_UTF16_LE + "# Ölfeld\n\nDrilling in the North Sea.\n".encode("utf-16-le"))  # fmt: skip
    (corpus / "image.txt").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    )
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "big.txt").write_text(
        "Too big to read. " * 20000
    )  # 0.32 MB, over the 0.2 MB set below
    (corpus / "deep.html").write_text("<div>" * 8000 + "deep" + "</div>" * 8000)
    (corpus / "bomb.pdf").write_bytes(pdf([bomb(2 * PDF_STREAM_MAX_BYTES // 2**20)]))
    (corpus / "bombs.pdf").write_bytes(pdf([bomb(PDF_STREAM_MAX_BYTES // 2**20 - 2)] * 3))
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R")
    (corpus / "leak.txt").symlink_to(outside / "secret.txt")  # leaves the folder: not followed
    (corpus / "relative-leak.md").symlink_to("../outside/secret.txt")
    (corpus / "outside-folder").symlink_to(outside, target_is_directory=True)
    (corpus / "loop.txt").symlink_to("loop.txt")
    os.mkfifo(corpus / "pipe.txt")  # reading it would hang the build
    (corpus / ".hidden.md").write_text(SECRET)
    messages: list[str] = []
    root = base / "index"
    build(corpus, root, embedder, progress=messages.append, max_file_mb=0.2)
    return corpus, root, messages


def said(messages: list[str], start: str) -> str:
    found = [m for m in messages if m.startswith(start)]
    assert len(found) == 1, (start, messages)
    return found[0]


def test_hostile_files_are_skipped_with_a_message_naming_each(hostile):
    _, _, messages = hostile
    assert said(messages, "skipping image.txt: ") == "skipping image.txt: a binary file, not text"
    assert said(messages, "skipping empty.md: ") == "skipping empty.md: empty"
    assert said(messages, "skipping big.txt: ") == (
        "skipping big.txt: 0.324 MB, over the 0.2 MB limit (--max-file-mb, QA_MAX_FILE_MB)"
    )
    assert (
        said(messages, "skipping deep.html: ")
        == "skipping deep.html: HTML nested too deeply to read"
    )
    assert "decompression bomb" in said(messages, "skipping bomb.pdf: refused: a stream expands")
    assert "decompression bomb" in said(messages, "skipping bombs.pdf: refused: its pages expand")
    assert said(messages, "skipping broken.pdf: ").startswith(
        "skipping broken.pdf: not a readable PDF"
    )
    for link in ("leak.txt", "relative-leak.md"):
        assert said(messages, f"skipping {link}: ").endswith("a link to outside the corpus folder (not followed)")  # fmt: skip
    assert said(messages, "skipping outside-folder/: ").endswith(
        "a link to a folder outside the corpus"
    )
    assert "cannot be read" in said(messages, "skipping loop.txt: ")
    assert said(messages, "skipping pipe.txt: ") == "skipping pipe.txt: not a regular file"
    assert all("\n" not in m for m in messages)


def test_undecodable_bytes_are_read_by_a_stated_fallback_with_a_warning(hostile):
    corpus, root, messages = hostile
    assert said(messages, "warning: latin1.txt: ") == "warning: latin1.txt: not UTF-8 (byte 5): read as Windows-1252"  # fmt: skip
    assert said(messages, "warning: mixed.txt: ").endswith("undecodable bytes replaced with U+FFFD")
    clean = [m for m in messages if "utf16.txt" in m or "good.md" in m]
    assert clean == ["good.md: kept 16 words", "utf16.txt: kept 7 words"]  # and no warning
    documents = Index.load(root, corpus).documents
    assert "crème brûlée in Zürich" in documents["latin1.txt"]["text"]
    assert documents["mixed.txt"]["text"].endswith("one stray byte: \ufffd.\n")
    assert documents["utf16.txt"]["title"] == "Ölfeld"


def test_the_rest_is_indexed_and_nothing_from_outside(hostile):
    corpus, root, _ = hostile
    index = Index.load(root, corpus)  # fresh: the skipped files do not make it stale
    sources = {p.source for p in index.passages}
    assert sources == {"good.md", "sub/alias.md", "latin1.txt", "mixed.txt", "utf16.txt"}
    for p in index.passages:
        assert index.documents[p.source]["text"][p.start : p.end] == p.text
    for path in (root / CURRENT).resolve().rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl"):
            assert "TOPSECRET" not in path.read_text(encoding="utf-8"), path
    assert not any("secret" in name or "outside" in name for name in index.manifest["files"])


def test_a_file_that_breaks_the_parser_costs_only_that_file(tmp_path, embedder, monkeypatch):
    import qa.index.pipeline

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "fine.md").write_text(GOOD)
    (tmp_path / "c" / "cursed.md").write_text("# Cursed\n\nThis one breaks the parser.\n")
    real_parse = qa.index.pipeline.parse

    def fragile(source, text, *args, **kwargs):
        if source == "cursed.md" and text:
            raise IndexError("a parser bug")
        return real_parse(source, text, *args, **kwargs)

    monkeypatch.setattr(qa.index.pipeline, "parse", fragile)
    messages: list[str] = []
    build(tmp_path / "c", tmp_path / "i", embedder, progress=messages.append)
    assert "skipping cursed.md: could not be parsed (IndexError): check that it opens, or remove it" in messages  # fmt: skip
    assert {p.source for p in Index.load(tmp_path / "i").passages} == {"fine.md"}


@pytest.mark.parametrize(
    ("files", "error"),
    [
        (
            {},
            "error: no documents in {c}: add .txt, .md, .markdown, .html, .htm, .pdf or .docx files, then run `qa index`\n",
        ),
        (
            {"empty.md": b"", "big.txt": b"x" * 2_000_000},
            "error: nothing to index in {c}: every file was skipped (see above)\n",
        ),  # fmt: skip
        ({"image.txt": b"\x00\x01binary"}, "error: the documents in {c} hold no text to index\n"),
    ],
    ids=["empty", "all-skipped", "no-text"],
)
def test_an_empty_or_all_skipped_corpus_is_exit_1_with_one_line(tmp_path, files, error):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name, data in files.items():
        (corpus / name).write_bytes(data)
    result = CliRunner().invoke(
        app,
        ["index", "--corpus", str(corpus), "--index", str(tmp_path / "i"), "--max-file-mb", "1"],
    )
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [error.format(c=corpus).rstrip("\n")]
    assert result.stderr.endswith(error.format(c=corpus))
    assert "Traceback" not in result.output
    assert not (tmp_path / "i" / CURRENT).exists()


def test_the_size_limit_comes_from_the_environment_too(tmp_path, monkeypatch):
    from qa.settings import Settings

    monkeypatch.setenv("QA_MAX_FILE_MB", "0.5")
    assert Settings().max_file_mb == 0.5
    monkeypatch.setenv("QA_MAX_FILE_MB", "nonsense")
    assert Settings().max_file_mb == 50.0
    (tmp_path / "a.txt").write_bytes(b"a" * 600_000)
    assert scan(tmp_path, int(0.5 * 2**20)).files == []
    assert scan(tmp_path).files == [tmp_path / "a.txt"]  # 50 MB by default


def test_a_corpus_folder_that_is_itself_a_link_is_read(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.md").write_text(GOOD)
    (tmp_path / "corpus").symlink_to(real, target_is_directory=True)
    assert [p.name for p in scan(tmp_path / "corpus").files] == ["a.md"]


# Properties: any bytes decode, any text parses, every passage is an exact span. ------------------

quick = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # UTF-32's start with these


@quick
@given(st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(str.encode)))
def test_any_bytes_decode_to_text_and_any_fallback_is_stated(data):
    warnings: list[str] = []
    text = decode(data, warnings.append)
    text.encode("utf-8")  # no lone surrogates: the index keeps it as UTF-8
    assert len(warnings) <= 1 and all("\n" not in w for w in warnings)
    if not data.startswith(BOMS):
        try:
            expected = data.decode("utf-8")
        except UnicodeDecodeError:
            assert warnings  # never a silent guess
        else:
            assert (text, warnings) == (expected, [])


@quick
@given(st.text(max_size=500), st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_text_in_utf8_or_with_a_byte_order_mark_reads_back_unchanged(text, codec):
    assume(not text.startswith("\ufeff"))  # a leading BOM character is read as a mark
    assume(not (codec == "utf-16" and text.startswith("\x00")))  # FF FE 00 00 marks UTF-32
    warnings: list[str] = []
    assert decode(text.encode(codec), warnings.append) == text
    assert not warnings


@quick
@given(st.binary(max_size=3000), st.sampled_from([".txt", ".md", ".html", ".pdf", ".docx"]))
def test_any_file_either_reads_or_is_refused_cleanly(tmp_path_factory, data, suffix):
    path = tmp_path_factory.getbasetemp() / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        extracted = extract(path)
    except BadDocument as exc:
        assert "\n" not in str(exc)
        return
    document = parse(f"fuzz{suffix}", extracted.text, extracted.pages, extracted.page_numbers)
    passages = cut(document, 40)
    for p in passages:
        assert extracted.text[p.start : p.end] == p.text and p.text.strip()
    assert [p.start for p in passages] == sorted(p.start for p in passages)
