"""The one table of topic -> handler: what the worker loop subscribes to, and what the models may ask for.

Handlers take their dependencies first (`handler(deps, task)`); `bind` gives the loop handlers of the task alone, so
no handler reaches a module global.
"""

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from lapor.process.tasks import ExternalTask, Handler
from lapor.vocabulary import Topic
from workers import due_dates, duplicates, monthly_recap, national_return, notifications, proof, status
from workers.deps import Deps

DepsHandler = Callable[[Deps, ExternalTask], Mapping[str, Any] | None]

HANDLERS: dict[Topic, DepsHandler] = {
    Topic.DEADLINE: due_dates.compute_deadline,
    Topic.STATUS: status.record_status,
    Topic.AUTO_COMPLETE: status.auto_complete,
    Topic.NOTIFY: notifications.notify,
    Topic.REMINDER: notifications.remind,
    Topic.RETURN_NATIONAL: national_return.return_to_national,
    Topic.RECAP: monthly_recap.make_recap,
    Topic.PROOF: proof.store_proof_photo,
    Topic.MERGE_DUPLICATE: duplicates.merge_duplicate,
}


def bind(deps: Deps) -> dict[str, Handler]:
    """Every handler with these dependencies, by topic name, as the worker loop takes them."""
    return {str(topic): partial(handler, deps) for topic, handler in HANDLERS.items()}
