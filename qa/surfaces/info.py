"""`qa info` as a person reads it: what the index holds, whether it is stale, what is damaged."""

from __future__ import annotations

from pathlib import Path

from qa.index.pipeline import counted
from qa.surfaces.access import printable


def damaged(report: dict) -> bool:
    """Whether anything `qa info` found is damaged (its exit status is then 1)."""
    return report["status"] in ("corrupt", "encoder damaged") or bool(report.get("model_damage"))


def print_report(report: dict) -> None:
    print(printable(f"index:   {report['index']} ({report['status']})"))
    built = report.get("built_from")
    own = built is not None and Path(built) == Path(report["corpus"]).resolve()
    print(printable(f"corpus:  {report['corpus']}" + (" (the folder the index was built from)" if own else "")))  # fmt: skip
    if built is not None and not own:
        print(printable(f"built from: {built}"))
    if report.get("model_damage"):
        print(f"warning: {report['model_damage']}")
    if report["status"] == "corrupt":
        print("the index files are damaged: run `qa index --rebuild`")
        return
    print(f"model:   {report['model']} ({report['dimension']}-d)")
    if report.get("encoder"):
        print(f"warning: {report['encoder']}")
    print(f"built:   {report['built_at']}, passages of at most {report['max_words']} words")
    dense = report["dense"]
    if dense["kind"] == "hnsw":
        print(f"search:  approximate (HNSW, efSearch {dense['ef_search']}, recall@10 {dense['recall_at_10']} against exact)")  # fmt: skip
    elif dense["kind"] == "pgvector":
        print(f"search:  PostgreSQL: pgvector HNSW (m {dense['m']}, ef_search {dense['ef_search']}) and full text")  # fmt: skip
    else:
        print("search:  exact")
    print(f"{counted(report['passages'], 'passage')} from {counted(len(report['documents']), 'document')}:")  # fmt: skip
    for doc in report["documents"]:
        kept = doc.get("kept") or {}
        words = f", {counted(kept['words'], 'word')}" if "words" in kept else ""
        share = kept.get("share_of_file")
        words += f" ({share:.0%} of the file's text)" if share is not None else ""
        line = f"  {doc['source']}: {counted(doc['passages'], 'passage')}{words} — {doc['title'] or '(untitled)'} ({doc['date'] or 'no date'})"  # fmt: skip
        print(printable(line))
        if doc.get("warning"):
            print(printable(f"    warning: {doc['warning']}"))
    if report["status"] == "stale":
        print("the corpus or model changed since the build: run `qa index`")
