"""Mail in: the listener and the IMAP fetcher hand raw bytes to one ordered pipeline (store ->
parse -> classify -> identify -> thread -> attachments -> ticket or reply)."""
