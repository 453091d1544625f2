"""The trading journal: every published event appended to SQLite (WAL mode), one file per session.

Each event is committed as it arrives (``synchronous=NORMAL`` under WAL: durable across a
process crash), so nothing that was published is lost if the session dies.

Every text field is passed through :func:`mmlab.redaction.redact` before it is written: a
venue's words in a reject reason (an echoed API key, a signed URL) never reach the file.
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pandas as pd

from mmlab.redaction import redact
from mmlab.runtime._events import event_to_dict

__all__ = ["Journal"]


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, str):
        return redact(v)
    return v


class Journal:
    """Append-only SQLite journal of events.

    Parameters
    ----------
    path : str or Path
        The SQLite file (created with its parent folder if missing).

    Examples
    --------
    >>> import tempfile, os
    >>> from mmlab.runtime import Journal, RiskEvent
    >>> with tempfile.TemporaryDirectory() as d:
    ...     j = Journal(os.path.join(d, "session.sqlite"))
    ...     j.record(RiskEvent(1, "BTCUSDT", "kill", "desk"))
    ...     df = j.read(); j.close()
    >>> df[["ts", "type", "kind"]].to_dict("records")
    [{'ts': 1, 'type': 'RiskEvent', 'kind': 'kill'}]
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(str(self.path))
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
            "ts INTEGER NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL)"
        )
        self._con.commit()

    def record(self, event) -> None:
        """Append one event (a bus subscriber: ``bus.subscribe(journal.record)``)."""
        d = event_to_dict(event)
        payload = json.dumps({k: _clean(v) for k, v in d.items()}, allow_nan=False)
        with self._con:
            self._con.execute("INSERT INTO events (ts, type, payload) VALUES (?, ?, ?)",
                              (int(d.get("ts", 0)), redact(d["type"]), payload))

    def read(self, types: tuple[str, ...] = ()) -> pd.DataFrame:
        """The journal as a DataFrame, one row per event, payload fields as columns."""
        q = "SELECT seq, payload FROM events"
        rows = self._con.execute(q + " ORDER BY seq").fetchall()
        recs = [dict(json.loads(p), seq=s) for s, p in rows]
        df = pd.DataFrame.from_records(recs)
        if types and len(df):
            df = df[df["type"].isin(types)].reset_index(drop=True)
        return df

    def close(self) -> None:
        """Close the database."""
        self._con.close()
