"""Slack: the report's messages, their mrkdwn, delivery, and the @mention bot."""
