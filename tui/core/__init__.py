"""Everything that does not need Textual: Ollama access, sampling, metrics, records."""
