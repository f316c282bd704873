"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, inclusion and consistency proofs, and an
incremental frontier."""

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32


def leaf_hash(entry: bytes) -> bytes:
    """MTH of one leaf: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


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

    __slots__ = ("size", "_stack")

    def __init__(self, size: int = 0, roots: Iterable[bytes] = ()) -> None:
        self.size = size
        self._stack = list(roots)
        if len(self._stack) != bin(size).count("1"):
            raise ValueError("frontier does not match its size")

    @classmethod
    def from_bytes(cls, size: int, packed: bytes) -> "Frontier":
        """Rebuild a frontier stored as its concatenated subtree roots."""
        return cls(size, [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)])

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

    def append(self, leaf: bytes) -> None:
        """Add one already-hashed leaf."""
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
            level = leaves[done : done + span]
            while len(level) > 1:
                pairs = zip(level[0::2], level[1::2], strict=True)  # span is a power of two: always even
                level = [hashlib.sha256(b"\x01" + left + right).digest() for left, right in pairs]
            self._push(level[0], span)
            done += span

    def _push(self, root: bytes, span: int) -> None:
        """Add the root of a perfect subtree of `span` leaves; the size is a multiple of `span`."""
        stack = self._stack
        stack.append(root)
        size = self.size // span
        # Each trailing 1 bit of the old size (in units of span) is a perfect subtree this one completes.
        while size & 1:
            right = stack.pop()
            stack[-1] = node_hash(stack[-1], right)
            size >>= 1
        self.size += span

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
