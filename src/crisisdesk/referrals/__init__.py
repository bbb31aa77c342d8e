"""Closed-loop referrals from a case to a directory service (Gravity SDOH lifecycle, FHIR R4 export)."""
