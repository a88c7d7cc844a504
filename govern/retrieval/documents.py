"""Reading text, metadata and id from any document shape, and copying one with its strings masked.

Plain dicts (``{"text" | "page_content" | "content": ..., "metadata": {...}}``, or a
flat dict whose other keys are the metadata) and objects (LangChain ``Document``,
dataclasses, pydantic models, anything with ``page_content`` / ``text`` /
``content`` and ``metadata`` attributes) work as they are; pass ``text=``,
``metadata=`` and ``map_strings=`` to the wrapper for other shapes.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import decimal
import math
import uuid
from collections.abc import Callable, Iterable
from typing import Any

TEXT_KEYS = ("text", "page_content", "content")


class NoText(Exception):
    pass


def _text_key(doc: Any) -> str:
    if isinstance(doc, dict):
        for key in TEXT_KEYS:
            if isinstance(doc.get(key), str):
                return key
    else:
        for key in TEXT_KEYS:
            if isinstance(getattr(doc, key, None), str):
                return key
    raise NoText("document has no text (text, page_content or content)")


def text_of(doc: Any) -> str:
    key = _text_key(doc)
    return doc[key] if isinstance(doc, dict) else getattr(doc, key)


def metadata_of(doc: Any) -> Any:
    """The metadata mapping; a flat dict's own keys (without the text) when it has no ``metadata``."""
    if isinstance(doc, dict):
        if "metadata" in doc:
            return doc["metadata"]
        return {k: v for k, v in doc.items() if k not in TEXT_KEYS}
    return getattr(doc, "metadata", None)


def with_text(doc: Any, text: str) -> Any:
    """A copy of ``doc`` whose text is ``text`` (the store's object is never changed)."""
    key = _text_key(doc)
    if isinstance(doc, dict):
        return {**doc, key: text}
    if hasattr(doc, "model_copy"):  # pydantic v2 (LangChain Document)
        return doc.model_copy(update={key: text})
    if dataclasses.is_dataclass(doc) and not isinstance(doc, type):
        return dataclasses.replace(doc, **{key: text})
    out = copy.copy(doc)
    setattr(out, key, text)
    return out


def id_of(doc: Any, metadata: Any, id_field: str, position: int) -> str:
    if isinstance(metadata, dict) and metadata.get(id_field) is not None:
        return str(metadata[id_field])
    own = doc.get("id") if isinstance(doc, dict) else getattr(doc, "id", None) or getattr(doc, "node_id", None)
    if isinstance(own, (str, int)) and not isinstance(own, bool):
        return str(own)
    return f"#{position}"


# -- masking every string a returned document carries -------------------------------------------

_KEEP_TYPES = (bool, type(None))
_MIN_DIGITS = 7  # shorter numbers cannot hold a phone, card, SSN or IBAN: kept as they are


def _number_text(value: int | float | decimal.Decimal) -> str | None:
    """The text a number is scanned as, or None when it is too short to hold PII.
    An integral float or decimal reads as an integer (4155550132.0 -> "4155550132"):
    NUMERIC and DOUBLE columns are a normal way to store phone and card numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, decimal.Decimal) and not value.is_finite():
        return None
    if not isinstance(value, int) and value == int(value):
        value = int(value)
    if len(str(abs(int(value)))) < _MIN_DIGITS:
        return None
    return str(value)


def _put(out: dict, key: Any, value: Any) -> None:
    """out[key] = value; a key that masking made equal to another gets a suffix, so no value is lost."""
    if key in out and isinstance(key, str):
        n = 2
        while f"{key} ({n})" in out:
            n += 1
        key = f"{key} ({n})"
    out[key] = value


def map_value(value: Any, fn: Callable[[str], str]) -> Any:
    """``value`` with ``fn`` applied to every string inside it (a new container; the input is not changed).

    Strings, and keys and values of nested mappings, lists, tuples and sets, go
    through ``fn``; bytes are decoded and come back as masked text. Numbers --
    integers, floats and decimals -- of at least seven integral digits are
    scanned as text (a phone or card number stored as a number; an integral
    float or decimal as an integer) and come back as text only when ``fn``
    changes them. Booleans, None, dates, UUIDs and shorter numbers are kept;
    any other object is replaced by ``fn(str(obj))`` (fail closed: its text
    form is what an LLM would see).
    """
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, _KEEP_TYPES):
        return value
    if isinstance(value, (int, float, decimal.Decimal)):
        text = _number_text(value)
        if text is None:
            return value
        out = fn(text)
        return value if out == text else out
    if isinstance(value, (bytes, bytearray, memoryview)):
        return fn(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, dict):
        mapped: dict = {}
        for k, v in value.items():
            _put(mapped, map_value(k, fn), map_value(v, fn))
        return mapped
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [map_value(v, fn) for v in value]
        if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
            return type(value)(*items)
        return type(value)(items) if isinstance(value, (tuple, set, frozenset)) else items
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta, uuid.UUID)):
        return value
    return fn(str(value))


def map_metadata(metadata: Any, fn: Callable[[str], str], keep: Iterable[str] = ()) -> Any:
    """Metadata with every key and value mapped (see :func:`map_value`) but the ``keep`` fields.

    Keys go through ``fn`` too: a field name is normally left as it is (it holds
    no PII), but a mapping keyed by an address or a phone number
    (``{"ann.lee@example.com": "owner"}``) would otherwise hand the value back."""
    if not isinstance(metadata, dict):
        return map_value(metadata, fn)
    keep = frozenset(keep)
    out: dict = {}
    for k, v in metadata.items():
        if k in keep:
            out[k] = v
        else:
            _put(out, map_value(k, fn), map_value(v, fn))
    return out


def _other_fields(doc: Any) -> list[tuple[str, Any]]:
    """The data fields of an object document (dataclass, pydantic model, plain object)."""
    if dataclasses.is_dataclass(doc) and not isinstance(doc, type):
        return [(f.name, getattr(doc, f.name, None)) for f in dataclasses.fields(doc)]
    fields = getattr(type(doc), "model_fields", None)
    if isinstance(fields, dict):
        return [(name, getattr(doc, name, None)) for name in fields]
    return [(k, v) for k, v in getattr(doc, "__dict__", {}).items() if not k.startswith("_")]


def map_strings(doc: Any, fn: Callable[[str], str], id_field: str = "id") -> Any:
    """A copy of ``doc`` whose strings went through ``fn``; the store's object is never changed.

    * a dict: every key and value except the document id (``id`` and
      ``id_field``), the text field and the ``metadata`` key; its ``metadata``
      mapping the same way (a flat dict is its own metadata). Keys that are field
      names come back as they are; a key that holds PII is masked.
    * an object (LangChain ``Document``, dataclass, pydantic model, plain object):
      its text attributes (``text``, ``page_content``, ``content``), its
      ``metadata`` and every other data field (ids kept). For shapes whose text
      lives elsewhere (slots, properties) pass ``map_strings=`` to the wrapper.
    """
    keep = {"id", id_field}
    if isinstance(doc, dict):
        out = {}
        for key, value in doc.items():
            if key in keep:
                out[key] = value
            elif key == "metadata" and isinstance(value, dict):
                out[key] = map_metadata(value, fn, keep)
            elif key in TEXT_KEYS or key == "metadata":
                out[key] = map_value(value, fn)
            else:
                _put(out, map_value(key, fn), map_value(value, fn))
        return out
    update: dict[str, Any] = {}
    for key in TEXT_KEYS:
        value = getattr(doc, key, None)
        if isinstance(value, str):
            update[key] = fn(value)
    metadata = getattr(doc, "metadata", None)
    if metadata is not None:
        update["metadata"] = map_metadata(metadata, fn, keep)
    for key, value in _other_fields(doc):  # a title, a summary: every string the copy carries
        if key not in keep and key not in update and key not in TEXT_KEYS:
            mapped = map_value(value, fn)
            if mapped is not value:
                update[key] = mapped
    if not update:
        return copy.copy(doc)
    if hasattr(doc, "model_copy"):  # pydantic v2 (LangChain Document)
        return doc.model_copy(update=update)
    if dataclasses.is_dataclass(doc) and not isinstance(doc, type):
        fields = {f.name for f in dataclasses.fields(doc)}
        out = dataclasses.replace(doc, **{k: v for k, v in update.items() if k in fields})
        for k, v in update.items():
            if k not in fields:
                object.__setattr__(out, k, v)
        return out
    out = copy.copy(doc)
    for k, v in update.items():
        setattr(out, k, v)
    return out
