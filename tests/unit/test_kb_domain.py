"""The knowledge base's pure rules: the tokenizer, bad searches, references, relevance."""

from __future__ import annotations

import math

import pytest

from bot.domain.kb import (
    BM25_K1,
    QUERY_MAX,
    BadQuery,
    EntryKind,
    EntryRef,
    LengthNorm,
    QueryProblem,
    article_errors,
    best_first,
    bm25_scores,
    joins_knowledge_base,
    offer_terms,
    parse_ref,
    parse_token,
    query_terms,
    ranked_terms,
    shared_enough,
    tokens,
    weighted,
)


def test_a_run_of_chinese_becomes_its_overlapping_pairs() -> None:
    assert tokens("数据库备份失败") == ["数据", "据库", "库备", "备份", "份失", "失败"]


def test_a_lone_chinese_character_stands_for_itself() -> None:
    assert tokens("登 录") == ["登", "录"]
    assert tokens("U盾") == ["u", "盾"]


def test_mixed_text_splits_at_the_change_of_script_and_drops_punctuation() -> None:
    assert tokens("VPN连接失败，error 0x80070005!") == [
        "vpn",
        "连接",
        "接失",
        "失败",
        "error",
        "0x80070005",
    ]


def test_latin_words_are_lower_cased_stemmed_and_stop_words_dropped() -> None:
    assert tokens("The Printers are printing") == ["printer", "print"]
    assert tokens("updates updated update") == ["updat", "updat", "updat"]
    assert tokens("failed fails") == ["fail", "fail"]


def test_full_width_forms_match_their_ascii_forms() -> None:
    assert tokens("ＶＰＮ　Ｅｒｒｏｒ") == tokens("VPN Error") == ["vpn", "error"]


def test_a_very_long_word_is_cut() -> None:
    (word,) = tokens("a" * 5000)
    assert len(word) == 40


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", QueryProblem.EMPTY),
        ("   ", QueryProblem.EMPTY),
        ("?!。，…——", QueryProblem.NO_WORDS),
        ("*** ### ~~~", QueryProblem.NO_WORDS),
        ("x" * 5000, QueryProblem.TOO_LONG),
        ("数" * (QUERY_MAX + 1), QueryProblem.TOO_LONG),
        ("how do I", QueryProblem.EMPTY),
    ],
)
def test_bad_searches_are_refused_with_their_problem(text: str, problem: QueryProblem) -> None:
    with pytest.raises(BadQuery) as refused:
        query_terms(text)
    assert refused.value.problem is problem


def test_a_search_keeps_each_term_once_in_order() -> None:
    assert query_terms("备份 备份 backup") == ["备份", "backup"]


def test_offers_cut_a_long_text_instead_of_refusing_it() -> None:
    assert offer_terms("") == ()
    assert offer_terms("备份失败" + "x" * 6000)[:3] == ("备份", "份失", "失败")


def test_references() -> None:
    assert parse_ref("KB-3") == EntryRef(EntryKind.ARTICLE, 3)
    assert parse_ref("kb3") == EntryRef(EntryKind.ARTICLE, 3)
    assert parse_ref("#12") == EntryRef(EntryKind.TICKET, 12)
    assert parse_ref("12") == EntryRef(EntryKind.TICKET, 12)
    assert parse_ref("KB-") is None and parse_ref("twelve") is None
    assert str(EntryRef(EntryKind.ARTICLE, 3)) == "KB-3"
    assert str(EntryRef(EntryKind.TICKET, 12)) == "#12"
    assert parse_token(EntryRef(EntryKind.TICKET, 12).token) == EntryRef(EntryKind.TICKET, 12)
    assert parse_token("nothing:1") is None and parse_token("ticket:x") is None


def test_a_match_must_share_a_quarter_of_the_search_terms() -> None:
    query = ["打印", "印机", "机驱", "驱动", "失败"]  # five terms: two must be shared
    assert not shared_enough(query, {"失败", "备份"})
    assert shared_enough(query, {"打印", "失败"})
    assert not shared_enough([], {"失败"})


def test_the_commonest_terms_are_left_out_of_the_ranking_beyond_the_budget() -> None:
    terms = ["a", "b", "c", "d", "e", "f", "gone"]
    counts = {"a": 5, "b": 50, "c": 500, "d": 5000, "e": 9000, "f": 8}
    assert ranked_terms(terms, counts) == ["a", "f", "b", "c", "d"]
    assert ranked_terms(terms, None) == terms
    # the four rarest are ranked whatever they cost
    assert ranked_terms(["x", "y"], {"x": 50_000, "y": 60_000}) == ["x", "y"]


def test_a_cap_on_each_terms_postings_lets_common_terms_into_the_budget() -> None:
    terms = ["a", "b", "c", "d", "e", "f"]
    counts = {"a": 5, "b": 50, "c": 500, "d": 5000, "e": 9000, "f": 60_000}
    assert ranked_terms(terms, counts, 6000) == ["a", "b", "c", "d"]
    # read at most 1,000 postings of a term: d, e and f cost 1,000 each
    assert ranked_terms(terms, counts, 3600, cap=1000) == ["a", "b", "c", "d", "e", "f"]
    assert ranked_terms(terms, counts, 2600, cap=1000) == ["a", "b", "c", "d", "e"]


def test_article_fields_are_required_and_limited() -> None:
    assert article_errors(title="t", problem="p", answer="a") == {}
    assert article_errors(title=" ", problem="p" * 3001, answer="") == {
        "title": "missing",
        "problem": "too_long",
        "answer": "missing",
    }


def test_a_ticket_joins_unless_left_out() -> None:
    assert joins_knowledge_base({})
    assert joins_knowledge_base({"kb_keep_out": False})
    assert not joins_knowledge_base({"kb_keep_out": True})


def test_bm25_weighs_rare_terms_titles_and_repeats() -> None:
    counts = {"备份": 10, "失败": 900}
    docs = [
        ((), ("失败", "x")),  # only the common term
        ((), ("备份", "x")),  # the rare term in the body
        ((), ("备份", "备份")),  # the rare term twice
        (("备份",), ("x",)),  # the rare term in the title
    ]
    scores = bm25_scores(["备份", "失败"], counts, 1000, docs)
    assert scores[0] < scores[1] < scores[2]
    assert scores[1] < scores[3]
    assert best_first(["备份", "失败"], counts, 1000, docs)[-1] == 0


def test_weighted_frequencies_and_length_count_the_title_twice() -> None:
    assert weighted(["备份", "失败"], ["备份", "磁盘", "备份"]) == (
        {"备份": 4, "失败": 2, "磁盘": 1},
        7,
    )
    assert weighted([], []) == ({}, 0)


def test_bm25_is_the_sum_postgresql_makes_from_postings() -> None:
    """idf * (k1 + 1) * tf / (tf + base + per_unit * length), over the average length."""
    docs = [(("备份",), ("失败", "备份")), ((), ("备份", "x", "y", "z"))]
    counts, entries = {"备份": 30, "失败": 400}, 1000
    norm = LengthNorm.over((4 + 4) / 2)  # weighted lengths: 2 + 2 and 4
    expected = []
    for title, body in docs:
        freq, length = weighted(title, body)
        expected.append(
            sum(
                math.log((entries - counts[t] + 0.5) / (counts[t] + 0.5) + 1)
                * (BM25_K1 + 1)
                * freq[t]
                / (freq[t] + norm.base + norm.per_unit * length)
                for t in ("备份", "失败")
                if t in freq
            )
        )
    assert bm25_scores(["备份", "失败"], counts, entries, docs) == pytest.approx(expected)


def test_ties_keep_the_index_order_and_unknown_counts_weigh_alike() -> None:
    docs = [((), ("a",)), ((), ("b",)), ((), ("c",))]
    assert best_first(["a", "b"], None, 10, docs) == [0, 1, 2]
    assert bm25_scores(["x"], None, 10, docs) == [0.0, 0.0, 0.0]
    assert best_first(["a"], None, 10, []) == []
