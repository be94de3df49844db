"""The error that means "the input is wrong" (exit code 2), as opposed to a failed run."""


class InputError(Exception):
    """Bad user input: an invalid suite, an unknown name, a missing file.

    The message is one line that names the problem (with its field path in the suite
    file, when there is one) and what would fix it; the CLI prints it without a
    traceback and exits with code 2.
    """


def at(path: str, message: str) -> InputError:
    """An :class:`InputError` located at a field path such as ``variants.wgan.objective``."""
    return InputError(f"{path}: {message}" if path else message)


class OutputError(Exception):
    """A results file could not be written (full disk, read-only folder, quota).

    Nothing half-written is left behind (every file is written to a temporary name and
    renamed); the message names the file and the reason. The CLI exits with code 74
    (EX_IOERR); finished runs are kept and the same command resumes.
    """

    def __init__(self, path, error: OSError):
        reason = error.strerror or str(error)
        super().__init__(f"cannot write {path}: {reason}; free space or choose a writable "
                         "--out, then run the same command again to resume (finished runs are kept).")
        self.path = path
        self.errno = error.errno
