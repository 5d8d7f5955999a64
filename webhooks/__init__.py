"""The FastAPI admission and conversion webhook service: thin HTTP adapters over `api`."""
