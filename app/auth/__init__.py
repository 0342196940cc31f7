"""Who is acting: principals, passwords, tokens and the permission module."""
