"""Question analysis: what a question asks about (its focus, the term it asks to define) and
how names are matched."""
from __future__ import annotations

import pytest

from qa.answer_types import defines
from qa.matching import term_matches, unknown_terms
from qa.extractive import extract
from qa.question import analyse, definition_subject, focus_word
from qa.types import Passage


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
    ("What was the attendance at Super Bowl 50?", "attendance"),  # "the X at": as "the X of"
    # the parse's head of the phrase, not the participle after it
    ("What was the principle shown in The Mark of Anarchy?", "principle"),
    ("Who was the medical report written for?", "report"),
    ("What were the three parts of Kublai's government?", None),  # a number and a generic noun
    # a clause, not a noun phrase: guessing would pick a verb
    ("What was the reason the Italian court gave that resulted in his loss?", None),
    ("What was the black death originally blamed on?", None),
    ("When did Hamas attack Israel?", None),
    # a verb other than an auxiliary after the counted noun: the parse finds the noun
    ("How many students attend the University of Chicago?", "students"),
    ("How many guests attended the dinner celebrating the opening of the market?", "guests"),
])
def test_focus_is_the_noun_asked_about(question, focus):
    assert focus_word(question) == focus


def test_a_decade_is_one_term_and_covers_its_years():
    from index import text as tokenizer
    from qa.question import key_terms

    assert tokenizer.terms("the 1980's and the 1980s") == ["1980s", "1980s"]
    assert key_terms("What was the Doctor Who play from the 1980's?") == ["doctor", "1980s"]
    found = term_matches(["1980s", "1970s"], {"1984", "1990", "1970s"})
    assert found == {"1980s": {"1984"}, "1970s": {"1970s"}}  # 1990 is no year of the 1980s


def test_a_small_number_matches_its_word_and_not_another():
    assert term_matches(["2", "12", "3"], {"two", "twelv", "four"}) == {"2": {"two"}, "12": {"twelv"}, "3": set()}
    assert unknown_terms(["2"], frozenset({"two"}), ["two"]) == ()


def test_a_contraction_is_no_content_word_of_the_question():
    from qa.asking import content_terms_of

    terms = content_terms_of("The idea that Islam can be apolitical isn't able to be embraced by whom?")
    assert {"islam", "apolit", "embrac"} <= terms
    assert not {"isn", "isn't"} & terms


def test_misspelt_names_match_only_when_asked():
    vocab = {"zeira", "gegeen", "u.s", "kuwaiti", "iraq"}
    loose = term_matches(["zeria", "geegen", "us", "kuwait", "irak", "syria"], vocab, typos=True)
    assert loose == {"zeria": {"zeira"}, "geegen": {"gegeen"}, "us": {"u.s"}, "kuwait": {"kuwaiti"},
                     "irak": set(), "syria": set()}  # 4 letters is too short to guess at
    strict = term_matches(["zeria", "us"], vocab)
    assert strict == {"zeria": set(), "us": set()}


def test_a_word_one_letter_off_a_known_one_is_not_unknown():
    vocab = frozenset({"ctenophor", "zanamivir", "carrageenan", "ministri"})
    found = unknown_terms(["ctenphor", "zanamavir", "carageenan", "monotherapi", "foreign"], vocab, sorted(vocab))
    assert found == ("monotherapi", "foreign")


def test_a_misspelt_name_still_covers_the_sentence_that_spells_it_right(embedder):
    text = "Emperor Gegeen Khan ruled for only two years, from 1321 to 1323. The capital stayed in Dadu."
    passage = Passage(1, "c0", "yuan.txt", "Yuan dynasty", text, 0, len(text), 1.0)
    ex = extract(analyse("When was Geegen the emperor?"), [passage], embedder)
    by_text = {s.sentence.text: s for s in ex.ranked}
    gegeen = by_text["Emperor Gegeen Khan ruled for only two years, from 1321 to 1323."]
    assert "geegen" in gegeen.matched and gegeen.words > by_text["The capital stayed in Dadu."].words
    assert ex.chosen[0] is gegeen


@pytest.mark.parametrize("question, subject", [
    ("What is KATNAL1?", "KATNAL1"),
    ("What are coronaviruses?", "coronaviruses"),
    ("What is an incubation period?", "incubation period"),
    ("what is PPE", "PPE"),
    # about X, not its definition
    ("What is toltrazuril used to treat?", None),
    ("What is CHIKV marked by?", None),
    ("What is a function associated with IFITM5?", None),
    ("What is the main cause of HIV-1 infection in children?", None),
    ("What is another term for rotors?", None),
    ("How many personnel were injured?", None),
])
def test_definition_questions_name_their_subject(question, subject):
    assert definition_subject(question) == subject


@pytest.mark.parametrize("subject, text, expected", [
    ("KATNAL1", "KATNAL1 is a microtubule severing enzyme expressed in neurons.", True),
    ("coronaviruses", "Coronaviruses are spherical, enveloped RNA viruses.", True),
    ("coronaviruses", "A coronavirus is a virus with a crown of spikes.", True),
    ("incubation period", "The incubation period, the time from infection to onset, is five days.", True),
    ("PPE", "a physician in full Personal Protective Equipment (PPE) entered the plane", True),
    ("IFITM", "the interferon-induced transmembrane (IFITM) family proteins", True),
    ("IFITM", "IFITM proteins were found in the membrane.", False),
    ("KATNAL1", "Mice lacking KATNAL1 show deficits.", False),
    ("lockdown", "The lockdown banned gatherings of more than 2 people.", False),
])
def test_a_definition_is_recognised_only_in_its_usual_shapes(subject, text, expected):
    assert defines(text, subject) is expected


def test_irregular_verb_forms_match_their_base_from_spacys_table():
    from index import nlp
    from index import text as tokenizer

    forms = nlp.verb_forms()
    assert forms["struck"] == "strike" and forms["sought"] == "seek" and len(forms) > 1000
    vocab = {t for w in ("strike", "seek", "fought") for t in tokenizer.terms(w)}
    found = term_matches([*tokenizer.terms("struck"), *tokenizer.terms("sought"), *tokenizer.terms("fight")], vocab)
    assert all(found.values()), found  # each form finds the other form of its verb


def test_scholarly_abbreviations_end_no_sentence():
    from index.sentences import sentence_spans

    text = ("Cells were infected (Fig. 2A) as Smith et al. (2019) showed, e.g. at dawn. "
            "It consumes approx. 4 kg of steam. A new sentence.")
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Cells were infected (Fig. 2A) as Smith et al. (2019) showed, e.g. at dawn.",
        "It consumes approx. 4 kg of steam.", "A new sentence."]
    # an initial or a genus before a lower-case word ends no sentence; a lower-case word
    # after a sentence's own last word still starts one
    text = ("It enabled infectivity of Ae. albopictus in 2005. The founder E.I. du Pont came. "
            "It was let-7 miRNA. let-7 is a tumour suppressor.")
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "It enabled infectivity of Ae. albopictus in 2005.", "The founder E.I. du Pont came.",
        "It was let-7 miRNA.", "let-7 is a tumour suppressor."]


def test_a_focus_compound_and_the_acronyms_that_abbreviate_it():
    from qa.refusal import _abbreviates, _focus_missing

    q = analyse("What is the speed limit on Victorian freeways?")
    assert (q.focus_word, q.focus_compounds) == ("limit", ("speed",))
    assert _focus_missing(q, "The neighborhood extends to the city limits to the west.")
    assert not _focus_missing(q, "The speed limit on freeways is 100 km/h.")
    tb = analyse("How many new tuberculosis cases are there each year?")
    assert tb.focus_compounds == ("tuberculosis",)
    assert not _focus_missing(tb, "China has 13% of all TB cases worldwide.")
    assert _abbreviates("TB", "tuberculosis") and not _abbreviates("BT", "tuberculosis")
    # a compound the tagger reads as an adjective is part of the focus all the same
    ivermectin = analyse("How many ivermectin trials were run in 2020?")
    assert ivermectin.focus_compounds == ("ivermectin",)
    assert _focus_missing(ivermectin, "Among 23 trials found from the systematic review, nine are registered.")
    assert not _focus_missing(ivermectin, "Two ivermectin trials were registered in 2020.")


def test_a_unit_is_asked_by_how_many_of_it_and_named_by_its_symbol():
    from qa.asking import ask
    from qa.constraints import in_unit
    from qa.refusal import _focus_missing

    asked = ask("How many pounds of steam does the engine use per hour?")
    assert asked.unit == "pound"
    assert in_unit(asked, "8.8 lb") and in_unit(asked, "3 pounds") and not in_unit(asked, "27-30%")
    assert in_unit(ask("How many engines are there?"), "27-30%")  # no unit asked: any phrase
    q = analyse("How many pounds of steam does the engine use per hour?")
    assert not _focus_missing(q, "It consumes approx. 4 kg (8.8 lb) of steam per kWh.")
    assert _focus_missing(q, "It consumes approx. 4 kg of steam per kWh.")


def test_an_area_is_not_in_a_unit_of_length_nor_a_length_in_one_of_area():
    from qa.asking import ask
    from qa.constraints import in_unit

    length = ask("How long is the Amazon River in kilometres?")
    assert length.unit == "kilometre"
    assert in_unit(length, "6,400 km") and not in_unit(length, "7,000,000 square kilometres")
    area = ask("The rate of clearing was how many square miles per year?")
    assert area.unit == "square mile"
    assert in_unit(area, "8,646 sq mi") and not in_unit(area, "22,392 miles")
