"""Request plumbing: tenancy, page cache, rendering, sessions, downloads, headers, errors."""
