"""The API's views, one module per area, so that each grows on its own:
``account`` (who the token is), and the repositories' read and write sides beside it."""
