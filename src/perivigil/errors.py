"""The project's one exception for bad input.

Every message is one line that names the file, then the row, task or key, then
the field, so that a user can open the file and fix it without a traceback.
"""


class InputError(ValueError):
    """A file or a configuration value that the study cannot use as it is."""
