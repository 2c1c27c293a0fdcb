"""Host precedence and normalisation, as ollama-python and the Ollama CLI read OLLAMA_HOST."""

import pytest

from tui.core.ollama.host import DEFAULT_HOST, is_local, normalize_host, resolve_host


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ("1.2.3.4", "http://1.2.3.4:11434"),
        (":56789", "http://127.0.0.1:56789"),
        ("1.2.3.4:56789", "http://1.2.3.4:56789"),
        ("http://1.2.3.4", "http://1.2.3.4:80"),
        ("https://example.com", "https://example.com:443"),
        ("https://example.com:56789/path/", "https://example.com:56789/path"),
        ("example.com/", "http://example.com:11434"),
        ("[::1]", "http://[::1]:11434"),
        ("[0001:002:003:0004::1]:56789", "http://[0001:002:003:0004::1]:56789"),
        ("http://[::1]", "http://[::1]:80"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:8080", "http://127.0.0.1:8080"),
        ("localhost", "http://localhost:11434"),
    ],
)
def test_normalize_host(raw: str, url: str) -> None:
    """OLLAMA_HOST's short forms become full URLs with a scheme and a port."""
    assert normalize_host(raw) == url


def test_precedence_cli_then_env_then_default() -> None:
    """--host wins over OLLAMA_HOST, which wins over the default; blank values count as unset."""
    env = {"OLLAMA_HOST": "10.0.0.5"}
    assert resolve_host("myhost:1234", env) == "http://myhost:1234"
    assert resolve_host(None, env) == "http://10.0.0.5:11434"
    assert resolve_host(None, {}) == DEFAULT_HOST
    assert resolve_host("  ", {"OLLAMA_HOST": ""}) == DEFAULT_HOST


def test_bad_port_is_a_clear_error() -> None:
    """A port that is not a number is refused with 'invalid port'."""
    with pytest.raises(ValueError, match="invalid port"):
        normalize_host("host:notaport")


def test_is_local() -> None:
    """Loopback hosts (IPv4, localhost, IPv6) are local; a LAN address is not."""
    assert is_local("http://127.0.0.1:11434")
    assert is_local("http://localhost:11434")
    assert is_local("http://[::1]:11434")
    assert not is_local("http://10.1.2.3:11434")
