"""CDS Hooks 2.0 for the explainer (README "EHR integration"): discovery, the patient-view service that
reads the chart (prefetch or the EHR's FHIR server) and answers one card, and the JWT check of the client.
Free of the web framework: app/routes/cds.py and app/cds_access.py wire it to HTTP."""
