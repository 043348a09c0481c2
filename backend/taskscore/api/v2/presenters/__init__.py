"""The one way a v2 response is built: a presenter per resource turns domain objects into the
shape its response schema documents. Endpoints return what a presenter returns; nothing else
builds a response body."""
