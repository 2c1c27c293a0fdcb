"""history widgets."""
