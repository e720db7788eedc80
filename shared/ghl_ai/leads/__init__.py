"""Lead state: what we know about each contact, and how GHL events change it."""
