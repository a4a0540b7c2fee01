"""The GOV.UK Frontend page template, form rendering helpers and built static assets."""
