"""The product's date formats (FORMAT_MODULE_PATH), one for dates and one for date-times, everywhere."""
