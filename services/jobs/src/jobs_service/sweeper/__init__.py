"""The sweeper: publish again what the broker lost, end what stayed owed too long."""
