"""Everything that talks to PayPal: the gateway (REST API), the Log in with PayPal provider, the emulator."""
