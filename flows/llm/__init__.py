"""The follow-up analysis: the LaaS client, the prompt, and the built-in fallback."""
