"""Each browser session's conversation in :class:`qa.history.History`: its answers, the
thumbs up/down on them, and the exports. No gradio: :mod:`ui.handlers` and :mod:`ui.api` use it.

A session's conversation (a ``gr.State`` in the page) is a dict: its id in the history (None
until the first answer) and, for the like/dislike buttons, which turn each assistant chat
message is: ``{"id": str | None, "turns": {message index: turn}}``.
"""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from index import BadRequest
from qa import export_json, export_markdown
from qa.history import History
from qa.types import Answer

log = logging.getLogger(__name__)

Conversation = dict
EXPORTS = {"md": export_markdown, "json": export_json}


class Conversations:
    """The history (``settings.history_path``, opened on first use) as the page uses it."""

    def __init__(self, settings):
        self.settings = settings
        self._history: History | None = None
        self._export_dir: Path | None = None

    @property
    def history(self) -> History:
        if self._history is None:
            self._history = History(self.settings)
        return self._history

    def record(self, conversation: Conversation | None, answer: Answer, message: int,
               collection: str) -> Conversation:
        """``conversation`` with ``answer`` (chat message ``message``) stored; unchanged, and
        the failure logged, when the history cannot be written (the answer is shown anyway)."""
        conversation = {"id": None, "turns": {}, **(conversation or {})}
        try:
            cid = conversation["id"] or self.history.new_conversation()
            turn = self.history.add(cid, answer, collection=collection)
        except Exception:
            log.exception("storing the answer to %r in the history failed", answer.question)
            return conversation
        return {"id": cid, "turns": {**conversation["turns"], message: turn}}

    def rate(self, conversation: Conversation | None, message: int, liked: bool | str | None) -> bool:
        """The chat's like (True) or dislike (False) of message ``message``; anything else
        (the thumb clicked again) takes the rating back. False when that message is no
        stored answer (an error shown in the chat)."""
        cid = (conversation or {}).get("id")
        turn = (conversation or {}).get("turns", {}).get(message)
        if cid is None or turn is None:
            return False
        if liked is True or liked is False:
            self.history.feedback(cid, turn, "up" if liked else "down")
        else:
            self.history.clear_feedback(cid, turn)
        return True

    def export(self, conversation: Conversation | None, fmt: str) -> str | None:
        """The session's conversation so far as a file (``fmt``: "md" or "json") for download:
        its path, or None before the first answer. Written to this process's own temp folder."""
        if fmt not in EXPORTS:
            raise BadRequest(f"Export as md or json, not {fmt!r}.")
        cid = (conversation or {}).get("id")
        if cid is None:
            return None
        if self._export_dir is None:
            self._export_dir = Path(tempfile.mkdtemp(prefix="qa-exports-"))
        path = self._export_dir / f"conversation-{cid[:8]}.{fmt}"
        path.write_text(EXPORTS[fmt](self.history.answers(cid)), encoding="utf-8")
        return str(path)
