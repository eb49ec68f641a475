"""The write rule as a pure function: restatement, supersedes, contradicts or new."""

from __future__ import annotations

import pytest

from alma_app.memory.novelty import classify, negation_cues, tokens

NEAR = 0.96  # a similarity above the related_similarity default
THRESHOLD = 0.9


def kind(old: str, new: str, similarity: float = NEAR) -> str:
    return classify(new, old, similarity, THRESHOLD).kind


def test_tokens_ignore_case_punctuation_whitespace_and_articles() -> None:
    assert tokens("  The Login-form, times out!  ") == ["login", "form", "times", "out"]


def test_number_words_thousands_separators_leading_zeros_and_ordinals_become_digits() -> None:
    assert tokens("five failed attempts") == ["5", "failed", "attempts"]
    assert tokens("twenty-one days, two hundred and five users") == [
        "21",
        "days",
        "205",
        "users",
    ]
    assert tokens("1,000 requests") == tokens("1000 requests") == ["1000", "requests"]
    assert tokens("on 07 May") == tokens("on 7th May") == ["on", "7", "may"]
    assert tokens("20 Jul 2023") == ["20", "july", "2023"]


def test_contractions_spell_out_the_negation() -> None:
    assert tokens("Don't use tabs") == ["do", "not", "use", "tabs"]
    assert tokens("Users can't delete it; admins cannot either") == [
        "users",
        "can",
        "not",
        "delete",
        "it",
        "admins",
        "can",
        "not",
        "either",
    ]
    assert tokens("It won’t retry") == ["it", "will", "not", "retry"]


def test_negation_cues_count_negators_and_negative_words_in_their_forms() -> None:
    assert negation_cues(tokens("never returns JSON")) == 1
    assert negation_cues(tokens("avoids semicolons")) == 1
    assert negation_cues(tokens("the feature is disabled")) == 1
    assert negation_cues(tokens("it does not prevent retries")) == 2
    assert negation_cues(tokens("the gateway denies it")) == negation_cues(tokens("denied")) == 1
    assert negation_cues(tokens("uses semicolons")) == 0


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("login form times out after 12 seconds", "Login form times out after 12 seconds."),
        ("login form times out after 12 seconds", "LOGIN   form times out after 12 seconds!"),
        ("login form times out after 12 seconds", "after 12 seconds, login form times out"),
        ("locks the account after 5 failed tries", "locks the account after five failed tries"),
        ("rate limit is 1,000 requests per minute", "The rate limit is 1000 requests per minute"),
        ("Don't use tabs", "Do not use tabs"),
    ],
)
def test_a_trivially_different_wording_is_a_restatement(old: str, new: str) -> None:
    assert kind(old, new) == "restatement"


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        (
            "login form times out after 12 seconds under load",
            "login form times out after 47 seconds under load",
            "12 -> 47",
        ),
        (
            "went to the support group on 7 May 2023",
            "went to the support group on 20 July 2023",
            "7 may -> 20 july",
        ),
        (
            "rate limit is 100 requests per minute",
            "rate limit is 1000 requests per minute",
            "100 -> 1000",
        ),
        ("rate limit is 100 requests per minute", "rate limit is 100 requests per hour", None),
        ("Alice owns the billing service", "Bob owns the billing service", "alice -> bob"),
        ("the deploy uses cluster eu-west-1", "the deploy uses cluster eu-west-2", "1 -> 2"),
        ('the flag is set to "strict"', 'the flag is set to "lenient"', "strict -> lenient"),
    ],
)
def test_a_changed_value_of_the_same_statement_supersedes(
    old: str, new: str, changed: str | None
) -> None:
    verdict = classify(new, old, NEAR, THRESHOLD)
    assert verdict.kind == "supersedes"
    if changed is not None:
        assert verdict.changed == changed


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "The login form does validate email addresses",
            "The login form does not validate email addresses",
        ),
        ("Do use tabs", "Do not use tabs"),
        ("Do use tabs", "Don't use tabs"),
        ("The API returns JSON", "The API never returns JSON"),
        ("Users can delete their account", "Users cannot delete their account"),
        ("use semicolons", "avoid semicolons"),
        ("the cache is enabled", "the cache is disabled"),
        ("the retry is not disabled", "the retry is disabled"),
    ],
)
def test_a_negation_contradicts(old: str, new: str) -> None:
    assert kind(old, new) == "contradicts"


def test_a_double_negation_keeps_the_polarity() -> None:
    assert kind("the retry is enabled", "the retry is not disabled") == "supersedes"


def test_a_changed_value_that_also_flips_the_polarity_is_a_contradiction() -> None:
    verdict = classify("times out after 47 seconds", "never times out after 12 seconds", NEAR, 0.9)
    assert verdict.kind == "contradicts" and verdict.changed == "never 12 -> 47"


def test_below_the_related_similarity_everything_is_new() -> None:
    assert kind("Do use tabs", "Do not use tabs", similarity=0.89) == "new"
    assert kind("login form times out", "login form times out", similarity=0.5) == "new"
