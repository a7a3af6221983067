"""The daemon: the scheduled jobs under a single-active lease, a record of every job run, and what ``status``
reads."""
