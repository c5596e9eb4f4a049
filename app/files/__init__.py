"""Stored documents: attachments, scans and photos, content-addressed per compound."""
