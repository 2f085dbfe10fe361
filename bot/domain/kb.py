"""The knowledge base: entries, the one tokenizer both databases index with, and the rules
that pick and order matches. Pure: no I/O.

Chinese has no spaces and most of its words are two characters (数据, 备份), so a run of CJK
characters is indexed as its overlapping pairs (数据库 -> 数据 据库), as Lucene's CJK analyzer
does; a lone CJK character stands for itself. Latin text is split into lower-cased words with a
light suffix stemming (printers, printing -> print). The same tokens go into the same postings
on SQLite and PostgreSQL, ranked with BM25 (:mod:`storage.kb`, :mod:`storage.kb_postings`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

QUERY_MAX = 500  # characters a search may hold; a longer text is refused, not cut
QUERY_TERMS_MAX = 48  # distinct terms a search sends to the index
WORD_MAX = 40  # a longer run of letters (a hash, a pasted blob) is cut to this length
TITLE_MAX = 150
PROBLEM_MAX = 3000
ANSWER_MAX = 3000
SEARCH_LIMIT = 5  # matches `/kb words` shows
OFFER_LIMIT = 3  # matches the report form offers
CANDIDATES = 50  # matches the index ranks first; re-ranked here by every term of the search
TITLE_WEIGHT = 2  # BM25 weight of the title (summary) against the body (whole numbers: the
BODY_WEIGHT = 1  # weighted frequencies and lengths are stored as integers)
BM25_K1 = 1.2
BM25_B = 0.75
WEIGHTED_MAX = 32_767  # a stored weighted frequency or length is cut to this (smallint)
# The index's ranking reads the postings of the terms it is given. A long search's commonest
# terms (失败, 无法, 系统) are in thousands of entries and weigh little in BM25: the index
# ranks by the rarest terms, and commoner ones only while their postings stay under the
# budget; its best :data:`CANDIDATES` are then ranked again by every term
# (:func:`bm25_scores`). Each term's postings are read best first (highest weighted
# frequency, then shortest entry) and at most :data:`TERM_POSTINGS_CAP` of them: a term in
# 60,000 entries costs what one in 2,000 does. Measured in bench/kb.py (docs/benchmarks.md).
RANKED_TERMS_MIN = 4
POSTINGS_BUDGET = 8_000
TERM_POSTINGS_CAP = 2_000
# A lone Chinese character searched for (卡, 库) stands for the indexed pairs that hold it
# (很卡, 卡顿; 数据库's 据库): at most this many of them, those most entries hold first.
PAIRS_PER_CHARACTER = 24
# A match must share this share of the query's distinct terms (at least one term): a single
# shared pair such as 失败 ("failed") does not make a report about printing match one about
# backups.
MIN_SHARED = 0.25

# Han (with extensions and compatibility), kana, Hangul, CJK symbols excluded.
_CJK = (
    r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
    r"\U00020000-\U0002ebef\U00030000-\U0003134f"
)
_RUNS = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>(?:(?![{_CJK}])[^\W_])+)")
_LONE_CJK = re.compile(rf"[{_CJK}]")
_REF = re.compile(r"^\s*(?:(?P<kb>kb-?)|#)?(?P<number>\d{1,9})\s*$", re.IGNORECASE)
_STOP_WORDS = (
    "a an and are as at be but by can do does for from has have how i if in into is it its "
    "me my no not of on or our so that the their then there these this to was we were what "
    "when which who why will with you your"
)
STOP_WORDS = frozenset(_STOP_WORDS.split(" "))


class EntryKind(StrEnum):
    TICKET = "ticket"  # a resolved ticket, shown as #N
    ARTICLE = "article"  # written with /kb add, shown as KB-N


class QueryProblem(StrEnum):
    EMPTY = "empty"
    NO_WORDS = "no_words"  # only punctuation, symbols or spaces
    TOO_LONG = "too_long"


class BadQuery(ValueError):
    def __init__(self, problem: QueryProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def _stem(word: str) -> str:
    """A light English stemming: plural and -ed/-ing endings, then a final e."""
    if word.isdigit() or len(word) <= 3:
        return word
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + keep
            break
    else:
        if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 4:
            word = word[:-1]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """The index terms of ``text``, in order (repeats kept: they count for BM25)."""
    normal = unicodedata.normalize("NFKC", text).casefold()
    out: list[str] = []
    for match in _RUNS.finditer(normal):
        run = match.group("cjk")
        if run is not None:
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(run[i : i + 2] for i in range(len(run) - 1))
            continue
        word = match.group("word")[:WORD_MAX]
        if word not in STOP_WORDS:
            out.append(_stem(word))
    return out


def query_terms(text: str) -> list[str]:
    """The distinct terms of a search, in order of first use; a bad search raises
    :class:`BadQuery` (nothing is searched)."""
    if not text.strip():
        raise BadQuery(QueryProblem.EMPTY)
    if len(text) > QUERY_MAX:
        raise BadQuery(QueryProblem.TOO_LONG)
    distinct = list(dict.fromkeys(tokens(text)))
    if not distinct:
        # Only stop words ("how do I") is no search either.
        has_word = any(unicodedata.category(ch)[0] in "LN" for ch in text)
        raise BadQuery(QueryProblem.NO_WORDS if not has_word else QueryProblem.EMPTY)
    return distinct[:QUERY_TERMS_MAX]


def lone_characters(terms: Sequence[str]) -> list[str]:
    """The terms of a search that are one Chinese character: the index holds a run of Chinese
    as its pairs, so such a term alone finds only text where the character stands alone."""
    return [term for term in terms if _LONE_CJK.fullmatch(term)]


def with_pairs(terms: Sequence[str], pairs: Mapping[str, Sequence[str]]) -> list[str]:
    """A search's terms with, after them, the indexed pairs that hold each lone character
    (``pairs``, by character): `/kb 卡` finds 系统很卡 and 页面卡顿."""
    extra = [pair for term in terms for pair in pairs.get(term, ())]
    return list(dict.fromkeys([*terms, *extra]))[:QUERY_TERMS_MAX]


@lru_cache(maxsize=1024)
def offer_terms(text: str) -> tuple[str, ...]:
    """Terms for the matches offered as a report is typed: a long text is cut, not refused.
    Remembered for the last texts asked: an engineer's `/ticket show` asks them of the same
    ticket's text again and again."""
    try:
        return tuple(query_terms(text[:QUERY_MAX]))
    except BadQuery:
        return ()


def shared_enough(query: Sequence[str], entry_terms: Iterable[str]) -> bool:
    """The relevance rule: a match shares at least :data:`MIN_SHARED` of the query's terms."""
    if not query:
        return False
    have = set(entry_terms)
    shared = sum(1 for term in query if term in have)
    return shared >= max(1, math.ceil(MIN_SHARED * len(query)))


def ranked_terms(
    terms: Sequence[str],
    counts: Mapping[str, int] | None,
    budget: int = POSTINGS_BUDGET,
    *,
    cap: int | None = None,
) -> list[str]:
    """The terms the index ranks by, rarest first, given how many entries hold each (None:
    the database does not say, and every term is ranked), within ``budget`` postings visited
    (the :data:`RANKED_TERMS_MIN` rarest whatever they cost; ``cap``: the most the index
    reads of one term). Terms no entry holds are left out."""
    if counts is None:
        return list(terms)
    present = sorted((t for t in terms if counts.get(t, 0) > 0), key=lambda t: counts[t])
    kept: list[str] = []
    postings = 0
    for term in present:
        cost = counts[term] if cap is None else min(counts[term], cap)
        if len(kept) >= RANKED_TERMS_MIN and postings + cost > budget:
            break
        kept.append(term)
        postings += cost
    return kept


def idf(held: int, entries: int) -> float:
    """BM25's weight of a term that ``held`` of ``entries`` entries hold (at least one)."""
    total = max(entries, 1)
    held = min(max(held, 1), total)
    return math.log((total - held + 0.5) / (held + 0.5) + 1.0)


def weighted(title: Sequence[str], body: Sequence[str]) -> tuple[dict[str, int], int]:
    """An entry's weighted frequency of each term (a title's counts :data:`TITLE_WEIGHT`
    times) and its weighted length: BM25F with one length, as both rankings use it."""
    freq: dict[str, int] = {}
    for term in title:
        freq[term] = freq.get(term, 0) + TITLE_WEIGHT
    for term in body:
        freq[term] = freq.get(term, 0) + BODY_WEIGHT
    return freq, TITLE_WEIGHT * len(title) + BODY_WEIGHT * len(body)


@dataclass(frozen=True)
class LengthNorm:
    """BM25's length normalization as two numbers, so that a term's part of an entry's score is
    ``idf * (k1 + 1) * tf / (tf + base + per_unit * length)`` (what the index sums)."""

    base: float
    per_unit: float

    @classmethod
    def over(cls, average_length: float) -> LengthNorm:
        return cls(BM25_K1 * (1 - BM25_B), BM25_K1 * BM25_B / (average_length or 1.0))


def bm25_scores(
    query: Sequence[str],
    counts: Mapping[str, int] | None,
    entries: int,
    docs: Sequence[tuple[Sequence[str], Sequence[str]]],
) -> list[float]:
    """BM25 of each candidate (its title's terms and its body's) for every term of the search,
    the title weighing :data:`TITLE_WEIGHT` times the body (BM25F with one length).
    ``counts``: entries holding each term (None: unknown, every term weighs the same);
    ``entries``: how many there are. The average length is the candidates'."""
    if not docs:
        return []
    shaped = [weighted(title, body) for title, body in docs]
    norm = LengthNorm.over(sum(length for _, length in shaped) / len(shaped))
    weights = {term: idf((counts or {}).get(term, 1), entries) for term in query}
    scores = []
    for freq, length in shaped:
        below = norm.base + norm.per_unit * length
        scores.append(
            sum(
                weights[term] * freq[term] * (BM25_K1 + 1) / (freq[term] + below)
                for term in query
                if term in freq
            )
        )
    return scores


def best_first(
    query: Sequence[str],
    counts: Mapping[str, int] | None,
    entries: int,
    docs: Sequence[tuple[Sequence[str], Sequence[str]]],
) -> list[int]:
    """The candidates' positions, best first by :func:`bm25_scores`; the index's own order
    (their positions) breaks ties."""
    scores = bm25_scores(query, counts, entries, docs)
    return sorted(range(len(docs)), key=lambda i: (-scores[i], i))


@dataclass(frozen=True)
class EntryRef:
    kind: EntryKind
    number: int

    def __str__(self) -> str:
        return f"#{self.number}" if self.kind is EntryKind.TICKET else f"KB-{self.number}"

    @property
    def token(self) -> str:
        """The form buttons carry: ``ticket:12``, ``article:3``."""
        return f"{self.kind.value}:{self.number}"


def parse_ref(text: str) -> EntryRef | None:
    """``KB-3`` (or ``kb3``) is an article; ``#12`` or ``12`` a ticket; else None."""
    found = _REF.match(text)
    if found is None:
        return None
    kind = EntryKind.ARTICLE if found.group("kb") else EntryKind.TICKET
    return EntryRef(kind, int(found.group("number")))


def named_ref(text: str) -> EntryRef | None:
    """A search that is one entry's reference, written as it is shown (``KB-3``, ``#12``, in
    full-width forms too): that entry is what is looked for, not the words ``kb`` and ``3``.
    A bare number is a word (an error code)."""
    normal = unicodedata.normalize("NFKC", text).strip()
    if normal[:1] != "#" and normal[:2].casefold() != "kb":
        return None
    return parse_ref(normal)


def parse_token(token: str) -> EntryRef | None:
    kind, _, number = token.partition(":")
    if kind not in EntryKind.__members__.values() or not number.isdigit():
        return None
    return EntryRef(EntryKind(kind), int(number))


@dataclass(frozen=True)
class Entry:
    """A knowledge-base entry: a solved ticket (summary, details, cause, resolution) or an
    article (title, problem, answer; ``cause`` empty)."""

    kind: EntryKind
    number: int
    title: str
    problem: str
    cause: str
    answer: str
    author_id: str
    updated_at: datetime
    retired: bool = False

    @property
    def ref(self) -> EntryRef:
        return EntryRef(self.kind, self.number)


@dataclass(frozen=True)
class IndexTerms:
    """What the index holds of an entry: its title's terms and its body's."""

    title: list[str]
    body: list[str]

    @property
    def all(self) -> list[str]:
        return [*self.title, *self.body]


def index_terms(title: str, problem: str, cause: str, answer: str) -> IndexTerms:
    return IndexTerms(title=tokens(title), body=tokens(f"{problem}\n{cause}\n{answer}"))


def article_errors(*, title: str, problem: str, answer: str) -> dict[str, str]:
    """Per-field problems with an article (empty when it is fine): keys title, problem,
    answer; values the problem's name (``missing``, ``too_long``)."""
    errors: dict[str, str] = {}
    for key, value, limit in (
        ("title", title, TITLE_MAX),
        ("problem", problem, PROBLEM_MAX),
        ("answer", answer, ANSWER_MAX),
    ):
        if not value.strip():
            errors[key] = "missing"
        elif len(value) > limit:
            errors[key] = "too_long"
    return errors


KEEP_OUT = "kb_keep_out"  # in a resolved ticket's record: the engineer left it out


def joins_knowledge_base(extra: Mapping[str, object]) -> bool:
    """A resolved ticket joins the knowledge base unless its resolve checklist left it out
    (``extra`` is the ticket's record of details)."""
    return not extra.get(KEEP_OUT)
