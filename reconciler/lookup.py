"""Looking up a large column of strings in another: each value's place in ``others``.

Arrow's ``index_in`` on strings hashes the whole value set (~90 MB for a million strings, ~900
MB for ten million) and probes string by string. Here every string gets a 64-bit key (DuckDB's
``hash``, computed once per column: see :class:`Keys`), both columns are laid out by the key's
top bits into the same ``2**bits`` partitions (one stable sort of the partition numbers: each
partition is then a contiguous slice), and each partition of ``values`` is looked up among the
same partition of ``others`` by key. Every value is probed once, no hash table holds more than
about ``PARTITION`` keys, and the answers go back to ``values``' order with one ``take`` by
rank. Each match is then checked on the strings themselves (a slice at a time): two different
strings with the same key (about one chance in 10**5 for ten million against ten million) make
that lookup fall back to the exact string lookup, so an answer is never wrong.

The keys are not stored anywhere: a new DuckDB version that hashes differently changes nothing.
Columns of at most ``SLICE`` strings are looked up directly on the strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeAlias, overload

import pyarrow as pa
import pyarrow.compute as pc

from reconciler import duck
from reconciler.chunkstream import Streamed, in_memory, is_streamed, one_array, regrouped
from reconciler.spill import SpilledStrings

SLICE = 250_000  # ``others`` this small: one exact string lookup (its hash table: ~25 MB)
KEY_SQL = "SELECT hash(v) AS k FROM v"  # each string's key (``v``: the strings)
PARTITION = 16_384  # keys of ``others`` per partition, about (a small, cache-friendly table)
VERIFY_SLICE = 100_000  # matches compared on their strings at a time
KEY_SLICE = 250_000  # strings keyed at a time
PIECE = 2_500_000  # strings of the other column looked up at a time (``join``, sent fields)
DISTINCT_PART = 262_144  # keys counted at a time, about (``distinct``; at most 256 passes)
Strings: TypeAlias = "pa.StringArray | pa.ChunkedArray"
Column: TypeAlias = "pa.StringArray | pa.ChunkedArray | SpilledStrings"  # a segment's may spill


@dataclass
class _Layout:
    """A column's keys sorted by partition: ``keys[i]`` is the key of value ``order[i]``, and
    partition ``p`` is ``keys[starts[p]:starts[p + 1]]``; :meth:`ranks` gives where each value
    sits (computed when first asked: the looked-up side of a one-way lookup never needs it)."""

    keys: pa.UInt64Array
    order: pa.Int32Array
    starts: list[int]
    bits: int
    rank: pa.Int32Array | None = None

    def ranks(self) -> pa.Int32Array:
        """Each value's place in ``keys`` (the inverse of ``order``)."""
        if self.rank is None:
            self.rank = _inverse(self.order)
        return self.rank


class Keys:
    """A column of strings with a 64-bit key of each, laid out by partitions on demand (the
    layout is kept, so a column looked up in two others is sorted once; the keys in the
    column's own order are then dropped, and taken back from the layout if ever needed)."""

    def __init__(self, strings: Column) -> None:
        self.strings = strings
        self._keys: pa.UInt64Array | None = None
        self._layout: _Layout | None = None

    def __len__(self) -> int:
        return len(self.strings)

    @overload
    def keys(self) -> pa.UInt64Array: ...
    @overload
    def keys(self, *, whole: bool) -> pa.UInt64Array | pa.ChunkedArray: ...
    def keys(self, *, whole: bool = True) -> pa.UInt64Array | pa.ChunkedArray:
        """DuckDB's 64-bit hash of each string, in the column's order (``whole=False``: in
        the pieces they were computed in, not kept: no copy into one array)."""
        if self._keys is not None:
            return self._keys
        if self._layout is not None:
            unsorted: pa.UInt64Array = self._layout.keys.take(self._layout.ranks())
            return unsorted
        pieces = list(self.key_pieces())
        if not whole:
            return pa.chunked_array(pieces, pa.uint64())
        self._keys = pa.concat_arrays(pieces) if pieces else pa.array([], pa.uint64())
        return self._keys

    def key_pieces(self) -> Iterator[pa.UInt64Array]:
        """The keys in the column's order, ``KEY_SLICE`` at a time, made as they are asked
        for (none is kept; the keys already made: sliced)."""
        if self._keys is not None or self._layout is not None:
            yield from _pieces(self.keys())
            return
        with duck.connect() as connection:
            for piece in _key_pieces(self.strings):  # bounds DuckDB's scratch
                connection.register("v", pa.table({"v": piece}))
                yield one_array(connection.sql(KEY_SQL).to_arrow_table().column("k"))
                connection.unregister("v")

    def forget(self) -> None:
        """Let go of the keys and their layout (the strings stay)."""
        self._keys = None
        self._layout = None

    def layout(self, bits: int, *, ranked: bool) -> _Layout:
        """The keys laid out in ``2**bits`` partitions (``ranked``: with each value's place)."""
        if self._layout is None or self._layout.bits != bits:
            self._layout = _laid_out(self.keys(), bits, ranked=ranked)
            self._keys = None
            _release()
        return self._layout


@dataclass(frozen=True)
class Joined:
    """Two unique columns matched: for each value, whether it is among ``others``, and for
    each of ``others``, whether it is among the values."""

    found: pa.BooleanArray
    present: pa.BooleanArray


def keyed(values: Strings | Keys) -> Keys:
    return values if isinstance(values, Keys) else Keys(values)


def index_in(values: Strings | Keys, others: Strings | Keys) -> pa.Array:
    """Each value's position in ``others`` (null where it is not there; ``others`` unique), as
    integers (uint32 or int64)."""
    mine, theirs = keyed(values), keyed(others)
    if len(mine) == 0 or len(theirs) == 0:  # nothing to hash (a first sync's empty list)
        return pa.nulls(len(mine), pa.int64())
    if len(theirs) <= SLICE:
        return _exact(mine.strings, theirs.strings)
    ours, their = _unwrapped(mine.strings), _unwrapped(theirs.strings)
    chunked = isinstance(their, pa.ChunkedArray) and isinstance(ours, pa.Array)
    owned = not isinstance(others, Keys)  # keyed here: let go once matched
    match = _by_keys(mine, theirs, backward=chunked, drop=owned)  # backward: checked by chunk
    exact = _verified(mine.strings, theirs.strings, match)
    _release()
    return match.forward if exact else _exact(mine.strings, theirs.strings)


def join(values: Strings | Keys, others: Strings | Keys | Streamed) -> Joined:
    """``values`` and ``others`` (each unique) matched both ways.

    ``others`` is looked up a piece (``PIECE`` strings) at a time among the values, which are
    laid out once (their layout is kept for later lookups): each piece gives its members'
    places among the values, whose marks are scattered into the values' mask. Nothing of the
    size of ``others`` is held but one bit a member (a layout of it held 26 bytes a member),
    and ``others`` may be a stream (a list's emails left in the state, read once here).
    """
    mine = keyed(values)
    strings = others.strings if isinstance(others, Keys) else others
    if len(mine) == 0 or len(strings) == 0 or len(strings) <= SLICE:
        held = in_memory(strings)
        return Joined(is_in(mine, held), is_in(held, mine))
    found: pa.BooleanArray | None = None
    present: list[pa.Array] = []
    for piece in _string_pieces(strings):
        places = index_in(piece, mine)
        present.append(pc.is_valid(places))
        here = marked(places.drop_null(), len(mine))
        found = here if found is None else pc.or_(found, here)
    assert found is not None
    return Joined(found, pa.concat_arrays(present))


def _key_pieces(strings: Column) -> Iterator[Strings]:
    """``KEY_SLICE`` strings at a time (a spilled column: its batches, regrouped)."""
    if isinstance(strings, SpilledStrings):
        yield from regrouped(strings.chunks(), KEY_SLICE)
        return
    for start in range(0, len(strings), KEY_SLICE):
        yield strings.slice(start, KEY_SLICE)


def _string_pieces(strings: Strings | Streamed) -> Iterator[Strings]:
    """``PIECE`` strings at a time: slices of a column in memory, a stream's chunks joined."""
    if is_streamed(strings):
        yield from regrouped(strings.chunks(), PIECE)
        return
    for start in range(0, len(strings), PIECE):
        yield strings.slice(start, PIECE)


def marked(positions: pa.Array, count: int) -> pa.BooleanArray:
    """``count`` flags, true at ``positions`` (scattered: one bit a flag, no hash table)."""
    if not len(positions):
        nothing: pa.BooleanArray = pa.nulls(count, pa.bool_()).fill_null(False)
        return nothing
    placed = pc.scatter(pc.is_valid(positions), positions, max_index=count - 1)
    flags: pa.BooleanArray = pc.is_valid(placed)
    return flags


def is_in(values: Strings | Keys, others: Strings | Keys) -> pa.BooleanArray:
    """True for each value that is among ``others``."""
    mine, theirs = keyed(values), keyed(others)
    if len(mine) == 0 or len(theirs) == 0:
        nothing: pa.BooleanArray = pa.nulls(len(mine), pa.bool_()).fill_null(False)
        return nothing
    if len(theirs) <= SLICE:
        value_set = in_memory(theirs.strings)
        if isinstance(mine.strings, SpilledStrings):  # a batch at a time
            parts = [pc.is_in(chunk, value_set=value_set) for chunk in mine.strings.chunks()]
            return one_array(pa.chunked_array(parts, pa.bool_()))
        found: pa.BooleanArray = one_array(pc.is_in(mine.strings, value_set=value_set))
        return found
    present: pa.BooleanArray = pc.is_valid(index_in(mine, theirs))
    return present


def distinct(values: Strings | Keys) -> bool:
    """Whether no string occurs twice. Distinct keys prove it (equal strings have equal keys):
    the keys are made a piece at a time and each piece is sorted by partition (the keys' top
    bits, ``DISTINCT_PART`` keys a partition, about) into the partitions' lists, so that the
    keys are held once (8 bytes a value) and walked once; then each partition's keys are
    counted. A partition with a repeated key (a real repeat, or two strings sharing a key) is
    settled on its strings (:func:`_distinct_strings`)."""
    mine = keyed(values)
    if len(mine) < 2:
        return True
    if len(mine) <= SLICE:  # small: Arrow's own count (no keys, no DuckDB in a list read)
        return bool(pc.count_distinct(in_memory(mine.strings)).as_py() == len(mine))
    bits = min(8, (-(-len(mine) // DISTINCT_PART) - 1).bit_length())  # one byte a value
    parts: list[list[pa.Array]] = [[] for _ in range(1 << bits)]
    for piece in mine.key_pieces():
        for part, keys in _by_top_bits(piece, bits):
            parts[part].append(keys)
    for index, held in enumerate(parts):
        keys = pa.concat_arrays(held) if held else pa.array([], pa.uint64())
        parts[index] = []
        if len(pc.unique(keys)) != len(keys):  # (faster than count_distinct: 0.6 s at 10M)
            return _distinct_strings(mine, bits)
    return True


def _by_top_bits(keys: pa.UInt64Array, bits: int) -> Iterator[tuple[int, pa.Array]]:
    """``keys`` sorted by their top ``bits``, as (partition, its keys) runs."""
    if not bits:
        yield 0, keys
        return
    top = pc.shift_right(keys, pa.scalar(64 - bits, pa.uint64())).cast(pa.uint8())
    order = pc.sort_indices(top)
    ordered = keys.take(order)
    counts = pc.value_counts(top.take(order))  # in the order found: ascending
    start = 0
    for part, size in zip(counts.field(0).to_pylist(), counts.field(1).to_pylist(), strict=True):
        yield part, ordered.slice(start, size)
        start += size


def _distinct_strings(mine: Keys, bits: int) -> bool:
    """Whether no string repeats, settled partition by partition on the strings of the
    partitions whose keys repeat (a pass over one byte a value each)."""
    keys = mine.keys(whole=False)
    parts = _top_bits(keys, bits) if bits else None
    for part in range(1 << bits):
        where = None if parts is None else pc.equal(parts, pa.scalar(part, pa.uint8()))
        ours = keys if where is None else keys.filter(where)
        if pc.count_distinct(ours).as_py() == len(ours):
            continue
        strings = in_memory(mine.strings) if where is None else _filtered(mine.strings, where)
        if pc.count_distinct(strings).as_py() < len(strings):
            return False
    return True


def _filtered(strings: Column, where: pa.BooleanArray | pa.ChunkedArray) -> Strings:
    """The strings where ``where`` (a spilled column: a batch at a time)."""
    if not isinstance(strings, SpilledStrings):
        return strings.filter(where)
    parts = [chunk.filter(flags) for chunk, flags in _aligned(strings, where)]
    return pa.chunked_array(parts, pa.string())


def _top_bits(keys: pa.UInt64Array | pa.ChunkedArray, bits: int) -> pa.ChunkedArray:
    """Each key's top ``bits`` (at most 8) as one byte, a piece at a time (a whole shifted
    column would be 8 bytes a value for a moment)."""
    shift = pa.scalar(64 - bits, pa.uint64())
    chunks = keys.chunks if isinstance(keys, pa.ChunkedArray) else _pieces(keys)
    pieces = [pc.shift_right(piece, shift).cast(pa.uint8()) for piece in chunks]
    return pa.chunked_array(pieces, pa.uint8())


def without_rows(count: int, dropped: Iterable[Iterable[int]]) -> pa.BooleanArray:
    """A mask of ``count`` rows, false at the ``dropped`` rows (given in runs of positions):
    built from those rows only, one byte a row while it is built, one bit after."""
    flags = bytearray(b"\x01") * count
    for rows in dropped:
        for row in rows:
            flags[row] = 0
    as_bytes = pa.Array.from_buffers(pa.uint8(), count, [None, pa.py_buffer(flags)])
    keep: pa.BooleanArray = as_bytes.cast(pa.bool_())
    return keep


def _exact(values: Column, others: Column) -> pa.Int64Array:
    """The exact string lookup (small columns, and the rare fallback: a spilled column is
    read into memory for it)."""
    mine, theirs = in_memory(values), in_memory(others)
    found: pa.Int64Array = one_array(pc.index_in(mine, value_set=theirs)).cast(pa.int64())
    return found


def _bits(count: int) -> int:
    """Partition bits for the larger column of ``count``: about ``PARTITION`` keys each."""
    return max(1, (-(-count // PARTITION) - 1).bit_length())


def _laid_out(keys: pa.UInt64Array, bits: int, *, ranked: bool) -> _Layout:
    shift, kind = pa.scalar(64 - bits, pa.uint64()), pa.uint16() if bits <= 16 else pa.uint32()
    parts = _concat([pc.shift_right(p, shift).cast(kind) for p in _pieces(keys)], kind)
    sizes = [0] * (1 << bits)
    counts = pc.value_counts(parts)
    for part, size in zip(counts.field(0).to_pylist(), counts.field(1).to_pylist(), strict=True):
        sizes[part] = size
    starts = [0]
    for size in sizes:
        starts.append(starts[-1] + size)
    order = pc.sort_indices(parts).cast(pa.int32())  # stable: each partition in column order
    del parts
    rank = _inverse(order) if ranked else None  # each value's place in the sorted order
    return _Layout(keys.take(order), order, starts, bits, rank)


@dataclass(frozen=True)
class _KeyMatch:
    """Two columns matched by key: each value's position in ``others`` (``forward``) and,
    when asked for, each other's position among the values (``backward``)."""

    forward: pa.Array  # integer positions (null: no match)
    backward: pa.Array | None


def _by_keys(mine: Keys, theirs: Keys, *, backward: bool, drop: bool = False) -> _KeyMatch:
    """Match by key, partition by partition (``drop``: ``theirs`` is the caller's to spend,
    its layout is let go as soon as the partitions are matched)."""
    bits = _bits(max(len(mine), len(theirs)))
    here, there = mine.layout(bits, ranked=True), theirs.layout(bits, ranked=backward)
    found, back = _matched_parts(here, there, backward=backward)
    order, rank = there.order, there.rank if backward else None
    if drop:
        theirs.forget()
    del there
    # positions in the other side's sorted keys -> its own positions -> this side's order
    forward = _placed(found, order, here.ranks())
    del order, found
    if not backward:
        return _KeyMatch(forward, None)
    assert rank is not None
    return _KeyMatch(forward, _placed(back, here.order, rank))


def _pieces(keys: pa.UInt64Array) -> list[pa.UInt64Array]:
    """``keys`` in slices of ``KEY_SLICE`` (a whole shifted column would be 8 bytes a key)."""
    return [keys.slice(start, KEY_SLICE) for start in range(0, len(keys), KEY_SLICE)]


def _matched_parts(
    here: _Layout, there: _Layout, *, backward: bool
) -> tuple[list[pa.Array], list[pa.Array]]:
    """Each partition's matches, both ways (in sorted order; no slice outlives the call: a
    slice keeps its whole column alive). One lookup a partition, whose hash table is the
    smaller side's (a piece of the list or of the sent fields against the whole segment hashes
    the piece's keys, not the segment's, once a piece): the other way round comes from it as
    its inverse (both sides are unique)."""
    found: list[pa.Array] = []
    back: list[pa.Array] = []
    for part in range(1 << here.bits):
        lo, hi = here.starts[part], here.starts[part + 1]
        first, last = there.starts[part], there.starts[part + 1]
        them = there.keys.slice(first, last - first)
        ours = here.keys.slice(lo, hi - lo)
        if hi - lo <= last - first:  # hash ours, probe theirs
            theirs_in_ours = pc.index_in(them, value_set=ours)
            if backward:
                back.append(_offset(theirs_in_ours, lo))
            if lo < hi:
                found.append(_offset(_inverted(theirs_in_ours, hi - lo), first))
        else:  # hash theirs, probe ours
            ours_in_them = pc.index_in(ours, value_set=them)
            found.append(_offset(ours_in_them, first))
            if backward:
                back.append(_offset(_inverted(ours_in_them, last - first), lo))
    return found, back


def _inverted(places: pa.Array, count: int) -> pa.Array:
    """For each of ``count`` values, the position in ``places`` that names it (null: none)."""
    if count == 0:
        return pa.array([], pa.int32())
    inverse: pa.Array = pc.inverse_permutation(places, max_index=count - 1, output_type=pa.int32())
    return inverse


def _concat(pieces: list[pa.Array], kind: pa.DataType) -> pa.Array:
    joined = pa.concat_arrays(pieces) if pieces else pa.array([], kind)
    pieces.clear()
    return joined


def _placed(found: list[pa.Array], order: pa.Int32Array, rank: pa.Int32Array) -> pa.Array:
    """Positions in the other side's sorted keys, per partition, as positions in its own
    column, in this side's order (four bytes a member all along, not eight)."""
    joined = pa.concat_arrays(found)
    found.clear()
    mapped = order.take(joined)
    del joined
    placed: pa.Array = mapped.take(rank)
    return placed


def _inverse(order: pa.Int32Array) -> pa.Int32Array:
    """Each value's place in the sorted order (the inverse permutation of ``order``: four bytes
    a value, made directly; ranking the partitions held eight more for a moment)."""
    rank: pa.Int32Array = pc.inverse_permutation(order, output_type=pa.int32())
    return rank


def _offset(local: pa.Array, start: int) -> pa.UInt32Array:
    moved: pa.UInt32Array = pc.add(local.cast(pa.uint32()), pa.scalar(start, pa.uint32()))
    return moved


def _verified(values: Strings, others: Strings, match: _KeyMatch) -> bool:
    """Whether every match by key is a match of the strings themselves.

    ``forward`` alone: each value found is compared with the other it was matched with
    (complete: ``others`` is unique, so an equal string can only be that one). With
    ``backward`` too, the comparison may run from the other end instead (a ``take`` from a
    chunked column is slow), and both ends must count the same matches: checked pairs from
    one end, with as many matches from the other, leave no room for a key shared by two
    different strings (such a key matches more often from one end than pairs exist).
    """
    forward, backward = match.forward, match.backward
    if backward is None:
        return _same_slices(values, others, forward)
    if len(forward) - forward.null_count != len(backward) - backward.null_count:
        return False
    values, others = _unwrapped(values), _unwrapped(others)
    if isinstance(others, pa.ChunkedArray) and isinstance(values, pa.Array):
        start = 0
        for chunk in others.chunks:
            if not _same_slices(chunk, values, backward.slice(start, len(chunk))):
                return False
            start += len(chunk)
        return True
    return _same_slices(values, others, forward)


def _same_slices(strings: Column, others: Column, at: pa.Array) -> bool:
    """``_same`` a slice at a time (the strings taken from ``others`` are a slice's). A
    spilled ``strings`` is compared a batch at a time; a spilled ``others`` compares each of
    its batches with the strings matched in it (one pass over its file, not one a slice)."""
    if isinstance(others, SpilledStrings):
        return others.matches(in_memory(strings), at)
    return all(_same(piece, others, where) for piece, where in _aligned(strings, at))


def _aligned(strings: Column, at: pa.Array) -> Iterator[tuple[Strings, pa.Array]]:
    """``strings`` a slice (or a spilled batch) at a time, each with its slice of ``at``."""
    if isinstance(strings, SpilledStrings):
        start = 0
        for chunk in strings.chunks():
            yield chunk, at.slice(start, len(chunk))
            start += len(chunk)
        return
    for start in range(0, len(strings), VERIFY_SLICE):
        yield strings.slice(start, VERIFY_SLICE), at.slice(start, VERIFY_SLICE)


def _unwrapped(strings: Column) -> Column:
    """A chunked column of one chunk as that chunk (a table's column is always chunked)."""
    if isinstance(strings, pa.ChunkedArray) and strings.num_chunks == 1:
        return strings.chunk(0)
    return strings


def _same(strings: Strings, others: Strings, at: pa.Array) -> bool:
    """Whether each of ``strings`` equals the one of ``others`` at ``at`` (where not null)."""
    if at.null_count == len(at):
        return True
    same = pc.fill_null(pc.equal(strings, others.take(at)), False)  # a null other: not the same
    wrong = pc.and_(pc.is_valid(at), pc.invert(same))
    return not pc.any(wrong).as_py()


def _release() -> None:
    """Hand the scratch memory of a sort or a lookup back to the system (Arrow's allocator
    keeps freed memory, and the next step's peak would stand on it)."""
    pa.default_memory_pool().release_unused()
