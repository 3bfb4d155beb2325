"""Conversations and their feedback, kept in one SQLite file beside the index.

    history = History(settings)                  # settings.history_path (QA_HISTORY_PATH)
    cid = history.new_conversation()             # an opaque id
    turn = history.add(cid, answer, collection=settings.collection)   # 0, 1, ...
    history.feedback(cid, turn, "down", "the date is wrong")
    history.answers(cid)                         # [Answer.to_dict(), ...], oldest first
    history.feedback_rows()                      # one dict per rated turn, for export

The file is in WAL mode, and every call opens its own connection for one short transaction,
so threads and processes (several app workers) can share it. A turn's number is taken
inside the transaction that writes it (``BEGIN IMMEDIATE``), so concurrent adds never clash.
"""
from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import datetime, timezone
from pathlib import Path

from .errors import BadRequest, NotFound
from .types import Answer

__all__ = ["History", "NotFound", "RATINGS"]

RATINGS = ("up", "down")
_BUSY_TIMEOUT = 30.0  # seconds a writer waits for another's transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    turn INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,          -- Answer.to_dict() as JSON
    answerer TEXT NOT NULL,
    collection TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (conversation_id, turn)
);
CREATE TABLE IF NOT EXISTS feedback (
    conversation_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    PRIMARY KEY (conversation_id, turn),
    FOREIGN KEY (conversation_id, turn) REFERENCES turns(conversation_id, turn)
);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class History:
    """The conversations and feedback of ``settings.history_path``."""

    def __init__(self, settings, *, path: Path | None = None):
        self.path = Path(path if path is not None else settings.history_path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT, isolation_level=None)) as db:
                db.execute("PRAGMA journal_mode=WAL")  # kept by the file: readers never block the writer
                db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise BadRequest(
                f"Cannot open the conversation history {self.path} ({exc}). "
                "Set QA_HISTORY_PATH to a writable file."
            ) from exc

    @contextmanager
    def _transaction(self, immediate: bool = False) -> Iterator[sqlite3.Connection]:
        """One connection, one transaction: committed on success, rolled back on error."""
        with closing(sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT, isolation_level=None)) as db:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @staticmethod
    def _require(db: sqlite3.Connection, conversation_id: str) -> None:
        if db.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone() is None:
            raise NotFound(f"There is no conversation {conversation_id!r}: start one with a new question.")

    def new_conversation(self) -> str:
        conversation_id = uuid.uuid4().hex
        with self._transaction() as db:
            db.execute("INSERT INTO conversations (id, created) VALUES (?, ?)", (conversation_id, _now()))
        return conversation_id

    def add(self, conversation_id: str, answer: Answer | Mapping, *, collection: str) -> int:
        """Append ``answer`` (or its ``to_dict()``) as the conversation's next turn; returns its
        number (0-based)."""
        record = answer.to_dict() if isinstance(answer, Answer) else dict(answer)
        data = json.dumps(record, ensure_ascii=False)
        with self._transaction(immediate=True) as db:
            self._require(db, conversation_id)
            (turn,) = db.execute(
                "SELECT COALESCE(MAX(turn) + 1, 0) FROM turns WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()
            db.execute(
                "INSERT INTO turns (conversation_id, turn, question, answer, answerer, collection, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, turn, record["question"], data, record["answerer"], collection, _now()),
            )
        return turn

    def answers(self, conversation_id: str) -> list[dict]:
        """``Answer.to_dict()`` of each turn, oldest first (``[]`` for a new conversation)."""
        with self._transaction() as db:
            self._require(db, conversation_id)
            rows = db.execute(
                "SELECT answer FROM turns WHERE conversation_id = ? ORDER BY turn", (conversation_id,)
            ).fetchall()
        return [json.loads(row["answer"]) for row in rows]

    def feedback(self, conversation_id: str, turn: int, rating: str, comment: str = "") -> None:
        """Rate a turn ``"up"`` or ``"down"`` (a second rating replaces the first)."""
        if rating not in RATINGS:
            raise BadRequest(f"A rating is \"up\" or \"down\", not {rating!r}.")
        with self._transaction(immediate=True) as db:
            self._require_turn(db, conversation_id, turn)
            db.execute(
                "INSERT INTO feedback (conversation_id, turn, rating, comment, created) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (conversation_id, turn) DO UPDATE SET "
                "rating = excluded.rating, comment = excluded.comment, created = excluded.created",
                (conversation_id, turn, rating, comment or "", _now()),
            )

    def clear_feedback(self, conversation_id: str, turn: int) -> None:
        """Take back a turn's rating (a second click on the same thumb)."""
        with self._transaction(immediate=True) as db:
            self._require_turn(db, conversation_id, turn)
            db.execute("DELETE FROM feedback WHERE conversation_id = ? AND turn = ?", (conversation_id, turn))

    def _require_turn(self, db: sqlite3.Connection, conversation_id: str, turn: int) -> None:
        self._require(db, conversation_id)
        found = isinstance(turn, int) and not isinstance(turn, bool) and db.execute(
            "SELECT 1 FROM turns WHERE conversation_id = ? AND turn = ?", (conversation_id, turn)
        ).fetchone()
        if not found:
            (count,) = db.execute("SELECT COUNT(*) FROM turns WHERE conversation_id = ?",
                                  (conversation_id,)).fetchone()
            raise BadRequest(f"The conversation has no turn {turn!r}: it has turns 0 to {count - 1}."
                             if count else f"The conversation has no turn {turn!r}: it has none yet.")

    def feedback_rows(self) -> Iterator[dict]:
        """Every rated turn, oldest rating first: the question, the answer's text and
        citations, the answerer, the collection, the rating, the comment, the time (ISO)."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT f.conversation_id, f.turn, f.rating, f.comment, f.created, t.answer, t.collection "
                "FROM feedback f JOIN turns t USING (conversation_id, turn) ORDER BY f.created, f.rowid"
            ).fetchall()
        for row in rows:
            answer = json.loads(row["answer"])
            yield {
                "conversation_id": row["conversation_id"], "turn": row["turn"],
                "question": answer["question"], "answer": answer["text"], "citations": answer["citations"],
                "answerer": answer["answerer"], "collection": row["collection"],
                "rating": row["rating"], "comment": row["comment"], "time": row["created"],
            }
