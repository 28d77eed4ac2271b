"""The command palette (ctrl+p): every action of the current screen by name,
e.g. "conversation: assign to me", "inbox: search"."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class DeskCommands(Provider):
    """Lists the bindings of the screen under the palette (and the app's) as commands."""

    def _commands(self) -> list[tuple[str, str, object]]:
        screen = self.screen
        scope = {"InboxScreen": "inbox", "ConversationScreen": "conversation",
                 "ComposerScreen": "composer", "ReportsScreen": "reports"}.get(type(screen).__name__, "desk")
        out = []
        seen = set()
        for binding in [*getattr(screen, "BINDINGS", []), *self.app.BINDINGS]:
            if not binding.id or binding.id in seen:
                continue
            seen.add(binding.id)
            target = screen if any(b is binding for b in getattr(screen, "BINDINGS", [])) else self.app
            prefix = scope if target is screen else "desk"
            name = f"{prefix}: {(binding.tooltip or str(binding.description)).lower()}"
            out.append((name, binding.tooltip or str(binding.description),
                        partial(target.run_action, binding.action)))
        return out

    async def discover(self) -> Hits:
        for name, help_text, run in self._commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, run in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
