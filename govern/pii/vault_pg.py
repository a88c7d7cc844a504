"""The pseudonym vault in PostgreSQL: shared by every worker, kept across restarts.

``pii.vault.backend: postgresql`` in rules.yaml; the connection string comes from
the environment variable ``pii.vault.dsn_env`` (default ``GOVERN_VAULT_DSN``) and
the secret from ``pii.vault.key_env`` (default ``GOVERN_VAULT_KEY``, at least 32
bytes), never from the bundle. Two tables (``pii.vault.table``, default
``govern_pii_vault``), created when missing::

    govern_pii_vault_scopes (scope bytea PRIMARY KEY, expires_at double precision)
    govern_pii_vault (scope bytea, digest bytea, entity text, n int, token text,
                      revealable bool, sealed bytea, PRIMARY KEY (scope, digest),
                      UNIQUE (scope, token))

* ``scope`` is HMAC-SHA256 of the engine's scope key (principal and conversation
  together, see ``Governor.conversation_scope``), ``digest`` HMAC-SHA256 of the
  type and the value's canonical form: neither the principal, the conversation id
  nor the value is stored in clear;
* ``sealed`` is the original value and its parts, AES-256-GCM encrypted (the
  ``cryptography`` package) with a random nonce and the row's scope and token as
  associated data, so a sealed value copied to another row does not decrypt; a
  placeholder (not revealable) stores no value at all;
* both keys are derived from the one secret with HKDF-SHA256 (distinct labels);
* numbering is serialised per conversation with a transaction-scoped advisory
  lock, so two workers give the same value the same token and different values
  different tokens;
* a conversation idle ``ttl_seconds`` (any worker's use counts) is forgotten: its
  rows are deleted when it is next used, and expired conversations are purged at
  most once a minute by each vault.

A database error raises (the engine then masks nothing and returns nothing):
fail closed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from typing import Callable

from .nlp import PiiConfigError
from .settings import VaultSettings
from .vault import Part, VaultBackend

MIN_SECRET_BYTES = 32
PURGE_EVERY_SECONDS = 60.0


def _derive(secret: bytes, label: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"govern-pii-vault", info=label).derive(secret)


class PostgresVault(VaultBackend):
    """:class:`~govern.pii.vault.VaultBackend` in PostgreSQL (see the module docstring).

    :param dsn: libpq connection string.
    :param secret: the configured secret (bytes or str, >= 32 bytes).
    :param clock: wall-clock seconds (shared by all workers: ``time.time``).
    """

    def __init__(
        self,
        settings: VaultSettings,
        dsn: str,
        secret: bytes | str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        if len(secret) < MIN_SECRET_BYTES:
            raise PiiConfigError(f"the pseudonym vault secret must be at least {MIN_SECRET_BYTES} bytes")
        try:
            import psycopg  # noqa: F401
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError as err:  # pragma: no cover - depends on the extras installed
            raise PiiConfigError(
                f"pii.vault.backend: postgresql needs psycopg and cryptography (pip install 'govern[vault]'): {err}"
            ) from None
        self._s = settings
        self._dsn = dsn
        self._clock = clock
        self._scope_key = _derive(secret, b"scope")
        self._digest_key = _derive(secret, b"digest")
        self._aead = AESGCM(_derive(secret, b"seal"))
        self._lock = threading.Lock()
        self._conn = None
        self._last_purge = float("-inf")
        t = settings.table
        self._t, self._ts = t, f"{t}_scopes"
        with self._lock:
            self._connect()

    def __repr__(self) -> str:  # never show values, nor the DSN (it may hold a password)
        return f"<PostgresVault table={self._t}>"

    # ---- connection -------------------------------------------------------------------
    def _connect(self):
        import psycopg

        if self._conn is not None and not self._conn.closed:
            return self._conn
        conn = psycopg.connect(self._dsn, autocommit=True)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._t,))
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self._ts} (scope bytea PRIMARY KEY, expires_at double precision NOT NULL)"
            )
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self._t} ("
                f"scope bytea NOT NULL REFERENCES {self._ts} (scope) ON DELETE CASCADE, "
                "digest bytea NOT NULL, entity text NOT NULL, n integer NOT NULL, token text NOT NULL, "
                "revealable boolean NOT NULL, sealed bytea, "
                "PRIMARY KEY (scope, digest), UNIQUE (scope, token))"
            )
        self._conn = conn
        return conn

    def _run(self, fn):
        """``fn(conn)`` in one transaction; one reconnect when the connection was lost."""
        import psycopg

        with self._lock:
            for attempt in (0, 1):
                conn = self._connect()
                try:
                    with conn.transaction():
                        return fn(conn)
                except psycopg.OperationalError:
                    if attempt or not conn.closed:
                        raise
                    self._conn = None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # ---- keys and sealing -----------------------------------------------------------------
    def _scope(self, conversation: str) -> bytes:
        return hmac.new(self._scope_key, conversation.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()

    def _digest(self, entity: str, canonical: str) -> bytes:
        msg = f"{entity}\x00{canonical}".encode("utf-8", "surrogatepass")
        return hmac.new(self._digest_key, msg, hashlib.sha256).digest()

    def _seal(self, scope: bytes, token: str, entity: str, original: str, parts) -> bytes:
        nonce = os.urandom(12)
        plain = json.dumps({"e": entity, "v": original, "p": [list(p) for p in parts]}).encode(
            "utf-8", "surrogatepass"
        )
        return nonce + self._aead.encrypt(nonce, plain, scope + token.encode())

    def _open(self, scope: bytes, token: str, sealed: bytes):
        plain = json.loads(self._aead.decrypt(bytes(sealed[:12]), bytes(sealed[12:]), scope + token.encode()))
        return plain["e"], plain["v"], tuple(tuple(p) for p in plain["p"])

    # ---- the conversation -----------------------------------------------------------------
    def _touch(self, conn, scope: bytes, create: bool) -> bool:
        """Lock the conversation, forget it when it expired, extend it; False when absent."""
        now = self._clock()
        if now - self._last_purge >= PURGE_EVERY_SECONDS:
            conn.execute(f"DELETE FROM {self._ts} WHERE expires_at <= %s", (now,))
            self._last_purge = now
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (scope.hex(),))
        row = conn.execute(f"SELECT expires_at FROM {self._ts} WHERE scope = %s", (scope,)).fetchone()
        if row is not None and row[0] <= now:
            conn.execute(f"DELETE FROM {self._ts} WHERE scope = %s", (scope,))  # rows go with it (cascade)
            row = None
        if row is None and not create:
            return False
        conn.execute(
            f"INSERT INTO {self._ts} (scope, expires_at) VALUES (%s, %s) "
            "ON CONFLICT (scope) DO UPDATE SET expires_at = EXCLUDED.expires_at",
            (scope, now + self._s.ttl_seconds),
        )
        return True

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
        scope, digest = self._scope(conversation), self._digest(entity, canonical)

        def fn(conn) -> str:
            self._touch(conn, scope, create=True)
            row = conn.execute(
                f"SELECT token, revealable, sealed FROM {self._t} WHERE scope = %s AND digest = %s", (scope, digest)
            ).fetchone()
            if row is not None:
                token, was_revealable, sealed = row
                if parts and was_revealable and sealed is not None:
                    ent, orig, old = self._open(scope, token, sealed)
                    merged = tuple(sorted(set(old) | {tuple(p) for p in parts}))
                    if len(orig) == len(original) and merged != tuple(sorted(set(old))):
                        conn.execute(
                            f"UPDATE {self._t} SET sealed = %s WHERE scope = %s AND digest = %s",
                            (self._seal(scope, token, ent, orig, merged), scope, digest),
                        )
                return token
            used, n = conn.execute(
                f"SELECT count(*), coalesce(max(n) FILTER (WHERE entity = %s), 0) FROM {self._t} WHERE scope = %s",
                (entity, scope),
            ).fetchone()
            if used >= self._s.max_values_per_conversation:
                return f"<{entity}>"
            token = f"<{entity}_{n + 1}>"
            sealed = self._seal(scope, token, entity, original, tuple(sorted(set(parts)))) if revealable else None
            conn.execute(
                f"INSERT INTO {self._t} (scope, digest, entity, n, token, revealable, sealed) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (scope, digest, entity, n + 1, token, revealable, sealed),
            )
            return token

        return self._run(fn)

    def lookup(self, conversation: str, token: str) -> tuple[str, str, tuple[Part, ...]] | None:
        scope = self._scope(conversation)

        def fn(conn):
            if not self._touch(conn, scope, create=False):
                return None
            row = conn.execute(
                f"SELECT sealed FROM {self._t} WHERE scope = %s AND token = %s AND revealable", (scope, token)
            ).fetchone()
            return None if row is None or row[0] is None else self._open(scope, token, row[0])

        return self._run(fn)

    def forget(self, conversation: str) -> None:
        scope = self._scope(conversation)
        self._run(lambda conn: conn.execute(f"DELETE FROM {self._ts} WHERE scope = %s", (scope,)))

    def conversations(self) -> int:
        """Conversations not yet expired (for tests and monitoring; no values)."""
        now = self._clock()
        return self._run(lambda conn: conn.execute(f"SELECT count(*) FROM {self._ts} WHERE expires_at > %s", (now,)).fetchone()[0])


def vault_from_settings(settings: VaultSettings, clock: Callable[[], float] | None = None) -> PostgresVault:
    """The PostgreSQL vault configured by ``settings``, its DSN and secret read from
    the environment; a clear error naming the variable when one is missing."""
    dsn = os.environ.get(settings.dsn_env)
    secret = os.environ.get(settings.key_env)
    missing = [name for name, v in ((settings.dsn_env, dsn), (settings.key_env, secret)) if not v]
    if missing:
        raise PiiConfigError(
            f"pii.vault.backend is postgresql but {' and '.join('$' + m for m in missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set (the connection string and the vault secret)"
        )
    return PostgresVault(settings, dsn, secret, **({"clock": clock} if clock else {}))
