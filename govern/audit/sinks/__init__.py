"""Where chained lines go. A sink owns the lock and the chain head.

Protocol: `head` -> (seq, hash) of the last record; `locked()` is a context
manager that excludes every other writer (threads and processes) and refreshes
`head`; `write(line, record)` appends while locked and returns `record` (the
trail turns that dict into the returned AuditRecord in place: do not keep it); `close()`.
"""

from .file import FileSink
from .null import NullSink

__all__ = ["FileSink", "NullSink", "PostgresSink"]


def __getattr__(name):  # psycopg is optional: import it only when asked for
    if name == "PostgresSink":
        from .postgres import PostgresSink

        return PostgresSink
    raise AttributeError(name)
