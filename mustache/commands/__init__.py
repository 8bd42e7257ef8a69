"""CLI commands: each module holds one typed command function; heavy imports stay inside it."""
