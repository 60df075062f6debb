"""What a PDF may expand to: a decompression bomb is refused before PDFium reads the file."""

from __future__ import annotations

import io
import logging
from contextlib import contextmanager

from qa.errors import BadDocument

# What a PDF may expand to. Its content streams are decompressed (by pypdf, which stops at a
# limit) before PDFium reads the file, so a decompression bomb (a few KB that inflate to GB) is
# refused after at most this much work, never expanded.
PDF_STREAM_MAX_BYTES = 32 * 2**20  # any one decompressed stream
PDF_CONTENT_MIN_BUDGET = 32 * 2**20  # all pages' content together: at least this much...
PDF_CONTENT_RATIO = 20  # ...or this many times the file's size (text content compresses ~3-10x)
_PYPDF_LIMITS = (
    "zlib_maximum_output_length", "lzw_maximum_output_length", "run_length_maximum_output_length",
    "brotli_maximum_output_length", "jbig2_maximum_output_length", "image_maximum_buffer_size",
    "array_based_stream_maximum_output_length", "maximum_declared_stream_length",
)  # fmt: skip


def check_expansion(data: bytes) -> None:
    """Decompress every page's content with pypdf (which stops at its limits) and refuse the file
    if a stream, or all of them together, is out of proportion to the file."""
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError, PdfReadError

    budget = max(PDF_CONTENT_MIN_BUDGET, PDF_CONTENT_RATIO * len(data))
    total = 0
    try:
        # pypdf logs what it repairs ("EOF marker not found"): the build says it once, plainly.
        with (
            _quiet("pypdf"),
            apply_configuration(**dict.fromkeys(_PYPDF_LIMITS, PDF_STREAM_MAX_BYTES)),
        ):
            reader = PdfReader(io.BytesIO(data))
            for page in reader.pages:
                for stream in _content_streams(page):
                    total += len(stream.get_data())
                    if total > budget:
                        raise BadDocument(
                            f"refused: its pages expand to over {budget // 2**20} MB of content "
                            "(a decompression bomb?)"
                        )
    except LimitReachedError as exc:
        raise BadDocument(
            f"refused: a stream expands beyond {PDF_STREAM_MAX_BYTES // 2**20} MB "
            "(a decompression bomb?)"
        ) from exc
    except BadDocument:
        raise
    except (PdfReadError, Exception) as exc:  # damaged, encrypted: pypdf can fail anywhere
        if "encrypt" in str(exc).lower() or "password" in str(exc).lower():
            raise BadDocument("encrypted PDF: save an unprotected copy and index that") from exc
        # PDFium reads some files pypdf cannot; it decides whether this one is readable.


@contextmanager
def _quiet(name: str):
    """The library logger `name` silenced for the duration."""
    logger = logging.getLogger(name)
    before = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(before)


def _content_streams(page):
    """A page's content streams and the form XObjects it draws."""
    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else None
    if contents is not None:
        yield from (c.get_object() for c in contents) if isinstance(contents, list) else [contents]
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    for ref in xobjects.get_object().values() if xobjects is not None else []:
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Form":
            yield xobject
