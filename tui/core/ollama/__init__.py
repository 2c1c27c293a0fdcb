"""Talking to one Ollama server: client, typed stream events, errors, host, model facts, text hygiene."""
