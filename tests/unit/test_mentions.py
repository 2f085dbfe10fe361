"""A mention's text, as the bot reads it: its own mentions gone, everyone else's kept."""

from bot.slack.delivered import typed, unnamed_people, without_me


def test_only_the_bots_own_mentions_are_taken_out() -> None:
    assert without_me("<@UBOT> printer broke, <@U0ENG2> saw it", "UBOT") == (
        "printer broke, <@U0ENG2> saw it"
    )
    assert without_me("<@UBOT|escalator> hi, cc <@UBOT>", "UBOT") == "hi, cc"
    # not knowing its id, the bot takes the leading mention for its own
    assert without_me(" <@UBOT> note <@U0ENG2|eli> again", None) == "note <@U0ENG2|eli> again"


def test_a_messages_bare_mentions_are_named_when_the_names_are_known() -> None:
    text = "<@U0ENG2> and <@U0ENG3|ezra> saw it, cc <@U0ENG2> <@U0MGR1>"
    assert unnamed_people(text) == ["U0ENG2", "U0MGR1"]
    assert typed(text, {"U0ENG2": "eli"}) == "@eli and @ezra saw it, cc @eli @U0MGR1"
