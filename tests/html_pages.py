"""Reading the web view's pages in tests as a person reads them: the text of tables, and data attributes."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self, selector: str) -> None:
        super().__init__()
        self.selector = selector
        self.depth = 0  # > 0 inside the wanted table
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.elements: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if self.depth:
            self.depth += tag == "table"
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.cell = []
            elif tag == "br" and self.cell is not None:
                self.cell.append(" ")
        elif tag == "table" and (f"#{found.get('id')}" == self.selector or
                                 f".{found.get('class')}" == self.selector):  # fmt: skip
            self.depth = 1
        if tag.lower() in ("circle", "line", "text", "tr") and any(k.startswith("data-") for k in found):
            self.elements.append({"tag": tag, **found})

    def handle_endtag(self, tag: str) -> None:
        if not self.depth:
            return
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(html: str, selector: str) -> list[list[str]]:
    """The text of each cell of each row of the table ``#id`` or ``.class``, header and footer rows included."""
    parser = _Tables(selector)
    parser.feed(html)
    return parser.rows


def data_elements(html: str, tag: str, css_class: str | None = None) -> list[dict[str, str | None]]:
    """The attributes of every ``tag`` (circle, line, text, tr) carrying data- attributes, of ``css_class`` if given."""
    parser = _Tables("")
    parser.feed(html)
    return [
        element
        for element in parser.elements
        if element["tag"] == tag and (css_class is None or css_class in (element.get("class") or "").split())
    ]
