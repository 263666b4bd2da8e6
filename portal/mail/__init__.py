"""Mail: composing (compose), the durable outbox and its sender, the local sink, `flask mail`."""
