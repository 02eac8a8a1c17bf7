"""OAuth2 with Entra ID: endpoints, HTTPS, MSAL flows, Graph reads and the oauth.* checks."""
