"""Every table, imported once so Alembic and create_all see the whole schema."""

from broker.catalog.models import Dataset
from broker.directory.models import Appointment, Delegation, Organisation
from broker.kit.db import Base
from broker.oauth.models import OAuthClient

__all__ = ["Appointment", "Base", "Dataset", "Delegation", "OAuthClient", "Organisation"]
