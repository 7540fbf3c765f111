"""The fault run (`bench/chaos`): nothing accepted is lost while the stack's services fail."""
