"""The one exception type the CLI turns into a one-line message and a non-zero exit."""


class PreservationError(Exception):
    """A failure the user can act on: bad input, a missing file, a refused statement."""
