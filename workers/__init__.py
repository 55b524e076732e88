"""External-task workers of LAPOR! Pontianak: one plain handler per topic (workers/topics.py)."""
