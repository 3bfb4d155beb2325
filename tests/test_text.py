"""The app's tokenizer (index.text): BM25 and answering share it."""
from concurrent.futures import ThreadPoolExecutor

from index import text


def test_words_keep_hyphenated_forms_and_their_parts():
    assert text.words("COVID-19 isn’t U.S.") == ["covid-19", "covid", "19", "isn't", "isn", "t", "u.s", "u", "s"]


def test_terms_are_the_stems_of_the_content_words():
    assert text.terms("The runners are running") == text.stem_words(["runners", "running"]) == ["runner", "run"]


def test_stemming_from_many_threads_gives_the_same_stems():
    words = [f"walking{i}" for i in range(200)] + ["connections", "happily"]
    expected = text.stem_words(words)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: text.stem_words(words), range(16)))
    assert all(r == expected for r in results)
