"""A transparent offline BASELINE coder: codebook terms + VADER + small keyword maps.

This is a reference point for the LLM coder and for tests, not a measurement
instrument.  Units it writes carry ``coder="baseline"`` and ``model=MODEL_NAME``
(``baseline-terms-vader-<BASELINE_VERSION>``).  Rules:

- terms match case-insensitively on word boundaries, exactly as in the relevance filter
  (:func:`vsdstats.filter.patterns.term_text_regex`; acronyms such as ``ADD`` keep their case);
- **relevant** when the text mentions an LLM term (``terms`` of the ``llm_product``
  categories) AND a mental-health term (``terms`` of the ``condition`` categories);
  ``require_llm=False`` drops the LLM condition (to evaluate the condition detector on
  corpora that never mention LLMs; ``llm_product`` then falls back to ``other``);
- **llm_product**: the family whose term is mentioned first;
- **llm_version** (codebooks that have it): the version of that family whose term is
  mentioned first (``terms`` of the llm_version categories; a longer term wins at the
  same position, so "GPT-4.1" is not GPT-4), else ``unspecified`` -- never a version of
  another family;
- **condition**: one unit per specific condition whose terms match, in order of first
  mention; ``general`` only when no specific condition but a general term matched;
- **sentiment**: VADER compound of the whole post: >= 0.05 positive, <= -0.05 negative,
  else neutral (the same for every unit of the post);
- **perspective** / **value**: the category of :data:`PERSPECTIVE_KEYWORDS` /
  :data:`VALUE_KEYWORDS` whose keyword occurs first in the post; fallback ``none``
  (codebook 1.1: no keyword, no perspective or value claimed).  With a codebook that
  has no ``none`` (1.0) the fallbacks are ``informational_support`` (the least
  committal perspective) and ``human_welfare`` (the value every use concerns).
  These maps are a documented heuristic kept here, not in the codebook; codes that a
  custom codebook lacks are ignored, and a missing fallback becomes the dimension's
  first category, so no label outside the codebook is ever emitted;
- **quote**: the sentence containing the first LLM term (or, in ungated mode without
  one, the first condition term) when it has 5-40 words; else a window of words
  around that term (at least 5 words, about 20 for long sentences) -- always a
  verbatim substring of the post.  Posts with fewer than 5 words are quoted whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from vsdstats.coding.quotes import word_count
from vsdstats.filter.patterns import term_text_regex
from vsdstats.filter.terms import DEFAULT_CASE_SENSITIVE
from vsdstats.tables.codebook import Codebook
from vsdstats.tables.models import CodedUnit, to_frame

__all__ = [
    "BASELINE_VERSION",
    "MODEL_NAME",
    "PERSPECTIVE_KEYWORDS",
    "VALUE_KEYWORDS",
    "BaselineCoder",
    "Detection",
]

BASELINE_VERSION = "1.1"
MODEL_NAME = f"baseline-terms-vader-{BASELINE_VERSION}"
POSITIVE, NEGATIVE = 0.05, -0.05
FALLBACK_PERSPECTIVE = "informational_support"
FALLBACK_VALUE = "human_welfare"
FALLBACK_LLM = "other"
FALLBACK_VERSION = "unspecified"
#: The code for "no perspective / no value" (codebook 1.1); preferred as the fallback.
NONE = "none"
MIN_WORDS, MAX_SENTENCE_WORDS, LONG_WINDOW = 5, 40, 20

#: Baseline heuristic: perspective code -> keywords (first occurrence in the post wins).
PERSPECTIVE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "psychological_harm": ("made it worse", "made me worse", "spiralled", "spiraled", "harmful"),
    "clinical_skepticism": ("not a therapist", "not a replacement", "can't replace", "diagnose"),
    "interaction_limitations": ("hotline", "refused", "refuses", "canned", "guardrails"),
    "ethics": ("unethical", "ethical", "consent", "training on", "profit"),
    "dependency": ("addicted", "dependent", "rely on", "relying on", "can't stop"),
    "maladaptive_usage": ("reassurance", "avoid", "avoiding", "instead of talking"),
    "anthropomorphism": ("friend", "best friend", "boyfriend", "girlfriend", "like a person"),
    "appraisal_support": ("reframe", "reframing", "reality check", "overreacting", "feedback"),
    "instrumental_support": ("to-do", "routine", "schedule", "break down", "chores", "draft"),
    "informational_support": ("explained", "explain", "information", "advice", "learned"),
    "emotional_support": ("vent", "vented", "venting", "listened", "comfort", "supportive"),
    "sociocultural_impact": ("stigma", "society", "afford", "insurance", "waitlist"),
}

#: Baseline heuristic: value code -> keywords (first occurrence in the post wins).
VALUE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "privacy": ("privacy", "private", "chat logs", "stored"),
    "informed_consent": ("consent", "nobody told", "terms of service"),
    "trust": ("trust", "trusted", "distrust", "accurate", "reliable"),
    "accountability": ("responsible", "responsibility", "accountable", "liable"),
    "freedom_from_bias": ("bias", "biased", "stereotype", "stereotypes"),
    "identity": ("identity", "who I am"),
    "calmness": ("calm", "calmer", "calming", "relax", "relaxed", "soothing"),
    "ownership_property": ("ownership", "copyright", "my data"),
    "universal_usability": ("free", "24/7", "3am", "accessible", "available"),
    "environmental_sustainability": ("electricity", "energy use", "environment", "climate"),
    "autonomy": ("on my own", "my own pace", "independence", "independent"),
}

_FLAGS = re.ASCII | re.IGNORECASE
_SENT_END = re.compile(r"(?<=[.!?])\s+|\n\s*")
_TOKEN = re.compile(r"\S+")


def _pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted(dict.fromkeys(t.strip() for t in terms if t.strip()), key=lambda t: -len(t))
    if not ordered:
        return None
    cs = frozenset(DEFAULT_CASE_SENSITIVE)
    return re.compile("|".join(f"(?:{term_text_regex(t, cs)})" for t in ordered), _FLAGS)


def _first(patterns: Sequence[tuple[str, re.Pattern[str]]], text: str) -> list[tuple[int, str]]:
    """(position, code) of every category that matches, ordered by first mention."""
    hits = []
    for order, (code, rx) in enumerate(patterns):
        m = rx.search(text)
        if m:
            hits.append((m.start(), -(m.end() - m.start()), order, code))
    return [(h[0], h[3]) for h in sorted(hits)]


@dataclass(frozen=True)
class Detection:
    """What the baseline found in one post (for audits)."""

    relevant: bool
    llm_product: str | None
    conditions: tuple[str, ...]
    llm_terms: tuple[str, ...]
    mh_terms: tuple[str, ...]
    compound: float
    anchor: int | None  # position of the quoted term


class BaselineCoder:
    """Offline baseline coder for ``codebook`` (see the module docstring)."""

    coder = "baseline"
    model = MODEL_NAME

    def __init__(self, codebook: Codebook, *, require_llm: bool = True) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.codebook = codebook
        self.require_llm = require_llm
        self._vader = SentimentIntensityAnalyzer()
        self._llm = self._compile_dim("llm_product")
        self._cond = self._compile_dim("condition")
        self._persp = self._compile_map("perspective", PERSPECTIVE_KEYWORDS)
        self._value = self._compile_map("value", VALUE_KEYWORDS)
        self._fallback = {
            "perspective": self._none_or("perspective", FALLBACK_PERSPECTIVE),
            "value": self._none_or("value", FALLBACK_VALUE),
            "llm_product": self._allowed("llm_product", FALLBACK_LLM),
        }
        self._versions: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        if "llm_version" in codebook.dimensions:
            self._fallback["llm_version"] = self._allowed("llm_version", FALLBACK_VERSION)
            for c in codebook.dimensions["llm_version"].categories:
                rx = _pattern(c.terms)
                if c.family is not None and rx is not None:
                    self._versions.setdefault(c.family, []).append((c.code, rx))
        codes = self.codebook.codes("sentiment")
        self._sentiment = {s: self._allowed("sentiment", s) for s in ("positive", "negative")}
        self._sentiment["neutral"] = "neutral" if "neutral" in codes else codes[len(codes) // 2]

    # ------------------------------------------------------------ setup
    def _allowed(self, dim: str, code: str) -> str:
        codes = self.codebook.codes(dim)
        return code if code in codes else codes[0]

    def _none_or(self, dim: str, code: str) -> str:
        return NONE if NONE in self.codebook.codes(dim) else self._allowed(dim, code)

    def _compile_dim(self, dim: str) -> list[tuple[str, re.Pattern[str]]]:
        out = []
        for c in self.codebook.dimensions[dim].categories:
            rx = _pattern(c.terms)
            if rx is not None:
                out.append((c.code, rx))
        return out

    def _compile_map(
        self, dim: str, keywords: dict[str, tuple[str, ...]]
    ) -> list[tuple[str, re.Pattern[str]]]:
        codes = set(self.codebook.codes(dim))
        out = []
        for code, words in keywords.items():
            rx = _pattern(words)
            if code in codes and rx is not None:
                out.append((code, rx))
        return out

    # ------------------------------------------------------------ coding
    def detect(self, text: str) -> Detection:
        """Matched terms, conditions, product and VADER compound of one post."""
        llm_hits = _first(self._llm, text)
        cond_hits = _first(self._cond, text)
        specific = [(p, c) for p, c in cond_hits if c != "general"]
        conds = specific or [(p, c) for p, c in cond_hits if c == "general"]
        relevant = bool(conds) and (bool(llm_hits) or not self.require_llm)
        anchor = llm_hits[0][0] if llm_hits else (conds[0][0] if conds else None)
        return Detection(
            relevant=relevant,
            llm_product=llm_hits[0][1] if llm_hits else None,
            conditions=tuple(c for _, c in conds),
            llm_terms=tuple(m.group(0) for _, rx in self._llm for m in rx.finditer(text)),
            mh_terms=tuple(m.group(0) for _, rx in self._cond for m in rx.finditer(text)),
            compound=float(self._vader.polarity_scores(text)["compound"]) if text else 0.0,
            anchor=anchor,
        )

    def _label(self, dim: str, patterns: list[tuple[str, re.Pattern[str]]], text: str) -> str:
        hits = _first(patterns, text)
        return hits[0][1] if hits else self._fallback[dim]

    def version(self, family: str, text: str) -> str | None:
        """llm_version of ``family`` first mentioned in ``text`` (None: the codebook
        codes no version)."""
        if "llm_version" not in self._fallback:
            return None
        hits = _first(self._versions.get(family, []), text)
        return hits[0][1] if hits else self._fallback["llm_version"]

    def _sentiment_label(self, compound: float) -> str:
        if compound >= POSITIVE:
            return self._sentiment["positive"]
        if compound <= NEGATIVE:
            return self._sentiment["negative"]
        return self._sentiment["neutral"]

    def code(self, post_id: str, text: str) -> tuple[bool, list[CodedUnit]]:
        """``(relevant, units)`` for one post; no units when not relevant."""
        det = self.detect(text)
        if not det.relevant:
            return False, []
        family = det.llm_product or self._fallback["llm_product"]
        shared = {
            "llm_product": family,
            "llm_version": self.version(family, text),
            "sentiment": self._sentiment_label(det.compound),
            "perspective": self._label("perspective", self._persp, text),
            "value": self._label("value", self._value, text),
            "quote": quote_around(text, det.anchor or 0),
            "coder": self.coder,
            "model": self.model,
            "codebook_version": self.codebook.version,
        }
        units = [
            CodedUnit(post_id=str(post_id), unit_index=i, condition=c, **shared).check(
                self.codebook
            )
            for i, c in enumerate(det.conditions)
        ]
        return True, units

    def code_frame(self, posts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(status, units)`` for a posts table with ``post_id`` and ``text`` columns.

        ``status`` has one row per post: post_id, relevant, n_units, llm_terms and
        mh_terms (matched terms, ``;``-joined, for audits), coder, model,
        codebook_version.  ``units`` follows the coded-unit contract.
        """
        missing = [c for c in ("post_id", "text") if c not in posts.columns]
        if missing:
            raise ValueError(f"posts table lacks column(s) {', '.join(missing)}")
        rows, units = [], []
        for pid, raw in zip(posts["post_id"], posts["text"], strict=True):
            text = "" if pd.isna(raw) else str(raw)
            det = self.detect(text)
            _, us = self.code(str(pid), text)
            units += us
            rows.append(
                {
                    "post_id": str(pid),
                    "relevant": det.relevant,
                    "n_units": len(us),
                    "llm_terms": "; ".join(dict.fromkeys(det.llm_terms)),
                    "mh_terms": "; ".join(dict.fromkeys(det.mh_terms)),
                    "coder": self.coder,
                    "model": self.model,
                    "codebook_version": self.codebook.version,
                }
            )
        status = pd.DataFrame(
            rows,
            columns=[
                "post_id",
                "relevant",
                "n_units",
                "llm_terms",
                "mh_terms",
                "coder",
                "model",
                "codebook_version",
            ],
        )
        return status, to_frame(units, "coded_unit")


def quote_around(text: str, pos: int) -> str:
    """A verbatim quote around position ``pos``: its sentence if it has 5-40 words,
    else a window of words around ``pos`` (see the module docstring)."""
    start = 0
    for m in _SENT_END.finditer(text):
        if m.start() > pos:
            sentence = text[start : m.start()]
            break
        start = m.end()
    else:
        sentence = text[start:]
    sentence = sentence.strip()
    if MIN_WORDS <= word_count(sentence) <= MAX_SENTENCE_WORDS:
        return sentence
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if not tokens:
        return text.strip()
    idx = next((i for i, (_, e) in enumerate(tokens) if e > pos), len(tokens) - 1)
    if word_count(sentence) > MAX_SENTENCE_WORDS:
        lo = max(0, idx - LONG_WINDOW // 2)
        hi = min(len(tokens), lo + LONG_WINDOW)
    else:
        lo, hi = idx, idx + 1
    grow_right = True
    while word_count(text[tokens[lo][0] : tokens[hi - 1][1]]) < MIN_WORDS:
        if (grow_right and hi < len(tokens)) or lo == 0:
            if hi == len(tokens):
                break
            hi += 1
        else:
            lo -= 1
        grow_right = not grow_right
    return text[tokens[lo][0] : tokens[hi - 1][1]]
