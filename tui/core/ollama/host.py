"""Where Ollama is: `--host`, then `OLLAMA_HOST`, then the default, normalised to a URL."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

DEFAULT_HOST = "http://127.0.0.1:11434"
DEFAULT_PORT = 11434


def resolve_host(cli_host: str | None, env: dict[str, str]) -> str:
    """Pick the host by precedence and normalise it the way Ollama's own client does."""
    for candidate in (cli_host, env.get("OLLAMA_HOST")):
        if candidate and candidate.strip():
            return normalize_host(candidate.strip())
    return DEFAULT_HOST


def normalize_host(raw: str) -> str:
    """`host`, `host:port`, `:port`, `scheme://host[:port][/path]`, bracketed IPv6 -> full URL.

    No scheme means http and port 11434; an explicit scheme without a port means that
    scheme's own port (80/443), as in ollama-python. `0.0.0.0` is a bind address, not a
    destination: connect to loopback instead, as the Ollama CLI does.
    """
    has_scheme = "://" in raw
    parts = urlsplit(raw if has_scheme else f"http://{raw}")
    scheme = parts.scheme or "http"
    hostname = parts.hostname or "127.0.0.1"
    if hostname in ("0.0.0.0", "::"):
        hostname = "127.0.0.1"
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid port in Ollama host {raw!r}") from exc
    if port is None:
        port = DEFAULT_PORT if not has_scheme else (443 if scheme == "https" else 80)
    shown = f"[{hostname}]" if ":" in hostname else hostname
    path = parts.path.rstrip("/")
    return f"{scheme}://{shown}:{port}{path}"


def is_local(url: str) -> bool:
    """True when the Ollama host is this machine, so local resource readings describe it."""
    hostname = (urlsplit(url).hostname or "").lower()
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        return hostname in (socket.gethostname().lower(), socket.getfqdn().lower())
    return address.is_loopback or address.is_unspecified
