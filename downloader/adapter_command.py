"""`aim-adapter stage|sync|reap`: the commands of the adapter Jobs (docs/lora-adapters.md).

    stage <sourceUri>   download one adapter with aim-download into the staging area, then promote
                        it into the service's subtree (ADAPTER_PVC_ROOT, SERVICE_ID, ADAPTER_PATH,
                        JOB_ID; the downloader's own variables apply)
    sync                create SERVICE_ID's subtree and prune what KEEP_ADAPTER_PATHS does not list
    reap                remove the subtrees of services KEEP_SERVICE_IDS does not list, once older
                        than MIN_AGE_SECONDS

Exit codes are aim-download's; an unsafe adapter (a symbolic link) fails like a verification.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import NoReturn

from downloader import EXIT_OK, EXIT_SIZE_MISMATCH, EXIT_USAGE
from downloader.adapters import AdapterDisk, UnsafeAdapterError, promote, reap, sync_subtree

logger = logging.getLogger("downloader.adapters")
DEFAULT_ROOT = "/adapter-disk"
USAGE = "usage: aim-adapter stage <sourceUri> | sync | reap"


def _names(variable: str) -> set[str]:
    return {name for name in os.environ.get(variable, "").split(",") if name}


def _required(variable: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        raise ValueError(f"{variable} is not set")
    return value


def stage(uri: str, disk: AdapterDisk) -> int:
    from downloader.__main__ import main as download  # the download stack only for this command

    service_id, adapter_path, job_id = _required("SERVICE_ID"), _required("ADAPTER_PATH"), _required("JOB_ID")
    staged = disk.staging(service_id, adapter_path, job_id)
    shutil.rmtree(staged, ignore_errors=True)  # a retried pod starts clean
    staged.mkdir(parents=True)
    os.environ["TARGET_DIR"] = str(staged)
    try:
        code = download([uri])
        if code != EXIT_OK:
            return code
        try:
            live = promote(disk, service_id, adapter_path, job_id)
        except UnsafeAdapterError as error:
            logger.error("Adapter refused source=%s reason=%s", uri, error)
            return EXIT_SIZE_MISMATCH
        logger.info("Adapter promoted source=%s path=%s", uri, live.relative_to(disk.root))
        return EXIT_OK
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    disk = AdapterDisk(Path(os.environ.get("ADAPTER_PVC_ROOT") or DEFAULT_ROOT))
    try:
        match args:
            case ["stage", uri]:
                return stage(uri, disk)
            case ["sync"]:
                removed = sync_subtree(disk, _required("SERVICE_ID"), _names("KEEP_ADAPTER_PATHS"))
                logger.info("Subtree synced service=%s removed=%s", os.environ["SERVICE_ID"], ",".join(removed))
                return EXIT_OK
            case ["reap"]:
                min_age = float(os.environ.get("MIN_AGE_SECONDS") or 1800)
                removed = reap(disk, _names("KEEP_SERVICE_IDS"), min_age, time.time())
                logger.info("Reaped removed=%s", ",".join(removed) or "nothing")
                return EXIT_OK
            case _:
                sys.stderr.write(USAGE + "\n")
                return EXIT_USAGE
    except ValueError as error:
        sys.stderr.write(f"usage error: {error}\n")
        return EXIT_USAGE


def command() -> NoReturn:
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
