"""Signing people in: GitHub and OpenID Connect through Authlib, who may make an account
(`allow_signup`), and the account an identity signs into."""
