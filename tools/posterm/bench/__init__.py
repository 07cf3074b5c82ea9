"""posterm bench: speed and memory figures of the core, side by side with its peers."""
