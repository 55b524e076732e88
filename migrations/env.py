"""Alembic environment: the schema is lapor.models, the URL comes from settings (or the caller's config)."""

from alembic import context

import lapor.models  # noqa: F401 - registers the tables on Base.metadata
from lapor.db import Base, make_engine
from lapor.settings import get_settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url

if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    with make_engine(url).connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
