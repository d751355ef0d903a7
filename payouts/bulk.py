"""Plain multi-row INSERTs for a payout run's 100,000 rows: bulk_create's per-field preparation took most of a run.

Callers pass values already in the database's form (ints, strings, a datetime prepared once with
prepared()); the tables' own constraints and triggers still check every row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from django.db import connection, models

CHUNK = 2000


def prepared(model: type[models.Model], field: str, value: Any) -> Any:
    """value as the database takes it for model.field (datetimes and JSON differ per backend)."""
    return model._meta.get_field(field).get_db_prep_save(value, connection)


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """INSERT the rows (values for `fields`, in order) with one executemany per CHUNK rows; returns the count."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    count = 0
    rows = iter(rows)
    with connection.cursor() as cursor:
        while chunk := list(islice(rows, CHUNK)):
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count
