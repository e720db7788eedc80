"""Everything about what GHL sends us: signatures, payload shapes, normalisation."""
