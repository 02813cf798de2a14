"""The engine: orchestrates config, sources, the Klaviyo client and state into plan and apply."""
