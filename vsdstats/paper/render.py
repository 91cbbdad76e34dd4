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


def to_latex(t: PublishedTable) -> str:
    ncol = t.frame.shape[1]
    spec = "l" * t.text_columns + "r" * (ncol - t.text_columns)
    head = " & ".join(latex_escape(str(c)) for c in t.frame.columns) + r" \\"
    body = [
        " & ".join(latex_escape(str(v)) for v in row) + r" \\"
        for row in t.frame.itertuples(index=False)
    ]
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        r"\small",
        f"\\caption{{{latex_escape(t.caption)}}}",
        f"\\label{{{t.label}}}",
        f"\\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        head,
        r"\midrule",
        *body,
        r"\bottomrule",
        r"\end{tabular}",
    ]
    if t.notes:
        lines += [r"\par\smallskip", r"\begin{minipage}{\linewidth}\footnotesize"]
        lines += [latex_escape(n) + r"\par" for n in t.notes]
        lines.append(r"\end{minipage}")
    lines.append(r"\end{table}")
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
