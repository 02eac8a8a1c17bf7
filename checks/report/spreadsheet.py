"""Text of files that went through a spreadsheet: BOM, UTF-16 or Windows code page, ',' ';' or tab separators."""

from __future__ import annotations

import csv
import io


def decode_upload(data: bytes | str) -> str:
    """Bytes as saved by Excel/LibreOffice ('Unicode text', 'CSV UTF-8', 'CSV (Windows)') -> text without BOM."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        return data.decode(encoding).lstrip("\ufeff")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_records(text: str) -> list[list[str]]:
    """All rows, with the separator the header line uses; raises csv.Error on unreadable CSV."""
    first_line = text.split("\n", 1)[0]
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line), strict=False))
