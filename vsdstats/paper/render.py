"""Published tables: one DataFrame of display strings written as CSV, LaTeX and Markdown."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vsdstats.stats.chisq import format_pvalue
from vsdstats.tables.io import markdown_escape

SYNTHETIC_NOTE = (
    "Data: the SYNTHETIC replication corpus (vsdstats.paper.simulate, calibrated to the "
    "original study's published label frequencies); not real posts."
)
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_SCI = re.compile(r"^([<>]\s*)?(\d(?:\.\d+)?)e([+-]?\d+)$")


@dataclass
class PublishedTable:
    """A table of display strings plus its caption, label and notes."""

    name: str
    caption: str
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    text_columns: int = 1  # leading columns aligned left

    @property
    def label(self) -> str:
        return f"tab:{self.name}"


format_p = format_pvalue  # one implementation: vsdstats.stats.chisq


def latex_escape(text: str) -> str:
    """Escape LaTeX specials; numbers like 1.26e-474 become $1.26\\times10^{-474}$."""
    m = _SCI.match(text.strip())
    if m:
        rel = {"<": "<", ">": ">"}.get((m.group(1) or "").strip(), "")
        return f"${rel}{m.group(2)}\\times10^{{{int(m.group(3))}}}$"
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


#: a header longer than this (characters) is set on several lines
_HEADER_CHARS = 12
#: a text column whose longest cell is longer than this is a wrapping p column
_TEXT_CHARS = 28
#: a table with more body rows than this is a longtable (breaks across pages)
_LONG_ROWS = 40
#: a table with at least this many columns is printed sideways (a landscape page)
_WIDE_COLS = 9


def _wrap_words(text: str, width: int) -> list[str]:
    """Greedy word wrap at ``width`` characters (a longer word keeps its own line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _header_cell(name: str, align: str) -> str:
    """A header on as many lines as it needs (a one-column tabular, bottom-aligned)."""
    lines = _wrap_words(name, _HEADER_CHARS) if len(name) > _HEADER_CHARS else [name]
    if len(lines) == 1:
        return latex_escape(name)
    body = r" \\ ".join(latex_escape(x) for x in lines)
    return f"\\begin{{tabular}}[b]{{@{{}}{align}@{{}}}}{body}\\end{{tabular}}"


def to_latex(t: PublishedTable) -> str:
    """A booktabs table (needs booktabs, graphicx, array, longtable and rotating): long
    headers on several lines, long text columns wrapped; a float shrunk to the line
    width only when wider, sideways when it has many columns, a longtable breaking
    across pages when it has many rows."""
    ncol = t.frame.shape[1]
    cols = []
    for j in range(ncol):
        if j >= t.text_columns:
            cols.append("r")
            continue
        longest = max((len(str(v)) for v in t.frame.iloc[:, j]), default=0)
        cols.append(r">{\raggedright\arraybackslash}p{3.4cm}" if longest > _TEXT_CHARS else "l")
    spec = "".join(cols)
    head = (
        " & ".join(
            _header_cell(str(c), "l" if j < t.text_columns else "r")
            for j, c in enumerate(t.frame.columns)
        )
        + r" \\"
    )
    body = [
        " & ".join(latex_escape(str(v)) for v in row) + r" \\"
        for row in t.frame.itertuples(index=False)
    ]
    caption = f"\\caption{{{latex_escape(t.caption)}}}"
    label = f"\\label{{{t.label}}}"
    notes = [latex_escape(n) + r"\par" for n in t.notes]
    if len(body) > _LONG_ROWS:
        lines = [
            r"\begingroup\footnotesize\setlength{\tabcolsep}{4pt}",
            f"\\begin{{longtable}}{{{spec}}}",
            caption + label + r" \\",
            r"\toprule",
            head,
            r"\midrule",
            r"\endfirsthead",
            r"\toprule",
            head,
            r"\midrule",
            r"\endhead",
            *body,
            r"\bottomrule",
            r"\end{longtable}",
        ]
        if notes:
            lines += [r"\vspace{-1.5ex}", *notes]
        lines += [r"\par\endgroup", ""]
        return "\n".join(lines)
    env = "sidewaystable" if ncol >= _WIDE_COLS else "table"
    lines = [
        f"\\begin{{{env}}}" + ("" if env == "sidewaystable" else "[htbp]"),
        r"\centering",
        r"\small",
        caption,
        label,
        r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
        f"\\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        head,
        r"\midrule",
        *body,
        r"\bottomrule",
        r"\end{tabular}}",
    ]
    if notes:
        lines += [r"\par\smallskip", r"\begin{minipage}{\linewidth}\footnotesize"]
        lines += notes
        lines.append(r"\end{minipage}")
    lines.append(f"\\end{{{env}}}")
    return "\n".join(lines) + "\n"


def _md_cell(v: object) -> str:
    return markdown_escape(v)


def to_markdown(t: PublishedTable) -> str:
    cols = [_md_cell(c) for c in t.frame.columns]
    align = ["---"] * t.text_columns + ["---:"] * (len(cols) - t.text_columns)
    lines = [
        f"**Table {t.name}.** {markdown_escape(t.caption, cell=False)}",
        "",
        "| " + " | ".join(cols) + " |",
        "| " + " | ".join(align) + " |",
    ]
    lines += [
        "| " + " | ".join(_md_cell(v) for v in row) + " |"
        for row in t.frame.itertuples(index=False)
    ]
    if t.notes:
        lines.append("")
        lines += [f"{markdown_escape(n, cell=False)}  " for n in t.notes]
    return "\n".join(lines).rstrip() + "\n"


def write_table(t: PublishedTable, out_dir: Path) -> list[Path]:
    """Write NAME.csv, NAME.tex and NAME.md; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv = out_dir / f"{t.name}.csv"
    with csv.open("w", encoding="utf-8", newline="") as fh:
        t.frame.to_csv(fh, index=False, lineterminator="\n")
    tex = out_dir / f"{t.name}.tex"
    tex.write_text(to_latex(t), encoding="utf-8", newline="\n")
    md = out_dir / f"{t.name}.md"
    md.write_text(to_markdown(t), encoding="utf-8", newline="\n")
    return [csv, tex, md]
