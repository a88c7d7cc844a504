"""No network: no model download, no public-suffix-list fetch by tldextract."""

from __future__ import annotations

import socket

import os

import pytest

from govern.pii import PiiEngine, PiiSettings
from govern.pii import nlp as pii_nlp

from .conftest import ner_available

TEXT = (
    "Mail ada.byron@example.co.uk or visit https://shop.example.com/orders?u=grace@example.org; "
    "server 203.0.113.77, call +44 20 7946 0958."
)


@pytest.fixture
def no_network(monkeypatch):
    attempts: list[str] = []

    def refuse(name):
        def _f(*args, **kwargs):
            attempts.append(name)
            raise OSError(f"network disabled in test ({name})")

        return _f

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    return attempts


def test_detector_sees_tldextract_default_fetch(no_network, tmp_path):
    """Sanity check of the harness: tldextract's default *does* try the network."""
    import tldextract

    ext = tldextract.TLDExtract(cache_dir=str(tmp_path))  # default suffix_list_urls
    assert ext("a@example.com").fqdn == "example.com"  # falls back to its snapshot...
    assert no_network  # ...after trying to fetch


def test_pattern_mode_never_touches_network(no_network):
    pii_nlp.offline_tldextract.cache_clear()  # build the extractor under the guard
    engine = PiiEngine(PiiSettings())
    m = engine.mask(TEXT)
    assert "ada.byron" not in m.text and "grace@" not in m.text and "203.0.113.77" not in m.text
    assert {"EMAIL_ADDRESS", "URL", "IP_ADDRESS", "PHONE_NUMBER"} <= set(m.counts)
    assert no_network == []


@pytest.mark.skipif(not ner_available() and os.environ.get("GOVERN_REQUIRE_EXTRAS") != "1", reason="NER model not installed")
def test_ner_mode_never_touches_network(no_network, monkeypatch):
    import spacy.cli

    monkeypatch.setattr(spacy.cli, "download", lambda *a, **k: pytest.fail("download attempted"))
    pii_nlp.offline_tldextract.cache_clear()
    engine = PiiEngine(PiiSettings(nlp_model="en_core_web_sm"))
    m = engine.mask("John Smith wrote: " + TEXT)
    assert "John Smith" not in m.text
    assert no_network == []
