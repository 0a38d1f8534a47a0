"""Text helpers for listening: HTML to text, passages of a page, and the keys that tell one post from another."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
import urllib.parse
from html.parser import HTMLParser

SKIPPED = {"script", "style", "noscript", "template", "svg", "head"}
BLOCKS = {"p", "div", "li", "article", "section", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "td", "br", "tr"}
TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|igshid|ref|ref_src|s|si)$", re.IGNORECASE)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED:
            self.skipping += 1
        elif tag in BLOCKS:
            self._end_block()

    def handle_endtag(self, tag):
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCKS:
            self._end_block()

    def handle_data(self, data):
        if not self.skipping:
            self.current.append(data)

    def _end_block(self):
        text = " ".join("".join(self.current).split())
        if text:
            self.blocks.append(text)
        self.current = []


def html_blocks(markup: str) -> list[str]:
    """The visible text of an HTML page as passages (paragraphs, list items, headings), scripts and styles left out."""
    parser = _Text()
    parser.feed(markup or "")
    parser.close()
    parser._end_block()
    return parser.blocks


def html_to_text(markup: str) -> str:
    if "<" not in (markup or ""):
        return " ".join(html.unescape(markup or "").split())
    return " ".join(html_blocks(markup))


def normalise_url(url: str) -> str:
    """One form for one address: lower-case host without www, no fragment, no tracking parameters, no end slash."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        return url.strip()
    if not parts.hostname:
        return url.strip()
    host = parts.hostname.lower().removeprefix("www.").removeprefix("m.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = sorted(
        (k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k)
    )
    path = parts.path.rstrip("/") or ""
    return urllib.parse.urlunsplit(("https", host, path, urllib.parse.urlencode(query), ""))


def normalise_text(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    folded = re.sub(r"https?://\S+", "", folded)
    return " ".join(re.findall(r"\w+", folded))


def text_hash(text: str) -> str:
    """The same words (case, spacing, punctuation and links aside) give the same hash: a cross-post is one mention."""
    return hashlib.sha256(normalise_text(text).encode()).hexdigest()
