"""Open Referral HSDS 3.0 service directory: organizations, services, locations, schedules, search."""
