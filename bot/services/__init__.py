"""Use cases: one async function each, one transaction each. Nothing here talks to Slack."""
