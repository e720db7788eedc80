"""The fault-injection soak (``make soak``): the local stack under faults at its edges, driven
with GHL webhook deliveries, website events and the workflow steps they start; see
``soak/__main__.py``."""
