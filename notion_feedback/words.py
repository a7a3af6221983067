"""Words that say little on their own: the one list the report's complaint themes and the agent's few-shot
examples both leave out when they compare texts (a small English list, no model)."""

from __future__ import annotations

_STOPWORD_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been before being below
    between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
    even ever few for from further get gets got had hadn't has hasn't have haven't having he her here hers herself
    him himself his how i i'd i'll i'm i've if in into is isn't it it's its itself just let's like me more most
    much my myself no nor not now of off on once one only or other ought our ours ourselves out over own please
    really same she should shouldn't so some still such than that that's the their theirs them themselves then
    there there's these they they're this those though through to too under until up us very was wasn't we we're
    were weren't what when where which while who whom why will with won't would wouldn't yes yet you you're your
    yours yourself yourselves thing things way lot bit im dont doesnt didnt cant wont isnt ive
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""Function words, and the filler people type in comments ("thing", "lot", "dont")."""
