"""panels widgets."""
