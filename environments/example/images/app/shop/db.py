"""Connections to PostgreSQL, from the environment: DB_HOST (default db),
DB_PORT (5432), DB_NAME (shop), DB_USER (shop)."""

import os
import time

import psycopg2
import psycopg2.extras
import psycopg2.pool


def params():
    return dict(host=os.environ.get("DB_HOST", "db"),
                port=int(os.environ.get("DB_PORT", "5432")),
                dbname=os.environ.get("DB_NAME", "shop"),
                user=os.environ.get("DB_USER", "shop"),
                connect_timeout=3)


def connect(retry_for=30.0):
    """One connection, retried while the server is starting."""
    deadline = time.monotonic() + retry_for
    while True:
        try:
            return psycopg2.connect(**params())
        except psycopg2.OperationalError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


class Pool:
    """A thread-safe pool; `with pool.cursor() as cur:` runs one
    transaction (committed on success, rolled back on an exception) and
    yields a cursor returning dicts. A connection that broke is dropped."""

    def __init__(self, maxconn=8):
        self._pool = psycopg2.pool.ThreadedConnectionPool(0, maxconn, **params())

    def cursor(self):
        return _Tx(self._pool)


class _Tx:
    def __init__(self, pool):
        self.pool = pool

    def __enter__(self):
        self.conn = self.pool.getconn()
        self.cur = self.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
        return self.cur

    def __exit__(self, exc_type, exc, tb):
        broken = False
        try:
            self.cur.close()
            if exc_type is None:
                self.conn.commit()
            else:
                self.conn.rollback()
        except psycopg2.Error:
            broken = True
        broken = broken or self.conn.closed != 0
        self.pool.putconn(self.conn, close=broken)
        return False
