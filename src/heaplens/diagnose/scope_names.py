"""Exact names for unnamed context slots, read from the context's own ScopeInfo.

Why the slots are unnamed: Vitest's module evaluator wraps each transformed module as
``'use strict';async (…)=>{{ <code> }}`` — the module's top-level ``const``/``let``/``class``/``function``
declarations live in a *block* context. V8's heap snapshot names context locals (``sessionCache
(context)``) only for declaration contexts (function, script, module contexts), so the block
context's slots are written as hidden indexed edges: ``system / Context → [1] (hidden) → Map``.

The names are still in the snapshot: the context's ``scope_info`` internal edge leads to a
``system / ScopeInfo`` node whose hidden edges ``[0]``, ``[1]``, … point to the locals' names (strings),
in slot order — the same order as the context's hidden edges. Checked on Node 20.20 (V8 11.3) with
Vitest 4.1 (``module-cache``: slots ``[0..4]`` = ``Session, sessionCache, loadSession, sessionCount,
clearSessions``) and with a plain ``vm.runInThisContext`` of a ``=>{{ … }}`` wrapper.

No source file is needed (unlike matching the declaration order of the source on disk), and a slot
is named only when the ScopeInfo has exactly one name per hidden slot of the context.

:func:`heaplens.diagnose.slots.slot_name` tries this first, then the source's declaration order.
"""

from __future__ import annotations


def _edges(g, node: int) -> range:
    return range(int(g.first[node]), int(g.first[node + 1]))


def scope_slot_names(g, ctx: int) -> list[str] | None:
    """The names of the hidden slots ``[0..n)`` of context node ``ctx`` (a :class:`HeapGraph` node),
    or None when the snapshot does not carry them consistently."""
    hidden = g.t.get("hidden")
    internal = g.t.get("internal")
    strings = {g.nt[k] for k in ("string", "concatenated string", "sliced string") if k in g.nt}
    scope = None
    slots = 0
    for e in _edges(g, ctx):
        t = int(g.etype[e])
        if t == internal and g.edge_name(e) == "scope_info":
            scope = int(g.to[e])
        elif t == hidden:
            slots += 1
    if scope is None or not g.node_name(scope).endswith("ScopeInfo"):
        return None
    names: dict[int, str] = {}
    for e in _edges(g, scope):
        if int(g.etype[e]) != hidden:
            continue
        to = int(g.to[e])
        if int(g.ntype[to]) not in strings:
            return None
        names[int(g.ename[e])] = g.node_name(to)
    if len(names) != slots or set(names) != set(range(slots)):
        return None
    return [names[i] for i in range(slots)]


def scope_slot_name(g, ctx: int, slot: int) -> str | None:
    """The variable in hidden slot ``slot`` of context node ``ctx``, from its ScopeInfo."""
    names = scope_slot_names(g, ctx)
    return names[slot] if names is not None and 0 <= slot < len(names) else None
