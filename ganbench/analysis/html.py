"""The report page's building blocks: its style sheet, embedded images, tables that never
widen the page, and folded sections."""
from __future__ import annotations

import base64
import html

#: the page is at most 1400 px wide and nothing in it is wider than the page: images
#: shrink, table cells wrap, and a table that still does not fit scrolls inside its box
STYLE = """*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:1em auto;padding:0 1em;max-width:1400px;
  font-size:14px;color:#222}
h1{font-size:20px;margin:0.2em 0}h2{font-size:17px;margin:1.2em 0 0.4em;
  border-bottom:1px solid #ddd}h3{font-size:15px;margin:1em 0 0.3em}
p{margin:0.3em 0 0.6em}
.box{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:0.3em 0 1em;font-size:12px;max-width:100%}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right;overflow-wrap:anywhere}
th{background:#f4f4f4}
td.l,th.l{text-align:left}
td.ev{text-align:left;font-size:11px;color:#333;min-width:20em}
img{max-width:100%;height:auto;border:1px solid #eee}
.top{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.top>div{max-width:100%}
.grid{display:flex;flex-wrap:wrap;gap:8px}
.grid figure{margin:0;max-width:100%}
.thumbs figure{width:190px}.maps figure{width:440px}
.vgroups{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start}
.vgroup{border:1px solid #ddd;border-radius:4px;padding:3px 5px;max-width:100%}
.vname{font-weight:600;font-size:13px;margin-bottom:2px}
.strips{display:flex;flex-direction:column;gap:6px}
.strip{border:1px solid #ddd;border-radius:4px;padding:3px 5px;max-width:100%}
.strip .row{display:flex;flex-wrap:nowrap;gap:4px;overflow-x:auto;max-width:100%}
.strip figure{margin:0;width:120px;flex:none}.strip img{image-rendering:pixelated}
.sub{font-weight:400;font-size:11px;color:#555}
.nopic{width:190px;height:190px;display:flex;align-items:center;justify-content:center;
  background:#f6f6f6;color:#666;font-size:12px}
figcaption{font-size:11px;color:#444;overflow-wrap:anywhere}
.bad{background:#fde2e1}.good{background:#dff3e0}.meh{background:#fff4d6}
details{margin:0.4em 0}summary{cursor:pointer;font-weight:600}"""


def esc(x) -> str:
    return html.escape(str(x))


def img_tag(data: bytes, alt: str, width: int | None = None, mime: str = "image/png") -> str:
    """An <img> with the picture (a PNG, or ``mime``) embedded (``width``: its display
    width in CSS pixels)."""
    size = f' width="{width}"' if width else ""
    return (f'<img alt="{esc(alt)}"{size} src="data:{mime};base64,'
            f'{base64.b64encode(data).decode()}">')


def table(head: list[str], rows: list[list[str]], left: int = 2,
          classes: list[list[str]] | None = None) -> str:
    """A table in a box that scrolls sideways rather than widen the page; the first
    ``left`` columns are left-aligned; ``classes[i][j]``: a CSS class for cell (i, j)."""
    def cls(j, extra=""):
        names = (["l"] if j < left else []) + ([extra] if extra else [])
        return f' class="{" ".join(names)}"' if names else ""
    out = ["<div class='box'><table><tr>" +
           "".join(f"<th{cls(j)}>{esc(h)}</th>" for j, h in enumerate(head)) + "</tr>"]
    for i, row in enumerate(rows):
        out.append("<tr>" + "".join(
            f"<td{cls(j, classes[i][j] if classes else '')}>{esc(c)}</td>"
            for j, c in enumerate(row)) + "</tr>")
    out.append("</table></div>")
    return "".join(out)


def details(title: str, body: str, open_: bool = False) -> str:
    """A folded section."""
    return (f"<details{' open' if open_ else ''}><summary>{esc(title)}</summary>"
            f"{body}</details>")


def figure(inner: str, caption: str) -> str:
    return f"<figure>{inner}<figcaption>{esc(caption)}</figcaption></figure>"
