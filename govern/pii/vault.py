"""The pseudonym vault: per conversation, value <-> `<TYPE_N>` token, bounded.

:class:`VaultBackend` is the interface the engine uses; :class:`PseudonymVault`
(in memory, the default) implements it here, :class:`govern.pii.vault_pg.PostgresVault`
(``pii.vault.backend: postgresql``) in a table shared by workers and restarts.

The in-memory vault:

* lives in one process, owned by one :class:`PiiEngine`; thread-safe;
* a conversation idle for ``ttl_seconds`` is forgotten (its tokens can no
  longer be revealed, and new turns number from 1 again);
* at most ``max_conversations`` conversations (least recently used evicted) and
  ``max_values_per_conversation`` values each (beyond that a value is masked
  with a bare, non-revealable `<TYPE>` token).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

from .settings import VaultSettings


Part = tuple[str, int, int, str]


@dataclass
class _Conversation:
    last_used: float
    by_value: dict[tuple[str, str], str] = field(default_factory=dict)
    # token -> (type, original, parts); parts: (type, start, end, replacement) inside
    # original, values of other types that reveal() masks unless their type is granted
    by_token: dict[str, tuple[str, str, tuple[Part, ...]]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)


class VaultBackend(ABC):
    """Where a conversation's tokens live. ``conversation`` is the engine's scope
    key (the governor's :meth:`~govern.Governor.conversation_scope`: principal and
    conversation id together), ``canonical`` the value's canonical form.

    * the same (entity, canonical) in one conversation always gets the same token,
      different values different tokens, numbered per type from 1;
    * ``revealable=False`` (the placeholder operator given a conversation) numbers
      the value like a pseudonym but :meth:`lookup` never returns it;
    * beyond ``max_values_per_conversation`` values a bare ``<TYPE>`` is returned;
    * a conversation idle ``ttl_seconds`` is forgotten (numbering restarts at 1).
    """

    @abstractmethod
    def token_for(
        self,
        conversation: str,
        entity: str,
        canonical: str,
        original: str,
        parts: tuple[Part, ...] = (),
        *,
        revealable: bool = True,
    ) -> str: ...

    @abstractmethod
    def lookup(self, conversation: str, token: str) -> tuple[str, str, tuple[Part, ...]] | None:
        """(type, original, parts) of a revealable token of the conversation, or None."""

    @abstractmethod
    def forget(self, conversation: str) -> None: ...

    def close(self) -> None:  # noqa: B027 -- optional
        """Release connections (the in-memory vault has none)."""


class PseudonymVault(VaultBackend):
    """The in-memory backend (the default)."""

    def __init__(self, settings: VaultSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self._s = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._convs: OrderedDict[str, _Conversation] = OrderedDict()

    def __repr__(self) -> str:  # never show values
        return f"<PseudonymVault conversations={len(self._convs)}>"

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._convs)

    def _expire(self, now: float) -> None:
        ttl = self._s.ttl_seconds
        while self._convs:
            cid, conv = next(iter(self._convs.items()))
            if now - conv.last_used >= ttl:
                del self._convs[cid]
            else:
                break

    def _touch(self, conversation: str, create: bool) -> _Conversation | None:
        now = self._clock()
        self._expire(now)
        conv = self._convs.get(conversation)
        if conv is None:
            if not create:
                return None
            conv = _Conversation(last_used=now)
            self._convs[conversation] = conv
            while len(self._convs) > self._s.max_conversations:
                self._convs.popitem(last=False)
        conv.last_used = now
        self._convs.move_to_end(conversation)
        return conv

    def token_for(
        self,
        conversation: str,
        entity: str,
        canonical: str,
        original: str,
        parts: tuple[Part, ...] = (),
        *,
        revealable: bool = True,
    ) -> str:
        """The conversation's token for this value, assigning the next one if new.

        ``parts`` are spans of ``original`` holding values of other types; a value
        seen again adds its parts (same-length originals only, so offsets hold):
        more masking on reveal, never less."""
        with self._lock:
            conv = self._touch(conversation, create=True)
            assert conv is not None
            key = (entity, canonical)
            tok = conv.by_value.get(key)
            if tok is not None:
                if parts and tok in conv.by_token:
                    ent, orig, old = conv.by_token[tok]
                    if len(orig) == len(original):
                        conv.by_token[tok] = (ent, orig, tuple(sorted(set(old) | set(parts))))
                return tok
            if len(conv.by_value) >= self._s.max_values_per_conversation:
                return f"<{entity}>"
            n = conv.counters.get(entity, 0) + 1
            conv.counters[entity] = n
            tok = f"<{entity}_{n}>"
            conv.by_value[key] = tok
            if revealable:
                conv.by_token[tok] = (entity, original, tuple(sorted(set(parts))))
            return tok

    def lookup(self, conversation: str, token: str) -> tuple[str, str, tuple[Part, ...]] | None:
        """(type, original, parts) of a token of the conversation, or None."""
        with self._lock:
            conv = self._touch(conversation, create=False)
            if conv is None:
                return None
            return conv.by_token.get(token)

    def forget(self, conversation: str) -> None:
        with self._lock:
            self._convs.pop(conversation, None)
