"""Parsing: raw channel items → `ParsedMessage` (parse.mail, parse.chat). Never raises on bad input.

Import the submodules directly: the mail parser pulls in HTML and reply-parsing
libraries that commands which never parse should not pay for at start-up.
"""
