"""The suite's settings: one environment for both services, as a deployment gives them (one
ConfigMap), each reading its part; so a fixture's settings start the broker and the notifier."""

from broker.settings import BrokerSettings
from notifier.settings import NotifierSettings


class Settings(BrokerSettings, NotifierSettings):
    """Every setting of the broker and of the notifier."""
