"""Notion's size limits on request bodies, each written once (https://developers.notion.com/reference/request-limits).

Notion answers a body over any of these with ``400 validation_error``; the product cuts or splits text before
sending instead. The sandbox's Notion emulator keeps its own copy of these numbers on purpose (it is an independent
check of the product); a test says the two agree.
"""

from __future__ import annotations

MAX_TEXT_CHARS = 2000
"""Characters in one rich text object's ``text.content``: longer text is split into several runs."""

MAX_URL_CHARS = 2000
"""Characters in any URL: a ``url`` property, a link inside rich text, an external file."""

MAX_RUNS = 100
"""Elements in one array: rich text runs in one property or block, children in one append."""

MAX_SELECT_CHARS = 100
"""Characters in a select option's name."""

MAX_NESTING = 3
"""Levels of blocks in one request: a block, its children and theirs (the official SDK's request types,
``BlockObjectRequest`` > ``BlockObjectWithSingleLevelOfChildrenRequest`` > ``BlockObjectRequestWithoutChildren``);
deeper blocks must be appended to their parent once it exists."""

MAX_REQUEST_BYTES = 512_000
"""Bytes in one request body (Notion's documented 500 KB): a longer body is refused whole."""

REQUEST_BUDGET_BYTES = 450_000
"""What the product puts in one request body: under ``MAX_REQUEST_BYTES`` with room for the request's own keys."""
