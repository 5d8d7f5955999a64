"""The only package that talks to the API server (import-linter keeps the rest of the controller pure)."""
