"""The follow-up analysis: the analyst (LaaS, an OpenAI-compatible endpoint, or built-in), the shared
calls, the prompt, and the built-in fallback."""
