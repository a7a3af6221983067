"""The Notion route table: (method, path, handler name); handlers are ``NotionResponses`` methods.

Path parameters are named after Notion's own (``{page_id}``) and reach the handler in ``call.params``.
Matching is done here rather than by Starlette, so that an unknown URL is refused (400
``invalid_request_url``) before the token is checked, as on the real API. A new endpoint is one row here and
one method in ``responses``.
"""

from __future__ import annotations

import re

ROUTES = [
    ("GET", "/v1/users/me", "users_me"),
    ("GET", "/v1/users", "users_list"),
    ("GET", "/v1/users/{user_id}", "users_retrieve"),
    ("POST", "/v1/databases", "databases_create"),
    ("GET", "/v1/databases/{database_id}", "databases_retrieve"),
    ("PATCH", "/v1/databases/{database_id}", "databases_update"),
    ("POST", "/v1/data_sources", "data_sources_create"),
    ("GET", "/v1/data_sources/{data_source_id}", "data_sources_retrieve"),
    ("PATCH", "/v1/data_sources/{data_source_id}", "data_sources_update"),
    ("POST", "/v1/data_sources/{data_source_id}/query", "data_sources_query"),
    ("GET", "/v1/data_sources/{data_source_id}/templates", "data_sources_templates"),
    ("POST", "/v1/pages", "pages_create"),
    ("GET", "/v1/pages/{page_id}", "pages_retrieve"),
    ("PATCH", "/v1/pages/{page_id}", "pages_update"),
    ("GET", "/v1/pages/{page_id}/properties/{property_id}", "pages_property"),
    ("GET", "/v1/pages/{page_id}/markdown", "pages_markdown"),
    ("PATCH", "/v1/pages/{page_id}/markdown", "pages_update_markdown"),
    ("POST", "/v1/pages/{page_id}/move", "pages_move"),
    ("GET", "/v1/blocks/{block_id}/children", "blocks_children_list"),
    ("PATCH", "/v1/blocks/{block_id}/children", "blocks_children_append"),
    ("GET", "/v1/blocks/{block_id}", "blocks_retrieve"),
    ("PATCH", "/v1/blocks/{block_id}", "blocks_update"),
    ("DELETE", "/v1/blocks/{block_id}", "blocks_delete"),
    ("POST", "/v1/file_uploads", "file_uploads_create"),
    ("GET", "/v1/file_uploads", "file_uploads_list"),
    ("GET", "/v1/file_uploads/{file_upload_id}", "file_uploads_retrieve"),
    ("POST", "/v1/file_uploads/{file_upload_id}/send", "file_uploads_send"),
    ("POST", "/v1/file_uploads/{file_upload_id}/complete", "file_uploads_complete"),
    ("POST", "/v1/comments", "comments_create"),
    ("GET", "/v1/comments", "comments_list"),
    ("GET", "/v1/comments/{comment_id}", "comments_retrieve"),
    ("PATCH", "/v1/comments/{comment_id}", "comments_update"),
    ("DELETE", "/v1/comments/{comment_id}", "comments_delete"),
    ("POST", "/v1/search", "search"),
    ("POST", "/v1/views", "views_create"),
    ("GET", "/v1/views", "views_list"),
    ("GET", "/v1/views/{view_id}", "views_retrieve"),
    ("PATCH", "/v1/views/{view_id}", "views_update"),
    ("DELETE", "/v1/views/{view_id}", "views_delete"),
]
_ID = r"(?P<{}>[^/]+)"


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", lambda m: _ID.format(m.group(1)), pattern) + "/?$")


_COMPILED = [(method, _compile(path), name) for method, path, name in ROUTES]


def match(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The handler name and path parameters of a request, or None for a URL the API does not have."""
    for m, regex, name in _COMPILED:
        if m == method and (found := regex.match(path)):
            return name, found.groupdict()
    return None
