"""Factsheets as PDF (WeasyPrint renders the same HTML as the page) and as a ZIP of PDFs for a region or SWV."""

from __future__ import annotations

import io
import zipfile
from typing import Callable, Iterable


def html_to_pdf(html: str, base_url: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf()


def zip_of_pdfs(items: Iterable[tuple[str, str]], render_html: Callable[[str], str], base_url: str) -> bytes:
    """``items``: (vestigingscode, file stem) pairs; ``render_html(code)`` gives the factsheet HTML."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for code, stem in items:
            info = zipfile.ZipInfo(f"{stem}.pdf", date_time=(2000, 1, 1, 0, 0, 0))  # stable archive bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, html_to_pdf(render_html(code), base_url))
    return buf.getvalue()
