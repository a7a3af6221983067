"""The Notion API emulator: ``urls`` (the route table), ``responses`` (the HTTP layer), ``models`` (the workspace)."""
