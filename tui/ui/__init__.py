"""Textual widgets and screens; they render core state and send user intents."""
