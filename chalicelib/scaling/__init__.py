"""Keeping each worker group at the right size: a pure policy (`policy`) decides,
the reconciler (`scale_group`) acts through a provider and records what it did."""
