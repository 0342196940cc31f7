"""Event names, rooms and the publisher that sends them after commit."""
