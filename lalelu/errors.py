"""The exception types for problems a user can fix; their messages say what was wrong and what to do."""


class LaleluError(Exception):
    pass


class SourceInterrupted(LaleluError):
    """The source has no frames for now (a camera unplugged) and is looking for them again: read() again.
    A reader that cannot wait treats it as the error its message describes."""
