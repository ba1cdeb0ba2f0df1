"""The one exception type of the scanner layer."""


class ScanError(Exception):
    """A scan cannot go on (bad --answers file, unwritable output...); the CLI prints one line, exit 1."""
