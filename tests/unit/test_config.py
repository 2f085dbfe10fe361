from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import load_config, parse_config
from bot.domain.service_plan import Cadence, PlanTask
from bot.errors import ConfigError
from bot.settings import load_settings
from bot.slack.i18n import Language

SPEC_EXAMPLE = """
timezone = "Asia/Shanghai"

[channels]
support = "C0SUPPORT"
managers = "C0MANAGERS"

[roles]
engineers = ["U0ENG1", "U0ENG2", "U0ENG3"]
managers = ["U0MGR1"]

[calendar]
workdays = ["mon", "tue", "wed", "thu", "fri"]
hours = "08:30-17:30"
holidays = "CN"
extra_holidays = ["2026-12-31"]
extra_workdays = []

[oncall]
primary = ["U0ENG1", "U0ENG2"]
secondary = ["U0ENG3"]
shift = "1w"
handoff = "2026-11-23T09:00"

[[customers]]
name = "Highway Monitoring Center"
channel = "C0CUST1"
warranty_until = "2027-06-30"
contacts = ["U0CUST1"]
owner = "U0ENG2"

[customers.plan]
call = "1w"

[service_plan]
call = "2w"
survey = "1mo"
visit = "1mo"
inspection = "2mo"
training = "6mo"

[report]
channel = "C0MANAGERS"

[sla.A]
respond = "15m"
diagnose = "1h"
plan = "2h"
"""


def test_the_spec_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "escalator.toml"
    path.write_text(SPEC_EXAMPLE)
    config = load_config(str(path))
    assert config.channels.support == "C0SUPPORT"
    assert config.roles.managers == ("U0MGR1",)
    assert config.oncall.shift == timedelta(weeks=1)
    for shift, length in (("90s", 90), ("1d12h", 36 * 3600), ("2w", 14 * 86400)):  # SPEC §3
        assert parse_config({"oncall": {"shift": shift}}).oncall.shift.total_seconds() == length
    assert config.oncall.handoff is not None and config.oncall.handoff.hour == 9
    assert config.customers[0].warranty_until == date(2027, 6, 30)
    assert config.customer_for_channel("C0CUST1") is config.customers[0]
    assert config.is_engineer("U0ENG2") and not config.is_engineer("U0MGR1")
    customer = config.customers[0]
    assert customer.contacts == ("U0CUST1",) and customer.owner == "U0ENG2"
    assert customer.plan.cadence(PlanTask.CALL) == Cadence(days=7)
    assert customer.plan.cadence(PlanTask.SURVEY) == Cadence(months=1)
    assert config.service_plan.cadence(PlanTask.CALL) == Cadence(days=14)
    assert config.report.channel == "C0MANAGERS"


def test_every_key_has_a_default() -> None:
    config = load_config(None)
    assert config.timezone == "Asia/Shanghai"
    assert config.channels.support == "#support"
    assert config.roles.engineers == ()
    assert config.language is Language.ZH_CN  # SPEC §3: a Chinese support team by default
    assert parse_config({"language": "en"}).language is Language.EN
    plan = config.service_plan
    assert [str(plan.cadence(task)) for task in PlanTask] == ["2w", "1mo", "1mo", "2mo", "6mo"]
    assert config.report.channel == config.channels.managers


def test_an_empty_cadence_turns_a_task_off_and_a_customer_inherits_the_plan() -> None:
    config = parse_config(
        {
            "service_plan": {"training": "", "call": "1w"},
            "customers": [
                {"name": "A", "channel": "C0CUST1", "plan": {"visit": ""}},
                {"name": "B", "channel": "C0CUST2"},
            ],
        }
    )
    first, second = config.customers
    assert first.plan.cadence(PlanTask.TRAINING) is None
    assert first.plan.cadence(PlanTask.VISIT) is None
    assert first.plan.cadence(PlanTask.CALL) == Cadence(days=7)
    assert second.plan.cadence(PlanTask.VISIT) == Cadence(months=1)
    assert [task for task, _ in second.plan.active()] == [
        PlanTask.CALL,
        PlanTask.SURVEY,
        PlanTask.VISIT,
        PlanTask.INSPECTION,
    ]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"colour": "blue"}, "colour"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"channels": {"support": "not a channel"}}, "channels.support"),
        ({"channels": {"lobby": "C1"}}, "channels.lobby"),
        ({"roles": {"engineers": ["bob"]}}, "roles.engineers"),
        ({"oncall": {"shift": "fortnight"}}, "oncall.shift"),
        ({"oncall": {"shift": "1mo"}}, "oncall.shift"),  # months have no fixed length
        ({"oncall": {"shift": "0h"}}, "oncall.shift"),
        ({"oncall": {"handoff": "monday"}}, "oncall.handoff"),
        (
            {"customers": [{"name": "X", "channel": "C0CUST9", "warranty_until": "soon"}]},
            "customers[0].warranty_until",
        ),
        (  # TOML's datetime, a date to Python's isinstance: every report would fail on it
            {
                "customers": [
                    {"name": "X", "channel": "C0CUST9", "warranty_until": datetime(2027, 6, 30)}
                ]
            },
            "customers[0].warranty_until",
        ),
        ({"customers": [{"channel": "C0CUST9"}]}, "customers[0].name"),
        ({"sla": {"A": {"respond": "quickly"}}}, "sla.A.respond"),
        ({"calendar": {"hours": "9 to 5"}}, "calendar.hours"),
        ({"language": "zh-TW"}, "language"),
        ({"language": 7}, "language"),
        ({"service_plan": {"call": "often"}}, "service_plan.call"),
        ({"service_plan": {"call": "36h"}}, "service_plan.call"),
        ({"service_plan": {"lunch": "1w"}}, "service_plan.lunch"),
        ({"service_plan": {"survey": 30}}, "service_plan.survey"),
        ({"report": {"channel": "managers"}}, "report.channel"),
        ({"report": {"when": "monday"}}, "report.when"),
        (
            {"customers": [{"name": "X", "channel": "C0CUST9", "owner": "bob"}]},
            "customers[0].owner",
        ),
        (
            {"customers": [{"name": "X", "channel": "C0CUST9", "contacts": ["carl"]}]},
            "customers[0].contacts",
        ),
        (
            {"customers": [{"name": "X", "channel": "C0CUST9", "plan": {"call": "1x"}}]},
            "customers[0].plan.call",
        ),
        (
            {"customers": [{"name": "X", "channel": "C0CUST9", "plan": "1w"}]},
            "customers[0].plan",
        ),
    ],
)
def test_a_bad_or_unknown_key_is_named(data: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert caught.value.key == key


def test_unreadable_or_broken_file_names_the_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        load_config(str(tmp_path / "nope.toml"))
    assert missing.value.key == "ESCALATOR_CONFIG"
    broken = tmp_path / "broken.toml"
    broken.write_text("timezone = ")
    with pytest.raises(ConfigError) as bad:
        load_config(str(broken))
    assert bad.value.key == "ESCALATOR_CONFIG"


def test_settings_defaults_and_bad_values() -> None:
    settings = load_settings({})
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite+aiosqlite:///./escalator.db"
    with pytest.raises(ConfigError) as caught:
        load_settings({"SLACK_API_URL": "ftp://x"})
    assert caught.value.key == "SLACK_API_URL"
    with pytest.raises(ConfigError) as caught:
        load_settings({"DATABASE_URL": "sqlite:///sync.db"})
    assert caught.value.key == "DATABASE_URL"
    with pytest.raises(ConfigError) as caught:
        load_settings({}).require_bot_token()
    assert caught.value.key == "SLACK_BOT_TOKEN"


def test_settings_never_show_secrets() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-very-secret", "SLACK_SIGNING_SECRET": "shh"})
    assert "xoxb-very-secret" not in repr(settings)
    assert "shh" not in repr(settings)


def test_a_year_the_holiday_library_does_not_know_can_be_given_by_hand() -> None:
    config = parse_config(
        {
            "calendar": {
                "extra_holidays": ["2027-01-01"],
                "extra_workdays": ["2027-01-02"],
                "own_holiday_years": [2027],
            }
        }
    )
    assert not config.calendar.is_working_day(date(2027, 1, 1))
    assert config.calendar.is_working_day(date(2027, 1, 2))  # a Saturday, made a workday
    with pytest.raises(ConfigError) as caught:
        parse_config({"calendar": {"own_holiday_years": ["next"]}})
    assert caught.value.key == "calendar.own_holiday_years"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite:///sync.db", "async SQLAlchemy URL"),
        ("postgresql+psycopg://u:p@db/escalator", "async SQLAlchemy URL"),
        ("postgresql+asyncpg://u:p@db:5432/", "names no database"),
        ("not a url", "async SQLAlchemy URL"),
    ],
)
def test_a_database_url_the_program_cannot_use_is_named(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"DATABASE_URL": url})
    assert caught.value.key == "DATABASE_URL"
    assert says in caught.value.problem
    assert ":p@" not in caught.value.problem


def test_a_postgresql_url_is_taken_and_its_password_never_shown() -> None:
    url = "postgresql+asyncpg://bot:hunter2@db.internal:5433/escalator"
    settings = load_settings({"DATABASE_URL": url})
    assert settings.database_url == url
    assert "hunter2" not in repr(settings)
    assert "db.internal:5433/escalator" in repr(settings)


def test_a_postgresql_url_without_its_driver_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "asyncpg" else real(name, *a)
    )
    with pytest.raises(ConfigError) as caught:
        load_settings({"DATABASE_URL": "postgresql+asyncpg://bot@db:5432/escalator"})
    assert caught.value.key == "DATABASE_URL"
    assert "pip install 'escalator[postgres]'" in caught.value.problem


@pytest.mark.parametrize("wrong", ["C0SUPPORT", "G0PRIVATE", "B0BOT1"])
def test_a_channel_or_bot_id_is_not_a_person(wrong: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"roles": {"engineers": [wrong]}})
    assert raised.value.key == "roles.engineers"
