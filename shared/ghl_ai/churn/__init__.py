"""Churn: who is going quiet (activity summaries, the 7/14/30-day risk, tiers and reasons)
and the daily sweep that scores every lead and starts re-engagement plays."""
