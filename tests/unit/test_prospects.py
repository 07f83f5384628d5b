import pytest

from memory.prospects import clean_prospect_name, closest_names, prospect_slug

KNOWN = ["James Okafor", "Priya Sharma", "Ana Lopez"]


@pytest.mark.parametrize(
    "typed", ["priya  SHARMA", "Priya Sharma", "Príya Sharma", " PRIYA sharma\n"]
)
def test_case_accents_and_spacing_give_one_slug(typed: str) -> None:
    assert prospect_slug(typed) == "priya-sharma"


def test_punctuation_becomes_single_dashes_with_none_at_the_ends() -> None:
    assert prospect_slug("  O'Brien, Seán!! ") == "o-brien-sean"
    assert prospect_slug("Jean--Luc / Picard") == "jean-luc-picard"


@pytest.mark.parametrize("typed", ["", "   ", "\n\t", "!?—"])
def test_empty_whitespace_or_punctuation_only_name_has_empty_slug(typed: str) -> None:
    assert prospect_slug(typed) == ""


def test_names_in_non_latin_scripts_have_distinct_non_empty_slugs() -> None:
    slugs = [prospect_slug(n) for n in ["Дмитрий Иванов", "张伟", "李娜"]]
    assert all(slugs)
    assert len(set(slugs)) == 3


def test_clean_name_folds_inner_whitespace_and_strips_outer_but_keeps_case() -> None:
    assert clean_prospect_name("  Príya \n  Sharma\t") == "Príya Sharma"


def test_near_miss_spelling_or_one_word_suggests_the_known_name() -> None:
    assert closest_names("James Okafur", KNOWN)[0] == "James Okafor"
    assert closest_names("okafor", KNOWN) == ["James Okafor"]


def test_unrelated_or_empty_name_suggests_nothing() -> None:
    assert closest_names("Zhang Wei", KNOWN) == []
    assert closest_names("   ", KNOWN) == []


def test_suggestions_respect_the_limit() -> None:
    known = ["Sam Lee", "Sam Leigh", "Sam Lea", "Sam Levy"]
    assert len(closest_names("sam", known, limit=2)) == 2
    assert len(closest_names("sam", known)) == 3
