"""Question analysis: what a question asks about (its focus) and how names are matched."""
from __future__ import annotations

import pytest

from qa.question import focus_word, term_matches


@pytest.mark.parametrize("question, focus", [
    ("How many Iranian soldiers were injured?", "soldiers"),
    ("How many Examination Boards exist in India?", "boards"),  # the plural, not the verb after it
    ("How many Panthers defense players were selected?", "players"),
    ("How much time remained on the clock?", "time"),
    ("How much did the U.S. strikes cost?", "cost"),  # "how much did ... cost": the verb
    ("What is the population of Jurf al-Saqr?", "population"),
    ("What was the name of the AC-130 pilot?", "pilot"),
    ("Who is the commander of U.S. Central Command?", "commander"),
    ("What is the primary race of students?", "race"),
    # a clause, not a noun phrase: guessing would pick a verb
    ("What was the reason the Italian court gave that resulted in his loss?", None),
    ("What was the black death originally blamed on?", None),
    ("When did Hamas attack Israel?", None),
])
def test_focus_is_the_noun_asked_about(question, focus):
    assert focus_word(question) == focus


def test_misspelt_names_match_only_when_asked():
    vocab = {"zeira", "gegeen", "u.s", "kuwaiti", "iraq"}
    loose = term_matches(["zeria", "geegen", "us", "kuwait", "irak", "syria"], vocab, typos=True)
    assert loose == {"zeria": {"zeira"}, "geegen": {"gegeen"}, "us": {"u.s"}, "kuwait": {"kuwaiti"},
                     "irak": set(), "syria": set()}  # 4 letters is too short to guess at
    strict = term_matches(["zeria", "us"], vocab)
    assert strict == {"zeria": set(), "us": set()}
