"""Adapters to the outside world (payments, couriers, notifications), each with a local simulator."""
