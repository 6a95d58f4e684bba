"""The one exception type users see: the CLI prints its message as one line and exits non-zero."""


class WordvecError(Exception):
    """A user-facing error (bad input, bad parameter, missing word, corrupt file)."""


class Terminated(KeyboardInterrupt):
    """Raised in the main thread by the SIGTERM/SIGHUP handlers the CLI installs.

    A subclass of KeyboardInterrupt, so every clean-up path of Ctrl-C also runs for it; the CLI
    exits with ``128 + signum`` after one line.
    """

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum
