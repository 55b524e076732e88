"""Every topic of the vocabulary has exactly one handler."""

from lapor.vocabulary import Topic
from workers.topics import HANDLERS


def test_every_topic_has_a_handler() -> None:
    assert set(HANDLERS) == set(Topic)
    assert all(callable(handler) for handler in HANDLERS.values())
