"""The stream processors (``python -m processors``): intake of requests, consent decisions
and risk scores into ledger commands; reactions to committed blocks (risk audit, emergency
bypass, availability query); the consent-expiry timer."""
