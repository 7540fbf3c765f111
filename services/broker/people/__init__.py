"""People who sign in: CDOs, department staff, bureau operators and auditors (CONTRACT v2)."""
