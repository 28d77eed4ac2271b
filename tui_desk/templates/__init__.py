"""Reply templates: files, sandboxed rendering, the picker's ranking, one-keystroke
replies and usage stats. No Textual here: the TUI's picker calls these."""

from .library import Template, TemplateError, TemplateLibrary, parse_template, templates_dir
from .render import Rendered, check_body, check_library, render, variables_for

__all__ = ["Rendered", "Template", "TemplateError", "TemplateLibrary", "check_body", "check_library", "parse_template", "render",
           "templates_dir", "variables_for"]
