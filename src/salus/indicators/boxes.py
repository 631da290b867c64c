"""Small counts that no reader can work out, whatever else is shown: a *box* of hidden cells
around each one (the hypercube method of statistical disclosure control: Repsilber, "Preservation
of confidentiality in aggregated data", 1994; τ-ARGUS's GHMITER, de Wolf, "HiTaS: a heuristic
approach to cell suppression in hierarchical tables", 2002).

A count is a table over four dimensions, each a hierarchy over its finest values: the places
(sites, then the areas above them, up to the program), the periods (months, their quarters,
the year), the sexes (each sex, then all) and the age bands (each band, then all). Every cell
a page shows is the sum of the fine cells (one site, month, sex and age band) under one node
of each dimension. A box is, in each dimension, either

- a *pair*: a fine value under the small cell's node and one under a sibling node, with the
  nodes from each fine value up to (not including) the parent they share; or
- a *single*: one fine value under the node, with every node from it up to the top;

and the box's cells are every combination of those nodes. Adding +1 to the fine cells whose
pair values are all on the small cell's side or with an even number on the other, and -1 to
the others, changes every cell of the box by one and no other cell of any page: any other
node of a paired dimension holds both fine values or neither, and every node of a single
dimension that holds its fine value is in the box. So when every cell of the box is hidden,
the table with that change is another whose pages show exactly what these show, and differs
in each cell of the box. When it also keeps every fine cell at zero or more, and within what
the other counts tell a reader (a result given at a contact: results are at most the
contacts, positive results at most the results), no reader can pin down any cell of the box,
in whole numbers or not, whatever else is shown and on whichever pages.

Each small cell, then each other cell the caller asks to protect (hidden place totals), is
given the box that hides the fewest cells not already hidden (a place's total costs most, a
cell of one sex or one age band less, one of a sex and an age band least), unless one that
keeps within bounds already holds it. The fine values a box can take under
the small cell's node are those nearest it (fewest nodes between); under a sibling, the
largest over the year of those nearest it, or any of them when no box with the largest keeps
within bounds. A box whose change would take a count below zero, or past what the others
tell, is passed over for the next cheapest. A small cell that no box of its count alone can
move within those bounds (every contact of its fine cell tested and every test positive) gets
a box that moves the count together with the count it is at most (one more result at one
more contact), or with that one's too; its cells are then hidden in each count it moves.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

# How many of a small cell's cheapest boxes are tried one by one before the rest in batches.
FEW = 8
# What hiding a cell not already hidden costs, by how coarse it is (weights of the choice).
TOTAL_COST = 100
MARGIN_COST = 3
FINE_COST = 1


@dataclass(frozen=True)
class Hierarchy:
    """One dimension: its nodes, each with its parent (-1 at the top; the top is one node) and
    the fine values under it. Nodes are numbered so that a parent comes before its children."""

    parent: tuple[int, ...]
    leaves: tuple[tuple[int, ...], ...]

    @staticmethod
    def flat(n: int) -> Hierarchy:
        """``n`` fine values (nodes 0 to n - 1) and their total (node n)."""
        return Hierarchy(parent=(*([n] * n), -1), leaves=(*((i,) for i in range(n)), tuple(range(n))))

    @property
    def _fine_nodes(self) -> dict[int, int]:
        # The deepest node holding each fine value: the one that holds it alone.
        out: dict[int, int] = {}
        for node, leaves in enumerate(self.leaves):
            if len(leaves) == 1:
                out[leaves[0]] = node
        return out

    def up(self, node: int, stop: int = -1) -> list[int]:
        """``node`` and the nodes above it, up to (not including) ``stop`` (-1: to the top)."""
        chain = []
        while node != stop and node != -1:
            chain.append(node)
            node = self.parent[node]
        return chain


@dataclass(frozen=True)
class _Choices:
    """A dimension's options for one node (:meth:`_Dim.options`) as arrays: the few nodes any
    of them takes (``nodes``), which of those each takes (``mask``: options x nodes), and each
    one's fine value on the small cell's side (``plus``) and on the other (``minus``, -1 for a
    single)."""

    options: list[tuple[list[int], int, int | None]]
    nodes: np.ndarray
    mask: np.ndarray
    plus: np.ndarray
    minus: np.ndarray

    @staticmethod
    def of(options: list[tuple[list[int], int, int | None]]) -> _Choices:
        nodes = sorted({n for taken, _, _ in options for n in taken})
        at = {n: i for i, n in enumerate(nodes)}
        return _Choices(options, np.array(nodes), _mask([[at[n] for n in taken] for taken, _, _ in options], len(nodes)),
                        np.array([plus for _, plus, _ in options]),
                        np.array([-1 if minus is None else minus for _, _, minus in options]))


@dataclass
class _Dim:
    tree: Hierarchy
    fine_nodes: dict[int, int]
    children: dict[int, list[int]]
    nearest: list[list[int]]  # per node, the fine values nearest it, the largest first
    # (node, wide) -> its options as arrays: asked again for every small cell of the node.
    _choices: dict[tuple[int, bool], _Choices] = field(default_factory=dict)

    @staticmethod
    def of(tree: Hierarchy, weight: np.ndarray) -> _Dim:
        """``weight``: per fine value, how much of the count it holds (larger is taken first)."""
        fine_nodes = tree._fine_nodes
        children: dict[int, list[int]] = {}
        for node, p in enumerate(tree.parent):
            children.setdefault(p, []).append(node)
        nearest = []
        for node, leaves in enumerate(tree.leaves):
            depth = {f: len(tree.up(fine_nodes[f], node)) for f in leaves}
            nearest.append(sorted((f for f in leaves if depth[f] == min(depth.values())), key=lambda f: (-weight[f], f)))
        return _Dim(tree, fine_nodes, children, nearest)

    def choices(self, node: int, wide: bool = False) -> _Choices:
        """:meth:`options` of ``node``, as arrays (kept: the same node is asked many times)."""
        if (node, wide) not in self._choices:
            self._choices[node, wide] = _Choices.of(self.options(node, wide))
        return self._choices[node, wide]

    def options(self, node: int, wide: bool = False) -> list[tuple[list[int], int, int | None]]:
        """The ways a box can take ``node`` in this dimension: (its nodes, the fine value on
        the small cell's side, the fine value on the other side or None for a single). With
        ``wide``, any fine value nearest a sibling too, not only its largest."""
        out: list[tuple[list[int], int, int | None]] = []
        parent = self.tree.parent[node]
        # On the small cell's side, any fine value nearest the node: the small cell's own
        # fine cells are often zero in some of them, and a box must be able to move them.
        nearest = self.nearest[node]
        if parent != -1:
            for plus in nearest:
                mine = self.tree.up(self.fine_nodes[plus], parent)
                for sibling in self.children[parent]:
                    if sibling != node:
                        # A sibling's largest nearest fine value, or (``wide``) any of them.
                        for minus in self.nearest[sibling] if wide else self.nearest[sibling][:1]:
                            out.append((mine + self.tree.up(self.fine_nodes[minus], parent), plus, minus))
        # A single: one fine value under the node, and every node above it.
        for plus in nearest:
            out.append((self.tree.up(self.fine_nodes[plus]), plus, None))
        return out


@dataclass
class Boxes:
    """What :func:`boxes` settled: ``hidden`` over the nodes of the four dimensions (places,
    periods, sexes, age bands), the small cells and rule 6's totals included, and
    ``unbounded``, how many cells given a box (small or protected) had no box that keeps every
    count within what a reader knows and were in no such box of another (each was given the
    cheapest box, which still holds in real numbers). ``together[k - 1]``: the cells of the
    boxes that move the ``k`` counts above as well (:func:`boxes`' ``together``), to be hidden
    in those counts too."""

    hidden: np.ndarray
    unbounded: int
    together: list[np.ndarray]


def boxes(fine: np.ndarray, dims: tuple[Hierarchy, Hierarchy, Hierarchy, Hierarchy], threshold: int,
          hidden: np.ndarray | None = None, low: np.ndarray | None = None,
          high: np.ndarray | None = None, protect: np.ndarray | None = None,
          together: list[tuple[np.ndarray | None, np.ndarray | None]] | None = None) -> Boxes:
    """Boxes for every small cell (1 to ``threshold`` - 1) of the count ``fine`` (its fine
    cells: sites × months × sexes × age bands, the fine values of ``dims``). ``hidden``
    (booleans over the nodes, or None): cells hidden already (place totals), which a box
    takes at no cost. ``protect`` (booleans over the nodes, or None): cells that need a box
    too, though not small (hidden place totals, which would otherwise be the sum of cells
    shown); after the small cells, each of them in no box yet gets one, zeros included (a
    page would otherwise protect a hidden zero with cells of its own, which other pages show).

    ``low`` and ``high`` (or None): per fine cell, the least and most the count can be, as a
    reader knows from the other counts (a result is given at a contact: the contacts are the
    results' most). The answer's ``hidden`` is every cell to hide (those given, and the boxes).

    ``together`` (or None): ``(low, high)`` again, for when the count moves with the count it is
    at most (results with their contacts: one more result at one more contact), then with that
    one's too, and so on up. A cell with no box within ``low`` and ``high`` takes the cheapest
    within the first of these that has one; the cells of the boxes that move ``k`` counts
    above this one are the answer's ``together[k - 1]``, to be hidden in those counts too.
    """
    values = fine
    for axis, tree in enumerate(dims):
        members = _mask([list(leaves) for leaves in tree.leaves], values.shape[axis])  # nodes x fine values
        values = np.tensordot(members, values, axes=([1], [axis]))
        values = np.moveaxis(values, 0, axis)
    small = (values >= 1) & (values < threshold)
    hide = small.copy() if hidden is None else (small | hidden)
    cost = _costs(dims)
    weights = [fine.sum(axis=tuple(a for a in range(4) if a != axis)) for axis in range(4)]
    ds = [_Dim.of(tree, w) for tree, w in zip(dims, weights, strict=True)]
    covered = np.zeros_like(hide)
    open_cost = np.where(hide, 0.0, cost)  # what hiding each cell would still cost
    unbounded = 0
    # What the count alone may do, then with the counts above it moved too.
    rooms = [_Room.of(fine, least, most) for least, most in [(low, high), *(together or [])]]
    moving = [np.zeros_like(hide) for _ in rooms[1:]]
    # What hiding each cell still costs in the counts above, once a box moves them too.
    above_cost = [cost.copy() for _ in rooms[1:]]
    needy = np.zeros_like(small) if protect is None else protect & ~small
    for cell in itertools.chain(map(tuple, np.argwhere(small)), map(tuple, np.argwhere(needy))):
        if covered[cell]:
            continue
        cheapest = None
        # The count alone first, then (when given) with the counts above it, one more at a
        # time; each with its siblings' largest fine values, then (rarely needed) any of them.
        # Past them all, the cheapest of the first.
        for moved, wide in itertools.product(range(len(rooms)), (False, True)):
            # A box that moves counts above costs what it hides of each: all but what such
            # boxes hide of them already (what else they hide is not known here).
            chosen, first = _cheapest_within([d.choices(node, wide) for d, node in zip(ds, cell, strict=True)],
                                             open_cost + sum(above_cost[:moved]) if moved else open_cost,
                                             rooms[moved])
            cheapest = cheapest or first
            if chosen is not None:
                break
        box = chosen or cheapest
        assert box is not None  # the search above ran at least once
        ix = np.ix_(*(box_nodes for box_nodes, _, _ in box))
        hide[ix] = True
        open_cost[ix] = 0.0
        if chosen is not None:
            covered[ix] = True
            if moved:
                moving[moved - 1][ix] = True
                for above in above_cost[:moved]:
                    above[ix] = 0.0
        else:
            # The cheapest box still holds in real numbers. It covers this cell alone: the
            # other cells in it look for a box of their own that keeps within bounds.
            unbounded += 1
            covered[cell] = True
    return Boxes(hidden=hide, unbounded=unbounded, together=moving)


def hidden_and_moving(fine: np.ndarray, dims: tuple[Hierarchy, Hierarchy, Hierarchy, Hierarchy], threshold: int,
                      held: np.ndarray, low: np.ndarray | None, high: np.ndarray | None,
                      together: list[tuple[np.ndarray | None, np.ndarray | None]]) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`boxes` of a count whose hidden place totals ``held`` are protected too: its
    ``hidden`` and ``together`` (a function of this module, so that another process can be
    given it: salus.core.spread)."""
    found = boxes(fine, dims, threshold, held, low, high, protect=held, together=together)
    return found.hidden, found.together


@dataclass(frozen=True)
class _Room:
    """Per fine cell (flat, in C order), whether one more (``more``) or one less (``fewer``)
    keeps it within what a reader knows of it."""

    more: np.ndarray
    fewer: np.ndarray
    strides: tuple[int, ...]  # of the four dimensions, in fine cells

    @staticmethod
    def of(fine: np.ndarray, least: np.ndarray | None, most: np.ndarray | None) -> _Room:
        """``least`` and ``most``: per fine cell, or None for zero and no end."""
        least = np.zeros_like(fine) if least is None else least
        most = np.full_like(fine, np.inf) if most is None else most
        strides = tuple(int(np.prod(fine.shape[axis + 1:])) for axis in range(4))
        return _Room(((fine + 1 >= least) & (fine + 1 <= most)).ravel(),
                     ((fine - 1 >= least) & (fine - 1 <= most)).ravel(), strides)


def _cheapest_within(choices: list[_Choices], open_cost: np.ndarray, room: _Room) -> tuple:
    """The cheapest box of ``choices`` (each dimension's, :meth:`_Dim.choices`) whose change
    keeps every fine cell within what a reader knows of it (``room``), or None; and the
    cheapest of all. Ties go to the first in the options' order."""
    # The cost of a box is the sum of what its cells still cost: for every combination of
    # the dimensions' options at once, over the few nodes any option can take.
    costs = open_cost[np.ix_(*(c.nodes for c in choices))]
    for axis in reversed(range(4)):
        # Each product sums the last axis into that dimension's options, which are then put
        # first: after all four, (place option, period option, sex option, age option).
        costs = (costs @ choices[axis].mask.T).transpose(3, 0, 1, 2)
    flat_costs = costs.ravel()

    def box(flat: int) -> tuple:
        return tuple(c.options[i] for c, i in zip(choices, np.unravel_index(flat, costs.shape), strict=True))

    # The cheapest few one by one (most often one of them serves), then the others in order
    # of cost, a growing batch at a time: the first that keeps within bounds is the cheapest.
    # The few are found without sorting every box: those at most the few-th cost, in the order
    # a stable sort of all would give them (by cost, then by place in the grid).
    if flat_costs.size > FEW:
        head = np.flatnonzero(flat_costs <= np.partition(flat_costs, FEW - 1)[FEW - 1])
        head = head[np.argsort(flat_costs[head], kind="stable")][:FEW]
    else:
        head = np.argsort(flat_costs, kind="stable")
    cheapest = box(int(head[0]))
    for flat in head.tolist():
        if _within(room, box(flat)):
            return box(flat), cheapest
    order = np.argsort(flat_costs, kind="stable")
    start, size = FEW, 4 * FEW
    while start < order.size:
        batch = order[start:start + size]
        ok = np.flatnonzero(_all_within(room, choices, np.unravel_index(batch, costs.shape)))
        if ok.size:
            return box(int(batch[ok[0]])), cheapest
        start, size = start + size, size * 4
    return None, cheapest


# The corners (one side of each dimension: 0 the small cell's, 1 the other) with an odd number
# on the other side: the box's change moves those the opposite way to the small cell.
_ODD_CORNERS = np.indices((2, 2, 2, 2)).sum(axis=0) % 2 == 1


def _all_within(room: _Room, choices: list[_Choices], picks: tuple[np.ndarray, ...]) -> np.ndarray:
    """:func:`_within` for many boxes at once (``picks``: each dimension's option of each box).

    A box's change moves its corners, one fine value of each dimension: the small cell's side
    (+) or the other's (-; a single has none)."""
    at = np.zeros((picks[0].size, 2, 2, 2, 2), dtype=np.int64)
    present = np.ones(at.shape, dtype=bool)
    for axis, (c, i, stride) in enumerate(zip(choices, picks, room.strides, strict=True)):
        shape = [-1, 1, 1, 1, 1]
        shape[axis + 1] = 2
        minus = c.minus[i]
        at += (np.stack([c.plus[i], np.maximum(minus, 0)], axis=1) * stride).reshape(shape)
        present &= np.stack([np.ones(minus.shape, dtype=bool), minus >= 0], axis=1).reshape(shape)
    more, fewer = room.more[at], room.fewer[at]
    up = np.all(~present | np.where(_ODD_CORNERS, fewer, more), axis=(1, 2, 3, 4))
    down = np.all(~present | np.where(_ODD_CORNERS, more, fewer), axis=(1, 2, 3, 4))
    return up | down


def _within(room: _Room, box: tuple) -> bool:
    """Whether the box's change, one way or the other, keeps every fine cell it moves within
    what a reader knows of it."""
    sides = [((plus, 1), (minus, -1)) if minus is not None else ((plus, 1),) for _nodes, plus, minus in box]
    up = down = True
    for (p, sp), (t, st), (x, sx), (a, sa) in itertools.product(*sides):
        at = p * room.strides[0] + t * room.strides[1] + x * room.strides[2] + a
        rising = sp * st * sx * sa > 0
        up = up and bool((room.more if rising else room.fewer)[at])
        down = down and bool((room.fewer if rising else room.more)[at])
        if not (up or down):
            return False
    return True


def _mask(chosen: list[list[int]], width: int) -> np.ndarray:
    """One row per option, 1 at each index it takes."""
    out = np.zeros((len(chosen), width))
    for row, taken in enumerate(chosen):
        out[row, taken] = 1
    return out


def _costs(dims: tuple[Hierarchy, ...]) -> np.ndarray:
    """What hiding each cell costs: a place's total (all sexes and age bands) most."""
    shape = tuple(len(d.parent) for d in dims)
    cost = np.full(shape, float(FINE_COST))
    sex_total, age_total = len(dims[2].parent) - 1, len(dims[3].parent) - 1
    cost[:, :, sex_total, :] = MARGIN_COST
    cost[:, :, :, age_total] = MARGIN_COST
    cost[:, :, sex_total, age_total] = TOTAL_COST
    return cost
