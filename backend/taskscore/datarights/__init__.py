"""Data rights: an org's owner exports all of its data, or deletes the org with all its rows."""
