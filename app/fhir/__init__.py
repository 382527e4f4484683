"""FHIR R4 input (mCODE STU4): reading a case from a Bundle. Free of any web framework."""
