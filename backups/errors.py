class BackupError(Exception):
    """A backup, restore or verification that cannot go on; the message says what to do."""


class VerificationFailed(BackupError):
    """What was read back differs from the manifest; `problems` lists every difference."""

    def __init__(self, message: str, problems: list[str]):
        super().__init__(message)
        self.problems = problems
