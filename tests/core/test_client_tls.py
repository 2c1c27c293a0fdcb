"""HTTPS hosts have their certificate checked; plain HTTP builds no certificate store."""

from __future__ import annotations

import ssl

from tui.core.ollama.client import OllamaEngine


def _context(host: str) -> ssl.SSLContext:
    # httpx keeps its TLS settings on the connection pool (private; only this test reads it).
    # ollama's client holds its httpx client untyped, so the chain is Any: name what it is.
    context: ssl.SSLContext = OllamaEngine(host)._client._client._transport._pool._ssl_context
    return context


def test_an_https_host_is_verified() -> None:
    """An https:// host's certificate and host name are checked."""
    context = _context("https://ollama.example:443")
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname


def test_a_plain_http_host_loads_no_certificates() -> None:
    """A plain http:// host loads no CA certificates at all."""
    assert _context("http://127.0.0.1:11434").cert_store_stats()["x509_ca"] == 0
