"""Alembic environment: migrates the database that DATABASE_URL names."""

from alembic import context
from sqlalchemy import create_engine, pool

from product_importer.db import sqlalchemy_url
from product_importer.schema import metadata
from product_importer.settings import settings

if context.config.config_file_name is not None:
    from logging.config import fileConfig

    fileConfig(context.config.config_file_name, disable_existing_loggers=False)


def run_migrations_online() -> None:
    connectable = create_engine(
        sqlalchemy_url(settings.require_database_url()), poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
