"""The errors the user is told about plainly, with one message and no traceback.

Every refusal of input (a scenario, an option, a file, a results folder) is an ``InputError``; the
command line prints its message and exits with code 2. (Worker processes that keep dying are the one
other plain message, exit code 1: ``WorkerError``.) Anything else that escapes
is a bug.
"""

from __future__ import annotations


class InputError(Exception):
    """Input the tool refuses, with a message that says where and why; the CLI exits with code 2."""


class OutputError(InputError):
    """A results folder or output file cannot be created, read or written as asked."""


class FileError(InputError):
    """A file that cannot be read or written as asked: ``path`` and the ``reason`` in words."""

    def __init__(self, path: object, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


class WorkerError(Exception):
    """Worker processes kept dying; the folder holds the finished chunks and can be resumed (exit code 1)."""


class SupersededError(Exception):
    """A newer change arrived while this one was running (``basing explore``): its results are not wanted."""
