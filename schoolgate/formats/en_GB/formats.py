"""Dates read "2 December 2026" and date-times "2 December 2026, 14:05" on every page and in every email.

Input formats are not set here, so Django's own en_GB ones still parse what people type."""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "j F Y"
SHORT_DATETIME_FORMAT = "j F Y, H:i"
TIME_FORMAT = "H:i"
