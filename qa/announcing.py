"""A sentence that announces what the next one says.

"Baculoviruses have a number of advantages as vaccine vectors." answers "what is the
advantage of baculoviruses?" only with the sentence after it, which names them. Such a
sentence counts, without naming, the very things the question asks about: a plural noun
of the question ("advantages", "criteria", "vectors") quantified but not listed
("several", "a number of", "two"), or it ends with a colon. The parse (spaCy) gives the
noun, its tag (plural) and its modifiers; the few quantifiers that count without naming are
written out below, since no tagger marks them apart from "all" or "the".
"""
from __future__ import annotations

from .asking import NUMBER, Asked

# determiners / adjectives that count a set without naming its members
COUNTING = frozenset("several multiple various numerous many some different following".split())
# "a number of X", "a variety of X": the head that counts, X its object
COUNTING_HEADS = frozenset("number variety range series list set host".split())
# a set that is named in the same sentence is not announced
_NAMING = frozenset(("including", "include", "includes", "such", "e.g.", "namely", ":"))
_LISTING = frozenset(("among", "including", "namely", "e.g.", "i.e."))  # anywhere after the noun


def announces(asked: Asked, doc) -> bool:
    """``doc`` (a parsed sentence) counts the thing the question asks about without naming
    it: the focus noun, plural, quantified ("a number of advantages", "two vectors"; a number
    only when the question does not ask for one), and neither listed after it ("including …")
    nor named as the subject it is said of ("A and B are the two factors")."""
    if doc.text.rstrip().endswith(":"):
        return True
    if not asked.focus:
        return False
    for tok in doc:
        if tok.tag_ != "NNS" or tok.lemma_.lower() != asked.focus or tok.dep_ == "attr":
            continue
        counted = any(c.dep_ in ("amod", "det", "nummod")
                      and (c.lower_ in COUNTING or (c.like_num and asked.kind != NUMBER))
                      for c in tok.children)
        head = tok.head
        if tok.dep_ == "pobj" and head.lower_ == "of" and head.head.lemma_.lower() in COUNTING_HEADS:
            counted = True
        if counted and not _names_them(doc, tok):
            return True
    return False


def _names_them(doc, tok) -> bool:
    """The sentence names the members of the counted ``tok`` after all: a list word after it
    ("including …", "among them …"), an apposition or conjunct of it, or a list of two or more
    nouns after it, wherever the parse hangs it ("several sports, among them cricket, rallying,
    football …")."""
    after = doc[tok.i + 1 :]
    if any(t.lower_ in _NAMING for t in tok.subtree) or any(t.lower_ in _LISTING for t in after):
        return True
    if any(c.dep_ in ("appos", "conj") for c in tok.children):
        return True
    return sum(t.dep_ == "conj" and t.pos_ in ("NOUN", "PROPN") for t in after) >= 2
