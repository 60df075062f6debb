"""Surfaces: how people reach the assistant. Thin: parse, call qa.answer, show.

cli.py     the `qa` command (Typer); chat.py the terminal session; render.py terminal output
server.py  the HTTP API (FastAPI), with schemas.py its shapes, and web/, the chat page and the
           widget it serves

May import: every earlier stage. Nothing imports a surface, except surfaces.
"""
