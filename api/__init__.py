"""HTTP face of LAPOR! Pontianak: citizens, intake channels, Open311."""
