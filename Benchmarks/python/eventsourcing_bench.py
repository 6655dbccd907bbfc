"""The swift-cqrs PostgreSQL workload with the Python `eventsourcing` library (9.5.6).

Each client creates an aggregate and runs 9 updates on it (load from the repository, one new
event, save), `per_client` times; prints commands per second for 1 and 16 clients (threads).
Usage: eventsourcing_bench.py postgres://user@host:port/db [scale]
"""
import os
import sys
import threading
import time
from urllib.parse import urlparse


def configure(url: str) -> None:
    parts = urlparse(url)
    os.environ.update(
        PERSISTENCE_MODULE="eventsourcing.postgres",
        POSTGRES_DBNAME=parts.path.lstrip("/") or "postgres",
        POSTGRES_HOST=parts.hostname or "127.0.0.1",
        POSTGRES_PORT=str(parts.port or 5432),
        POSTGRES_USER=parts.username or "postgres",
        POSTGRES_PASSWORD=parts.password or "",
        POSTGRES_SCHEMA="bench_python",
        POSTGRES_POOL_SIZE="20",
        POSTGRES_MAX_OVERFLOW="0",
        CREATE_TABLE="y",
    )


def main() -> None:
    configure(sys.argv[1])
    scale = int(sys.argv[2]) if len(sys.argv) > 2 else 1

    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Account(Aggregate):
        @event("Opened")
        def __init__(self, owner: str) -> None:
            self.owner = owner
            self.balance = 0

        @event("Deposited")
        def deposit(self, amount: int) -> None:
            self.balance += amount

    class Bank(Application):
        def open(self):
            account = Account("bench")
            self.save(account)
            return account.id

        def deposit(self, account_id) -> None:
            account = self.repository.get(account_id)
            account.deposit(1)
            self.save(account)

    app = Bank()

    def run(clients: int, per_client: int) -> float:
        def worker() -> None:
            for _ in range(per_client):
                account_id = app.open()
                for _ in range(9):
                    app.deposit(account_id)

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return clients * per_client * 10 / (time.perf_counter() - started)

    run(4, 5)  # warm-up
    print(f"eventsourcing 1 client: {run(1, 300 * scale):.0f} commands/s")
    print(f"eventsourcing 16 clients: {run(16, 60 * scale):.0f} commands/s")


if __name__ == "__main__":
    main()
