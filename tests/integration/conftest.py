"""Fixtures the integration modules share: the stack's PostgreSQL, and a scratch database
of its own (migrated to the head revision) for each test that asks for ``pool``."""

from collections.abc import AsyncIterator

import pytest
from psycopg_pool import AsyncConnectionPool

from infra.settings import InfraSettings
from infra.testing import ensure_stack
from tests.integration.read_model_db import pool_on, scratch_database


@pytest.fixture(scope="module")
def postgres() -> InfraSettings:
    return ensure_stack(["postgres"])


@pytest.fixture
async def pool(postgres: InfraSettings) -> AsyncIterator[AsyncConnectionPool]:
    async with scratch_database(postgres) as url, pool_on(url) as opened:
        yield opened
