"""Where the metrics endpoint listens: parsed from `--listen` / `--metrics` (light: the CLI's parser imports it)."""

from __future__ import annotations

# Beside Ollama's 11434 and outside 9100-9999, which Prometheus' list of exporter ports has given
# out whole; not 9090 (Prometheus, macmon, all-smi), 9400 (DCGM), 9464 (OpenTelemetry) or 11435.
DEFAULT_PORT = 11439
DEFAULT_ADDRESS = "127.0.0.1"


def parse_listen(text: str) -> tuple[str, int]:
    """`ADDR:PORT`, `[IPv6]:PORT`, or `PORT` alone on the loopback address; ValueError says what is wrong."""
    text = text.strip()
    if text.isdigit():
        address, port_text = DEFAULT_ADDRESS, text
    elif text.startswith("["):
        address, sep, port_text = text[1:].partition("]:")
        if not sep:
            raise ValueError(f"{text!r}: write an IPv6 address as [ADDR]:PORT")
    else:
        address, sep, port_text = text.rpartition(":")
        if not sep or ":" in address:
            raise ValueError(f"{text!r}: expected ADDR:PORT, e.g. {DEFAULT_ADDRESS}:{DEFAULT_PORT}")
        address = address or DEFAULT_ADDRESS
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"{text!r}: the port must be a number from 0 to 65535")
    return address, int(port_text)


def url_of(address: str, port: int) -> str:
    """The endpoint's URL for people and for a scrape config."""
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}/metrics"
