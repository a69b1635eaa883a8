"""Before the tests: are PostgreSQL and Redis there? Say so plainly if not."""
import sys
from urllib.parse import urlparse, urlunparse

import psycopg
import redis


def main(database_url: str, broker_url: str) -> int:
    problems = []
    # The server, not the named database: the tests create their own test_<name>
    # database, and the named one need not exist on a fresh machine.
    server = urlunparse(urlparse(database_url)._replace(scheme="postgresql", path="/postgres"))
    try:
        psycopg.connect(server, connect_timeout=5).close()
    except Exception as error:  # any failure to connect is reported the same way
        problems.append(f"PostgreSQL at {database_url} is not reachable: {error}".strip())
    try:
        redis.Redis.from_url(broker_url, socket_connect_timeout=5).ping()
    except Exception as error:
        problems.append(f"Redis at {broker_url} is not reachable: {error}")
    for problem in problems:
        print(f"make test: {problem}", file=sys.stderr)
    if problems:
        print("make test: the suite runs against real PostgreSQL and Redis; start them (README, 'Tests').", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
