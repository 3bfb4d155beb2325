"""Which documents a question may be answered from: ``sources=[...]`` resolved to names.

A requested name is an exact document name (as ``python -m index status`` lists them) or a
glob pattern (:mod:`fnmatch`: ``reports/*.pdf``). :func:`resolve` turns the request into
the indexed names it means, once per question; a name that is not indexed, or a pattern
that matches nothing, is a :class:`BadRequest` naming close matches (or what there is).
"""
from __future__ import annotations

import difflib
import fnmatch
import inspect
from collections.abc import Sequence

from index import BadRequest

__all__ = ["listed", "resolve", "resolve_for", "takes_sources", "unknown"]

_GLOB = frozenset("*?[")
_SHOWN = 8  # names listed in a message before "and N more"


def resolve(requested: str | Sequence[str] | None, available: Sequence[str]) -> tuple[str, ...]:
    """The indexed names ``requested`` means, in the order asked (``()``: all documents)."""
    if requested is None:
        return ()
    if isinstance(requested, str):
        requested = [requested]
    if not isinstance(requested, (list, tuple)) or not all(isinstance(r, str) for r in requested):
        raise BadRequest("sources must be a list of document names or patterns (text), "
                         "e.g. [\"report.pdf\", \"notes/*.md\"].")
    wanted = [r.strip() for r in requested if r.strip()]
    if not wanted:
        return ()
    names = sorted(set(available))
    known = set(names)
    out: dict[str, None] = {}
    for name in wanted:
        if name in known:
            out[name] = None
            continue
        matched = fnmatch.filter(names, name) if _GLOB & set(name) else []
        if not matched:
            raise BadRequest(unknown(name, names))
        out.update(dict.fromkeys(matched))
    return tuple(out)


def resolve_for(requested, reader) -> tuple[str, ...]:
    """:func:`resolve` against ``reader``'s documents (an :class:`~qa.evidence.Evidence`)."""
    names = getattr(reader, "source_names", None)
    if names is None:
        raise BadRequest(f"This assistant's index ({type(reader).__name__}) cannot list its documents, "
                         "so it cannot answer from chosen ones: leave sources out.")
    return resolve(requested, names())


def unknown(name: str, names: list[str]) -> str:
    """What to say about ``name``, which is not among the indexed ``names`` (sorted)."""
    what = "matches" if _GLOB & set(name) else "is called"
    head = f"No indexed document {what} {name!r}."
    if not names:
        return f"{head} The index has no documents yet: run `python -m index build`."
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    if close:
        return f"{head} Did you mean {listed(close, 'or')}?"
    return (f"{head} The indexed documents are {listed(names, 'and')} "
            "(`python -m index status` lists them; a pattern such as reports/*.pdf also works).")


def listed(names: Sequence[str], conjunction: str = "and") -> str:
    """``a, b and c`` (``a, b, … and 7 more`` past a few)."""
    names = list(names)
    if len(names) > _SHOWN:
        return f"{', '.join(names[:_SHOWN - 1])} {conjunction} {len(names) - _SHOWN + 1} more"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def takes_sources(retriever) -> bool:
    """Whether a custom retriever accepts the keyword ``sources`` (or any keyword)."""
    try:
        params = inspect.signature(retriever).parameters.values()
    except (TypeError, ValueError):  # a builtin or C callable: assume the plain (query, k)
        return False
    return any((p.name == "sources" and p.kind is not p.POSITIONAL_ONLY) or p.kind is p.VAR_KEYWORD
               for p in params)
