"""The one exception type users see: the CLI prints its message as one line and exits non-zero."""


class WordvecError(Exception):
    """A user-facing error (bad input, bad parameter, missing word, corrupt file)."""


def check(condition, message):
    """Raise :class:`WordvecError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise WordvecError(message)
