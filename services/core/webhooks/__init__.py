"""Webhooks as both services see them: Standard Webhooks signing (`signing`), which receiver URLs
are safe to call (`urls`), secrets at rest (`secrets`) and channels' credentials (`credentials`)."""
