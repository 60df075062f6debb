"""PDF: a document's text in reading order, as paragraphs, without its page furniture.

Text comes from PDFium (pypdfium2, BSD-3/Apache-2.0), in the order the page draws it, which for
columns is one column after the other. On seven CRS reports (one- and two-column), sentences kept
in order: pypdfium2 0.969, pypdf's plain mode 0.970, pdfminer.six 0.968, pypdf's layout mode (what
qa used before) 0.754; pypdfium2 reads them about 20 times faster than the pure-Python readers,
and gives every character's box, size and weight, which the rest of this package reads; with it,
qa keeps 0.995 (benchmarks/documents.py). PyMuPDF measures like pypdf but is AGPL.

From the characters' geometry, and never from lists of strings, one module to a step:

reader.py      `pdf_text`: the pages read and composed into one text, with where each page starts,
               the title, the date and warnings (a scan, text lost); a paragraph that does not end
               a sentence carries on onto the next page
expansion.py   a decompression bomb (a few KB that inflate to GB) refused before PDFium reads it
lines.py       PDFium's characters as lines with their boxes, type size and weight; footnote
               markers (superscript numbers) become `[n]`
furniture.py   page furniture (running headers and footers, page numbers, repeated report numbers,
               URLs and banners): a line near the top or bottom of a page that recurs at the same
               height, give or take, on other pages, or a short line set apart in a margin in
               smaller type
order.py       reading order: a page drawn row by row across two columns is put back in column
               order
footnotes.py   the footnotes at the foot of each page (a run of type smaller than the body's, from
               its first number on, even past the page's middle when that number is the next
               one), moved to a `Notes` section at the end, so a sentence broken by them reads
               whole; the body's size is the one most of the pages' upper halves are set in, since
               a report's notes can outweigh its body
paragraphs.py  paragraphs end at a vertical gap wider than the line spacing, a change of style or a
               bullet, and carry on into the next column; headings are short lines set larger or
               bolder than the body; a word hyphenated at a line end is joined when the document
               spells it whole elsewhere, or when the document breaks words at line ends at all
               and its halves are lower case and not both words of their own; it keeps its hyphen
               otherwise ("second-largest", "AI-enabled")
metadata.py    the title (the file's own when meaningful, else the first page's largest type) and
               the date (the first page's first line that is a date, "Updated April 10, 2026", else
               one stated in the file's keywords or subject)
"""

from __future__ import annotations

from qa.ingest.pdf.expansion import PDF_STREAM_MAX_BYTES
from qa.ingest.pdf.reader import PdfText, pdf_text

__all__ = ["PDF_STREAM_MAX_BYTES", "PdfText", "pdf_text"]
