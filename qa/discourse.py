"""How a sentence hangs on its neighbour, read from its first words: whether it refers back
to the sentence before ("This …", "Thus, …", "the command" after "U.S. Central Command"),
goes on with it ("They are also …", "Moreover, …") or continues about what it named ("The
U.S. strikes …" after "… precision strikes …"). :mod:`qa.reading` quotes such neighbours
with the sentence that answers.
"""
from __future__ import annotations

import re

from .extractive import ANAPHOR

_DEFINITE = re.compile(r"\b[Tt]he ([a-z]+)\b")
# a sentence that concludes from the one before it ("Thus, DNA can arise from RNA …")
_CONCLUDING = re.compile(r"^[\"“'(]*(?:Thus|Therefore|Hence|Consequently|As a result|Accordingly)\b")
# a sentence that adds to the one before it: "Moreover, …", "Other risk factors include …"
# (a turn, "However, …", qualifies it instead, and is left out)
_ADDING = re.compile(r"^[\"“'(]*(?:Moreover|Furthermore|In addition|Additionally|Also|Besides|Likewise|Similarly|"
                     r"Other|Another|The second|Second(?:ly)?|Despite)\b")


def refers_back(sentence: str, before: str) -> bool:
    """``sentence`` opens with a pronoun or concludes from the sentence before ("Thus, …"),
    or names "the X" where X is part of a name in the sentence before ("In a statement, the
    command said" after "… U.S. Central Command.")."""
    if ANAPHOR.match(sentence) or _CONCLUDING.match(sentence):
        return True
    for m in _DEFINITE.finditer(sentence[:60]):
        noun = m.group(1)
        if len(noun) > 3 and re.search(rf"\b[A-Z][\w.-]* (?:[A-Z][\w.-]* )*{noun.capitalize()}\b", before) \
                and not re.search(rf"\b{noun.capitalize()}\b", sentence):
            return True
    return False


def goes_on(nxt: str) -> bool:
    """``nxt`` says more of what the sentence before it said: it opens with a pronoun
    ("They are also …"), a word that adds to it ("Moreover, …") or one that concludes from
    it ("Thus, …")."""
    return bool(ANAPHOR.match(nxt) or _ADDING.match(nxt) or _CONCLUDING.match(nxt))


_OPENING_THE = re.compile(r"^[\"“'(]*The ((?:[\w.-]+ ){0,2}[\w-]+)")


def continues(nxt: str, sentence: str) -> bool:
    """``nxt`` goes on about what ``sentence`` said: it opens with a pronoun, or with "The
    … X" where X is a word of ``sentence`` ("… precision strikes …" + "The U.S. strikes …")."""
    if ANAPHOR.match(nxt):
        return True
    m = _OPENING_THE.match(nxt)
    if not m:
        return False
    words = {w.lower().rstrip("s") for w in re.findall(r"[A-Za-z][\w-]{3,}", sentence)}
    return any(w.lower().rstrip("s") in words for w in m.group(1).split() if len(w) > 3)
