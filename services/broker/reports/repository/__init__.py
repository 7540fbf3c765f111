"""The evaluation report's SQL: `measures` (one GROUP BY per measure, keyed by body and CDO
appointment) and `roster` (whom the rows are about: the bodies and the appointments)."""
