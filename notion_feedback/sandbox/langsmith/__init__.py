"""The LangSmith API emulator.

``urls`` (the route table), ``responses`` (the HTTP handlers), ``models`` (runs, feedback, queries).
"""
