"""The yardstick for tracking reads: a bare FastAPI endpoint reading one report row from the same database.

`uvicorn --factory bench.plain:create_app` with LAPOR_DATABASE_URL set, as the real API runs.
"""

from typing import Any

from fastapi import FastAPI, HTTPException
from sqlalchemy import text

from lapor.db import make_engine
from lapor.settings import Settings


def create_app() -> FastAPI:
    settings = Settings()
    db = make_engine(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
    app = FastAPI()

    @app.get("/plain/{tracking_id}")
    def one_row(tracking_id: str) -> dict[str, Any]:
        """One row by tracking id, nothing else: no timeline, no deadline, no authorization."""
        with db.connect() as connection:
            row = connection.execute(
                text("SELECT tracking_id, status, title FROM reports WHERE tracking_id = :t"), {"t": tracking_id}
            ).first()
        if row is None:
            raise HTTPException(404)
        return {"tracking_id": row.tracking_id, "status": row.status, "title": row.title}

    return app
