"""Every topic of the vocabulary has exactly one handler, bound to the dependencies it is given."""

from lapor.vocabulary import Topic
from tests.unit.workers.conftest import Installed
from workers.topics import HANDLERS, bind


def test_every_topic_has_a_handler() -> None:
    assert set(HANDLERS) == set(Topic)
    assert all(callable(handler) for handler in HANDLERS.values())


def test_the_loop_gets_every_handler_bound_to_the_deps_it_was_given(installed: Installed) -> None:
    bound = bind(installed.deps)
    assert set(bound) == {str(topic) for topic in Topic}
    for topic, handler in HANDLERS.items():
        assert bound[str(topic)].func is handler and bound[str(topic)].args == (installed.deps,)  # type: ignore[attr-defined]
