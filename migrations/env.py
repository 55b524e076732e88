"""Alembic environment: the schema is lapor.models, the URL comes from settings (or the caller's config)."""

from alembic import context

import lapor.models  # noqa: F401 - registers the tables on Base.metadata
from lapor.db import Base, make_engine
from lapor.settings import get_settings

config = context.config


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Migrations spell UtcDateTime as the plain column type it stores."""
    if type_ == "type" and type(obj).__name__ == "UtcDateTime":
        return "sa.DateTime(timezone=True)"
    return False


url = config.get_main_option("sqlalchemy.url") or get_settings().database_url

if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    with make_engine(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
