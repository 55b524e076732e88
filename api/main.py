"""FastAPI application."""

from fastapi import FastAPI

from lapor.logging import configure_logging
from lapor.settings import get_settings

settings = get_settings()
configure_logging(log_format=settings.log_format, level=settings.log_level)

app = FastAPI(
    title="LAPOR! Pontianak API",
    version="0.1.0",
    description="Pengaduan masyarakat Kota Pontianak (SP4N-LAPOR!): pelaporan, pelacakan, dan kanal intake.",
)


@app.get("/health", tags=["ops"])
def health() -> dict[str, str]:
    """Liveness of the API process."""
    return {"status": "ok"}
