"""Messages to owners and staff: SMS templates, providers, and (later) the outbox that delivers them."""
