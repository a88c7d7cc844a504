"""Demo dataset (a small CRM / order / support database) and demo questions for govern."""
