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
