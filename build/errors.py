"""The one exception type a build stops with: its message names the file (and line or byte)."""


class BuildError(Exception):
    """The build refuses its input or output; ``str(err)`` is the message for the user."""
