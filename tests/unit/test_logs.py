import logging

from bot.logs import RedactingFormatter


def test_tokens_and_secrets_never_reach_the_log() -> None:
    formatter = RedactingFormatter(["s3cr3t-signing"])
    record = logging.LogRecord(
        "escalator",
        logging.INFO,
        __file__,
        1,
        "token xoxb-123-456-abc secret s3cr3t-signing app xapp-1-A-2",
        None,
        None,
    )
    record.ticket = 42
    record.user = "U0ENG1"
    line = formatter.format(record)
    assert "xoxb-123" not in line
    assert "xapp-1-A" not in line
    assert "s3cr3t-signing" not in line
    assert line.endswith("ticket=#42 user=U0ENG1")
    assert "INFO" in line
