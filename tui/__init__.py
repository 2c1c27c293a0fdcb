"""ollamon: chat with local Ollama models and watch what each answer costs."""

__version__ = "0.1.0"
