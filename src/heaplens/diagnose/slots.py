"""Names for unnamed context slots: ``system / Context → [0] (hidden) → Map``.

The exact names come from the context's ScopeInfo (``diagnose.scope_names``); when a snapshot does
not carry them, from the module's source, as follows.

Node 20's V8 writes a module function's context locals as hidden, indexed edges, so the chain of a
leak ends in ``[0]`` where a person wants ``sessionCache``. The slots are allocated in the order the
variables are declared; the closures in the same context carry their own names (``SessionRecord`` in
slot 1, ``openSession`` in slot 2), which anchor the source's declaration list to the slot indices.
A name is given only when every named closure in the context sits where the source says it should.
"""

from __future__ import annotations

import re
from pathlib import Path

from .scope_names import scope_slot_names

IDENT = re.compile(r"[A-Za-z_$][\w$]*")
DECL = re.compile(r"^(?:export\s+)?(?:default\s+)?(?:(?:const|let|var)\s+([A-Za-z_$][\w$]*)|"
                  r"(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)|class\s+([A-Za-z_$][\w$]*))", re.M)


def declarations(source: str) -> list[str]:
    """Top-level declared names, in source order (column-0 declarations only)."""
    return [next(g for g in m.groups() if g) for m in DECL.finditer(source)]


def _script_path(url: str | None) -> Path | None:
    if not url:
        return None
    p = Path(url.removeprefix("file://"))
    return p if p.is_file() else None


def context_slots(g, ctx: int) -> dict[int, str]:
    """Slot index → name of the closure in it, for the hidden indexed edges of context node ``ctx``."""
    closure = g.nt.get("closure")
    hidden = g.t.get("hidden")
    out: dict[int, str] = {}
    for e in range(int(g.first[ctx]), int(g.first[ctx + 1])):
        if int(g.etype[e]) != hidden:
            continue
        to = int(g.to[e])
        if int(g.ntype[to]) == closure:
            name = g.node_name(to)
            if name:
                out[int(g.ename[e])] = name
    return out


def slot_name(g, ctx: int, slot: int, script_url: str | None) -> str | None:
    """The context's own ScopeInfo first (exact; ``diagnose.scope_names``), checked against the named
    closures; else the source's declaration order on disk."""
    names = scope_slot_names(g, ctx)
    if names is not None and 0 <= slot < len(names):
        known = context_slots(g, ctx)
        if all(0 <= i < len(names) and names[i] == n for i, n in known.items()):
            # internal slots carry symbols (`<symbol>`), not variables
            return names[slot] if IDENT.fullmatch(names[slot]) else None
    path = _script_path(script_url)
    if path is None:
        return None
    try:
        names = declarations(path.read_text(errors="replace"))
    except OSError:
        return None
    known = context_slots(g, ctx)
    if not known or slot in known:
        return known.get(slot)
    offsets = set()
    for i, n in known.items():
        if n not in names:
            return None
        offsets.add(names.index(n) - i)
    if len(offsets) != 1:
        return None
    k = slot + offsets.pop()
    return names[k] if 0 <= k < len(names) and names[k] not in known.values() else None
