"""Reading the machine: memory, swap, Ollama processes, power sources, energy; the resource monitor."""
