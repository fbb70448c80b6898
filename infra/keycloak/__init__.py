"""The local Keycloak: its distribution from Maven Central, realms, start-up and health."""
