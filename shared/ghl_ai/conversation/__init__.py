"""The lead conversation: deciding whether to answer, what to say (Claude or the rule-based
qualifier), and writing the results back into GHL."""
