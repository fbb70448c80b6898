"""Who is calling: bearer tokens checked against Keycloak, turned into principals."""
