"""The connection pool (infra.postgres.create_pool) against a real PostgreSQL."""

from __future__ import annotations

from infra.postgres import create_pool


async def test_a_connection_released_inside_a_transaction_comes_back_rolled_back(db_url):
    pool = await create_pool(db_url, min_size=1, max_size=1)
    try:
        await pool.execute("CREATE TABLE scratch (n int)")
        conn = await pool.acquire()
        tx = conn.transaction()
        await tx.start()
        await conn.execute("INSERT INTO scratch VALUES (1)")
        await pool.release(conn)  # a bug path: never committed

        async with pool.acquire() as again:  # the only connection, handed out again
            assert again.is_in_transaction() is False
            assert await again.fetchval("SELECT count(*) FROM scratch") == 0
    finally:
        await pool.close()


async def test_pooled_connections_read_and_write_json_as_python_objects(db_url):
    pool = await create_pool(db_url, min_size=1, max_size=1)
    try:
        assert await pool.fetchval("SELECT $1::jsonb", {"a": [1, 2]}) == {"a": [1, 2]}
    finally:
        await pool.close()
