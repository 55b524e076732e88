"""Core of LAPOR! Pontianak shared by the API and the workers: settings, database, domain rules."""
