"""Public addresses of the citizen web page that messages point to (notifications, the SMS 1708 reply)."""

from urllib.parse import quote

__all__ = ["TRACKING_PATH", "tracking_page_url"]

TRACKING_PATH = "/lacak/{tracking_id}"


def tracking_page_url(base_url: str, tracking_id: str) -> str:
    """The tracking page of a report, e.g. https://lapor.pontianak.go.id/lacak/PTK-2611-7KQ3MX."""
    return base_url.rstrip("/") + TRACKING_PATH.format(tracking_id=quote(tracking_id, safe=""))
