"""The performance benchmark (`make bench`): a synthetic portfolio closed at scale, against its limits."""
from ledger.actors import SystemActor

# Who the benchmark's writes are recorded as: the system, by name (ledger.actors), like the schedule.
BENCHMARK = SystemActor("benchmark")
