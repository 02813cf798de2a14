"""Plans: the frozen difference between each segment and its Klaviyo list."""
