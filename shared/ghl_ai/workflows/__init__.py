"""Workflow engine: declarative nurture sequences run as SQS steps."""
