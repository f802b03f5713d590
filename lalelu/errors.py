"""The one exception type for problems a user can fix; its message says what was wrong and what to do."""


class LaleluError(Exception):
    pass
