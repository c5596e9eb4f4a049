"""Notices (公告): drafts, publication, corrections, board postings, delivery and the printed PDF."""
