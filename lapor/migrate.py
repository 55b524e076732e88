"""Applies the Alembic migrations; `python -m lapor.migrate` is what the run command and deployments call."""

import sys

from alembic import command
from alembic.config import Config

from lapor.settings import ROOT, get_settings


def upgrade(database_url: str | None = None) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url or get_settings().database_url)
    command.upgrade(config, "head")


if __name__ == "__main__":
    upgrade(sys.argv[1] if len(sys.argv) > 1 else None)
