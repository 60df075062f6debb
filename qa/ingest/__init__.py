"""Ingest: files on disk -> structured documents -> exact passages.

corpus.py     which files of the folder are documents (safely: nothing outside it is read)
extract.py    each format's text (pdf/, html.py, markdown.py, docx.py), with pages
html.py       a web page's main text, without its navigation (lines and lists of links)
markdown.py   Markdown's front matter, and its text rendered as HTML is, broken emphasis repaired
documents.py  title, date, sections, paragraphs and endnotes of a document's text
passages.py   sentence-aware passages, each an exact span of the text, with its citation

May import: qa.errors, qa.settings. Nothing of a later stage.
"""
