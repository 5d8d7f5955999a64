"""`aim-activator`: serve the activator (settings from AIM_ACTIVATOR_* variables)."""

from __future__ import annotations

import logging

import uvicorn

from activator.app import ActivatorSettings, create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = ActivatorSettings()
    # Access logs name every request's path; the paths carry no credentials, headers are not logged.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=False)


if __name__ == "__main__":
    main()
