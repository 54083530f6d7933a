"""The two ways an analysis verb refuses: each one line naming the file or path, the reason and what
would be accepted. The front door (analysis/__main__.py) prints them and exits 2, never a traceback."""


class ResultError(Exception):
    """An input that cannot be used: a result or calibration file, a flag's value, a set."""


class OutputError(Exception):
    """A path analysis was asked to write and cannot (or must not) write."""
