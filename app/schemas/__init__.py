"""Marshmallow schemas: ``*In`` for load, ``*Out`` for dump; shared by REST and Socket.IO."""
