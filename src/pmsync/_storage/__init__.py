"""Confluence storage format, pure: reading action items and writing cells back."""
