"""`aim-download`: fetches model weights from Hugging Face and S3 into a cache volume.

Layers: pure decisions (`source`, `protocols`, `memory`, `progress`, `failures`, `verify`) are
table-tested and import no I/O library; `hub`, `s3`, `status` and `disk` do the I/O; `worker` runs
one download attempt in a child process and `supervisor` watches it (progress, stalls, fallback);
`__main__` is the command line.

The exit codes below are API: the controller's Job podFailurePolicy fails the Job without
retries on 3, 4 and 5, and reads the one-line reason from the termination message.
"""

EXIT_OK = 0
"""Downloaded (and the size matched, when one was expected)."""
EXIT_TRANSIENT = 1
"""Every protocol failed or stalled, or the network failed: retrying may help."""
EXIT_USAGE = 2
"""Bad command line, source URI or environment."""
EXIT_NOT_FOUND = 3
"""The repository, revision, bucket or prefix does not exist (permanent)."""
EXIT_UNAUTHORIZED = 4
"""The credentials were refused or lack access (permanent)."""
EXIT_SIZE_MISMATCH = 5
"""The downloaded bytes differ from EXPECTED_SIZE_BYTES (permanent)."""
EXIT_NO_SPACE = 6
"""The volume is full."""
