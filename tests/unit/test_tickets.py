from datetime import UTC, date, datetime

from bot.domain.tickets import (
    DETAILS_MAX,
    SUMMARY_MAX,
    ReportDraft,
    TicketState,
    in_warranty,
    open_ticket,
    report_errors,
)
from bot.sla.policy import DEFAULT_POLICY, Severity

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def draft(severity: Severity = Severity.C, channel: str | None = "C0CUST1") -> ReportDraft:
    return ReportDraft(
        summary="  Printer queue stuck  ",
        details="Jobs stay pending",
        system="",
        severity=severity,
        reporter_id="U0REP",
        origin_channel=channel,
    )


def test_empty_and_too_long_fields_are_refused_by_name() -> None:
    assert report_errors(summary="ok", details="ok", system="") == {}
    errors = report_errors(summary="   ", details="x" * (DETAILS_MAX + 1), system="")
    assert set(errors) == {"summary", "details"}
    assert "3000" in str(errors["details"])
    assert str(errors["summary"]) == "Please fill in the summary."
    assert "summary" in report_errors(summary="x" * (SUMMARY_MAX + 1), details="d", system="")


def test_the_limits_count_what_is_stored_not_the_spaces_around_it() -> None:
    # the ticket keeps the fields without the spaces and line breaks around them
    full = "x" * SUMMARY_MAX
    assert report_errors(summary=f" {full}\n", details=f"\n{'d' * DETAILS_MAX}\n", system="") == {}


def test_warranty_is_inclusive_of_its_last_day_and_open_without_a_date() -> None:
    assert in_warranty(date(2027, 6, 30), date(2027, 6, 30))
    assert not in_warranty(date(2027, 6, 30), date(2027, 7, 1))
    assert in_warranty(None, date(2099, 1, 1))


def test_a_customers_report_is_posted_in_their_channel() -> None:
    new = open_ticket(
        draft(),
        reported_at=NOW,
        reported_on=NOW.date(),
        support_channel="C0SUPPORT",
        customer="Highway",
        customer_channel="C0CUST1",
        warranty_until=date(2027, 6, 30),
        policy=DEFAULT_POLICY,
    )
    assert new.post_channel == "C0CUST1"
    assert new.summary == "Printer queue stuck"
    assert new.state is TicketState.OPEN


def test_other_reports_go_to_the_support_channel() -> None:
    new = open_ticket(
        draft(channel="C0RANDOM"),
        reported_at=NOW,
        reported_on=NOW.date(),
        support_channel="C0SUPPORT",
        customer=None,
        customer_channel=None,
        warranty_until=None,
        policy=DEFAULT_POLICY,
    )
    assert new.post_channel == "C0SUPPORT"
    assert new.in_warranty


def test_out_of_warranty_c_and_d_wait_for_a_manager_but_a_and_b_do_not() -> None:
    def state_of(severity: Severity) -> TicketState:
        return open_ticket(
            draft(severity),
            reported_at=NOW,
            reported_on=date(2027, 7, 1),
            support_channel="C0SUPPORT",
            customer="Highway",
            customer_channel="C0CUST1",
            warranty_until=date(2027, 6, 30),
            policy=DEFAULT_POLICY,
        ).state

    assert state_of(Severity.C) is TicketState.AWAITING_APPROVAL
    assert state_of(Severity.D) is TicketState.AWAITING_APPROVAL
    assert state_of(Severity.A) is TicketState.OPEN
    assert state_of(Severity.B) is TicketState.OPEN
