"""AI providers. The scoring engine consumes `AIAssessment`s; which provider produces them is
configuration (the scoring capability adds the `openai` and `local` providers behind
`AIProvider`)."""
