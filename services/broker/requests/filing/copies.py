"""The bodies and catalog entries filing reads, kept per process at the versions they were read
at: a filing whose requester, dataset and owner are kept plans from them and the kept directory
snapshot without reading, and its write (`filing/repository.write`) writes nothing unless the
directory's and the catalog's versions are still those (it then reads them again). The filing
service keeps here what every context read outside a transaction found (`filing/service.py`);
rows read at other versions are dropped then. SQLite has no versions: nothing is kept there."""

from __future__ import annotations

from broker.requests.filing.repository import FilingContext
from broker.requests.parties import DatasetRow, OrganisationRow


class Copies:
    """The rows read at one pair of versions of one database (its URL): a read of another
    database or at other versions starts the copies again."""

    _LIMIT = 10_000  # rows kept (bodies and datasets); then it starts again

    def __init__(self) -> None:
        self._database: str | None = None
        self._read_at: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())
        self._organisations: dict[str, OrganisationRow] = {}
        self._datasets: dict[str, DatasetRow] = {}

    def keep(self, database: str, context: FilingContext) -> None:
        """What a context read outside a transaction found, kept at the versions it was read at.
        Never one read in a transaction: it would see that transaction's own writes, which a
        rollback takes back (their versions are never numbered again, so the write's check
        would refuse such a copy: not keeping it spares the attempt)."""
        if not context.version or not context.catalog:
            return
        read_at = (context.version, context.catalog)
        if (
            database != self._database
            or read_at != self._read_at
            or len(self._organisations) + len(self._datasets) >= self._LIMIT
        ):
            self._database, self._read_at = database, read_at
            self._organisations, self._datasets = {}, {}
        for body in (context.requester, context.owner):
            if body is not None:
                self._organisations[body.id] = body
        if context.dataset is not None:
            self._datasets[context.dataset.id] = context.dataset

    def context(self, database: str, requester_id: str, dataset_id: str) -> FilingContext | None:
        """The requester, the dataset and its owner as kept, with the versions they were read
        at, if all three are; its `earlier_id` is not known (None): the write's conflict tells."""
        if database != self._database:
            return None
        requester = self._organisations.get(requester_id)
        dataset = self._datasets.get(dataset_id)
        owner = self._organisations.get(dataset.owner_id) if dataset is not None else None
        if requester is None or owner is None:
            return None
        return FilingContext(dataset, requester, owner, None, *self._read_at)


COPIES = Copies()
