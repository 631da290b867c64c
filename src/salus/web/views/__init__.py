"""Views of the staff web app, one module per screen family. Views are thin: they read through
salus.core.access, validate with salus.web.forms and write through the do_* actions."""
