"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, inclusion and consistency proofs, and an
incremental frontier."""

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

HASH_SIZE = 32


def leaf_hash(entry: bytes) -> bytes:
    """MTH of one leaf: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def leaf_hashes(entries: Iterable[bytes]) -> list[bytes]:
    """`leaf_hash` of each entry, in order."""
    sha256 = hashlib.sha256
    return [sha256(b"\x00" + entry).digest() for entry in entries]


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_root(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    # Index bounds instead of slices: proofs over millions of leaves must not copy the list at every level.
    if hi - lo == 1:
        return hashes[lo]
    k = _largest_power_of_two_below(hi - lo)
    return node_hash(_subtree_root(hashes, lo, lo + k), _subtree_root(hashes, lo + k, hi))


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over already-hashed leaves, as RFC 9162 section 2.1.1 defines it."""
    if not hashes:
        return EMPTY_ROOT
    return _subtree_root(hashes, 0, len(hashes))


def inclusion_path(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 section 2.1.3.1: sibling hashes from the leaf up."""
    if not 0 <= index < len(hashes):
        raise ValueError("leaf index outside the tree")
    path: list[bytes] = []
    lo, hi = 0, len(hashes)
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index < lo + k:
            path.append(_subtree_root(hashes, lo + k, hi))
            hi = lo + k
        else:
            path.append(_subtree_root(hashes, lo, lo + k))
            lo = lo + k
    path.reverse()  # RFC order: the leaf's sibling first
    return path


def root_from_inclusion_path(index: int, tree_size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof leads to (RFC 9162 section 2.1.3.2), or None when the proof is malformed."""
    if not 0 <= index < tree_size:
        return None
    fn, sn = index, tree_size - 1
    r = leaf
    for p in path:
        if len(p) != HASH_SIZE or sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return None
    return r


def _consistency_ranges(old_size: int, lo: int, hi: int, whole: bool, out: list[tuple[int, int]]) -> None:
    """SUBPROOF(m, D[lo:hi], b) of RFC 9162 section 2.1.4.1, as the leaf ranges whose MTH it lists."""
    if old_size == hi - lo:
        if not whole:
            out.append((lo, hi))
        return
    k = _largest_power_of_two_below(hi - lo)
    if old_size <= k:
        _consistency_ranges(old_size, lo, lo + k, whole, out)
        out.append((lo + k, hi))
    else:
        _consistency_ranges(old_size - k, lo + k, hi, False, out)
        out.append((lo, lo + k))


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges [lo, hi) whose MTH make up PROOF(old_size, D[new_size]), in RFC 9162 order.

    Each range lies wholly inside the old tree (then it is one of the old tree's perfect subtrees, its
    frontier) or wholly after it, so a proof needs only the old tree's frontier and the new leaves.
    """
    if not 0 < old_size <= new_size:
        raise ValueError("a consistency proof needs 0 < old size <= new size")
    ranges: list[tuple[int, int]] = []
    _consistency_ranges(old_size, 0, new_size, True, ranges)
    return ranges


def consistency_path(hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) of RFC 9162 section 2.1.4.1 over already-hashed leaves held in memory."""
    return [_subtree_root(hashes, lo, hi) for lo, hi in consistency_ranges(old_size, len(hashes))]


def consistency_holds(old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]) -> bool:
    """Whether `path` proves the tree of `new_size` leaves with `new_root` extends the one of `old_size` with
    `old_root` (RFC 9162 section 2.1.4.2; equal sizes hold with an empty path and equal roots)."""
    if not 0 < old_size <= new_size or any(len(node) != HASH_SIZE for node in path):
        return False
    if old_size == new_size:
        return not path and old_root == new_root
    if not path:
        return False
    nodes = list(path)
    if old_size & (old_size - 1) == 0:  # an exact power of 2: the old root is itself a node of the proof
        nodes.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class Frontier:
    """The roots of the perfect subtrees covering the first `size` leaves: append in O(1), root in O(log n)."""

    __slots__ = ("size", "_stack", "_wanted", "found")

    def __init__(self, size: int = 0, roots: Iterable[bytes] = (), wanted: Iterable[tuple[int, int]] = ()) -> None:
        self.size = size
        self._stack = list(roots)
        if len(self._stack) != bin(size).count("1"):
            raise ValueError("frontier does not match its size")
        # Perfect subtrees [lo, hi) whose MTH to keep as they are completed (a range proof's nodes), by size.
        self._wanted: dict[int, set[int]] = {}
        for lo, hi in wanted:
            self._wanted.setdefault(hi - lo, set()).add(lo)
        self.found: dict[tuple[int, int], bytes] = {}

    @classmethod
    def from_bytes(cls, size: int, packed: bytes, wanted: Iterable[tuple[int, int]] = ()) -> "Frontier":
        """Rebuild a frontier stored as its concatenated subtree roots (keeping `wanted` subtrees from here on)."""
        return cls(size, [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)], wanted)

    def to_bytes(self) -> bytes:
        """The subtree roots, largest first, concatenated."""
        return b"".join(self._stack)

    def subtrees(self) -> list[tuple[int, int, bytes]]:
        """(first leaf, end leaf, root) of each perfect subtree, largest first: the nodes a consistency proof
        from this size takes from the old tree."""
        found, lo = [], 0
        roots = iter(self._stack)
        for bit in reversed(range(self.size.bit_length())):
            if self.size >> bit & 1:
                found.append((lo, lo + (1 << bit), next(roots)))
                lo += 1 << bit
        return found

    def tail_root(self, lo: int) -> bytes:
        """MTH of the leaves lo..size-1, where lo starts one of the perfect subtrees (the right edge of the tree:
        the one node of a consistency proof that need not be perfect)."""
        tail = [root for first, _, root in self.subtrees() if first >= lo]
        if not tail or self.subtrees()[-len(tail)][0] != lo:
            raise ValueError(f"leaf {lo} starts none of the perfect subtrees of a tree of {self.size}")
        r = tail[-1]
        for left in reversed(tail[:-1]):
            r = node_hash(left, r)
        return r

    def append(self, leaf: bytes) -> None:
        """Add one already-hashed leaf."""
        if 1 in self._wanted:
            self._keep(self.size, 1, [leaf])
        self._push(leaf, 1)

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Add already-hashed leaves, hashing each aligned run of 2^k of them level by level (what
        `append` does leaf by leaf, for a fraction of the interpreter's work)."""
        done, count = 0, len(leaves)
        while done < count:
            # The largest perfect subtree that can start at this size: aligned to its lowest set bit.
            span = self.size & -self.size or 1 << (count - done).bit_length()
            while span > count - done:
                span >>= 1
            level, width = leaves[done : done + span], 1
            while True:
                if width in self._wanted:
                    self._keep(self.size, width, level)
                if len(level) == 1:
                    break
                pairs = zip(level[0::2], level[1::2], strict=True)  # span is a power of two: always even
                level, width = [hashlib.sha256(b"\x01" + left + right).digest() for left, right in pairs], width * 2
            self._push(level[0], span)
            done += span

    def _keep(self, base: int, width: int, level: Sequence[bytes]) -> None:
        """Keep the wanted subtrees of `width` leaves among `level`, the nodes of that width from leaf `base` on."""
        for lo in self._wanted[width]:
            if base <= lo < base + width * len(level):
                self.found[(lo, lo + width)] = level[(lo - base) // width]

    def _push(self, root: bytes, span: int) -> None:
        """Add the root of a perfect subtree of `span` leaves; the size is a multiple of `span`."""
        stack = self._stack
        stack.append(root)
        end, size, width = self.size + span, self.size // span, span
        # Each trailing 1 bit of the old size (in units of span) is a perfect subtree this one completes.
        while size & 1:
            right = stack.pop()
            stack[-1] = node_hash(stack[-1], right)
            size >>= 1
            width *= 2
            if width in self._wanted:
                self._keep(end - width, width, [stack[-1]])
        self.size = end

    def root(self) -> bytes:
        """MTH of the leaves appended so far."""
        if not self._stack:
            return EMPTY_ROOT
        r = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            r = node_hash(left, r)
        return r


class RangeRoots:
    """MTH of each of some disjoint leaf ranges, fed the leaves in index order from `start` on (leaves outside
    every range are skipped), so a proof over a stream of leaves needs no list of them all."""

    def __init__(self, ranges: Iterable[tuple[int, int]], start: int = 0) -> None:
        self._ranges = sorted(ranges)
        self._frontiers = [Frontier() for _ in self._ranges]
        self._position = start
        self._current = 0

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Add the next already-hashed leaves."""
        done = 0
        while done < len(leaves) and self._current < len(self._ranges):
            lo, hi = self._ranges[self._current]
            if self._position >= hi:
                self._current += 1
                continue
            if self._position < lo:
                skip = min(lo - self._position, len(leaves) - done)
            else:
                skip = min(hi - self._position, len(leaves) - done)
                self._frontiers[self._current].extend(leaves[done : done + skip])
            done += skip
            self._position += skip
        self._position += len(leaves) - done

    def roots(self) -> dict[tuple[int, int], bytes]:
        """The MTH of every range whose leaves have all been added."""
        return {
            (lo, hi): frontier.root()
            for (lo, hi), frontier in zip(self._ranges, self._frontiers, strict=True)
            if frontier.size == hi - lo
        }


def _range_split(lo: int, hi: int, a: int, b: int, outside: list, inside: list) -> None:
    if hi <= a or b <= lo:
        outside.append((a, b))
    elif lo <= a and b <= hi:
        inside.append((a, b))
    else:
        k = _largest_power_of_two_below(b - a)
        _range_split(lo, hi, a, a + k, outside, inside)
        _range_split(lo, hi, a + k, b, outside, inside)


def range_split(lo: int, hi: int, size: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """How RFC 9162's tree of `size` leaves splits around leaves lo..hi-1, left to right: the largest subtrees
    holding none of them (what a range proof lists) and those holding only them (what its verifier hashes
    from the leaves). Each is perfect or ends at `size`."""
    if not 0 <= lo < hi <= size:
        raise ValueError("a range proof needs 0 <= first < end <= size")
    outside: list[tuple[int, int]] = []
    inside: list[tuple[int, int]] = []
    _range_split(lo, hi, 0, size, outside, inside)
    return outside, inside


def root_from_range(
    lo: int, hi: int, size: int, inside: Mapping[tuple[int, int], bytes], nodes: Sequence[bytes]
) -> bytes | None:
    """The root a range proof leads to: `nodes` the subtrees outside leaves lo..hi-1, `inside` the MTH of the
    subtrees inside them (range_split's second list). None when the proof is malformed (too few or too many
    nodes, one not of 32 bytes, an inside subtree missing)."""
    if not 0 <= lo < hi <= size or any(len(node) != HASH_SIZE for node in nodes):
        return None
    given = iter(nodes)

    def root(a: int, b: int) -> bytes | None:
        if hi <= a or b <= lo:
            return next(given, None)
        if lo <= a and b <= hi:
            return inside.get((a, b))
        k = _largest_power_of_two_below(b - a)
        left, right = root(a, a + k), root(a + k, b)
        return node_hash(left, right) if left is not None and right is not None else None

    result = root(0, size)
    return result if next(given, None) is None else None


def range_proof_roots(runs: Sequence[tuple[int, int]], size: int) -> tuple[Frontier, Callable[[], dict]]:
    """What proving several runs of leaves in one pass needs: a frontier to feed every leaf 0..size-1 to, and a
    function giving then the MTH of every subtree their proofs list (perfect ones kept as the frontier completes
    them, those ending at `size` folded from its last subtrees)."""
    needed = {node for lo, hi in runs for node in range_split(lo, hi, size)[0]}
    frontier = Frontier(wanted=[(a, b) for a, b in needed if b - a & b - a - 1 == 0 and a % (b - a) == 0])

    def roots() -> dict[tuple[int, int], bytes]:
        found = dict(frontier.found)
        subtrees = frontier.subtrees()
        for a, b in needed - found.keys():  # on the right edge: the frontier's subtrees from `a` on, folded
            parts = [root for start, _, root in subtrees if start >= a]
            value = parts[-1]
            for part in reversed(parts[:-1]):
                value = node_hash(part, value)
            found[(a, b)] = value
        return found

    return frontier, roots
