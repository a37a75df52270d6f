"""The interfaces people and programs use: the command line, HTTP, and text rendering."""
