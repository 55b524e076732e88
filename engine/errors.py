"""Errors of the local engine launcher, each with a message that says what to do."""


class EngineError(RuntimeError):
    """The local engine could not be built, started or reached."""
