"""UTCDateTime on SQLite writes exactly the text SQLAlchemy's own DATETIME would."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite

from storage.tables import UTCDateTime

SQLITE = sqlite.dialect()  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=ZoneInfo("Asia/Shanghai")),
        datetime(2026, 3, 8, 3, 30, 59, 999999, tzinfo=ZoneInfo("America/New_York")),
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=-5))),
        None,
    ],
)
def test_the_stored_text_is_sqlalchemys(value: datetime | None) -> None:
    ours = UTCDateTime().dialect_impl(SQLITE).bind_processor(SQLITE)
    theirs = DateTime().dialect_impl(SQLITE).bind_processor(SQLITE)
    assert ours is not None and theirs is not None
    expected = None if value is None else theirs(value.astimezone(UTC).replace(tzinfo=None))
    assert ours(value) == expected


def test_a_naive_datetime_is_refused() -> None:
    ours = UTCDateTime().dialect_impl(SQLITE).bind_processor(SQLITE)
    assert ours is not None
    with pytest.raises(ValueError, match="naive"):
        ours(datetime(2026, 11, 23, 2, 0))


def test_other_databases_keep_the_two_layers() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    shanghai = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    bound = (
        ours(shanghai) if ours is not None else UTCDateTime().process_bind_param(shanghai, dialect)
    )
    assert bound == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "stored",
    ["2026-11-23 02:00:00.000000", "2026-11-23 02:00:00", "0999-01-02 08:04:05.000006", None],
)
def test_the_stored_text_reads_back_as_sqlalchemys_marked_utc(stored: str | None) -> None:
    ours = UTCDateTime().dialect_impl(SQLITE).result_processor(SQLITE, None)
    theirs = DateTime().dialect_impl(SQLITE).result_processor(SQLITE, None)
    assert ours is not None and theirs is not None
    expected = None if stored is None else theirs(stored).replace(tzinfo=UTC)
    read = ours(stored)
    assert read == expected
    assert read is None or read.tzinfo is UTC


def test_a_stored_text_with_an_offset_reads_back_in_utc() -> None:
    ours = UTCDateTime().dialect_impl(SQLITE).result_processor(SQLITE, None)
    assert ours is not None
    assert ours("2026-11-23 10:00:00+08:00") == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
