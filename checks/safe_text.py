"""Outside text made inert: control and bidi characters as visible escapes, Markdown with nothing live in it.

Outside text is anything this program did not write itself: server replies, certificate names, DNS text,
uploaded or pasted files, token claims, exception messages. Three functions, one job each:

- ``visible(text)``: for every output (CSV, JSON, terminal, screen, Markdown). Control characters (C0 except
  newline and tab, DEL, C1) become ``\\xNN``; bidi controls, zero-width and other invisible format characters
  become ``\\uNNNN``. Idempotent: its output passes through unchanged.
- ``markdown(text)``: for ``st.markdown``/``st.info``/labels and the Markdown export. ``visible`` first, then
  every ASCII punctuation character backslash-escaped (no link, image, HTML, emphasis, heading, list, table,
  ``:red[...]`` directive or ``$math$`` can start), and an invisible word joiner (U+2060) where an address would
  be turned into a link (before ``://``, after ``www`` and before the ``@`` of a mail address). Line breaks
  become Markdown hard breaks.
- ``plain(markdown_text)``: what a reader sees of text made by ``markdown`` (escapes resolved, word joiners
  dropped); for tests and anything that compares shown text.
- ``one_line(text, limit)``: ``visible`` on one line (line breaks as spaces), cut to ``limit`` characters with
  "…"; for status lines and table cells. Combine as ``markdown(one_line(text, 200))``.

Text shown in ``st.text``, ``st.code`` or ``st.dataframe`` is never parsed as Markdown: ``visible`` suffices.
"""

from __future__ import annotations

import re
import string
from typing import Any

WORD_JOINER = "\u2060"
# C0 but LF/TAB, DEL, C1; line/paragraph separators; every Unicode format character (category Cf: bidi controls,
# zero-width characters, the BOM, tag characters).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u00ad\u0600-\u0605\u061c\u06dd\u070f"
                     "\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
                     "\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
                     "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")
_PUNCTUATION = frozenset(string.punctuation)
# Where a renderer would start a link of its own (GFM autolinks "www.", "scheme://" and "name@host"): a word
# joiner there stops it; escapes alone do not, as the autolinking runs on the text after escapes are resolved.
_LINK_STARTS = re.compile(r"(?=://)|(?i:(?<=\bwww)(?=\.))|(?<=[\w.+-])(?=@[\w-])")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: Any) -> str:
    """`text` with control, bidi and invisible format characters written as \\xNN / \\uNNNN (CRLF -> LF)."""
    return _UNSAFE.sub(_escape, str(text).replace("\r\n", "\n"))


def markdown(text: Any) -> str:
    """`text` as inert Markdown: shows exactly its characters, with nothing a renderer would act on."""
    joined = _LINK_STARTS.sub(WORD_JOINER, visible(text))
    return "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in joined).replace("\n", "  \n")


def one_line(text: Any, limit: int = 300) -> str:
    """`text` on one visible line, cut to `limit` characters with an ellipsis."""
    line = " ".join(visible(text).split("\n"))
    return line if len(line) <= limit else line[: max(0, limit - 1)] + "…"


def plain(markdown_text: str) -> str:
    """What a Markdown renderer shows for `markdown_text` made by `markdown`: escapes resolved, joiners dropped."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown_text.replace(WORD_JOINER, "")).replace("  \n", "\n")
