"""Generated from the broker's schemas by scripts/generate_models.py: do not edit."""
