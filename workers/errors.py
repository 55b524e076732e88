"""How a failed job is reported: business errors become BPMN errors, technical ones retry with backoff."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import structlog
from pyzeebe import Job, JobController, ZeebeTaskRouter
from pyzeebe.errors import BusinessError

log = structlog.get_logger(__name__)

BACKOFF_BASE_MS = 5_000
BACKOFF_MAX_MS = 300_000


def backoff_ms(retries_left: int, *, total: int = 5) -> int:
    """Exponential: 5 s, 10 s, 20 s, ... capped at 5 minutes (engine-clock time)."""
    attempt = max(total - retries_left, 0)
    return int(min(BACKOFF_BASE_MS * 2**attempt, BACKOFF_MAX_MS))


async def on_job_error(error: Exception, job: Job, job_controller: JobController) -> None:
    if isinstance(error, BusinessError):
        log.info("job.business_error", job_type=job.type, job_key=job.key, code=error.error_code)
        await job_controller.set_error_status(str(error), error_code=error.error_code)
        return
    # Out of retries the engine raises an incident, which supervisors see in Operate.
    log.warning("job.failed", job_type=job.type, job_key=job.key, retries_left=job.retries - 1, error=repr(error))
    await job_controller.set_failure_status(
        f"{type(error).__name__}: {error}", retry_back_off_ms=backoff_ms(job.retries - 1)
    )


TaskFunction = TypeVar("TaskFunction", bound=Callable[..., Awaitable[dict[str, Any]]])


def job_task(
    router: ZeebeTaskRouter, task_type: str, *, variables_to_fetch: list[str] | None = None
) -> Callable[[TaskFunction], TaskFunction]:
    """router.task with a signature mypy accepts for async task functions (pyzeebe's own types reject them)."""
    decorator = router.task(task_type=task_type, variables_to_fetch=variables_to_fetch)
    return cast(Callable[[TaskFunction], TaskFunction], decorator)


def text_variable(job: Job, name: str) -> str | None:
    value = job.variables.get(name)
    return None if value is None else str(value)
