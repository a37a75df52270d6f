"""Exports for others to read: the insurer's claim message (GDS801) and FHIR; built from issued declarations."""
